//! Outgoing mail through lettre: SMTP when `CANDOR_SMTP_URL` is set, otherwise one `.eml` file per
//! message in the data directory's `outbox/`, where an operator (or a test) can open it.

use std::path::PathBuf;

use lettre::{
    message::{header::ContentType, Mailbox},
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::{Error, Result};

#[derive(Clone)]
enum Transport {
    Outbox(AsyncFileTransport<Tokio1Executor>, PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("transport", &self.describe())
            .finish()
    }
}

/// A message ready to send. Bodies are plain text: no tracking, no remote content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

fn parse_from(from: &str) -> Result<Mailbox> {
    from.parse().map_err(|err| Error::Invalid {
        field: "CANDOR_MAIL_FROM",
        reason: format!("not a mailbox: {err}"),
    })
}

impl Mailer {
    /// Writes each message as an `.eml` file into `dir` (created if missing).
    pub fn outbox(dir: PathBuf, from: &str) -> Result<Self> {
        std::fs::create_dir_all(&dir).map_err(|err| {
            Error::Internal(format!("cannot create the mail outbox {}: {err}", dir.display()))
        })?;
        Ok(Self {
            from: parse_from(from)?,
            transport: Transport::Outbox(AsyncFileTransport::new(&dir), dir),
        })
    }

    /// Sends through the SMTP server of `url` (`smtps://user:pass@host` or `smtp://host?tls=required`).
    pub fn smtp(url: &str, from: &str) -> Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|err| Error::Invalid {
                field: "CANDOR_SMTP_URL",
                reason: err.to_string(),
            })?
            .build();
        Ok(Self {
            from: parse_from(from)?,
            transport: Transport::Smtp(transport),
        })
    }

    /// Where mail goes, for logs and the Security page (never credentials).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Outbox(_, dir) => format!(".eml files in {}", dir.display()),
            Transport::Smtp(_) => "SMTP".to_owned(),
        }
    }

    pub async fn send(&self, mail: Mail) -> Result<()> {
        let to: Mailbox = mail.to.parse().map_err(|err| Error::Invalid {
            field: "email",
            reason: format!("cannot be mailed: {err}"),
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|err| Error::Internal(format!("building mail: {err}")))?;
        match &self.transport {
            Transport::Outbox(transport, _) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|err| Error::Internal(format!("writing mail to the outbox: {err}"))),
            Transport::Smtp(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                // The server's text can quote the recipient's address: keep only the reply code.
                .map_err(|err| {
                    let code = err
                        .status()
                        .map_or_else(|| "no reply".to_owned(), |code| code.to_string());
                    Error::Unavailable(format!("sending mail failed (SMTP {code})"))
                }),
        }
    }
}

/// The messages Candor sends about accounts.
pub mod messages {
    use super::Mail;

