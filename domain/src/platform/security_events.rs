//! Security events: failures and changes that an auditor or operator must be able to see later.
//! An event names what happened (a stable kind), how serious it is and what it refers to, by id
//! only: never a name, an address, a value or a secret.
//!
//! Events raised deep inside the data layer (a sealed field that does not open) cannot wait for
//! a database round trip there, so the sink queues them and one writer task stores them in
//! order; [`SecurityEvents::flush`] waits until everything queued so far is stored.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use tokio::sync::{mpsc, oneshot};

pub use crate::platform::audit::Severity;
use crate::{
    platform::{
        entities::{audit_log, security_events},
        ids::{UserId, WorkplaceId},
    },
    Result,
};

/// What happened. Codes are stable: reviews, alerts and exports rely on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A sealed field did not open: tampered, truncated, moved to another row or workplace, or
    /// sealed under a key version that no longer exists.
    FieldOpenFailed,
    /// Candor was started with a master key the database was not written with.
    MasterKeyRejected,
    MasterKeyRotated,
    TenantKeyRotationStarted,
    TenantKeyRotated,
    /// A workplace and its data keys were deleted.
    WorkplaceDeleted,
    /// An Owner asked for the workplace to be deleted after a grace period.
    WorkplaceTerminationRequested,
    WorkplaceTerminationCancelled,
    /// The operator changed the subprocessor list and told every Owner.
    SubprocessorsChanged,
    /// Someone downloaded a round's results.
    ResultsExported,
    /// An auditor downloaded (part of) the audit log.
    AuditLogExported,
    /// Entries past the retention period were deleted.
    AuditLogPurged,
    /// A monitoring rule raised an alert.
    AlertRaised,
    /// An Owner let Candor's operators look at the workplace's setup for a while.
    SupportAccessGranted,
    SupportAccessRevoked,
    /// An operator looked, under a live grant.
    SupportAccessUsed,
    /// An encrypted backup was written and its manifest sealed it.
    BackupCreated,
    /// A backup could not be written; the last good one is untouched.
    BackupFailed,
    /// A backup past the retention period was deleted from the store.
    BackupDeleted,
    /// A deleted workplace's backup key left the backup store: its part of every backup is gone.
    BackupKeyShredded,
    /// A backup was restored into a scratch database and matched its checksums.
    RestoreDrillPassed,
    RestoreDrillFailed,
    /// A database was restored from a backup.
    BackupRestored,
    /// The operators recorded an incident.
    IncidentOpened,
    /// An incident was verified to be a personal-data breach: the 24-hour clock starts.
    BreachVerified,
    /// The breach notice went to the affected workplaces.
    BreachNotified,
    IncidentAnalysed,
    IncidentClosed,
    /// A scheduled job failed (the subject names it); the others ran, and the next tick retries.
    JobFailed,
    /// The operator set a workplace's daily invitation allowance.
    InvitationAllowanceSet,
}

