//! Asking Candor's operators for help from inside the application: a topic and a message, sent
//! to the operator's support inbox by email with who asks (name, address, role, workplace) so
//! they can answer. Nothing else is attached — never survey answers, comments or results.

use chrono::{DateTime, Utc};

use crate::{
    platform::{mail::Mail, policy::Identity},
    Error, Result,
};

/// What a question can be about.
pub const TOPICS: [(&str, &str); 6] = [
    ("signing-in", "Signing in and second factors"),
    ("surveys", "Surveys and check-ins"),
    ("results", "Results"),
    ("people", "People, departments and roles"),
    ("data-protection", "Data protection and security"),
    ("other", "Something else"),
];

pub const MAX_MESSAGE: usize = 4000;

/// A question ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub topic: &'static str,
    pub message: String,
}

/// Checks a question as typed.
pub fn question(topic: &str, message: &str) -> Result<Question> {
    let topic = TOPICS
        .iter()
        .find(|(key, _)| *key == topic)
        .map(|(_, label)| *label)
        .ok_or(Error::Invalid {
            field: "topic",
            reason: "choose one of the topics".into(),
        })?;
    let message = message.trim();
    if message.chars().count() < 10 {
        return Err(Error::Invalid {
            field: "message",
            reason: "say a little more (at least 10 characters)".into(),
        });
    }
    if message.chars().count() > MAX_MESSAGE {
        return Err(Error::Invalid {
            field: "message",
            reason: format!("at most {MAX_MESSAGE} characters"),
        });
    }
    Ok(Question {
        topic,
        message: message.to_owned(),
    })
}

/// The email to the support inbox `to`, from the person asking.
pub fn to_support(
    to: &str,
    asking: &Identity,
    name: &str,
    email: &str,
    workplace_name: &str,
    question: &Question,
    now: DateTime<Utc>,
) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("Candor help: {} ({workplace_name})", question.topic),
        body: format!(
            "{name} <{email}>, {} of {workplace_name} (workplace {}), asks for help at {}.\n\n\
             Topic: {}\n\n{}\n\n— Sent from Candor's help form. Reply to the address above.\n",
            asking.role.name,
            asking.workplace_id,
            now.format("%Y-%m-%d %H:%M UTC"),
            question.topic,
            question.message
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_checked() {
        assert_eq!(
            question("results", "  Where is round 3?  ").unwrap().message,
            "Where is round 3?"
        );
        assert_eq!(
            question("nope", "Where is round 3?").unwrap_err().code(),
            "input.invalid"
        );
        assert_eq!(question("results", "short").unwrap_err().code(), "input.invalid");
        assert_eq!(
            question("results", &"x".repeat(MAX_MESSAGE + 1))
                .unwrap_err()
                .code(),
            "input.invalid"
        );
    }
}
