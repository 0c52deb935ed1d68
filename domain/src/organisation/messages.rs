//! Mail about joining a workplace.

use crate::platform::mail::Mail;

pub fn invitation(to: &str, name: &str, workplace: &str, link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("You are invited to {workplace} on Candor"),
        body: format!(
            "Hello {name},\n\n{workplace} uses Candor for short, anonymous check-ins about how work is going. \
             To join, choose a password and set up a second factor:\n\n{link}\n\nThe link works once and \
             expires in 7 days. Your answers are only ever shown in groups, never with your name.\n\n— Candor\n"
        ),
    }
}
