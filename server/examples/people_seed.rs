//! Seeds a workplace of `N` people (default 10,000) for `scripts/bench-people`: the first
//! 10,000 invited in one import (timed, as an HR admin's CSV import or a SCIM-sized bulk invite
//! would), the rest written in bulk as active people. Then measures opening the people directory
//! (time and memory kept), the per-request cost of loading an identity and asking the policy,
//! and prints a session cookie for the load test.
//!
//! Usage: people_seed <database-url> [N]

use std::time::Instant;

use chrono::Utc;
use domain::{
    access::{
        accounts::{self, SessionInfo, SignupInput, SignupOutcome},
        auth::{
            context::SignInContext,
            password::{HashCost, PasswordHasher, PasswordPolicy},
        },
        identity,
    },
    organisation::{departments, people},
    platform::{
        ids::DepartmentId,
        policy::{self, Action, Resource, Role, RoleKey},
        tenant::TenantDb,
    },
    Database,
};

/// The most people invited through the import; the rest are written in bulk.
const INVITED: usize = 10_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: people_seed <database-url> [N]")?;
    let people: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(10_000);
    // The same master key the benchmarked server is then started with.
    let master = domain::platform::crypto::MasterKey::from_text(&std::env::var("CANDOR_MASTER_KEY")?)?;
    let db = Database::connect(&url).await?;
    db.migrate().await?;
    let now = Utc::now();
    let db = domain::operations::instance::unlock(db, master, now).await?;
    let hasher = PasswordHasher::new(HashCost::default(), 1)?;
    let SignupOutcome::Created {
        user_id,
        workplace_id,
        verification_token,
    } = accounts::sign_up(
        &db,
        &hasher,
        &PasswordPolicy::default(),
        SignupInput {
            workplace_name: "Benchmark Industries".into(),
            display_name: "Bench Owner".into(),
            email: format!("owner-{}@bench.test", uuid::Uuid::new_v4().simple()),
            password: "quietly orbiting marmalade kettles".into(),
        },
        now,
    )
    .await?
    else {
        return Err("the benchmark address exists already".into());
    };
    accounts::verify_email(&db, verification_token.expose(), now).await?;
    let pending = accounts::start_session(&db, user_id, &SignInContext::default(), now).await?;
    let session = accounts::resolve_session(&db, &Default::default(), pending.expose(), now)
        .await?
        .ok_or("no session")?;
    let token = accounts::complete_second_factor(&db, session.session_id, now).await?;
    let session = SessionInfo {
        second_factor: true,
        second_factor_at: Some(now),
        password_change_required: false,
        workplace_id,
        ..session
    };
    let owner = identity::load(&db, &session).await?;
    let tenant = TenantDb::for_identity(&db, &owner);

    // 5 divisions × 4 teams × 2 shifts = 45 departments.
    let mut leaves: Vec<DepartmentId> = Vec::new();
    for division in 0..5 {
        let d = departments::create(&tenant, &format!("Division {division}"), None, now).await?;
        leaves.push(d);
        for team in 0..4 {
            let t = departments::create(&tenant, &format!("Team {division}.{team}"), Some(d), now).await?;
            leaves.push(t);
            for shift in ["Early", "Late"] {
                leaves.push(
                    departments::create(&tenant, &format!("{shift} {division}.{team}"), Some(t), now).await?,
                );
            }
        }
    }
    let invited = people.min(INVITED);
    let started = Instant::now();
    let import: Vec<people::NewPerson> = (0..invited)
        .map(|n| people::NewPerson {
            name: format!("Person {n:05}"),
            email: format!("person{n}-{}@bench.test", workplace_id.simple()),
            department: Some(leaves[n % leaves.len()]),
            role: RoleKey::BuiltIn(if n % 50 == 0 {
                Role::Manager
            } else {
                Role::Employee
            }),
            start_date: None,
        })
        .collect();
    people::invite_many(&tenant, import, now).await?;
    eprintln!(
        "invited {invited} people in one import in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let rest = people - invited;
    for (n, department) in leaves.iter().enumerate() {
        let share = rest / leaves.len() + usize::from(n < rest % leaves.len());
        let first = invited + n * (rest / leaves.len() + 1);
        domain::testing::seed_active_people_from(&tenant, first, share, Some(*department), now).await;
    }
    eprintln!(
        "wrote {rest} more active people in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let directory = domain::organisation::directory::Directory::new();
    let started = Instant::now();
    let snapshot = directory.snapshot(&tenant).await?;
    eprintln!(
        "directory: opened {} people in {:.0} ms, kept in about {:.1} MiB ({:.0} bytes a person)",
        snapshot.len(),
        started.elapsed().as_secs_f64() * 1e3,
        snapshot.approximate_bytes() as f64 / f64::from(1 << 20),
        snapshot.approximate_bytes() as f64 / snapshot.len().max(1) as f64
    );

    // The policy check every request makes: load the identity (role, grants), then decide.
    let rounds = 2_000;
    let started = Instant::now();
    for _ in 0..rounds {
        let who = identity::load(&db, &session).await?;
        policy::require(&who, Action::ManagePeople, Resource::Workplace)?;
    }
    let per_load = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let started = Instant::now();
    let decisions = 1_000_000u32;
    let mut allowed = 0u32;
    for n in 0..decisions {
        let resource = Resource::Department(leaves[n as usize % leaves.len()]);
        allowed += u32::from(policy::allows(&owner, Action::ViewResults, resource));
    }
    let per_decision = started.elapsed().as_secs_f64() * 1e9 / f64::from(decisions);
    eprintln!(
        "policy: identity load + decision {per_load:.0} µs per request; decision alone {per_decision:.1} ns ({allowed} allowed)"
    );
    println!("cookie=__Host-candor_session={}", token.expose());
    println!("workplace={workplace_id}");
    Ok(())
}
