//! Single-use recovery codes: ten per account, shown once, stored as hashes. Each carries 60
//! random bits, so a plain SHA-256 is enough to store it (a slow hash protects low-entropy
//! secrets such as passwords, which these are not).

use rand::Rng;

use super::session::hex_sha256;

pub const CODES_PER_SET: usize = 10;
/// Crockford-style base32 without look-alikes (no i, l, o, u).
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
const GROUPS: usize = 3;
const GROUP_LEN: usize = 4;

/// A new set: the codes to show (once) and the hashes to store, in the same order.
pub fn generate() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..CODES_PER_SET)
        .map(|_| {
            (0..GROUPS)
                .map(|_| {
                    (0..GROUP_LEN)
                        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    let hashes = codes
        .iter()
        .map(|code| hash(code))
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    (codes, hashes)
}

/// The stored form of a code as typed: case, spaces and dashes do not matter. `None` when the
/// input cannot be a code at all.
pub fn hash(typed: &str) -> Option<String> {
    let normalised: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = normalised.len() == GROUPS * GROUP_LEN && normalised.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| hex_sha256(normalised.as_bytes()))
}

/// Which unused stored hash `typed` matches, if any; the caller marks it used.
pub fn find(typed: &str, unused_hashes: &[String]) -> Option<usize> {
    let wanted = hash(typed)?;
    unused_hashes.iter().position(|stored| *stored == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_readable_codes() {
        let (codes, hashes) = generate();
        assert_eq!(codes.len(), CODES_PER_SET);
        assert_eq!(hashes.len(), CODES_PER_SET);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), CODES_PER_SET);
        for code in &codes {
            assert_eq!(code.len(), 14, "{code}");
            assert!(!code.contains(['i', 'l', 'o', 'u']), "{code}");
        }
    }

    #[test]
    fn a_code_matches_however_it_is_typed() {
        let (codes, hashes) = generate();
        let typed = codes[3].to_uppercase().replace('-', " ");
        assert_eq!(find(&typed, &hashes), Some(3));
        assert_eq!(find(&codes[3].replace('-', ""), &hashes), Some(3));
    }

    #[test]
    fn used_or_wrong_codes_match_nothing() {
        let (codes, mut hashes) = generate();
        let used = hashes.remove(0);
        assert!(!hashes.contains(&used));
        assert_eq!(find(&codes[0], &hashes), None);
        assert_eq!(find("not-a-code", &hashes), None);
        assert_eq!(find("", &hashes), None);
        assert_eq!(find(&"0".repeat(12), &hashes), None);
    }
}
