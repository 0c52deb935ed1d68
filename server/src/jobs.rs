//! The job scheduler: every process ticks once a minute, and each scheduled job runs in the one
//! process holding its lease (see `domain::platform::jobs`), so several `candor serve` processes on one
//! database never run a job twice at the same time.

use domain::compliance::workplace_deletion::KeptBackups;
use std::{sync::Arc, time::Duration};

use domain::{
    operations::key_rotation,
    platform::security_events::{EventKind, SecurityEvent},
    surveys, Clock, Database,
};

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
pub const DATA_RETENTION: &str = "data-retention";
pub const WORKPLACE_TERMINATION: &str = "workplace-termination";
pub const BACKUP: &str = "backup";
pub const BACKUP_DRILL: &str = "backup-drill";
/// A failed backup is tried again after this long (not at once: a full disk stays full for a
/// while, and every failure alerts the operator).
const BACKUP_RETRY: chrono::Duration = chrono::Duration::hours(1);
/// How often the audit log's retention is applied, and its chains' heads written to the log.
const AUDIT_RETENTION_INTERVAL: chrono::Duration = chrono::Duration::hours(24);
const AUDIT_ANCHOR_INTERVAL: chrono::Duration = chrono::Duration::hours(1);
/// How often the workplaces' retention policies are applied.
const DATA_RETENTION_INTERVAL: chrono::Duration = chrono::Duration::hours(24);
/// How often the platform benchmarks are computed again.
const BENCHMARK_INTERVAL: chrono::Duration = chrono::Duration::hours(24);

/// What the scheduler runs, from configuration.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    /// Rotate a workplace's data key once it is this old; None: never.
    pub tenant_key_max_age: Option<chrono::Duration>,
    /// None: backups are not configured.
    pub backups: Option<crate::config::BackupSettings>,
}

/// How the scheduler reaches people: the mail queue, the address links point to, and the
/// operator's address for operations alerts.
#[derive(Clone, Debug)]
pub struct Notifier {
    pub mail: domain::platform::mail_queue::MailQueue,
    pub public_url: String,
    pub operator_email: Option<String>,
}

/// Tells the operator that `what` failed: in the log always, by email when an address is set.
pub async fn notify_operator(
    notifier: &Notifier,
    what: &str,
    err: &domain::operations::backup::BackupError,
    now: chrono::DateTime<chrono::Utc>,
) {
    use domain::platform::mail_queue::MailKind;
    tracing::error!(code = err.code(), error = %err, "{what}");
    if let Some(to) = &notifier.operator_email {
        let mail =
            domain::platform::mail::messages::operator_alert(to, what, &format!("{err} ({})", err.code()));
        if let Err(queue) = notifier
            .mail
            .enqueue(None, MailKind::OperatorAlert, mail, now)
            .await
        {
            tracing::error!(error = %queue, "the operations alert could not be queued");
        }
    }
}

/// [`notify_operator`] for the command line. The alert is sent at once, not queued: what failed
/// may be the very database the queue lives in.
pub async fn alert_operator(
    config: &crate::config::Config,
    what: &str,
    err: &domain::operations::backup::BackupError,
) {
    tracing::error!(code = err.code(), error = %err, "{what}");
    let Some(to) = &config.operator_email else {
        return;
    };
    match config.mailer() {
        Ok(mailer) => {
            let mail = domain::platform::mail::messages::operator_alert(
                to,
                what,
                &format!("{err} ({})", err.code()),
            );
            if let Err(failure) = mailer.send(mail).await {
                tracing::error!(error = %failure.reason, "the operations alert could not be emailed");
            }
        }
        Err(mail) => tracing::error!(error = %mail, "the operations alert could not be emailed"),
    }
}

/// What one tick did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Jobs this process ran (others were not due, or held by another process).
    pub ran: Vec<&'static str>,
    /// Jobs that failed this tick (each logged; the others still ran).
    pub failed: Vec<&'static str>,
    pub workplaces_rotated: usize,
    pub rounds_opened: usize,
    pub rounds_closed: u64,
    pub rounds_reminded: usize,
    /// Emails queued for the mail queue's sender.
    pub emails_queued: usize,
    /// Built-in questions with a platform figure after this tick's recomputation.
    pub benchmarks_published: Option<usize>,
    pub alerts_raised: usize,
    pub audit_entries_purged: u64,
    pub people_erased: u64,
    pub comments_deleted: u64,
    /// Rows of sessions that ended long enough ago.
    pub sessions_purged: u64,
    /// Workplaces deleted at the end of their grace period.
    pub workplaces_deleted: usize,
    pub backups_taken: usize,
    pub backups_failed: usize,
    pub backups_pruned: usize,
    /// Some(true): a drill passed; Some(false): it failed, or none passed in time.
    pub drill_passed: Option<bool>,
}

