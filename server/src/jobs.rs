//! The job scheduler: every process ticks once a minute, and each scheduled job runs in the one
//! process holding its lease (see `domain::jobs`), so several `candor serve` processes on one
//! database never run a job twice at the same time.

use std::{sync::Arc, time::Duration};

use domain::{key_rotation, surveys, Clock, Database};

/// How often the scheduler looks for work.
const TICK: Duration = Duration::from_secs(60);
/// Longer than one run of any job; a process that dies holding a lease frees it after this.
const LEASE: chrono::Duration = chrono::Duration::minutes(15);
/// Batches of one workplace's rotation per run: large workplaces continue on the next tick, so
/// one run stays well inside its lease.
const ROTATION_BATCHES_PER_RUN: u64 = 100;

pub const TENANT_KEY_ROTATION: &str = "tenant-key-rotation";
pub const SURVEY_ROUNDS: &str = "survey-rounds";
pub const BENCHMARKS: &str = "benchmarks";
pub const AUDIT_MONITOR: &str = "audit-monitor";
pub const AUDIT_RETENTION: &str = "audit-retention";
pub const AUDIT_ANCHOR: &str = "audit-anchor";
/// How often the audit log's retention is applied, and its chains' heads written to the log.
const AUDIT_RETENTION_INTERVAL: chrono::Duration = chrono::Duration::hours(24);
const AUDIT_ANCHOR_INTERVAL: chrono::Duration = chrono::Duration::hours(1);
/// How often the platform benchmarks are computed again.
const BENCHMARK_INTERVAL: chrono::Duration = chrono::Duration::hours(24);

/// What the scheduler runs, from configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Rotate a workplace's data key once it is this old; None: never.
    pub tenant_key_max_age: Option<chrono::Duration>,
}

/// How the scheduler reaches people: the mailer and the address links point to.
#[derive(Clone, Debug)]
pub struct Notifier {
    pub mailer: domain::mail::Mailer,
    pub public_url: String,
}

/// What one tick did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Jobs this process ran (others were not due, or held by another process).
    pub ran: Vec<&'static str>,
    pub workplaces_rotated: usize,
    pub rounds_opened: usize,
    pub rounds_closed: u64,
    pub rounds_reminded: usize,
    pub emails_sent: usize,
    /// Built-in questions with a platform figure after this tick's recomputation.
    pub benchmarks_published: Option<usize>,
    pub alerts_raised: usize,
    pub audit_entries_purged: u64,
}

/// Starts the scheduler on the current runtime; it stops with the runtime.
pub fn spawn(db: Database, clock: Arc<dyn Clock>, schedule: Schedule, notifier: Notifier) {
    let holder = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match tick(&db, &holder, schedule, &notifier, clock.now()).await {
                Ok(report) if !report.ran.is_empty() => tracing::info!(?report, "scheduled jobs ran"),
                Ok(_) => {}
                Err(err) => tracing::error!(code = err.code(), error = %err, "a scheduled job failed"),
            }
        }
    });
}

/// Runs every job that is due and whose lease this process (`holder`) gets.
pub async fn tick(
    db: &Database,
    holder: &str,
    schedule: Schedule,
    notifier: &Notifier,
    now: chrono::DateTime<chrono::Utc>,
) -> domain::Result<TickReport> {
    let mut report = TickReport::default();
    if let Some(lease) = domain::jobs::try_lease(db, SURVEY_ROUNDS, holder, LEASE, now).await? {
        report.rounds_closed = surveys::rounds::close_due(db, now).await?;
        use surveys::rounds::{notify, Notice};
        for opened in surveys::rounds::open_due(db, now).await? {
            report.rounds_opened += 1;
            report.emails_sent += notify(
                db,
                &notifier.mailer,
                &notifier.public_url,
                &opened,
                Notice::Invitation,
            )
            .await;
        }
        for due in surveys::rounds::reminders_due(db, now).await? {
            report.rounds_reminded += 1;
            report.emails_sent +=
                notify(db, &notifier.mailer, &notifier.public_url, &due, Notice::Reminder).await;
        }
        domain::jobs::finish(db, lease, now).await?;
        report.ran.push(SURVEY_ROUNDS);
    }
    if let Some(lease) = domain::jobs::try_lease(db, BENCHMARKS, holder, LEASE, now).await? {
        if lease
            .last_finished_at
            .is_none_or(|finished| now - finished >= BENCHMARK_INTERVAL)
        {
            report.benchmarks_published = Some(surveys::benchmarks::recompute(db, now).await?);
            domain::jobs::finish(db, lease, now).await?;
            report.ran.push(BENCHMARKS);
        } else {
            domain::jobs::release(db, lease, now).await?;
        }
    }
    if let Some(lease) = domain::jobs::try_lease(db, AUDIT_MONITOR, holder, LEASE, now).await? {
        let run = domain::audit::monitor::run(db, &notifier.mailer, &notifier.public_url, now).await?;
        report.alerts_raised = run.alerts.len();
        domain::jobs::finish(db, lease, now).await?;
        report.ran.push(AUDIT_MONITOR);
    }
    for (job, interval) in [
        (AUDIT_RETENTION, AUDIT_RETENTION_INTERVAL),
        (AUDIT_ANCHOR, AUDIT_ANCHOR_INTERVAL),
    ] {
        if let Some(lease) = domain::jobs::try_lease(db, job, holder, LEASE, now).await? {
            if lease
                .last_finished_at
                .is_none_or(|finished| now - finished >= interval)
            {
                if job == AUDIT_RETENTION {
                    let purged = domain::audit::monitor::purge_expired(db, now).await?;
                    report.audit_entries_purged = purged.iter().map(|(_, n)| n).sum();
                } else {
                    domain::audit::monitor::anchor(db).await?;
                }
                domain::jobs::finish(db, lease, now).await?;
                report.ran.push(job);
            } else {
                domain::jobs::release(db, lease, now).await?;
            }
        }
    }
    if let Some(max_age) = schedule.tenant_key_max_age {
        if let Some(lease) = domain::jobs::try_lease(db, TENANT_KEY_ROTATION, holder, LEASE, now).await? {
            let options = key_rotation::Options {
                max_batches: Some(ROTATION_BATCHES_PER_RUN),
                ..Default::default()
            };
            for workplace in key_rotation::due_workplaces(db, max_age, now).await? {
                let rotated = key_rotation::rotate_workplace(db, workplace, options, now, |_| {}).await?;
                tracing::info!(
                    %workplace,
                    to_version = rotated.to_version,
                    finished = rotated.finished,
                    "scheduled data-key rotation"
                );
                report.workplaces_rotated += 1;
            }
            domain::jobs::finish(db, lease, now).await?;
            report.ran.push(TENANT_KEY_ROTATION);
        }
    }
    Ok(report)
}
