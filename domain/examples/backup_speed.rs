//! Backup speed: a workplace of 10,000 people (50 teams) with a year of weekly rounds — about
//! 500,000 answers — backed up and restored into an empty database, against the database's own
//! tools on the same data (`sqlite3 .backup`, `pg_dump -Fc` and `pg_restore`); then the
//! workplace's deletion at the end of its grace period.
//! `cargo run --release -p domain --features testing --example backup_speed [sqlite|postgres]`
//! (PostgreSQL through TEST_DATABASE_URL; `sqlite3`, `pg_dump` and `pg_restore` on the PATH).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{process::Command, time::Instant};

use domain::{
    operations::backup::{self, BackupStore, BackupTarget, RestoreRequest},
    organisation::{
        departments,
        people::{self, NewPerson},
    },
    platform::{
        ids::DepartmentId,
        policy::{Role, RoleKey},
    },
    surveys::{self, library, Cadence, NewQuestion, NewSurvey},
    testing::TestDb,
    Backend,
};

const PEOPLE: usize = 10_000;
const ROUNDS: usize = 52;

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                dir_bytes(&entry.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn run(command: &mut Command) -> f64 {
    let started = Instant::now();
    let output = command.output().expect("the tool runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let test_db = TestDb::migrated(backend).await.expect("database");
    let db = &test_db.db;
    let now = chrono::Utc::now();
    let (owner, tenant) = domain::testing::workplace(db, "Pulse Industries", "owner@pulse.test", now).await;
    let mut teams: Vec<DepartmentId> = Vec::new();
    for d in 0..10 {
        let top = departments::create(&tenant, &format!("Division {d}"), None, now)
            .await
            .unwrap();
        for s in 0..5 {
            teams.push(
                departments::create(&tenant, &format!("Team {d}.{s}"), Some(top), now)
                    .await
                    .unwrap(),
            );
        }
    }
    let seeding = Instant::now();
    let mut people = Vec::with_capacity(PEOPLE);
    for chunk in 0..PEOPLE / 500 {
        let batch = (0..500)
            .map(|i| {
                let n = chunk * 500 + i;
                NewPerson {
                    name: format!("Person {n:05} Example"),
                    email: format!("person{n}@pulse.test"),
                    department: Some(teams[n % teams.len()]),
                    role: RoleKey::BuiltIn(Role::Employee),
                    start_date: None,
                }
            })
            .collect();
        for invited in people::invite_many(&tenant, batch, now).await.unwrap() {
            people.push((invited.person.uuid(), Some(teams[people.len() % teams.len()])));
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
    domain::testing::seed_survey_history(
        &tenant,
        survey,
        ROUNDS,
        &people,
        25,
        |person, round, _| i32::try_from((person * 7 + round * 3) % 5 + 1).unwrap(),
        now - chrono::Duration::weeks(52),
    )
    .await;
    let rows = backup::fingerprint(db).await.unwrap();
    eprintln!(
        "seeded in {:.0} s: {} people, {} answers, {} participations",
        seeding.elapsed().as_secs_f64(),
        rows["users"].0,
        rows["answers"].0,
        rows["round_participants"].0
    );

    let keys = tempfile::tempdir().unwrap();
    let (identity_text, public) = backup::generate_identity(now);
    let identity_file = keys.path().join("key.txt");
    std::fs::write(&identity_file, identity_text).unwrap();
    let identity = backup::read_identity(&identity_file).unwrap();
    let target = BackupTarget {
        store: BackupStore::new(keys.path().join("store")),
        recipient: backup::parse_recipient(&public).unwrap(),
    };
    let started = Instant::now();
    let manifest = backup::create(db, &target, now, &mut |_| {}).await.unwrap();
    let backup_seconds = started.elapsed().as_secs_f64();
    // Taken after the backup, which gives the workplace its backup key first.
    let rows = backup::fingerprint(db).await.unwrap();
    let info = target.store.find("latest").unwrap();
    let empty = TestDb::empty(backend).await.unwrap();
    let started = Instant::now();
    let report = backup::restore(
        &empty.db,
        RestoreRequest {
            backup: &info,
            identity: &identity,
            master_key_id: &manifest.master_key_id,
            replace: false,
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    let restore_seconds = started.elapsed().as_secs_f64();
    assert_eq!(backup::fingerprint(&empty.db).await.unwrap(), rows);
    println!(
        "candor backup: {} rows, {:.2} s, {} bytes on disk (encrypted, compressed)",
        manifest.rows,
        backup_seconds,
        dir_bytes(&info.dir)
    );
    println!(
        "candor restore (check, load, compare every row): {} rows, {:.2} s",
        report.rows, restore_seconds
    );

    let out = tempfile::tempdir().unwrap();
    match backend {
        Backend::Sqlite => {
            let file = test_db
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_owned();
            let copy = out.path().join("copy.db");
            let seconds = run(Command::new("sqlite3")
                .arg(&file)
                .arg(format!(".backup '{}'", copy.display())));
            let bytes = std::fs::metadata(&copy).unwrap().len();
            println!("sqlite3 .backup: {seconds:.2} s, {bytes} bytes (plain, unencrypted)");
            println!(
                "ratio candor backup / sqlite3 .backup: {:.2}",
                backup_seconds / seconds
            );
        }
        Backend::Postgres => {
            // As the cluster's superuser: the application role is bound by row-level security,
            // under which pg_dump refuses to dump.
            let as_admin = |url: &str| {
                let mut admin = url::Url::parse(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
                admin.set_path(url::Url::parse(url).unwrap().path());
                admin.to_string()
            };
            let dump = out.path().join("dump.pgc");
            let seconds = run(Command::new("pg_dump")
                .args(["-Fc", "-f"])
                .arg(&dump)
                .arg(as_admin(&test_db.url)));
            let bytes = std::fs::metadata(&dump).unwrap().len();
            println!("pg_dump -Fc: {seconds:.2} s, {bytes} bytes (compressed, unencrypted)");
            println!("ratio candor backup / pg_dump: {:.2}", backup_seconds / seconds);
            let into = TestDb::empty(backend).await.unwrap();
            let restore = run(Command::new("pg_restore")
                .args(["--no-owner", "-d", &as_admin(&into.url)])
                .arg(&dump));
            println!(
                "pg_restore: {restore:.2} s; ratio candor restore / pg_restore: {:.2}",
                restore_seconds / restore
            );
        }
    }

    // The end of the workplace: requested, then carried out once its grace period is over.
    let outbox = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(db, outbox.path());
    domain::compliance::workplace_deletion::request_termination(
        &tenant.as_person(&owner),
        "Pulse Industries",
        7,
        &mailer,
        "",
        now,
    )
    .await
    .unwrap();
    let started = Instant::now();
    let certificates = domain::compliance::workplace_deletion::terminate_due(
        db,
        &mailer,
        None,
        now + chrono::Duration::days(7),
    )
    .await
    .unwrap();
    let deleted: u64 = certificates[0].deleted.iter().map(|(_, n)| n).sum();
    println!(
        "workplace deletion (keys, every row, certificate): {deleted} records counted, {:.2} s",
        started.elapsed().as_secs_f64()
    );
}
