//! The audit log: every access to personal data or results, and every security event, as one
//! hash-chained list of entries per workplace (plus one for the instance).
//!
//! An entry names who (an account id), what (a stable action code), on what (an entity type and
//! ids), when (UTC), in which request, and how it ended. It never holds a name, an address, an
//! answer, a comment, a token or a network address in clear: networks and the account names a
//! sign-in typed are kept as truncated keyed hashes, which only this instance can recompute.
//!
//! Entries are written by the seams, not by each caller: the HTTP layer opens a [`Trail`] per
//! server-function call, the tenant scope writes what the trail collected in the same
//! transaction as a change ([`crate::platform::tenant::TenantTxn::commit`]), and the trail's remainder is
//! written before the answer leaves ([`Trail::finish`]). A log write that fails fails the
//! request.

mod chain;
pub mod pending;
mod trail;

pub(crate) use chain::{append, purge_before, verify};
pub use chain::{Anchor, BrokenLink, ChainReport};
pub(crate) use trail::is_audit_relevant;
pub use trail::Trail;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::platform::ids::{UserId, WorkplaceId};

/// At most this many entity ids are listed in one entry; the count says how many there were.
pub const MAX_LISTED_IDS: usize = 100;

/// How serious an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    /// The severity a stored code names; an unknown one is an error, never a guess.
    pub fn from_stored(code: &str) -> crate::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|severity| severity.code() == code)
            .ok_or_else(|| crate::Error::Internal(format!("unknown severity stored: {code}")))
    }

    pub fn code(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Why an entry exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Someone read or changed personal data or results.
    Access,
    /// Something an auditor or operator must notice: sign-ins, denials, changes of rights.
    Security,
}

impl Category {
    pub fn code(self) -> &'static str {
        match self {
            Category::Access => "access",
            Category::Security => "security",
        }
    }
}

/// How the recorded request or event ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    /// Bad input: refused, nothing changed.
    Invalid,
    /// Not signed in, or the sign-in failed.
    Unauthenticated,
    /// Signed in but not allowed (or the thing is outside what the person may know about).
    Denied,
    Throttled,
    /// Candor failed.
    Error,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Ok,
        Outcome::Invalid,
        Outcome::Unauthenticated,
        Outcome::Denied,
        Outcome::Throttled,
        Outcome::Error,
    ];

    /// The outcome a stored code names; an unknown one is an error, never a guess.
    pub fn from_stored(code: &str) -> crate::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.code() == code)
            .ok_or_else(|| crate::Error::Internal(format!("unknown outcome stored: {code}")))
    }

    pub fn code(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Invalid => "invalid",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::Denied => "denied",
            Outcome::Throttled => "throttled",
            Outcome::Error => "error",
        }
    }

    /// From the HTTP status a request was answered with.
    pub fn from_status(status: u16) -> Self {
        match status {
            200..=399 => Outcome::Ok,
            401 => Outcome::Unauthenticated,
            403 | 404 => Outcome::Denied,
            429 => Outcome::Throttled,
            400..=499 => Outcome::Invalid,
            _ => Outcome::Error,
        }
    }
}

/// What kind of thing an entry is about. Codes are stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntityType {
    Account,
    Person,
    Department,
    Grant,
    Role,
    Settings,
    Survey,
    Round,
    Results,
    AuditLog,
    Alert,
    DataKey,
    Workplace,
    Comment,
}

impl EntityType {
    pub fn code(self) -> &'static str {
        match self {
            EntityType::Account => "account",
            EntityType::Person => "person",
            EntityType::Department => "department",
            EntityType::Grant => "grant",
            EntityType::Role => "role",
            EntityType::Settings => "settings",
            EntityType::Survey => "survey",
            EntityType::Round => "round",
            EntityType::Results => "results",
            EntityType::AuditLog => "audit_log",
            EntityType::Alert => "alert",
            EntityType::DataKey => "data_key",
            EntityType::Workplace => "workplace",
            EntityType::Comment => "comment",
        }
    }

    pub const ALL: [EntityType; 14] = [
        EntityType::Account,
        EntityType::Person,
        EntityType::Department,
        EntityType::Grant,
        EntityType::Role,
        EntityType::Settings,
        EntityType::Survey,
        EntityType::Round,
        EntityType::Results,
        EntityType::AuditLog,
        EntityType::Alert,
        EntityType::DataKey,
        EntityType::Workplace,
        EntityType::Comment,
    ];
}

/// One entry before it is chained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub workplace: Option<WorkplaceId>,
    pub occurred_at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub category: Category,
    pub action: String,
    pub severity: Severity,
    pub outcome: Outcome,
    pub actor: Option<UserId>,
    pub entity_type: Option<String>,
    pub entity_ids: Vec<Uuid>,
    pub entity_count: usize,
    pub network_tag: Option<String>,
    pub account_tag: Option<String>,
}

impl Entry {
    pub fn new(action: &str, category: Category, occurred_at: DateTime<Utc>) -> Self {
        Self {
            workplace: None,
            occurred_at,
            request_id: None,
            category,
            action: action.to_owned(),
            severity: Severity::Info,
            outcome: Outcome::Ok,
            actor: None,
            entity_type: None,
            entity_ids: Vec::new(),
            entity_count: 0,
            network_tag: None,
            account_tag: None,
        }
    }
}

/// A code as stored: lower-case letters, digits and `._/:-`, at most `max` characters. Anything
/// else becomes `_`, so no logged field can start a new line or carry markup (log injection).
pub fn clean_code(value: &str, max: usize) -> String {
    value
        .chars()
        .take(max)
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '.' | '_' | '/' | ':' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect()
}

/// Free text for a log line: control characters (newlines included) replaced, at most `max`
/// characters, marked when cut.
pub fn clean_text(value: &str, max: usize) -> String {
    let mut cleaned: String = value
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if value.chars().count() > max {
        cleaned.push('…');
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_cannot_carry_new_lines_or_markup() {
        assert_eq!(
            clean_code("people/list\nFAKE entry", 64),
            "people/list_fake_entry"
        );
        assert_eq!(clean_code("<script>", 64), "_script_");
        assert_eq!(clean_code(&"a".repeat(500), 64).len(), 64);
    }

    #[test]
    fn text_loses_control_characters_and_length() {
        assert_eq!(clean_text("one\r\ntwo\u{1b}[31m", 100), "one  two [31m");
        assert_eq!(clean_text(&"x".repeat(20), 5), "xxxxx…");
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(Outcome::from_status(200), Outcome::Ok);
        assert_eq!(Outcome::from_status(401), Outcome::Unauthenticated);
        assert_eq!(Outcome::from_status(403), Outcome::Denied);
        assert_eq!(Outcome::from_status(404), Outcome::Denied);
        assert_eq!(Outcome::from_status(422), Outcome::Invalid);
        assert_eq!(Outcome::from_status(429), Outcome::Throttled);
        assert_eq!(Outcome::from_status(500), Outcome::Error);
    }
}