impl EventKind {
    pub fn code(self) -> &'static str {
        match self {
            EventKind::FieldOpenFailed => "crypto.field_open_failed",
            EventKind::MasterKeyRejected => "crypto.master_key_rejected",
            EventKind::MasterKeyRotated => "crypto.master_key_rotated",
            EventKind::TenantKeyRotationStarted => "crypto.tenant_key_rotation_started",
            EventKind::TenantKeyRotated => "crypto.tenant_key_rotated",
            EventKind::WorkplaceDeleted => "workplace.deleted",
            EventKind::WorkplaceTerminationRequested => "workplace.termination_requested",
            EventKind::WorkplaceTerminationCancelled => "workplace.termination_cancelled",
            EventKind::SubprocessorsChanged => "instance.subprocessors_changed",
            EventKind::ResultsExported => "data.results_exported",
            EventKind::AuditLogExported => "audit.exported",
            EventKind::AuditLogPurged => "audit.purged",
            EventKind::AlertRaised => "audit.alert_raised",
            EventKind::SupportAccessGranted => "support.access_granted",
            EventKind::SupportAccessRevoked => "support.access_revoked",
            EventKind::SupportAccessUsed => "support.access_used",
            EventKind::BackupCreated => "backup.created",
            EventKind::BackupFailed => "backup.failed",
            EventKind::BackupDeleted => "backup.deleted",
            EventKind::BackupKeyShredded => "backup.key_shredded",
            EventKind::RestoreDrillPassed => "backup.drill_passed",
            EventKind::RestoreDrillFailed => "backup.drill_failed",
            EventKind::BackupRestored => "backup.restored",
            EventKind::IncidentOpened => "incident.opened",
            EventKind::BreachVerified => "incident.breach_verified",
            EventKind::BreachNotified => "incident.breach_notified",
            EventKind::IncidentAnalysed => "incident.analysed",
            EventKind::IncidentClosed => "incident.closed",
            EventKind::JobFailed => "instance.job_failed",
            EventKind::InvitationAllowanceSet => "workplace.invitation_allowance_set",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            EventKind::FieldOpenFailed
            | EventKind::MasterKeyRejected
            | EventKind::BackupFailed
            | EventKind::RestoreDrillFailed
            | EventKind::JobFailed => Severity::Critical,
            EventKind::WorkplaceDeleted
            | EventKind::WorkplaceTerminationRequested
            | EventKind::WorkplaceTerminationCancelled
            | EventKind::BackupKeyShredded
            | EventKind::BackupRestored
            | EventKind::IncidentOpened
            | EventKind::BreachVerified
            | EventKind::BreachNotified
            | EventKind::AlertRaised
            | EventKind::SupportAccessGranted
            | EventKind::SupportAccessUsed
            | EventKind::InvitationAllowanceSet => Severity::Warning,
            EventKind::MasterKeyRotated
            | EventKind::TenantKeyRotationStarted
            | EventKind::TenantKeyRotated
            | EventKind::ResultsExported
            | EventKind::AuditLogExported
            | EventKind::AuditLogPurged
            | EventKind::SupportAccessRevoked
            | EventKind::BackupCreated
            | EventKind::BackupDeleted
            | EventKind::RestoreDrillPassed
            | EventKind::IncidentAnalysed
            | EventKind::SubprocessorsChanged
            | EventKind::IncidentClosed => Severity::Info,
        }
    }
}

/// One event, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityEvent {
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    pub workplace: Option<WorkplaceId>,
    pub actor: Option<UserId>,
    /// `table.column` or an entity name, never a value.
    pub subject: Option<String>,
    pub subject_id: Option<uuid::Uuid>,
}

impl SecurityEvent {
    pub fn new(kind: EventKind, occurred_at: DateTime<Utc>) -> Self {
        Self {
            kind,
            occurred_at,
            workplace: None,
            actor: None,
            subject: None,
            subject_id: None,
        }
    }

    pub fn in_workplace(mut self, workplace: WorkplaceId) -> Self {
        self.workplace = Some(workplace);
        self
    }

    pub fn by(mut self, actor: UserId) -> Self {
        self.actor = Some(actor);
        self
    }

    pub fn about(mut self, subject: impl Into<String>, id: Option<uuid::Uuid>) -> Self {
        self.subject = Some(subject.into());
        self.subject_id = id;
        self
    }
}

/// A stored event, as reviews read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub kind: String,
    pub severity: String,
    pub occurred_at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub subject: Option<String>,
    pub subject_id: Option<uuid::Uuid>,
}

enum Message {
    Record(SecurityEvent),
    Flush(oneshot::Sender<()>),
}

/// The queue in front of the writer task. Cloning it is cheap; every clone feeds the same task.
#[derive(Clone, Debug)]
pub struct SecurityEvents {
    queue: mpsc::UnboundedSender<Message>,
}

impl SecurityEvents {
    /// Starts the writer task on the current runtime.
    pub(crate) fn start(conn: sea_orm::DatabaseConnection) -> Self {
        let (queue, mut incoming) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(message) = incoming.recv().await {
                match message {
                    Message::Record(event) => {
                        if let Err(err) = store_alone(&conn, &event).await {
                            // The kind alone: events carry no personal data, but keep the log lean.
                            tracing::error!(kind = event.kind.code(), error = %err, "a security event could not be stored");
                        }
                    }
                    Message::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Self { queue }
    }

    /// Queues `event`; it is also written to the server log at once.
    pub fn record(&self, event: SecurityEvent) {
        log(&event);
        if self.queue.send(Message::Record(event)).is_err() {
            tracing::error!("the security event writer has stopped; an event was not stored");
        }
    }

    /// Waits until every event queued before this call is stored.
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = stored.await;
        }
    }
}

