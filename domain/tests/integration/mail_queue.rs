//! The mail queue against a real SMTP server (aiosmtpd, started here): mail waits sealed, is
//! delivered most urgent first, is tried again with backoff when the server is down or busy,
//! becomes a dead letter the operator can send again when the server refuses it, is never sent
//! twice by two senders, and is dropped when its recipient is erased.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use chrono::{DateTime, Duration, Utc};
use domain::{
    compliance::privacy,
    organisation::people::NewPerson,
    platform::{
        mail::{Mail, Mailer},
        mail_queue::{Delivery, MailKind, MailQueue, MAX_ATTEMPTS},
        policy::{Role, RoleKey},
    },
    testing::TestDb,
};

use crate::keyring::stored_bytes;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z")
        .unwrap()
        .to_utc()
}

/// An SMTP server in a child process, killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    received: tempfile::TempDir,
}

impl SmtpServer {
    /// `accept`, `refuse` (550) or `busy` (451); see `tests/support/smtp_server.py`.
    fn start(mode: &str) -> Self {
        let received = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
        // Debian's interpreter, which has python3-aiosmtpd (another python3 may come first on PATH).
        let python = ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("python3");
        let mut child = Command::new(python)
            .arg(script)
            .arg(mode)
            .arg(received.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs (scripts/setup --test installs python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the SMTP server did not start: {line:?}"));
        Self {
            child,
            port,
            received,
        }
    }

    fn mailer(&self) -> Mailer {
        Mailer::smtp(
            &format!("smtp://127.0.0.1:{}", self.port),
            "Candor <no-reply@candor.test>",
        )
        .unwrap()
    }

    /// Every message received, oldest first.
    fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.received.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        names.sort();
        names
            .iter()
            .map(|path| std::fs::read_to_string(path).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mailer pointed at a port where nothing listens.
fn mail_server_down() -> Mailer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Mailer::smtp(
        &format!("smtp://127.0.0.1:{port}"),
        "Candor <no-reply@candor.test>",
    )
    .unwrap()
}

fn mail(to: &str, subject: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body: format!("Hello,\n\n{subject}.\n"),
    }
}

async fn waiting(queue: &MailQueue) -> u64 {
    queue
        .overview(now())
        .await
        .unwrap()
        .waiting
        .iter()
        .map(|(_, n)| n)
        .sum()
}

async fn queued_mail_waits_sealed_and_is_delivered_over_smtp(test_db: TestDb) {
    let queue = MailQueue::new(test_db.db.clone());
    queue
        .enqueue(
            None,
            MailKind::Invitation,
            mail("zebediah@harbour.test", "Zebediah, join Harbour"),
            now(),
        )
        .await
        .unwrap();
    // Waiting, it is sealed: neither the address nor the text is in the database's bytes.
    let bytes = stored_bytes(&test_db);
    for needle in ["zebediah@harbour.test", "Zebediah, join Harbour"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} is readable in the database"
        );
    }
    // An address that cannot be mailed is refused at once, as a mistake in the input.
    let refused = queue
        .enqueue(None, MailKind::Invitation, mail("not an address", "x"), now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "input.invalid");

    let server = SmtpServer::start("accept");
    assert_eq!(
        queue.deliver_next(&server.mailer(), now()).await.unwrap(),
        Delivery::Sent
    );
    let received = server.messages();
    assert_eq!(received.len(), 1);
    assert!(
        received[0].contains("To: zebediah@harbour.test"),
        "{}",
        received[0]
    );
    assert!(
        received[0].contains("Subject: Zebediah, join Harbour"),
        "{}",
        received[0]
    );
    // Sent mail is deleted, not kept.
    assert_eq!(waiting(&queue).await, 0);
    assert!(matches!(
        queue.deliver_next(&server.mailer(), now()).await.unwrap(),
        Delivery::Idle { next_due: None }
    ));
}