/// Starts the scheduler on the current runtime; it stops with the runtime.
pub fn spawn(db: Database, clock: Arc<dyn Clock>, schedule: Schedule, notifier: Notifier) {
    let holder = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let report = tick(&db, &holder, &schedule, &notifier, clock.now()).await;
            if !report.ran.is_empty() || !report.failed.is_empty() {
                tracing::info!(?report, "scheduled jobs ran");
            }
        }
    });
}

/// When a job runs.
#[derive(Clone, Copy, Debug)]
enum When {
    /// On every tick.
    EveryTick,
    /// Once this long has passed since it last finished anywhere.
    Every(chrono::Duration),
    /// Not configured on this instance.
    Never,
    /// The job takes its own leases (backups and restore drills, each with its own interval).
    ByItsOwnLeases,
}

/// What a job's work sees.
struct JobContext<'a> {
    db: &'a Database,
    holder: &'a str,
    schedule: &'a Schedule,
    notifier: &'a Notifier,
    now: chrono::DateTime<chrono::Utc>,
}

type JobFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = domain::Result<()>> + Send + 'a>>;

/// One scheduled job: its name (its lease and its log lines), when it runs, and its work.
struct Job {
    name: &'static str,
    when: fn(&Schedule) -> When,
    run: for<'a> fn(&'a JobContext<'a>, &'a mut TickReport) -> JobFuture<'a>,
}

/// Every scheduled job, in the order a tick runs them.
const JOBS: &[Job] = &[
    Job {
        name: SURVEY_ROUNDS,
        when: |_| When::EveryTick,
        run: |cx, report| Box::pin(survey_rounds(cx, report)),
    },
    Job {
        name: BENCHMARKS,
        when: |_| When::Every(BENCHMARK_INTERVAL),
        run: |cx, report| {
            Box::pin(async move {
                report.benchmarks_published = Some(surveys::benchmarks::recompute(cx.db, cx.now).await?);
                Ok(())
            })
        },
    },
    Job {
        name: AUDIT_MONITOR,
        when: |_| When::EveryTick,
        run: |cx, report| {
            Box::pin(async move {
                // Anonymous entries of days that have ended join the log first.
                domain::platform::access_log::flush_pending(cx.db, cx.now).await?;
                let notifier = cx.notifier;
                let run = domain::compliance::audit_log::monitor::run(
                    cx.db,
                    &notifier.mail,
                    &notifier.public_url,
                    cx.now,
                )
                .await?;
                report.alerts_raised = run.alerts.len();
                Ok(())
            })
        },
    },
    Job {
        name: WORKPLACE_TERMINATION,
        when: |_| When::EveryTick,
        run: |cx, report| {
            Box::pin(async move {
                let backups = cx.schedule.backups.as_ref().map(|settings| KeptBackups {
                    store: &settings.target.store,
                    retention: settings.retention,
                });
                let deleted = domain::compliance::workplace_deletion::terminate_due(
                    cx.db,
                    &cx.notifier.mail,
                    backups,
                    cx.now,
                )
                .await?;
                report.workplaces_deleted = deleted.len();
                Ok(())
            })
        },
    },
    Job {
        name: AUDIT_RETENTION,
        when: |_| When::Every(AUDIT_RETENTION_INTERVAL),
        run: |cx, report| {
            Box::pin(async move {
                let purged = domain::compliance::audit_log::monitor::purge_expired(cx.db, cx.now).await?;
                report.audit_entries_purged = purged.iter().map(|(_, n)| n).sum();
                Ok(())
            })
        },
    },
    Job {
        name: AUDIT_ANCHOR,
        when: |_| When::Every(AUDIT_ANCHOR_INTERVAL),
        run: |cx, _| {
            Box::pin(async move {
                domain::compliance::audit_log::monitor::anchor(cx.db).await?;
                Ok(())
            })
        },
    },
    Job {
        name: DATA_RETENTION,
        when: |_| When::Every(DATA_RETENTION_INTERVAL),
        run: |cx, report| Box::pin(data_retention(cx, report)),
    },
    Job {
        name: BACKUP,
        when: |schedule| match schedule.backups {
            Some(_) => When::ByItsOwnLeases,
            None => When::Never,
        },
        run: |cx, report| {
            Box::pin(async move {
                match &cx.schedule.backups {
                    Some(settings) => {
                        run_backups(cx.db, cx.holder, settings, cx.notifier, cx.now, report).await
                    }
                    None => Ok(()),
                }
            })
        },
    },
    Job {
        name: TENANT_KEY_ROTATION,
        when: |schedule| match schedule.tenant_key_max_age {
            Some(_) => When::EveryTick,
            None => When::Never,
        },
        run: |cx, report| Box::pin(tenant_key_rotation(cx, report)),
    },
];

