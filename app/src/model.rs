//! Values that cross between the server and the browser as enums, never as strings: the pages
//! match them exhaustively, so a new variant is flagged by the compiler wherever it is shown,
//! and the server builds them from the domain's own enums with exhaustive matches too.

use serde::{Deserialize, Serialize};

/// What a question is answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// 1 to 5, with words for the two ends.
    Scale,
    /// "How likely are you to recommend…", 0 to 10; reported as a score from −100 to 100.
    Enps,
    /// One of a few options.
    Choice,
    /// Words only.
    Text,
}

impl QuestionType {
    pub const ALL: [QuestionType; 4] = [
        QuestionType::Scale,
        QuestionType::Enps,
        QuestionType::Choice,
        QuestionType::Text,
    ];

    /// The form value that names it (the survey builder's choice).
    pub fn key(self) -> &'static str {
        match self {
            QuestionType::Scale => "scale",
            QuestionType::Enps => "enps",
            QuestionType::Choice => "choice",
            QuestionType::Text => "text",
        }
    }

    /// The type a form value names, if any.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.key() == key)
    }
}

/// What a role may do: the permission sets a data-protection officer reads on the roles page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Settings,
    Billing,
    People,
    Surveys,
    Results,
    Audit,
    Roles,
}

impl Permission {
    /// Its name in page element ids (`permission-people`).
    pub fn key(self) -> &'static str {
        match self {
            Permission::Settings => "settings",
            Permission::Billing => "billing",
            Permission::People => "people",
            Permission::Surveys => "surveys",
            Permission::Results => "results",
            Permission::Audit => "audit",
            Permission::Roles => "roles",
        }
    }
}

/// Where a person's account stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// Asked to join; no password yet.
    Invited,
    Active,
    /// Signed out everywhere; cannot sign in until reactivated.
    Suspended,
    /// Has left the workplace.
    Left,
}

impl PersonStatus {
    /// In the order the people filter offers them.
    pub const ALL: [PersonStatus; 4] = [
        PersonStatus::Active,
        PersonStatus::Invited,
        PersonStatus::Suspended,
        PersonStatus::Left,
    ];

    /// The form value that names it.
    pub fn key(self) -> &'static str {
        match self {
            PersonStatus::Invited => "invited",
            PersonStatus::Active => "active",
            PersonStatus::Suspended => "suspended",
            PersonStatus::Left => "left",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            PersonStatus::Invited => "Invited",
            PersonStatus::Active => "Active",
            PersonStatus::Suspended => "Suspended",
            PersonStatus::Left => "Left",
        }
    }
}

/// How often a survey asks again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Once,
    Weekly,
    Fortnightly,
    Monthly,
}

impl Cadence {
    /// In the order the survey builder offers them.
    pub const ALL: [Cadence; 4] = [
        Cadence::Weekly,
        Cadence::Fortnightly,
        Cadence::Monthly,
        Cadence::Once,
    ];

    /// The form value that names it.
    pub fn key(self) -> &'static str {
        match self {
            Cadence::Once => "once",
            Cadence::Weekly => "weekly",
            Cadence::Fortnightly => "fortnightly",
            Cadence::Monthly => "monthly",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|cadence| cadence.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Cadence::Once => "Once",
            Cadence::Weekly => "Every week",
            Cadence::Fortnightly => "Every two weeks",
            Cadence::Monthly => "Every month",
        }
    }
}

/// Where a survey stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyState {
    Active,
    Paused,
    Closed,
}

impl SurveyState {
    /// How the surveys page names it.
    pub fn label(self) -> &'static str {
        match self {
            SurveyState::Active => "Active",
            SurveyState::Paused => "Paused",
            SurveyState::Closed => "Closed",
        }
    }

    /// What someone with `surveys` can do next: (the state it moves to, the button's words).
    pub fn next_steps(self) -> &'static [(SurveyState, &'static str)] {
        match self {
            SurveyState::Active => &[(SurveyState::Paused, "Pause"), (SurveyState::Closed, "Close")],
            SurveyState::Paused => &[(SurveyState::Active, "Resume"), (SurveyState::Closed, "Close")],
            SurveyState::Closed => &[],
        }
    }
}

/// How serious an access-log entry or alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// How a request or event in the access log ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Bad input: refused, nothing changed.
    Invalid,
    /// Not signed in, or the sign-in failed.
    Unauthenticated,
    /// Signed in but not allowed.
    Denied,
    Throttled,
    /// Candor failed.
    Error,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Invalid => "invalid",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::Denied => "denied",
            Outcome::Throttled => "throttled",
            Outcome::Error => "error",
        }
    }
}

/// The file an access-log export is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    /// The file's name and media type.
    pub fn file(self) -> (&'static str, &'static str) {
        match self {
            ExportFormat::Csv => ("candor-access-log.csv", "text/csv;charset=utf-8"),
            ExportFormat::Json => ("candor-access-log.json", "application/json"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_types_round_trip_through_their_keys_and_json() {
        for kind in QuestionType::ALL {
            assert_eq!(QuestionType::from_key(kind.key()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.key()));
        }
        assert_eq!(QuestionType::from_key("slider"), None);
        assert!(serde_json::from_str::<SurveyState>("\"archived\"").is_err());
    }
}
