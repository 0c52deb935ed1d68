//! Rotation speed: seeds one workplace with 100,000 people, rotates its data key and prints rows
//! per second. `cargo run --release -p domain --features testing --example rotation_speed
//! [sqlite|postgres]` (PostgreSQL through TEST_DATABASE_URL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use domain::{
    operations::key_rotation::{rotate_workplace, Options},
    organisation::people,
    platform::policy::{Role, RoleKey},
    testing::TestDb,
};

const PEOPLE: usize = 100_000;

#[tokio::main]
async fn main() {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("postgres") => domain::Backend::Postgres,
        _ => domain::Backend::Sqlite,
    };
    let test_db = TestDb::migrated(backend).await.expect("database");
    let db = &test_db.db;
    let now = chrono::Utc::now();
    let (_, tenant) = domain::testing::workplace(db, "Rotation Industries", "owner@rotation.test", now).await;
    let seeding = Instant::now();
    for chunk in (0..PEOPLE).collect::<Vec<_>>().chunks(2_000) {
        let batch = chunk
            .iter()
            .map(|n| people::NewPerson {
                name: format!("Person {n:06}"),
                email: format!("person{n}@rotation.test"),
                department: None,
                role: RoleKey::BuiltIn(Role::Employee),
                start_date: None,
            })
            .collect();
        people::invite_many(&tenant, batch, now).await.unwrap();
    }
    eprintln!(
        "seeded {PEOPLE} people in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let rotated = rotate_workplace(db, tenant.workplace_id(), Options::default(), now, |_| {})
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}: resealed {} rows in {seconds:.1} s = {:.0} rows/s (batches of {})",
        backend.label(),
        rotated.resealed,
        rotated.resealed as f64 / seconds,
        Options::default().batch
    );
}