/// Runs every job that is due and whose lease this process (`holder`) gets. Each job stands
/// alone: one that fails is logged, recorded as a security event, named in the report and its
/// lease released (so the next tick, here or in another process, retries it), and the others
/// run regardless.
pub async fn tick(
    db: &Database,
    holder: &str,
    schedule: &Schedule,
    notifier: &Notifier,
    now: chrono::DateTime<chrono::Utc>,
) -> TickReport {
    let mut report = TickReport::default();
    let cx = JobContext {
        db,
        holder,
        schedule,
        notifier,
        now,
    };
    let leased = Leased { db, holder, now };
    for job in JOBS {
        let outcome = match (job.when)(schedule) {
            When::Never => continue,
            When::ByItsOwnLeases => (job.run)(&cx, &mut report).await,
            When::EveryTick => leased.run(job, None, &cx, &mut report).await,
            When::Every(every) => leased.run(job, Some(every), &cx, &mut report).await,
        };
        if let Err(err) = outcome {
            tracing::error!(job = job.name, code = err.code(), error = %err, "a scheduled job failed; the others ran");
            db.security_events()
                .record(SecurityEvent::new(EventKind::JobFailed, now).about(job.name, None));
            report.failed.push(job.name);
        }
    }
    report
}

async fn survey_rounds(cx: &JobContext<'_>, report: &mut TickReport) -> domain::Result<()> {
    use surveys::rounds::{notify, Notice};
    let JobContext {
        db, notifier, now, ..
    } = *cx;
    report.rounds_closed = surveys::closing::close_due(db, now).await?;
    for opened in surveys::rounds::open_due(db, now).await? {
        report.rounds_opened += 1;
        report.emails_queued += notify(
            db,
            &notifier.mail,
            &notifier.public_url,
            &opened,
            Notice::Invitation,
            now,
        )
        .await;
    }
    for due in surveys::rounds::reminders_due(db, now).await? {
        report.rounds_reminded += 1;
        report.emails_queued += notify(
            db,
            &notifier.mail,
            &notifier.public_url,
            &due,
            Notice::Reminder,
            now,
        )
        .await;
    }
    Ok(())
}

async fn data_retention(cx: &JobContext<'_>, report: &mut TickReport) -> domain::Result<()> {
    for (_, applied) in domain::compliance::retention::apply_all(cx.db, cx.now).await? {
        report.people_erased += applied.people_erased;
        report.comments_deleted += applied.comments_deleted;
    }
    report.sessions_purged = domain::access::accounts::purge_ended_sessions(
        cx.db,
        &domain::access::auth::session::SessionPolicy::default(),
        cx.now,
    )
    .await?;
    Ok(())
}

async fn tenant_key_rotation(cx: &JobContext<'_>, report: &mut TickReport) -> domain::Result<()> {
    let Some(max_age) = cx.schedule.tenant_key_max_age else {
        return Ok(());
    };
    let options = key_rotation::Options {
        max_batches: Some(ROTATION_BATCHES_PER_RUN),
        ..Default::default()
    };
    for workplace in key_rotation::due_workplaces(cx.db, max_age, cx.now).await? {
        let rotated = key_rotation::rotate_workplace(cx.db, workplace, options, cx.now, |_| {}).await?;
        tracing::info!(
            %workplace,
            to_version = rotated.to_version,
            finished = rotated.finished,
            "scheduled data-key rotation"
        );
        report.workplaces_rotated += 1;
    }
    Ok(())
}

/// Running jobs under their leases, for one process at one tick.
#[derive(Clone, Copy)]
struct Leased<'a> {
    db: &'a Database,
    holder: &'a str,
    now: chrono::DateTime<chrono::Utc>,
}

