//! Mail about check-ins.

use crate::platform::mail::Mail;

/// A round of a pulse survey is open for this person.
pub fn check_in(to: &str, name: &str, title: &str, closes: &str, link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("New check-in: {title}"),
        body: format!(
            "Hello {name},\n\na new check-in is open until {closes}. It takes a minute or two:\n\n{link}\n\n\
             Your answers are never shown with your name: results appear only for groups large enough \
             that no one can be singled out.\n\n— Candor\n"
        ),
    }
}

pub fn check_in_reminder(to: &str, name: &str, title: &str, closes: &str, link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("Reminder: {title} closes soon"),
        body: format!(
            "Hello {name},\n\nthe check-in \u{201c}{title}\u{201d} is open until {closes} and is still waiting \
             for your answers:\n\n{link}\n\nAnswering is voluntary. Your answers are never shown with your \
             name: results appear only for groups large enough that no one can be singled out.\n\n— Candor\n"
        ),
    }
}
