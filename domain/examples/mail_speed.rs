//! Mail speed: what "Remind" costs a request in a 10,000-person workplace now that it only
//! queues (the reminders of an open round, sealed into the mail queue), and how fast the sender
//! empties the queue into the `.eml` outbox. Prints the time of each step.
//! `cargo run --release -p domain --features testing --example mail_speed [sqlite|postgres]`
//! (PostgreSQL through TEST_DATABASE_URL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use domain::{
    platform::{mail::Mailer, mail_queue::MailQueue},
    surveys::{self, library, rounds, Cadence, NewQuestion, NewSurvey},
    testing::TestDb,
};

const PEOPLE: usize = 10_000;
const REMINDERS: usize = 5; // 13 hours apart: all within the six-day window
const DELIVERED: usize = 2_000;

#[tokio::main]
async fn main() {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("postgres") => domain::Backend::Postgres,
        _ => domain::Backend::Sqlite,
    };
    let test_db = TestDb::migrated(backend).await.expect("database");
    let db = &test_db.db;
    let now = chrono::Utc::now();
    let (owner, tenant) = domain::testing::workplace(db, "Pulse Industries", "owner@pulse.test", now).await;
    domain::testing::seed_active_people(&tenant, PEOPLE, None, now).await;
    let wellbeing = library::find("wellbeing").unwrap();
    let created = surveys::create_and_open(
        &tenant.as_person(&owner),
        NewSurvey {
            title: "Weekly pulse".into(),
            questions: vec![NewQuestion {
                prompt: wellbeing.prompt.into(),
                kind: wellbeing.kind(),
                library_key: Some("wellbeing".into()),
            }],
            departments: vec![],
            cadence: Cadence::Weekly,
            first_round_at: now,
            window_days: 6,
        },
        now,
    )
    .await
    .unwrap();
    let opened = created.opened.expect("the first round opened");
    let round = opened.round();
    let queue = MailQueue::new(db.clone());
    let started = Instant::now();
    let queued = rounds::notify(
        db,
        &queue,
        "https://candor.test",
        &opened,
        rounds::Notice::Invitation,
        now,
    )
    .await;
    println!(
        "{}: {queued} invitations queued in {:.0} ms",
        backend.label(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    // What the Remind request does after authorising: claim the reminder, then queue it for
    // everyone who has not answered (here, everyone). Once per 12 hours by hand, so each run is
    // half a day later.
    let mut timings: Vec<Duration> = Vec::new();
    for run in 0..REMINDERS {
        let at = now + chrono::Duration::hours(13 * (run as i64 + 1));
        let started = Instant::now();
        let mailing = rounds::remind_now(&tenant.as_person(&owner), round, at)
            .await
            .unwrap();
        let queued = rounds::notify(
            db,
            &queue,
            "https://candor.test",
            &mailing,
            rounds::Notice::Reminder,
            at,
        )
        .await;
        timings.push(started.elapsed());
        assert!(queued >= PEOPLE, "{queued}");
    }
    timings.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{}: Remind (claim + queue {PEOPLE} reminders), {REMINDERS} runs: fastest {:.0} ms, median {:.0} ms, slowest {:.0} ms",
        backend.label(),
        ms(timings[0]),
        ms(timings[REMINDERS / 2]),
        ms(timings[REMINDERS - 1])
    );
    // Where a Remind's time goes: the claim alone, and queueing 10,000 ready-made emails alone.
    let at = now + chrono::Duration::hours(13 * (REMINDERS as i64 + 1));
    let started = Instant::now();
    rounds::remind_now(&tenant.as_person(&owner), round, at)
        .await
        .unwrap();
    let claim = started.elapsed();
    let mails: Vec<domain::platform::mail::Mail> = (0..PEOPLE)
        .map(|n| {
            domain::surveys::messages::check_in_reminder(
                &format!("person{n}@bench.test"),
                &format!("Person {n:05}"),
                "Weekly pulse",
                "Friday 11 December, 09:00 UTC",
                "https://candor.test/check-ins/00000000-0000-0000-0000-000000000000",
            )
        })
        .collect();
    let started = Instant::now();
    queue
        .enqueue_all(
            Some(tenant.workplace_id()),
            domain::platform::mail_queue::MailKind::CheckInReminder,
            mails,
            at,
        )
        .await
        .unwrap();
    println!(
        "{}: of which the claim {:.0} ms (what the Remind request waits for: the queueing runs in a \
         task of its own); queueing {PEOPLE} ready-made emails {:.0} ms",
        backend.label(),
        ms(claim),
        ms(started.elapsed())
    );
    // The sender, unthrottled, into the outbox: messages per second.
    let outbox = tempfile::tempdir().unwrap();
    let mailer = Mailer::outbox(outbox.path().to_path_buf(), "Candor <no-reply@candor.test>").unwrap();
    let later = now + chrono::Duration::days(3);
    let started = Instant::now();
    for _ in 0..DELIVERED {
        queue.deliver_next(&mailer, later).await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}: sender delivered {DELIVERED} into the .eml outbox at {:.0} messages/s",
        backend.label(),
        DELIVERED as f64 / seconds
    );
}
