//! Seeds a workplace for `scripts/bench-answers`: `N` people in 20 teams, each signed in with both
//! factors, and a weekly pulse of five questions whose first round is open. Writes one line per
//! person to `<out>`: the session cookie, then the JSON body of their submission.
//!
//! Usage: answers_seed <database-url> <out> [N]

use std::io::Write;

use chrono::Utc;
use domain::{
    access::{accounts, auth::context::SignInContext},
    organisation::{departments, people::NewPerson},
    platform::policy::{Role, RoleKey},
    surveys::{self, answering, library, rounds, Cadence, NewQuestion, NewSurvey, QuestionKind},
    Database,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: answers_seed <database-url> <out> [N]")?;
    let out = args
        .next()
        .ok_or("usage: answers_seed <database-url> <out> [N]")?;
    let people: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(5_000);
    let master = domain::platform::crypto::MasterKey::from_text(&std::env::var("CANDOR_MASTER_KEY")?)?;
    let db = Database::connect(&url).await?;
    db.migrate().await?;
    let now = Utc::now();
    let db = domain::operations::instance::unlock(db, master, now).await?;
    let (owner, tenant) = domain::testing::workplace(&db, "Answer Load", "owner@answers.test", now).await;
    let mut teams = Vec::new();
    for n in 0..20 {
        teams.push(departments::create(&tenant, &format!("Team {n:02}"), None, now).await?);
    }
    let started = std::time::Instant::now();
    let mut members = Vec::with_capacity(people);
    for n in 0..people {
        if n % 100 == 0 {
            domain::testing::forget_invitations_sent(&db, tenant.workplace_id()).await;
        }
        let person = domain::testing::active_person(
            &db,
            &tenant,
            NewPerson {
                name: format!("Person {n:05}"),
                email: format!("person{n}@answers.test"),
                department: Some(teams[n % teams.len()]),
                role: RoleKey::BuiltIn(Role::Employee),
                start_date: None,
            },
            now,
        )
        .await;
        members.push(person);
    }
    eprintln!(
        "seeded {people} people in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let question = |key: &str| -> Result<NewQuestion, Box<dyn std::error::Error>> {
        let known = library::find(key).ok_or("library question")?;
        Ok(NewQuestion {
            prompt: known.prompt.into(),
            kind: known.kind(),
            library_key: Some(key.into()),
        })
    };
    surveys::create(
        &tenant.as_person(&owner),
        NewSurvey {
            title: "Load pulse".into(),
            questions: vec![
                question("wellbeing")?,
                question("workload")?,
                question("recognition")?,
                question("enps")?,
                question("open_feedback")?,
            ],
            departments: Vec::new(),
            cadence: Cadence::Weekly,
            first_round_at: now,
            window_days: 3,
        },
        now,
    )
    .await?;
    let round = rounds::open_due(&db, now).await?.remove(0).round();
    let check_in = answering::open_check_ins(&tenant.as_person(&members[0]), now)
        .await?
        .into_iter()
        .find(|c| c.round == round)
        .ok_or("the round is open")?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for (n, person) in members.iter().enumerate() {
        let pending =
            accounts::start_session(&db, person.user_id.uuid(), &SignInContext::default(), now).await?;
        let session = accounts::resolve_session(&db, &Default::default(), pending.expose(), now)
            .await?
            .ok_or("no session")?;
        let token = accounts::complete_second_factor(&db, session.session_id, now).await?;
        let answers: Vec<String> = check_in
            .questions
            .iter()
            .map(|q| {
                let (value, comment) = match q.kind {
                    QuestionKind::Enps => ((n % 11).to_string(), "null".to_owned()),
                    QuestionKind::Text => ("null".to_owned(), format!("\"Comment number {n}\"")),
                    _ => ((1 + n % 5).to_string(), "null".to_owned()),
                };
                format!(r#"{{"question":"{}","value":{value},"comment":{comment}}}"#, q.id)
            })
            .collect();
        writeln!(
            file,
            "__Host-candor_session={}\t{{\"round\":\"{round}\",\"answers\":[{}]}}",
            token.expose(),
            answers.join(",")
        )?;
    }
    file.flush()?;
    eprintln!("wrote {people} sessions and submissions");
    Ok(())
}
