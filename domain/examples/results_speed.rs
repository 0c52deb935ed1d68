//! Results speed: a 10,000-person workplace (60 departments) with a year of weekly rounds of a
//! one-question pulse — about 500,000 answers — and 10,000 comments on the latest round; then
//! the results of that round (figures, the trend, and pages of comments, as the results page
//! asks for them) timed many times; prints p50 and p99, and the size of a page of comments.
//! `cargo run --release -p domain --features testing --example results_speed [sqlite|postgres]`
//! (PostgreSQL through TEST_DATABASE_URL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use domain::{
    organisation::departments,
    platform::ids::DepartmentId,
    surveys::{self, comments, library, results, suppression::Group, Cadence, NewQuestion, NewSurvey},
    testing::TestDb,
};

const PEOPLE: usize = 10_000;
const ROUNDS: usize = 52;
const RUNS: usize = 200;
const COMMENTS: usize = 10_000;

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
    let mut leaves: Vec<DepartmentId> = Vec::new();
    for d in 0..10 {
        let top = departments::create(&tenant, &format!("Division {d}"), None, now)
            .await
            .unwrap();
        for s in 0..5 {
            leaves.push(
                departments::create(&tenant, &format!("Team {d}.{s}"), Some(top), now)
                    .await
                    .unwrap(),
            );
        }
    }
    let wellbeing = library::find("wellbeing").unwrap();
    let survey = surveys::create(
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
            window_days: 3,
        },
        now,
    )
    .await
    .unwrap();
    // Team sizes vary from a handful to a few hundred, so some groups are hidden.
    let people: Vec<(uuid::Uuid, Option<DepartmentId>)> = (0..PEOPLE)
        .map(|n| {
            let team = (n * n / 7 + n / 3) % leaves.len();
            (uuid::Uuid::new_v4(), Some(leaves[team]))
        })
        .collect();
    let seeding = Instant::now();
    let rounds = domain::testing::seed_survey_history(
        &tenant,
        survey,
        ROUNDS,
        &people,
        25,
        |person, round, _| i32::try_from((person * 7 + round * 3) % 5 + 1).unwrap(),
        now - chrono::Duration::weeks(52),
    )
    .await;
    eprintln!(
        "seeded {ROUNDS} rounds × {PEOPLE} people in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let latest = *rounds.last().unwrap();
    // Comments of every length up to the longest allowed, spread over the teams.
    let question = domain::testing::comment_question(&tenant, survey).await;
    for (t, team) in leaves.iter().enumerate() {
        let texts: Vec<String> = (0..COMMENTS / leaves.len())
            .map(|i| "The rota changed again without notice. ".repeat(1 + (i * 7 + t) % 50))
            .collect();
        domain::testing::seed_comments(&tenant, latest, question, Some(*team), &texts).await;
    }
    // What the round page asks for: figures and comments in one load, then the trend.
    let mut timings = Vec::with_capacity(RUNS);
    let mut trends = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let report = results::round_report(&tenant.as_person(&owner), latest)
            .await
            .unwrap();
        timings.push(started.elapsed());
        // Teams nobody in the seed belongs to are not asked, so not listed.
        assert!(report.results.groups.len() > 50);
        let started = Instant::now();
        let trend = results::trend(&tenant.as_person(&owner), latest).await.unwrap();
        trends.push(started.elapsed());
        assert_eq!(trend.rounds.len(), results::TREND_ROUNDS);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let percentiles = |mut list: Vec<Duration>| {
        list.sort();
        let at = |q: f64| list[((list.len() - 1) as f64 * q).round() as usize];
        (ms(at(0.5)), ms(at(0.99)))
    };
    let mut listing = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let rounds = results::rounds_with_results(&tenant.as_person(&owner))
            .await
            .unwrap();
        listing.push(started.elapsed());
        assert_eq!(rounds.len(), ROUNDS);
    }
    let (list_p50, list_p99) = percentiles(listing);
    println!(
        "{}: list of {ROUNDS} rounds with participation: p50 {list_p50:.2} ms, p99 {list_p99:.2} ms",
        backend.label()
    );
    if backend == domain::Backend::Postgres {
        // What autovacuum does soon after a round closes (its comments arrive in one batch and
        // never change): statistics, and the visibility map that lets counts read the index.
        domain::testing::raw_strings(db, "VACUUM ANALYZE comments").await;
    }
    // Pages of comments: the first, one deep in the list, and one team's.
    let mut first_pages = Vec::with_capacity(RUNS);
    let mut deep_pages = Vec::with_capacity(RUNS);
    let mut team_pages = Vec::with_capacity(RUNS);
    let mut page_bytes = 0;
    for run in 0..RUNS {
        let reader = tenant.as_person(&owner);
        let started = Instant::now();
        let first = comments::page(&reader, latest, &comments::CommentQuery::default())
            .await
            .unwrap();
        first_pages.push(started.elapsed());
        assert!(first.matching >= (COMMENTS - leaves.len()) as u64);
        page_bytes = first
            .items
            .iter()
            .map(|c| c.text.len() + c.question.len() + c.team.len())
            .sum::<usize>();
        let deep = comments::CommentQuery {
            page: first.pages() / 2 + (run as u64 % 7),
            ..Default::default()
        };
        let started = Instant::now();
        comments::page(&reader, latest, &deep).await.unwrap();
        deep_pages.push(started.elapsed());
        let one_team = comments::CommentQuery {
            team: Some(Group::Department(leaves[run % leaves.len()])),
            ..Default::default()
        };
        let started = Instant::now();
        comments::page(&reader, latest, &one_team).await.unwrap();
        team_pages.push(started.elapsed());
    }
    for (what, list) in [
        ("first page of comments", first_pages),
        ("a page halfway through", deep_pages),
        ("one team's first page", team_pages),
    ] {
        let (p50, p99) = percentiles(list);
        println!(
            "{}: {what} ({COMMENTS} comments on the round): p50 {p50:.2} ms, p99 {p99:.2} ms",
            backend.label()
        );
    }
    println!(
        "{}: a page of {} comments holds {page_bytes} bytes of text",
        backend.label(),
        comments::PER_PAGE
    );
    let (p50, p99) = percentiles(timings);
    let (trend_p50, trend_p99) = percentiles(trends);
    println!(
        "{}: results of one round (10,000 asked, {} answers in the database): p50 {p50:.2} ms, p99 {p99:.2} ms over {RUNS} runs; trend over {} rounds: p50 {trend_p50:.2} ms, p99 {trend_p99:.2} ms",
        backend.label(),
        ROUNDS * PEOPLE * 24 / 25,
        results::TREND_ROUNDS,
    );
}