async fn urgent_mail_goes_out_before_a_mailing(test_db: TestDb) {
    let queue = MailQueue::new(test_db.db.clone());
    let reminders = (0..3)
        .map(|i| mail(&format!("person{i}@harbour.test"), "Your check-in closes soon"))
        .collect();
    assert_eq!(
        queue
            .enqueue_all(None, MailKind::CheckInReminder, reminders, now())
            .await
            .unwrap(),
        3
    );
    queue
        .enqueue(
            None,
            MailKind::SignInNotice,
            mail("ada@harbour.test", "New sign-in to your Candor account"),
            now() + Duration::seconds(1),
        )
        .await
        .unwrap();
    let server = SmtpServer::start("accept");
    let at = now() + Duration::seconds(1);
    assert_eq!(
        queue.deliver_next(&server.mailer(), at).await.unwrap(),
        Delivery::Sent
    );
    let first = server.messages();
    assert_eq!(first.len(), 1);
    assert!(first[0].contains("To: ada@harbour.test"), "{}", first[0]);
    let rest = queue.deliver_due(&server.mailer(), at).await.unwrap();
    assert_eq!(rest.sent, 3);
}

async fn a_server_that_is_down_or_busy_is_tried_again_with_backoff_until_it_gives_up(test_db: TestDb) {
    let queue = MailQueue::new(test_db.db.clone());
    queue
        .enqueue(
            None,
            MailKind::PasswordReset,
            mail("grace@harbour.test", "Reset your Candor password"),
            now(),
        )
        .await
        .unwrap();
    // Down: tried again a minute later, not before.
    assert_eq!(
        queue.deliver_next(&mail_server_down(), now()).await.unwrap(),
        Delivery::Retrying
    );
    let overview = queue.overview(now()).await.unwrap();
    assert_eq!((overview.failing, overview.dead.len()), (1, 0));
    assert_eq!(
        queue
            .deliver_next(&mail_server_down(), now() + Duration::seconds(30))
            .await
            .unwrap(),
        Delivery::Idle {
            next_due: Some(now() + Duration::minutes(1))
        }
    );
    // Busy (451) every time after: each wait doubles, and after the last attempt it is dead.
    let busy = SmtpServer::start("busy");
    let mut at = now() + Duration::minutes(1);
    for attempt in 2..MAX_ATTEMPTS {
        assert_eq!(
            queue.deliver_next(&busy.mailer(), at).await.unwrap(),
            Delivery::Retrying,
            "attempt {attempt}"
        );
        at += domain::platform::mail_queue::backoff(attempt);
    }
    assert_eq!(
        queue.deliver_next(&busy.mailer(), at).await.unwrap(),
        Delivery::Dead
    );
    let dead = queue.overview(now()).await.unwrap().dead;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].kind, dead[0].attempts, dead[0].last_error.as_str()),
        ("password reset", MAX_ATTEMPTS, "SMTP 451")
    );
}

