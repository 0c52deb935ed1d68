//! Ids as they cross between the server and the browser: one type per kind of thing, so a page
//! cannot send a department's id where a person's is expected. On the wire each is the plain
//! text of the id (forms and links carry it unchanged); only the server reads it as the domain's
//! id, and an id that does not parse is simply not found, exactly like one that names nothing.

use serde::{Deserialize, Serialize};

macro_rules! wire_id {
    ($(#[$meta:meta])* $name:ident => $domain:ty, $parse:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// The domain's id this names; unparseable text is not found.
            #[cfg(feature = "ssr")]
            pub fn parse(&self) -> Result<$domain, domain::Error> {
                let parse: fn(&str) -> Option<$domain> = $parse;
                parse(self.0.trim()).ok_or(domain::Error::NotFound)
            }

            /// As [`Self::parse`], where an empty field means none (e.g. no parent department).
            #[cfg(feature = "ssr")]
            pub fn parse_optional(&self) -> Result<Option<$domain>, domain::Error> {
                if self.0.trim().is_empty() {
                    return Ok(None);
                }
                self.parse().map(Some)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self(text.to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Forms and links carry it as its text.
        impl leptos::attr::IntoAttributeValue for $name {
            type Output = String;

            fn into_attribute_value(self) -> String {
                self.0
            }
        }

        #[cfg(feature = "ssr")]
        impl From<$domain> for $name {
            fn from(id: $domain) -> Self {
                Self(id.to_string())
            }
        }
    };
}

#[cfg(feature = "ssr")]
fn uuid_of(text: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(text).ok()
}

#[cfg(feature = "ssr")]
fn domain_id<T: std::str::FromStr>(text: &str) -> Option<T> {
    text.parse().ok()
}

wire_id!(
    /// A person's account.
    PersonId => domain::platform::ids::UserId, domain_id
);
wire_id!(
    /// A department of the workplace's tree.
    DepartmentId => domain::platform::ids::DepartmentId, domain_id
);
wire_id!(
    /// A role to give someone: a built-in role's key or a workplace role's id.
    RoleKey => domain::platform::policy::RoleKey, domain_id
);
wire_id!(
    /// A survey.
    SurveyId => domain::surveys::SurveyId, uuid_of
);
wire_id!(
    /// One round of a survey.
    RoundId => domain::surveys::rounds::RoundId, uuid_of
);
wire_id!(
    /// A question of a survey.
    QuestionId => domain::surveys::QuestionId, uuid_of
);
wire_id!(
    /// A comment left with an answer.
    CommentId => uuid::Uuid, uuid_of
);
wire_id!(
    /// One of the signed-in person's sessions.
    SessionId => uuid::Uuid, uuid_of
);
wire_id!(
    /// One of the signed-in person's second factors.
    FactorId => uuid::Uuid, uuid_of
);
wire_id!(
    /// A grant of access to Candor's support staff.
    SupportGrantId => uuid::Uuid, uuid_of
);
wire_id!(
    /// An entry of the access log.
    LogEntryId => uuid::Uuid, uuid_of
);
wire_id!(
    /// An alert raised by the access-log monitor.
    AlertId => uuid::Uuid, uuid_of
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cross_as_their_plain_text() {
        let id = PersonId::from("0b7e5a3c-4c4e-4f7a-9d43-6c1c1a2b3c4d");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"0b7e5a3c-4c4e-4f7a-9d43-6c1c1a2b3c4d\""
        );
        assert_eq!(
            serde_json::from_str::<PersonId>("\"x\"").unwrap(),
            PersonId::from("x")
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn an_unparseable_id_is_not_found() {
        assert_eq!(
            RoundId::from("not-an-id").parse().unwrap_err().code(),
            "resource.not_found"
        );
        assert!(PersonId::from(" 0b7e5a3c-4c4e-4f7a-9d43-6c1c1a2b3c4d ")
            .parse()
            .is_ok());
    }
}
