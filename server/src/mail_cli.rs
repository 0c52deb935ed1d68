//! `candor mail …`: the operator's view of the mail queue. What waits (per kind), what keeps
//! failing, and the dead letters, which can be queued again or discarded. Recipients appear by
//! their domain only; no message text is ever printed.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use domain::platform::mail_queue::MailQueue;

use crate::{
    config::Config,
    serve::{self, StartError},
};

#[derive(Subcommand, Debug, Clone)]
pub enum MailCommand {
    /// What waits to be sent, and every dead letter (the default).
    Status,
    /// Queue a dead letter again (its id from `candor mail status`), or --all of them.
    Retry {
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Delete a dead letter, or --all of them.
    Discard {
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Send everything due now from this process, ignoring the rate limit (after fixing the mail
    /// server's settings, say). A running `candor serve` sends on its own.
    Send,
}

fn failed(err: domain::Error) -> StartError {
    StartError::Mail(err)
}

fn id_of(id: Option<&str>) -> Result<Option<uuid::Uuid>, StartError> {
    id.map(|text| {
        text.parse().map_err(|_| {
            StartError::Mail(domain::Error::Invalid {
                field: "id",
                reason: format!("`{text}` is not a queued email's id (see `candor mail status`)"),
            })
        })
    })
    .transpose()
}

fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub async fn run(config: &Config, action: Option<MailCommand>) -> Result<(), StartError> {
    let db = serve::open_unlocked_database(config).await?;
    let queue = MailQueue::new(db);
    let now = Utc::now();
    match action.unwrap_or(MailCommand::Status) {
        MailCommand::Status => {
            let overview = queue.overview(now).await.map_err(failed)?;
            let waiting: u64 = overview.waiting.iter().map(|(_, n)| n).sum();
            match overview.oldest_waiting_since {
                None => println!("Nothing waits to be sent."),
                Some(oldest) => println!(
                    "{waiting} emails wait to be sent ({} failed at least once); the oldest since {}.",
                    overview.failing,
                    when(oldest)
                ),
            }
            for (kind, count) in &overview.waiting {
                println!("  {count:>8}  {kind}");
            }
            if overview.dead.is_empty() {
                println!("No dead letters.");
            } else {
                println!(
                    "{} dead letters (kept 14 days; `candor mail retry` or `discard`):",
                    overview.dead.len()
                );
                for dead in &overview.dead {
                    println!(
                        "  {}  {}  to …@{}  {} attempts, last: {}  (queued {}, dead since {})",
                        dead.id,
                        dead.kind,
                        dead.recipient_domain,
                        dead.attempts,
                        dead.last_error,
                        when(dead.created_at),
                        when(dead.dead_at)
                    );
                }
            }
        }
        MailCommand::Retry { id, all: _ } => {
            let retried = queue
                .retry_dead(id_of(id.as_deref())?, now)
                .await
                .map_err(failed)?;
            println!("{retried} dead letters queued again.");
        }
        MailCommand::Discard { id, all: _ } => {
            let discarded = queue.discard_dead(id_of(id.as_deref())?).await.map_err(failed)?;
            println!("{discarded} dead letters discarded.");
        }
        MailCommand::Send => {
            use domain::platform::mail_queue::{Delivered, Delivery};
            let mailer = serve::mailer(config)?;
            let mut delivered = Delivered::default();
            // The clock is read for each message: a long run must not claim with a stale time.
            loop {
                match queue.deliver_next(&mailer, Utc::now()).await.map_err(failed)? {
                    Delivery::Sent => delivered.sent += 1,
                    Delivery::Retrying => delivered.retrying += 1,
                    Delivery::Dead => delivered.dead += 1,
                    Delivery::Taken => {}
                    Delivery::Idle { .. } => break,
                }
            }
            println!(
                "{} sent, {} to be tried again later, {} now dead letters.",
                delivered.sent, delivered.retrying, delivered.dead
            );
        }
    }
    Ok(())
}
