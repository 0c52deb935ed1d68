//! An opened personal value. It never shows in Debug output (so not in logs or panics); code
//! that needs the text asks for it with [`Personal::expose`].

use std::fmt;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Personal(String);

impl Personal {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_exposed(self) -> String {
        self.0
    }
}

impl fmt::Debug for Personal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personal(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_value() {
        let name = Personal::new("Ada Lovelace");
        assert_eq!(format!("{name:?}"), "Personal(<redacted>)");
        assert_eq!(name.expose(), "Ada Lovelace");
    }
}
