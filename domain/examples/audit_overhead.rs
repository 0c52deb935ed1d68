//! What the access log costs: the results page and answer submission timed with the audit
//! trail on (entries chained in the transaction, the rest written before the answer leaves) and
//! off (no trail), and the log's size per 1,000 requests.
//! `cargo run --release -p domain --features testing --example audit_overhead [sqlite|postgres]`
//! (PostgreSQL through TEST_DATABASE_URL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use domain::{
    organisation::{departments, people::NewPerson},
    platform::{
        audit::Trail,
        ids::DepartmentId,
        policy::{Role, RoleKey},
    },
    surveys::{self, answering, library, results, Cadence, NewQuestion, NewSurvey},
    testing::TestDb,
    Clock, SystemClock,
};

const PEOPLE: usize = 2_000;
const ROUNDS: usize = 26;
const RUNS: usize = 300;
/// Real accounts answering the open round, half with the trail on and half off.
const SUBMITTERS: usize = 400;

fn percentiles(mut list: Vec<Duration>) -> (f64, f64) {
    list.sort();
    let at = |q: f64| list[((list.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.99))
}

#[tokio::main]
async fn main() {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("postgres") => domain::Backend::Postgres,
        _ => domain::Backend::Sqlite,
    };
    let test_db = TestDb::migrated(backend).await.expect("database");
    let db = &test_db.db;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let now = chrono::Utc::now();
    let (owner, tenant) = domain::testing::workplace(db, "Pulse Industries", "owner@pulse.test", now).await;
    let mut teams: Vec<DepartmentId> = Vec::new();
    for d in 0..20 {
        teams.push(
            departments::create(&tenant, &format!("Team {d}"), None, now)
                .await
                .unwrap(),
        );
    }
    let wellbeing = library::find("wellbeing").unwrap();
    let question = || NewQuestion {
        prompt: wellbeing.prompt.into(),
        kind: wellbeing.kind(),
        library_key: Some("wellbeing".into()),
    };
    let history = surveys::create(
        &tenant.as_person(&owner),
        NewSurvey {
            title: "Weekly pulse".into(),
            questions: vec![question()],
            departments: vec![],
            cadence: Cadence::Weekly,
            first_round_at: now + chrono::Duration::days(30),
            window_days: 3,
        },
        now,
    )
    .await
    .unwrap();
    let people: Vec<(uuid::Uuid, Option<DepartmentId>)> = (0..PEOPLE)
        .map(|n| (uuid::Uuid::new_v4(), Some(teams[n % teams.len()])))
        .collect();
    let rounds = domain::testing::seed_survey_history(
        &tenant,
        history,
        ROUNDS,
        &people,
        25,
        |person, round, _| i32::try_from((person * 7 + round * 3) % 5 + 1).unwrap(),
        now - chrono::Duration::weeks(26),
    )
    .await;
    let latest = *rounds.last().unwrap();

    // The results page: off, then on.
    let mut off = Vec::with_capacity(RUNS);
    let mut on = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        results::round_report(&tenant.as_person(&owner), latest)
            .await
            .unwrap();
        off.push(started.elapsed());
        let started = Instant::now();
        let trail = Trail::for_request(clock.clone(), Some("bench"), "results/round");
        trail.identify(owner.user_id, owner.workplace_id);
        results::round_report(
            &tenant.clone().with_trail(trail.clone()).as_person(&owner),
            latest,
        )
        .await
        .unwrap();
        domain::platform::access_log::finish(&trail, db, 200)
            .await
            .unwrap();
        on.push(started.elapsed());
    }
    let (off50, off99) = percentiles(off);
    let (on50, on99) = percentiles(on);
    println!(
        "{}: results page ({} answers): log off p50 {off50:.2} ms p99 {off99:.2} ms; on p50 {on50:.2} ms p99 {on99:.2} ms; ratio p50 {:.2}, p99 {:.2}",
        backend.label(),
        ROUNDS * PEOPLE * 24 / 25,
        on50 / off50,
        on99 / off99
    );

    // Answer submission by real accounts in an open round.
    let mut submitters = Vec::with_capacity(SUBMITTERS);
    for n in 0..SUBMITTERS {
        let person = NewPerson {
            name: format!("Person {n}"),
            email: format!("person{n}@pulse.test"),
            department: Some(teams[n % teams.len()]),
            role: RoleKey::BuiltIn(Role::Employee),
            start_date: None,
        };
        submitters.push(domain::testing::active_person(db, &tenant, person, now).await);
    }
    let pulse = surveys::create(
        &tenant.as_person(&owner),
        NewSurvey {
            title: "Now".into(),
            questions: vec![question()],
            departments: vec![],
            cadence: Cadence::Weekly,
            first_round_at: now,
            window_days: 3,
        },
        now,
    )
    .await
    .unwrap();
    surveys::rounds::open_due(db, now).await.unwrap();
    let round = surveys::rounds::of_survey(&tenant, pulse).await.unwrap()[0].id;
    let check_in = answering::open_check_ins(&tenant.as_person(&submitters[0]), now)
        .await
        .unwrap()
        .remove(0);
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for (n, person) in submitters.iter().enumerate() {
        let given = vec![answering::GivenAnswer {
            question: check_in.questions[0].id,
            value: Some(4),
            comment: Some("The new rota helps".into()),
        }];
        let started = Instant::now();
        if n % 2 == 0 {
            answering::submit(&tenant.as_person(person), round, given, now)
                .await
                .unwrap();
            off.push(started.elapsed());
        } else {
            let trail = Trail::for_request(clock.clone(), Some("bench"), "check_ins/submit");
            trail.identify(person.user_id, person.workplace_id);
            answering::submit(
                &tenant.clone().with_trail(trail.clone()).as_person(person),
                round,
                given,
                now,
            )
            .await
            .unwrap();
            domain::platform::access_log::finish(&trail, db, 200)
                .await
                .unwrap();
            on.push(started.elapsed());
        }
    }
    let (off50, off99) = percentiles(off);
    let (on50, on99) = percentiles(on);
    println!(
        "{}: answer submission: log off p50 {off50:.2} ms p99 {off99:.2} ms; on p50 {on50:.2} ms p99 {on99:.2} ms; ratio p50 {:.2}, p99 {:.2}",
        backend.label(),
        on50 / off50,
        on99 / off99
    );

    // Size: 1,000 requests of people listing a page of 50 people (the widest common entry).
    let before = domain::testing::audit_log_storage(db).await;
    let entries_before = domain::testing::audit_entry_count(db).await;
    for _ in 0..1_000 {
        let trail = Trail::for_request(
            clock.clone(),
            Some("5d6f1c2a-8e3b-4b7a-9c1d-2e3f4a5b6c7d"),
            "people/list",
        );
        trail.identify(owner.user_id, owner.workplace_id);
        domain::organisation::people::list(
            &tenant.clone().with_trail(trail.clone()),
            &domain::platform::policy::Scope::Everyone,
            &domain::organisation::people::Filter::default(),
        )
        .await
        .unwrap();
        domain::platform::access_log::finish(&trail, db, 200)
            .await
            .unwrap();
    }
    let after = domain::testing::audit_log_storage(db).await;
    let entries = domain::testing::audit_entry_count(db).await - entries_before;
    println!(
        "{}: 1,000 people/list requests: {entries} entries, {} bytes of stored values{}",
        backend.label(),
        after.0 - before.0,
        match (before.1, after.1) {
            (Some(b), Some(a)) => format!(", {} bytes on disk with indexes", a - b),
            _ => String::new(),
        }
    );
    let small_before = domain::testing::audit_log_storage(db).await.0;
    for _ in 0..1_000 {
        let trail = Trail::for_request(
            clock.clone(),
            Some("5d6f1c2a-8e3b-4b7a-9c1d-2e3f4a5b6c7d"),
            "results/round",
        );
        trail.identify(owner.user_id, owner.workplace_id);
        trail.touch(domain::platform::audit::EntityType::Round, [latest]);
        domain::platform::access_log::finish(&trail, db, 200)
            .await
            .unwrap();
    }
    println!(
        "{}: 1,000 single-record requests: {} bytes of stored values",
        backend.label(),
        domain::testing::audit_log_storage(db).await.0 - small_before
    );
}
