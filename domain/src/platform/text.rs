//! Validation of short free-text fields (names and titles) shared by every area.

use crate::{Error, Result};

/// A required single-line value: trimmed, not empty, at most `max` characters, no control
/// characters (so nothing can break a line in a log or an email header).
pub(crate) fn one_line(value: &str, field: &'static str, max: usize) -> Result<String> {
    let value = value.trim();
    let length = value.chars().count();
    if length == 0 {
        return Err(Error::Invalid {
            field,
            reason: "is required".into(),
        });
    }
    if length > max {
        return Err(Error::Invalid {
            field,
            reason: format!("is longer than {max} characters"),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(Error::Invalid {
            field,
            reason: "contains control characters".into(),
        });
    }
    Ok(value.to_owned())
}

/// Lower-case hexadecimal, two digits per byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_values_are_trimmed_and_bounded() {
        assert_eq!(one_line("  Sales ", "name", 5).ok().as_deref(), Some("Sales"));
        for bad in ["", "   ", "Sales!", "a\nb"] {
            assert_eq!(
                one_line(bad, "name", 5).map_err(|e| e.code()),
                Err("input.invalid"),
                "{bad:?}"
            );
        }
        // Characters, not bytes.
        assert!(one_line("ÅÄÖÜé", "name", 5).is_ok());
    }
}
