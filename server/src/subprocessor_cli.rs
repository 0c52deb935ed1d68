//! `candor subprocessors …`: the operator keeps the list of subprocessors. Every addition and
//! every ending is announced to every workplace's Owners, by default 30 days before it takes
//! effect.

use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use domain::compliance::subprocessors::{self, NewSubprocessor};

use crate::{
    config::Config,
    serve::{self, StartError},
};

#[derive(Subcommand, Debug, Clone)]
pub enum SubprocessorCommand {
    /// Every subprocessor, current and planned.
    List,
    /// Add one. Announced to every Owner now; it starts on --from (default: in 30 days, the
    /// notice workplaces get to object).
    Add {
        #[arg(long)]
        name: String,
        /// What it does for Candor.
        #[arg(long)]
        purpose: String,
        /// Where it processes the data (country or region).
        #[arg(long)]
        location: String,
        /// Which data it processes.
        #[arg(long)]
        data: String,
        /// First day (YYYY-MM-DD or `today`).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
    },
    /// End one after --until (default: in 30 days). Announced to every Owner now.
    Remove {
        id: String,
        /// Last day (YYYY-MM-DD or `today`).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
    },
}

fn failed(err: domain::Error) -> StartError {
    StartError::Subprocessors(err.public_message())
}

fn day_of(text: Option<&str>, now: chrono::DateTime<Utc>) -> Result<NaiveDate, StartError> {
    match text {
        None => Ok(subprocessors::default_effective_on(now)),
        Some("today") => Ok(now.date_naive()),
        Some(text) => text.parse().map_err(|_| {
            StartError::Subprocessors(format!("`{text}` is not a date (YYYY-MM-DD, or `today`)"))
        }),
    }
}

pub async fn run(config: &Config, action: SubprocessorCommand) -> Result<(), StartError> {
    let db = serve::open_unlocked_database(config).await?;
    let now = Utc::now();
    let link = format!("{}/subprocessors", config.public_url.clone().unwrap_or_default());
    match action {
        SubprocessorCommand::List => {
            let listing = subprocessors::list(&db, now.date_naive()).await.map_err(failed)?;
            if listing.current.is_empty() && listing.planned.is_empty() {
                println!("No subprocessors listed.");
            }
            for entry in listing.current.iter().chain(&listing.planned) {
                let dates = match entry.until_date {
                    Some(until) => format!("{} to {until}", entry.from_date),
                    None => format!("from {}", entry.from_date),
                };
                println!(
                    "{}  {}  {}  {}  data: {}  {dates}",
                    entry.id, entry.name, entry.location, entry.purpose, entry.data_categories
                );
            }
        }
        SubprocessorCommand::Add {
            name,
            purpose,
            location,
            data,
            from,
        } => {
            let mail = domain::platform::mail_queue::MailQueue::new(db.clone());
            let from = day_of(from.as_deref(), now)?;
            let announced = subprocessors::add(
                &db,
                NewSubprocessor {
                    name,
                    purpose,
                    location,
                    data_categories: data,
                },
                from,
                &mail,
                &link,
                now,
            )
            .await
            .map_err(failed)?;
            println!(
                "Subprocessor {} added from {from}; announced to the Owners of {} workplaces ({} emails queued; `candor serve` delivers them).",
                announced.id, announced.workplaces, announced.emails
            );
        }
        SubprocessorCommand::Remove { id, until } => {
            let mail = domain::platform::mail_queue::MailQueue::new(db.clone());
            let id = id.parse().map_err(|_| {
                StartError::Subprocessors(format!(
                    "`{id}` is not a subprocessor id (see `candor subprocessors list`)"
                ))
            })?;
            let until = day_of(until.as_deref(), now)?;
            let announced = subprocessors::remove(&db, id, until, &mail, &link, now)
                .await
                .map_err(failed)?;
            println!(
                "Subprocessor ends after {until}; announced to the Owners of {} workplaces ({} emails queued; `candor serve` delivers them).",
                announced.workplaces, announced.emails
            );
        }
    }
    Ok(())
}
