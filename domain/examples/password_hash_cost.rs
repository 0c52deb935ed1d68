//! Measures the production argon2id cost on this machine: time per hash, one at a time and with
//! every core busy. Run in release: `cargo run --release -p domain --example password_hash_cost`.

use std::time::{Duration, Instant};

use domain::access::auth::password::{HashCost, PasswordHasher};

#[tokio::main]
async fn main() -> domain::Result<()> {
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    let hasher = PasswordHasher::new(HashCost::default(), cores)?;
    let rounds = 40;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        hasher.hash("quietly orbiting marmalade kettles").await?;
        times.push(started.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / rounds as u32;
    println!(
        "argon2id m=19456 KiB t=2 p=1: mean {mean:?}, median {:?}, max {:?} over {rounds} sequential hashes",
        times[rounds / 2],
        times[rounds - 1]
    );

    let started = Instant::now();
    let batch = 8 * cores;
    let tasks: Vec<_> = (0..batch)
        .map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash("quietly orbiting marmalade kettles").await })
        })
        .collect();
    for task in tasks {
        task.await
            .map_err(|err| domain::Error::Internal(err.to_string()))??;
    }
    let elapsed = started.elapsed();
    println!(
        "{batch} hashes with {cores} permits: {elapsed:?}, {:.1} hashes/s",
        batch as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