fn log(event: &SecurityEvent) {
    let workplace = event.workplace.map(|id| id.to_string());
    let subject_id = event.subject_id.map(|id| id.to_string());
    match event.kind.severity() {
        Severity::Critical => tracing::error!(
            kind = event.kind.code(),
            workplace,
            subject = event.subject.as_deref(),
            subject_id,
            "security event"
        ),
        Severity::Warning => tracing::warn!(
            kind = event.kind.code(),
            workplace,
            subject = event.subject.as_deref(),
            subject_id,
            "security event"
        ),
        Severity::Info => tracing::info!(
            kind = event.kind.code(),
            workplace,
            subject = event.subject.as_deref(),
            subject_id,
            "security event"
        ),
    }
}

/// Stores `event` through `conn` at once (inside the caller's transaction, if it is one), as an
/// entry of its workplace's audit chain.
pub(crate) async fn store(conn: &impl ConnectionTrait, event: &SecurityEvent) -> Result<()> {
    crate::platform::audit::append(conn, &[to_entry(event)]).await
}

fn to_entry(event: &SecurityEvent) -> crate::platform::audit::Entry {
    let mut entry = crate::platform::audit::Entry::new(
        event.kind.code(),
        crate::platform::audit::Category::Security,
        event.occurred_at,
    );
    entry.workplace = event.workplace;
    entry.severity = event.kind.severity();
    entry.actor = event.actor;
    entry.entity_type = event.subject.clone();
    entry.entity_ids = event.subject_id.into_iter().collect();
    entry.entity_count = entry.entity_ids.len();
    entry
}

/// Stores `event` in a transaction of its own.
async fn store_alone(conn: &sea_orm::DatabaseConnection, event: &SecurityEvent) -> Result<()> {
    let txn = crate::platform::transactions::begin_write_on(conn).await?;
    store(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// Stores `event` now and logs it: for callers that hold a connection and must not lose it.
pub(crate) async fn store_and_log(conn: &impl ConnectionTrait, event: &SecurityEvent) -> Result<()> {
    log(event);
    store(conn, event).await
}

/// The instance's side of an operator's act on a workplace: the same event, outside any
/// workplace, naming it.
pub(crate) async fn record_for_instance(
    db: &crate::Database,
    mut event: SecurityEvent,
    workplace: WorkplaceId,
) -> Result<()> {
    let txn = db.begin_write().await?;
    event.workplace = None;
    event.subject = Some(crate::platform::audit::EntityType::Workplace.code().to_owned());
    event.subject_id = Some(workplace.uuid());
    store_and_log(&txn, &event).await?;
    txn.commit().await?;
    Ok(())
}

/// Moves events stored before the audit log existed into their chains, oldest first.
pub(crate) async fn adopt_stored_events(conn: &sea_orm::DatabaseConnection) -> Result<u64> {
    let rows = security_events::Entity::find()
        .order_by_asc(security_events::Column::OccurredAt)
        .all(conn)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let txn = crate::platform::transactions::begin_write_on(conn).await?;
    let entries: Vec<crate::platform::audit::Entry> = rows
        .iter()
        .map(|row| {
            let mut entry = crate::platform::audit::Entry::new(
                &row.kind,
                crate::platform::audit::Category::Security,
                row.occurred_at,
            );
            entry.workplace = row.workplace_id.map(WorkplaceId::from_uuid);
            entry.severity = match row.severity.as_str() {
                "critical" => Severity::Critical,
                "warning" => Severity::Warning,
                _ => Severity::Info,
            };
            entry.actor = row.actor_id.map(UserId::from_uuid);
            entry.entity_type = row.subject.clone();
            entry.entity_ids = row.subject_id.into_iter().collect();
            entry.entity_count = entry.entity_ids.len();
            entry
        })
        .collect();
    crate::platform::audit::append(&txn, &entries).await?;
    security_events::Entity::delete_many().exec(&txn).await?;
    txn.commit().await?;
    Ok(rows.len() as u64)
}

pub(crate) fn to_stored(row: audit_log::Model) -> StoredEvent {
    StoredEvent {
        kind: row.action,
        severity: row.severity,
        occurred_at: row.occurred_at,
        actor: row.actor_id.map(UserId::from_uuid),
        subject: row.entity_type,
        subject_id: row
            .entity_ids
            .as_deref()
            .and_then(|ids| ids.split(' ').next())
            .and_then(|id| id.parse().ok()),
    }
}