    pub fn verify_email(to: &str, name: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Confirm your email address for Candor".to_owned(),
            body: format!(
                "Hello {name},\n\nplease confirm your email address to finish creating your Candor workplace:\n\n{link}\n\n\
                 The link works once and expires in 24 hours. If you did not sign up, ignore this message: \
                 no account becomes usable without it.\n\n— Candor\n"
            ),
        }
    }

    pub fn new_sign_in(to: &str, device: &str, network: &str, at: &str, sessions_link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "New sign-in to your Candor account".to_owned(),
            body: format!(
                "Hello,\n\nyour Candor account was just signed in from a device or network it has not used before:\n\n\
                 When: {at}\nDevice: {device}\nNetwork: {network}\n\nIf this was you, there is nothing to do. If not, \
                 sign that session out and change your password:\n\n{sessions_link}\n\n— Candor\n"
            ),
        }
    }

    /// To both the old and the new address after an HR admin corrected someone's address.
    pub fn sign_in_address_changed(to: &str, old: &str, new: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Your Candor sign-in address was changed".to_owned(),
            body: format!(
                "Hello,\n\nan HR admin of your workplace corrected the address you sign in to Candor with, \
                 from {old} to {new}. Sign in with the new address from now on; your password and second \
                 factors stay as they are.\n\nIf you did not expect this, tell your HR team.\n\n— Candor\n"
            ),
        }
    }

    pub fn reset_password(to: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Reset your Candor password".to_owned(),
            body: format!(
                "Hello,\n\nsomeone asked to reset the password of the Candor account with this address. To choose a \
                 new password, open:\n\n{link}\n\nThe link works once and expires in 30 minutes. Signing in \
                 afterwards still needs your authenticator app or a recovery code. If you did not ask, ignore \
                 this message: your password stays as it is.\n\n— Candor\n"
            ),
        }
    }

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

    /// A monitoring rule raised an alert in the person's workplace. Says which rule, never who.
    pub fn audit_alert(to: &str, name: &str, rule: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!("Candor security alert: {rule}"),
            body: format!(
                "Hello {name},\n\nCandor's monitoring raised an alert in your workplace: {rule}.\n\n\
                 Review it, and the log entries behind it, here:\n\n{link}\n\n\
                 You receive this because you are an Owner or Auditor of the workplace.\n\n— Candor\n"
            ),
        }
    }

    /// Something the operator of this Candor instance must look at (a backup or restore drill
    /// failed). Names what failed and why in operational terms, never any workplace's data.
    pub fn operator_alert(to: &str, what: &str, detail: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!("Candor operations alert: {what}"),
            body: format!(
                "Candor needs attention: {what}.\n\n{detail}\n\nThe last good backup is untouched. Run \
                 `candor backup list` and `candor backup verify` on the server to see where things stand.\n\n— Candor\n"
            ),
        }
    }

    /// A personal-data breach affects the person's workplace: what happened, its likely impact,
    /// what was done about it, and whom to ask.
    pub fn breach_notice(
        to: &str,
        name: &str,
        title: &str,
        nature: &str,
        notice: &crate::compliance::incidents::Notice,
        link: &str,
    ) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!("Candor personal-data breach notice: {title}"),
            body: format!(
                "Hello {name},\n\nCandor's operators have verified a personal-data breach that affects your \
                 workplace. As its Owner you are told within 24 hours.\n\nWhat happened:\n{nature}\n\n\
                 Likely impact:\n{}\n\nWhat we did and will do:\n{}\n\nContact:\n{}\n\n\
                 The notice is also shown when you sign in:\n\n{link}\n\n— Candor\n",
                notice.likely_impact, notice.mitigation, notice.contact
            ),
        }
    }

    /// An Owner asked for the whole workplace to be deleted: every Owner hears of it at once, so
    /// a mistaken or hostile request can be cancelled in time.
    pub fn termination_requested(
        to: &str,
        name: &str,
        workplace: &str,
        by: &str,
        delete_at: &str,
        link: &str,
    ) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!("Candor: {workplace} is to be deleted on {delete_at}"),
            body: format!(
                "Hello {name},\n\n{by} asked for the workplace {workplace} to be deleted. On {delete_at} every \
                 person, department, survey, answer, comment and log entry of it will be deleted and its keys \
                 destroyed; this cannot be undone.\n\nUntil then, any Owner can cancel the deletion in \
                 Settings:\n\n{link}\n\nIf you did not expect this, cancel it and check who holds the Owner \
                 role.\n\n— Candor\n"
            ),
        }
    }

    /// A pending deletion was cancelled.
    pub fn termination_cancelled(to: &str, name: &str, workplace: &str, by: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!("Candor: deletion of {workplace} cancelled"),
            body: format!(
                "Hello {name},\n\n{by} cancelled the deletion of the workplace {workplace}. Nothing will be \
                 deleted.\n\n{link}\n\n— Candor\n"
            ),
        }
    }

    /// The operator changed the list of subprocessors.
    pub fn subprocessor_change(to: &str, name: &str, summary: &str, effective_on: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Candor: a change to our subprocessors".to_owned(),
            body: format!(
                "Hello {name},\n\nas the Owner of a Candor workplace you are told of every change to the \
                 subprocessors that process its data, before it takes effect.\n\nChange: {summary}\nTakes \
                 effect on: {effective_on}\n\nThe full list:\n\n{link}\n\nTo object, write to us from \
                 Help in Candor before that day.\n\n— Candor\n"
            ),
        }
    }

    /// What a deletion removed, when, and when the last backup holding it goes.
    pub fn deletion_certificate(
        to: &str,
        name: &str,
        certificate: &crate::compliance::workplace_deletion::Certificate,
    ) -> Mail {
        let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        let mut deleted = String::new();
        for (what, count) in &certificate.deleted {
            deleted.push_str(&format!("  - {what}: {count}\n"));
        }
        let backups = match certificate.backups_expire_by {
            Some(by) => format!(
                "Backups: the workplace's backup key was destroyed with it, so its part of every backup \
                 taken before the deletion can no longer be decrypted. Those backups are themselves deleted \
                 by {} at the latest (backup retention).",
                at(by)
            ),
            None => "Backups: this installation keeps no backups.".to_owned(),
        };
        Mail {
            to: to.to_owned(),
            subject: format!("Candor deletion certificate: {}", certificate.workplace_name),
            body: format!(
                "Hello {name},\n\nthis certifies that the workplace {} (id {}) was deleted from Candor.\n\n\
                 Certificate number: {}\nDeletion requested: {}{}\nDeleted: {}\n\nWhat was deleted:\n{deleted}\
                 \nEncryption keys destroyed: {} data key(s). Whatever was sealed under them cannot be opened \
                 again by anyone.\n\n{backups}\n\nYour own account was part of the workplace and is deleted \
                 too; this email is the last Candor sends you. Keep it as your record.\n\n— Candor\n",
                certificate.workplace_name,
                certificate.workplace,
                certificate.id,
                at(certificate.requested_at),
                certificate.requested_by.as_ref().map(|by| format!(" by {by}")).unwrap_or_default(),
                at(certificate.deleted_at),
                certificate.data_keys_destroyed,
            ),
        }
    }

    /// The workplace's access log is due for its regular review.
    pub fn audit_review_due(to: &str, name: &str, due: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Candor: the access log is due for review".to_owned(),
            body: format!(
                "Hello {name},\n\nyour workplace reviews its access log regularly; the next review was due on \
                 {due}.\n\nOpen the log and mark what you reviewed:\n\n{link}\n\n— Candor\n"
            ),
        }
    }

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

    pub fn already_registered(to: &str, sign_in_link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Someone tried to sign up to Candor with your address".to_owned(),
            body: format!(
                "Hello,\n\nsomeone tried to create a Candor workplace with this email address, which already has an \
                 account. If it was you, sign in instead:\n\n{sign_in_link}\n\nIf it was not you, nothing has \
                 changed and you need not do anything.\n\n— Candor\n"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outbox_messages_are_real_eml_files() {
        let dir = tempfile_dir();
        let mailer = Mailer::outbox(dir.clone(), "Candor <no-reply@candor.test>").unwrap();
        mailer
            .send(messages::verify_email(
                "ada@example.com",
                "Ada",
                "http://localhost/verify-email?token=abc",
            ))
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).collect();
        assert_eq!(files.len(), 1);
        // Long lines make lettre choose quoted-printable: undo soft breaks and `=3D` as mail clients do.
        let text = std::fs::read_to_string(files[0].path())
            .unwrap()
            .replace("=\r\n", "")
            .replace("=3D", "=");
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(
            text.contains("Subject: Confirm your email address for Candor"),
            "{text}"
        );
        assert!(text.contains("token=abc"), "{text}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn smtp_failures_never_carry_the_recipient() {
        // Nothing listens on port 1: the send fails, and the error must not name the recipient.
        let mailer = Mailer::smtp("smtp://127.0.0.1:1", "a@b.c").unwrap();
        let err = mailer
            .send(messages::reset_password("ada@example.com", "http://x"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "service.unavailable");
        assert!(!err.to_string().contains("ada@example.com"), "{err}");
    }

    #[test]
    fn bad_settings_name_themselves() {
        let err = Mailer::outbox(tempfile_dir(), "not a mailbox").unwrap_err();
        assert!(err.public_message().starts_with("CANDOR_MAIL_FROM"));
        let err = Mailer::smtp("gopher://x", "a@b.c").unwrap_err();
        assert!(err.public_message().starts_with("CANDOR_SMTP_URL"));
    }

    fn tempfile_dir() -> PathBuf {
        std::env::temp_dir().join(format!("candor-mail-{}", uuid::Uuid::new_v4()))
    }
}