async fn a_refused_message_is_a_dead_letter_the_operator_can_send_again(test_db: TestDb) {
    let queue = MailQueue::new(test_db.db.clone());
    queue
        .enqueue(
            None,
            MailKind::Invitation,
            mail("Zebediah <zebediah@harbour.test>", "Zebediah, join Harbour"),
            now(),
        )
        .await
        .unwrap();
    let refusing = SmtpServer::start("refuse");
    // A permanent refusal is not tried again.
    assert_eq!(
        queue.deliver_next(&refusing.mailer(), now()).await.unwrap(),
        Delivery::Dead
    );
    let overview = queue.overview(now()).await.unwrap();
    assert_eq!(waiting(&queue).await, 0);
    let dead = &overview.dead[0];
    assert_eq!(
        (
            dead.kind,
            dead.recipient_domain.as_str(),
            dead.attempts,
            dead.last_error.as_str()
        ),
        ("invitation", "harbour.test", 1, "SMTP 550")
    );
    assert!(matches!(
        queue
            .deliver_next(&refusing.mailer(), now() + Duration::days(1))
            .await
            .unwrap(),
        Delivery::Idle { .. }
    ));
    // The operator fixes the cause and sends it again.
    assert_eq!(queue.retry_dead(Some(dead.id), now()).await.unwrap(), 1);
    let accepting = SmtpServer::start("accept");
    assert_eq!(
        queue.deliver_next(&accepting.mailer(), now()).await.unwrap(),
        Delivery::Sent
    );
    assert_eq!(accepting.messages().len(), 1);
    assert!(queue.overview(now()).await.unwrap().dead.is_empty());
    // Old dead letters go by themselves; discarding takes one at once.
    queue
        .enqueue(None, MailKind::Invitation, mail("x@harbour.test", "x"), now())
        .await
        .unwrap();
    queue.deliver_next(&refusing.mailer(), now()).await.unwrap();
    assert_eq!(
        queue
            .purge_dead_letters(now() + Duration::days(13))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        queue
            .purge_dead_letters(now() + Duration::days(15))
            .await
            .unwrap(),
        1
    );
    assert_eq!(queue.discard_dead(None).await.unwrap(), 0);
}

async fn two_senders_never_send_one_message_twice(test_db: TestDb) {
    let queue = MailQueue::new(test_db.db.clone());
    let mails = (0..30)
        .map(|i| mail(&format!("person{i}@harbour.test"), &format!("Check-in {i}")))
        .collect();
    queue
        .enqueue_all(None, MailKind::CheckIn, mails, now())
        .await
        .unwrap();
    let server = SmtpServer::start("accept");
    let (one, other) = (
        MailQueue::new(test_db.db.clone()),
        MailQueue::new(test_db.db.clone()),
    );
    let (mailer_one, mailer_other) = (server.mailer(), server.mailer());
    let (a, b) = tokio::join!(
        one.deliver_due(&mailer_one, now()),
        other.deliver_due(&mailer_other, now())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 30, "{a:?} {b:?}");
    let mut subjects: Vec<String> = server
        .messages()
        .iter()
        .filter_map(|m| m.lines().find(|l| l.starts_with("Subject: ")).map(str::to_owned))
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 30);
}

async fn erasing_a_person_drops_the_mail_still_queued_for_them(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Quayside", "ada@quayside.test", now()).await;
    let grace = domain::testing::active_person(
        db,
        &tenant,
        NewPerson {
            name: "Grace Hopper".into(),
            email: "Grace@Quayside.test".into(),
            department: None,
            role: RoleKey::BuiltIn(Role::Employee),
            start_date: None,
        },
        now(),
    )
    .await;
    let queue = MailQueue::new(db.clone());
    queue
        .enqueue(
            Some(tenant.workplace_id()),
            MailKind::CheckIn,
            mail("grace@quayside.test", "Your check-in"),
            now(),
        )
        .await
        .unwrap();
    queue
        .enqueue(
            None,
            MailKind::SignInNotice,
            mail("Grace <grace@quayside.test>", "New sign-in"),
            now(),
        )
        .await
        .unwrap();
    queue
        .enqueue(
            Some(tenant.workplace_id()),
            MailKind::CheckIn,
            mail("ada@quayside.test", "Your check-in"),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(waiting(&queue).await, 3);
    privacy::erase(&tenant.as_person(&owner), grace.user_id, now())
        .await
        .unwrap();
    assert_eq!(waiting(&queue).await, 1, "only Ada's mail is left");
}

domain::on_both_backends!(
    queued_mail_waits_sealed_and_is_delivered_over_smtp,
    urgent_mail_goes_out_before_a_mailing,
    a_server_that_is_down_or_busy_is_tried_again_with_backoff_until_it_gives_up,
    a_refused_message_is_a_dead_letter_the_operator_can_send_again,
    two_senders_never_send_one_message_twice,
    erasing_a_person_drops_the_mail_still_queued_for_them,
);
