//! Seeds a demo workplace for looking at the results pages: five teams, a weekly pulse with
//! twelve past rounds (45 comments on the newest), and five more workplaces so that benchmarks are published. Prints a
//! session cookie of the demo workplace's Owner and the newest round's id.
//!
//! Usage: demo_seed <database-url> [people-per-seat] [comments]: each team's size is multiplied
//! by `people-per-seat` (default 1; 217 makes a workplace of about 10,000), and the newest round
//! gets `comments` comments (default 45) across the teams.

use chrono::{Duration, Utc};
use domain::{
    access::{accounts, auth::context::SignInContext},
    organisation::departments,
    platform::{ids::DepartmentId, tenant::TenantDb},
    surveys::{self, benchmarks, library, results, Cadence, NewQuestion, NewSurvey},
    Database,
};

fn question(key: &str) -> Result<NewQuestion, Box<dyn std::error::Error>> {
    let known = library::find(key).ok_or("library question")?;
    Ok(NewQuestion {
        prompt: known.prompt.into(),
        kind: known.kind(),
        library_key: Some(key.into()),
    })
}

const COMMENTS: [&str; 6] = [
    "Pairing on Fridays has been great.",
    "The new rota gives us more notice, thank you.",
    "Meetings run long and eat into focus time.",
    "I would like clearer goals for the quarter.",
    "The office is too cold in the mornings.",
    "Onboarding buddies made my first month easy.",
];

/// A weekly pulse with `rounds` past rounds answered by `people`.
async fn pulse(
    tenant: &TenantDb,
    owner: &domain::platform::policy::Identity,
    people: &[(uuid::Uuid, Option<DepartmentId>)],
    rounds: usize,
    shift: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let now = Utc::now();
    let survey = surveys::create(
        &tenant.as_person(owner),
        NewSurvey {
            title: "Weekly pulse".into(),
            questions: vec![question("wellbeing")?, question("workload")?, question("enps")?],
            departments: Vec::new(),
            cadence: Cadence::Weekly,
            first_round_at: now + Duration::days(1),
            window_days: 3,
        },
        now,
    )
    .await?;
    let weeks = i64::try_from(rounds).unwrap_or(0);
    domain::testing::seed_survey_history(
        tenant,
        survey,
        rounds,
        people,
        9,
        |person, round, q| {
            let base = if q == 2 {
                (person * 3 + round) % 11
            } else {
                (person + round / 3 + shift + q) % 5 + 1
            };
            i32::try_from(base).unwrap_or(3)
        },
        now - Duration::weeks(weeks),
    )
    .await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: demo_seed <database-url> [people-per-seat] [comments]";
    let url = std::env::args().nth(1).ok_or(usage)?;
    let scale: usize = std::env::args()
        .nth(2)
        .map_or(Ok(1), |n| n.parse())
        .map_err(|_| usage)?;
    let comment_count: usize = std::env::args()
        .nth(3)
        .map_or(Ok(45), |n| n.parse())
        .map_err(|_| usage)?;
    let master = domain::platform::crypto::MasterKey::from_text(&std::env::var("CANDOR_MASTER_KEY")?)?;
    let db = Database::connect(&url).await?;
    db.migrate().await?;
    let now = Utc::now();
    let db = domain::operations::instance::unlock(db, master, now).await?;
    let (owner, tenant) = domain::testing::workplace(&db, "Northwind Demo", "owner@demo.test", now).await;
    let engineering = departments::create(&tenant, "Engineering", None, now).await?;
    let teams = [
        (
            departments::create(&tenant, "Platform", Some(engineering), now).await?,
            14,
        ),
        (
            departments::create(&tenant, "Mobile", Some(engineering), now).await?,
            4,
        ),
        (
            departments::create(&tenant, "Data", Some(engineering), now).await?,
            9,
        ),
        (departments::create(&tenant, "Sales", None, now).await?, 12),
        (departments::create(&tenant, "Support", None, now).await?, 7),
    ];
    let people: Vec<(uuid::Uuid, Option<DepartmentId>)> = teams
        .iter()
        .flat_map(|(team, n)| (0..*n * scale).map(|_| (uuid::Uuid::new_v4(), Some(*team))))
        .collect();
    pulse(&tenant, &owner, &people, 12, 0).await?;
    benchmarks::set_opt_in(&tenant.as_person(&owner), true).await?;
    for n in 0..5 {
        let (other_owner, other) =
            domain::testing::workplace(&db, &format!("Peer {n}"), &format!("owner@peer{n}.test"), now).await;
        let team = departments::create(&other, "Everyone", None, now).await?;
        let crowd: Vec<_> = (0..20).map(|_| (uuid::Uuid::new_v4(), Some(team))).collect();
        pulse(&other, &other_owner, &crowd, 4, n + 1).await?;
        benchmarks::set_opt_in(&other.as_person(&other_owner), true).await?;
    }
    eprintln!("benchmarks published: {}", benchmarks::recompute(&db, now).await?);
    let newest = results::rounds_with_results(&tenant.as_person(&owner))
        .await?
        .first()
        .ok_or("no rounds")?
        .round
        .clone();
    let latest = newest.id;
    // Enough comments on the newest round to page through.
    let question = domain::testing::comment_question(&tenant, newest.survey).await;
    let texts: Vec<String> = (0..comment_count)
        .map(|n| COMMENTS[n % COMMENTS.len()].to_owned() + &" Still true.".repeat(n / COMMENTS.len() % 40))
        .collect();
    // Listed under the teams large enough for comments when the round closed (seeded rounds
    // keep every team that answered), the rest under the whole workplace.
    let mut under: Vec<Option<DepartmentId>> = teams
        .iter()
        .filter(|(_, n)| *n >= 5)
        .map(|(t, _)| Some(*t))
        .collect();
    under.push(None);
    for (i, listed) in under.iter().enumerate() {
        let share: Vec<String> = texts.iter().skip(i).step_by(under.len()).cloned().collect();
        domain::testing::seed_comments(&tenant, latest, question, *listed, &share).await;
    }
    let pending = accounts::start_session(&db, owner.user_id.uuid(), &SignInContext::default(), now).await?;
    let session = accounts::resolve_session(&db, &Default::default(), pending.expose(), now)
        .await?
        .ok_or("no session")?;
    let token = accounts::complete_second_factor(&db, session.session_id, now).await?;
    println!("cookie={}", token.expose());
    println!("round={latest}");
    Ok(())
}