impl Leased<'_> {
    /// Runs `work` as `job` if this process gets its lease and, with `every`, that long has
    /// passed since it last finished anywhere. The lease ends finished when the work did, or
    /// released when it failed, so the next tick tries again instead of waiting it out.
    async fn run(
        self,
        job: &Job,
        every: Option<chrono::Duration>,
        cx: &JobContext<'_>,
        report: &mut TickReport,
    ) -> domain::Result<()> {
        let Leased { db, holder, now } = self;
        let Some(lease) = domain::platform::jobs::try_lease(db, job.name, holder, LEASE, now).await? else {
            return Ok(());
        };
        if every.is_some_and(|every| lease.last_finished_at.is_some_and(|last| now - last < every)) {
            return domain::platform::jobs::release(db, lease, now).await;
        }
        match (job.run)(cx, report).await {
            Ok(()) => domain::platform::jobs::finish(db, lease, now).await?,
            Err(err) => {
                if let Err(release) = domain::platform::jobs::release(db, lease, now).await {
                    tracing::warn!(code = release.code(), error = %release, "a failed job's lease could not be released; it expires");
                }
                return Err(err);
            }
        }
        report.ran.push(job.name);
        Ok(())
    }
}

/// The backup job (backup, then retention) and the restore-drill job, each when due.
async fn run_backups(
    db: &Database,
    holder: &str,
    settings: &crate::config::BackupSettings,
    notifier: &Notifier,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut TickReport,
) -> domain::Result<()> {
    use domain::operations::backup;
    if let Some(lease) = domain::platform::jobs::try_lease(db, BACKUP, holder, LEASE, now).await? {
        if lease
            .last_finished_at
            .is_none_or(|finished| now - finished >= settings.interval)
        {
            match backup::run_backup(db, &settings.target, now, &mut |_| {}).await {
                Ok(manifest) => {
                    tracing::info!(backup = %manifest.name, rows = manifest.rows, bytes = manifest.bytes, "backup written");
                    report.backups_taken += 1;
                    match backup::prune(db, &settings.target.store, settings.retention, now).await {
                        Ok(pruned) => report.backups_pruned += pruned.len(),
                        Err(err) => {
                            notify_operator(notifier, "old backups could not be deleted", &err, now).await
                        }
                    }
                    domain::platform::jobs::finish(db, lease, now).await?;
                }
                Err(err) => {
                    report.backups_failed += 1;
                    notify_operator(notifier, "a backup failed", &err, now).await;
                    // Recorded as if the last run were long enough ago that the next try comes
                    // after BACKUP_RETRY, not after a whole interval.
                    domain::platform::jobs::finish(db, lease, now - settings.interval + BACKUP_RETRY).await?;
                }
            }
            report.ran.push(BACKUP);
        } else {
            domain::platform::jobs::release(db, lease, now).await?;
        }
    }
    if let Some(lease) = domain::platform::jobs::try_lease(db, BACKUP_DRILL, holder, LEASE, now).await? {
        if lease
            .last_finished_at
            .is_none_or(|finished| now - finished >= settings.drill_every)
        {
            report.drill_passed = Some(drill_or_check(db, settings, notifier, now).await);
            domain::platform::jobs::finish(db, lease, now).await?;
            report.ran.push(BACKUP_DRILL);
        } else {
            domain::platform::jobs::release(db, lease, now).await?;
        }
    }
    Ok(())
}

/// With the private key at hand, drills; without it, checks that a drill run elsewhere
/// (`candor backup verify`) passed recently enough, and alerts when none did.
async fn drill_or_check(
    db: &Database,
    settings: &crate::config::BackupSettings,
    notifier: &Notifier,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    use domain::operations::backup::{self, BackupError};
    let Some(identity_file) = &settings.identity_file else {
        let facts = match backup::facts(db).await {
            Ok(facts) => facts,
            Err(err) => {
                notify_operator(notifier, "the restore drills could not be checked", &err, now).await;
                return false;
            }
        };
        let overdue = facts
            .last_drill_passed_at
            .is_none_or(|passed| now - passed > settings.drill_every)
            && facts
                .last_backup_at
                .is_some_and(|first| now - first > chrono::Duration::days(1));
        if overdue {
            let err = BackupError::DrillOverdue(format!(
                "no restore drill has passed in the last {} days: run `candor backup verify` where the private \
                 backup key is kept",
                settings.drill_every.num_days()
            ));
            notify_operator(notifier, "restore drills are overdue", &err, now).await;
        }
        return !overdue;
    };
    let result = match backup::read_identity(identity_file) {
        Ok(identity) => {
            backup::run_drill(
                db,
                &settings.target.store,
                &identity,
                settings.scratch_url.as_deref(),
                now,
                &mut |_| {},
            )
            .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(report) => {
            tracing::info!(backup = %report.restore.backup, rows = report.restore.rows, seconds = report.seconds, "restore drill passed");
            true
        }
        Err(err) => {
            notify_operator(notifier, "a restore drill failed", &err, now).await;
            false
        }
    }
}
