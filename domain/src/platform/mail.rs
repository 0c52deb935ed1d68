//! Outgoing mail through lettre: SMTP when `CANDOR_SMTP_URL` is set, otherwise one `.eml` file per
//! message in the data directory's `outbox/`, where an operator (or a test) can open it. Only the
//! mail queue's sender sends: everything else queues (see `mail_queue`).

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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Why a message was not delivered, in operational terms: the SMTP reply code or what failed,
/// never the server's text (it can quote the recipient).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendFailure {
    /// The mail server refused it for good (a 5xx reply): trying again cannot help.
    pub permanent: bool,
    pub reason: String,
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

    /// Refuses an address lettre cannot put in a `To:` header.
    pub fn check_address(to: &str) -> Result<()> {
        to.parse::<Mailbox>().map(|_| ()).map_err(|err| Error::Invalid {
            field: "email",
            reason: format!("cannot be mailed: {err}"),
        })
    }

    /// Sends one message now. The mail queue's sender calls this, and the command line's
    /// operator alert (which reports failures of the database the queue lives in); everything
    /// else queues.
    pub async fn send(&self, mail: Mail) -> std::result::Result<(), SendFailure> {
        let failure = |permanent: bool, reason: String| SendFailure { permanent, reason };
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| failure(true, "the address cannot be mailed".to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|err| failure(true, format!("the message cannot be built: {err}")))?;
        match &self.transport {
            Transport::Outbox(transport, _) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|err| failure(false, format!("writing to the outbox failed: {err}"))),
            Transport::Smtp(transport) => transport.send(message).await.map(|_| ()).map_err(|err| {
                let reason = match err.status() {
                    Some(code) => format!("SMTP {code}"),
                    None if err.is_timeout() => "SMTP timed out".to_owned(),
                    None => "SMTP server unreachable or no reply".to_owned(),
                };
                // Only a refusal of this recipient or message is final; any other 5xx (bad
                // credentials, a relay that refuses us) is the setup's, and waits for the
                // operator to fix it instead of turning the whole queue into dead letters.
                let refused_recipient = err.status().is_some_and(|code| {
                    matches!(code.to_string().as_str(), "501" | "550" | "551" | "552" | "553")
                });
                failure(err.is_permanent() && refused_recipient, reason)
            }),
        }
    }
}

/// The messages Candor sends to its operator; each feature's own mail lives with the feature.
pub mod messages {
    use super::Mail;

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outbox_messages_are_real_eml_files() {
        let dir = tempfile_dir();
        let mailer = Mailer::outbox(dir.clone(), "Candor <no-reply@candor.test>").unwrap();
        mailer
            .send(Mail {
                to: "ada@example.com".to_owned(),
                subject: "Confirm your email address for Candor".to_owned(),
                body: "Hello Ada,\n\nplease confirm: http://localhost/verify-email?token=abc\n".to_owned(),
            })
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
        // Nothing listens on port 1: the send fails for now (worth trying again), and the
        // reason must not name the recipient.
        let mailer = Mailer::smtp("smtp://127.0.0.1:1", "a@b.c").unwrap();
        let failure = mailer
            .send(Mail {
                to: "ada@example.com".to_owned(),
                subject: "Reset your Candor password".to_owned(),
                body: "http://x".to_owned(),
            })
            .await
            .unwrap_err();
        assert!(!failure.permanent, "{failure:?}");
        assert!(!failure.reason.contains("ada@example.com"), "{failure:?}");
    }

    #[test]
    fn addresses_that_cannot_be_mailed_are_refused_before_queueing() {
        assert!(Mailer::check_address("Ada <ada@example.com>").is_ok());
        let err = Mailer::check_address("ada at example").unwrap_err();
        assert_eq!(err.code(), "input.invalid");
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
