//! Session tokens and timeouts. The token is 256 random bits, given to the browser once (in a
//! cookie) and stored only as its SHA-256 hash, so a leaked sessions table opens no session.

use std::fmt;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A 256-bit secret handed out once (session cookie, emailed link) and stored only hashed.
/// Never logged: its Debug output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(…)")
    }
}

impl SecretToken {
    /// A new random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as presented by a browser. Anything that is not the shape of a token is `None`.
    pub fn parse(presented: &str) -> Option<Self> {
        let well_formed = presented.len() == 43
            && presented
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(presented.to_owned()))
    }

    /// The cookie value.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks sessions up by.
    pub fn hash(&self) -> String {
        hex_sha256(self.0.as_bytes())
    }
}

pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ends a session nobody used for this long.
    pub idle: Duration,
    /// Ends every session this long after sign-in, however active.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    Active,
    IdleExpired,
    AbsoluteExpired,
}

impl SessionPolicy {
    pub fn state(
        &self,
        created: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> SessionState {
        if now - created >= self.absolute {
            SessionState::AbsoluteExpired
        } else if now - last_seen >= self.idle {
            SessionState::IdleExpired
        } else {
            SessionState::Active
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn tokens_are_random_256_bit_and_stored_only_hashed() {
        let a = SecretToken::generate();
        let b = SecretToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.expose());
        assert_eq!(format!("{a:?}"), "SecretToken(…)");
        assert_eq!(SecretToken::parse(a.expose()).map(|t| t.hash()), Some(a.hash()));
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
            "ä".repeat(43).as_str(),
        ] {
            assert!(SecretToken::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let policy = SessionPolicy::default();
        let minutes = Duration::minutes;
        assert_eq!(policy.state(t0(), t0(), t0() + minutes(29)), SessionState::Active);
        assert_eq!(
            policy.state(t0(), t0(), t0() + minutes(30)),
            SessionState::IdleExpired
        );
        // Kept busy, it still ends after twelve hours.
        let busy = t0() + Duration::hours(12);
        assert_eq!(
            policy.state(t0(), busy - minutes(1), busy),
            SessionState::AbsoluteExpired
        );
    }
}
