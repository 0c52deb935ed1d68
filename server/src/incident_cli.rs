//! `candor incident …`: the operators record incidents and send breach notices from the server;
//! they have no account in the application.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use domain::compliance::incidents::{self, Notice};

use crate::{
    config::Config,
    serve::{self, StartError},
};

#[derive(Subcommand, Debug, Clone)]
pub enum IncidentCommand {
    /// Record a new incident.
    Open {
        #[arg(long)]
        title: String,
        /// What happened, in words the affected Owners will read.
        #[arg(long)]
        nature: String,
    },
    /// Mark it a personal-data breach, verified at TIME (RFC 3339; default now): the affected
    /// workplaces must be notified within 24 hours of it.
    Breach {
        id: String,
        #[arg(long, value_name = "TIME")]
        verified_at: Option<String>,
    },
    /// Name the workplaces it affects (their ids), or --all of them.
    Affect {
        id: String,
        #[arg(required_unless_present = "all")]
        workplaces: Vec<String>,
        #[arg(long, conflicts_with = "workplaces")]
        all: bool,
    },
    /// Send the breach notice to the affected workplaces' Owners (email and a banner in Candor).
    Notify {
        id: String,
        #[arg(long)]
        impact: String,
        #[arg(long)]
        mitigation: String,
        #[arg(long)]
        contact: String,
    },
    /// Add a post-incident analysis note.
    Note {
        id: String,
        #[arg(long)]
        text: String,
    },
    /// Close it; its banner goes away.
    Close { id: String },
    /// Every incident, with its 24-hour clock.
    List,
}

fn failed(err: domain::Error) -> StartError {
    StartError::Incident(err.public_message())
}

fn id_of(text: &str) -> Result<uuid::Uuid, StartError> {
    text.parse().map_err(|_| {
        StartError::Incident(format!(
            "`{text}` is not an incident id (see `candor incident list`)"
        ))
    })
}

fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "in 3 h 12 min" or "12 min ago".
fn relative(to: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (to - now).num_minutes();
    let text = |m: i64| format!("{} h {} min", m / 60, m % 60);
    if minutes >= 0 {
        format!("in {}", text(minutes))
    } else {
        format!("{} ago", text(-minutes))
    }
}

pub async fn run(config: &Config, action: IncidentCommand) -> Result<(), StartError> {
    let db = serve::open_unlocked_database(config).await?;
    let now = Utc::now();
    match action {
        IncidentCommand::Open { title, nature } => {
            let id = incidents::open(&db, &title, &nature, now).await.map_err(failed)?;
            println!("Incident {id} opened.");
        }
        IncidentCommand::Breach { id, verified_at } => {
            let verified = match verified_at.as_deref() {
                None | Some("now") => now,
                Some(text) => DateTime::parse_from_rfc3339(text)
                    .map_err(|_| StartError::Incident(format!("`{text}` is not an RFC 3339 time")))?
                    .to_utc(),
            };
            let deadline = incidents::mark_breach(&db, id_of(&id)?, verified, now)
                .await
                .map_err(failed)?;
            println!(
                "Marked a personal-data breach. Notify the affected workplaces by {} ({}).",
                when(deadline),
                relative(deadline, now)
            );
        }
        IncidentCommand::Affect { id, workplaces, all } => {
            let ids = if all {
                domain::operations::key_rotation::workplace_ids(&db)
                    .await
                    .map_err(failed)?
            } else {
                workplaces
                    .iter()
                    .map(|w| {
                        w.parse::<domain::platform::ids::WorkplaceId>()
                            .map_err(|_| StartError::Incident(format!("`{w}` is not a workplace id")))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            };
            let added = incidents::affect(&db, id_of(&id)?, &ids).await.map_err(failed)?;
            println!("{added} workplaces added to the incident.");
        }
        IncidentCommand::Notify {
            id,
            impact,
            mitigation,
            contact,
        } => {
            let mail = domain::platform::mail_queue::MailQueue::new(db.clone());
            let link = format!("{}/home", config.public_url.clone().unwrap_or_default());
            let sent = incidents::notify(
                &db,
                id_of(&id)?,
                Notice {
                    likely_impact: impact,
                    mitigation,
                    contact,
                },
                &mail,
                &link,
                now,
            )
            .await
            .map_err(failed)?;
            let timing = match sent.late_by {
                None => format!("within the 24 hours (deadline {})", when(sent.deadline)),
                Some(late) => format!(
                    "LATE by {} h {} min (deadline was {})",
                    late.num_minutes() / 60,
                    late.num_minutes() % 60,
                    when(sent.deadline)
                ),
            };
            println!(
                "Breach notice sent to {} workplaces ({} emails to Owners queued; `candor serve` delivers them), {timing}.",
                sent.workplaces, sent.emails
            );
        }
        IncidentCommand::Note { id, text } => {
            incidents::add_analysis(&db, id_of(&id)?, &text, now)
                .await
                .map_err(failed)?;
            println!("Analysis note added.");
        }
        IncidentCommand::Close { id } => {
            incidents::close(&db, id_of(&id)?, now).await.map_err(failed)?;
            println!("Incident closed.");
        }
        IncidentCommand::List => {
            let all = incidents::list(&db).await.map_err(failed)?;
            if all.is_empty() {
                println!("No incidents recorded.");
            }
            for incident in all {
                let clock = match (incident.deadline, incident.notified_at) {
                    (None, _) => "not a personal-data breach".to_owned(),
                    (Some(deadline), Some(notified)) if notified <= deadline => {
                        format!("notified {} (in time)", when(notified))
                    }
                    (Some(deadline), Some(notified)) => format!(
                        "notified {} — {} after the deadline",
                        when(notified),
                        relative(deadline, notified).trim_end_matches(" ago")
                    ),
                    (Some(deadline), None) if deadline >= now => {
                        format!("NOTIFY BY {} ({})", when(deadline), relative(deadline, now))
                    }
                    (Some(deadline), None) => format!("OVERDUE: deadline was {}", when(deadline)),
                };
                println!(
                    "{}  {}  opened {}  {} workplaces  {}{}",
                    incident.id,
                    incident.title,
                    when(incident.opened_at),
                    incident.workplaces,
                    clock,
                    incident
                        .closed_at
                        .map(|c| format!("  closed {}", when(c)))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
