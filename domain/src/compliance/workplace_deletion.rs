//! The end of a workplace. An Owner asks for it, typing the workplace's name; every Owner is told
//! at once, and any of them may cancel during the grace period (30 days unless the Owner chose
//! otherwise). Once it is over the job runner deletes the workplace: its data keys first, then
//! every row it owns, then its backup key, and the Owners receive a deletion certificate saying
//! what was deleted and when the last backup holding it expires.
//!
//! With the keys gone, whatever was sealed under them — in rows a database keeps after
//! deletion, in a copy of a table, in a dump, in an older backup — can no longer be opened with
//! any key Candor holds.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use crate::{
    platform::{
        entities::{
            answers, audit_chains, audit_log, comments, data_keys, departments, rounds, subject_requests,
            surveys, users, workplace_terminations, workplaces,
        },
        ids::{UserId, WorkplaceId},
        mail_queue::{MailKind, MailQueue},
        policy::{Action, Resource},
        security_events::{EventKind, SecurityEvent},
        tenant::TenantDb,
    },
    Backend, Database, Error, Result,
};

pub const DEFAULT_GRACE_DAYS: i64 = 30;
pub const MIN_GRACE_DAYS: i64 = 7;
pub const MAX_GRACE_DAYS: i64 = 90;

/// A pending request to delete the workplace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    /// The Owner who asked, while their account exists.
    pub requested_by: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub delete_at: DateTime<Utc>,
}

/// What the deletion form shows: the name to type, whether this person may ask, and a pending
/// request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletionTarget {
    pub workplace_name: String,
    pub allowed: bool,
    pub pending: Option<Termination>,
}

/// What a deletion removed, as its certificate states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// Also recorded with the instance's `workplace.deleted` event, so the operator can confirm
    /// a certificate is genuine.
    pub id: uuid::Uuid,
    pub workplace: WorkplaceId,
    pub workplace_name: String,
    pub requested_by: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub deleted_at: DateTime<Utc>,
    /// What kind of data, how many records.
    pub deleted: Vec<(&'static str, u64)>,
    pub data_keys_destroyed: u64,
    /// When the newest backup still holding the workplace (unreadable without its destroyed
    /// key) is deleted by the backup retention; None when this instance keeps no backups.
    pub backups_expire_by: Option<DateTime<Utc>>,
}

/// The workplace a deletion would remove, for those who may change its settings; `allowed`
/// says whether they may also ask for the deletion (its Owners).
pub async fn target(tenant: &TenantDb) -> Result<DeletionTarget> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let row = workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    txn.commit().await?;
    Ok(DeletionTarget {
        workplace_name: row.name,
        allowed: tenant.allows(Action::DeleteWorkplace, Resource::Workplace),
        pending: pending(tenant).await?,
    })
}

/// The pending request, for everyone who may delete the workplace (its Owners); None for others.
pub async fn notice_for(tenant: &TenantDb) -> Result<Option<Termination>> {
    let identity = tenant.person()?;
    if !crate::platform::policy::allows(identity, Action::DeleteWorkplace, Resource::Workplace) {
        return Ok(None);
    }
    pending(tenant).await
}

async fn pending(tenant: &TenantDb) -> Result<Option<Termination>> {
    let txn = tenant.begin_read().await?;
    let Some(row) = tenant
        .select::<workplace_terminations::Entity>()
        .one(&txn)
        .await?
    else {
        txn.commit().await?;
        return Ok(None);
    };
    txn.commit().await?;
    Ok(Some(Termination {
        requested_by: requester_name(tenant, UserId::from_uuid(row.requested_by)).await?,
        requested_at: row.requested_at,
        delete_at: row.delete_at,
    }))
}

/// An Owner's name for a request or a notice, while their account exists.
async fn requester_name(tenant: &TenantDb, who: UserId) -> Result<Option<String>> {
    Ok(
        crate::platform::user_fields::names_of(tenant, tenant.database().connection(), &[who.uuid()])
            .await?
            .remove(&who.uuid()),
    )
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Asks for the workplace to be deleted after `grace_days`, once `confirmation` repeats its
/// name. Every Owner is emailed (`link`: the settings page, where any of them can cancel).
pub async fn request_termination(
    tenant: &TenantDb,
    confirmation: &str,
    grace_days: i64,
    mail: &MailQueue,
    link: &str,
    now: DateTime<Utc>,
) -> Result<Termination> {
    let identity = tenant.person()?;
    tenant.require(Action::DeleteWorkplace, Resource::Workplace)?;
    if !(MIN_GRACE_DAYS..=MAX_GRACE_DAYS).contains(&grace_days) {
        return Err(Error::Invalid {
            field: "grace_days",
            reason: format!("must be between {MIN_GRACE_DAYS} and {MAX_GRACE_DAYS} days"),
        });
    }
    let workplace = tenant.workplace_id();
    // Who is told, read first: their notice is queued in the request's own transaction, so a
    // deletion is never pending without every Owner's email waiting to go out.
    let owners = crate::organisation::people::owner_contacts(tenant).await?;
    let requested_by = requester_name(tenant, identity.user_id).await?;
    tenant.touch(crate::platform::audit::EntityType::Workplace, [workplace.uuid()]);
    let txn = tenant.begin().await?;
    let row = workplaces::Entity::find_by_id(workplace.uuid())
        .one(&*txn)
        .await?
        .ok_or(Error::NotFound)?;
    if confirmation.trim() != row.name {
        return Err(Error::Invalid {
            field: "confirmation",
            reason: "type the workplace's name exactly as shown".into(),
        });
    }
    if tenant
        .select::<workplace_terminations::Entity>()
        .one(&*txn)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(
            "Deletion of this workplace is already requested; cancel it first to choose another date.".into(),
        ));
    }
    let delete_at = now + Duration::days(grace_days);
    workplace_terminations::ActiveModel {
        workplace_id: Set(workplace.uuid()),
        requested_by: Set(identity.user_id.uuid()),
        requested_at: Set(now),
        delete_at: Set(delete_at),
    }
    .insert(&*txn)
    .await?;
    let event = SecurityEvent::new(EventKind::WorkplaceTerminationRequested, now)
        .in_workplace(workplace)
        .by(identity.user_id);
    crate::platform::security_events::store_and_log(&*txn, &event).await?;
    let by = requested_by.clone().unwrap_or_else(|| "an Owner".into());
    let notices = owners
        .iter()
        .map(|(email, name)| termination_requested_mail(email, name, &row.name, &by, &day(delete_at), link))
        .collect();
    mail.enqueue_in(&*txn, workplace, MailKind::DeletionNotice, notices, now)
        .await?;
    txn.commit().await?;
    mail.wake();
    Ok(Termination {
        requested_by,
        requested_at: now,
        delete_at,
    })
}

/// Cancels a pending request; every Owner is told who cancelled.
pub async fn cancel_termination(
    tenant: &TenantDb,
    mail: &MailQueue,
    link: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let identity = tenant.person()?;
    tenant.require(Action::DeleteWorkplace, Resource::Workplace)?;
    let workplace = tenant.workplace_id();
    let owners = crate::organisation::people::owner_contacts(tenant).await?;
    let by = requester_name(tenant, identity.user_id)
        .await?
        .unwrap_or_else(|| "an Owner".into());
    tenant.touch(crate::platform::audit::EntityType::Workplace, [workplace.uuid()]);
    let txn = tenant.begin().await?;
    let cancelled = tenant
        .delete_many::<workplace_terminations::Entity>()
        .filter(workplace_terminations::Column::WorkplaceId.eq(workplace.uuid()))
        .exec(&*txn)
        .await?
        .rows_affected;
    if cancelled == 0 {
        return Err(Error::Conflict(
            "No deletion of this workplace is pending.".into(),
        ));
    }
    let event = SecurityEvent::new(EventKind::WorkplaceTerminationCancelled, now)
        .in_workplace(workplace)
        .by(identity.user_id);
    crate::platform::security_events::store_and_log(&*txn, &event).await?;
    let name = workplaces::Entity::find_by_id(workplace.uuid())
        .one(&*txn)
        .await?
        .map(|w| w.name)
        .unwrap_or_default();
    let notices = owners
        .iter()
        .map(|(email, owner)| termination_cancelled_mail(email, owner, &name, &by, link))
        .collect();
    mail.enqueue_in(&*txn, workplace, MailKind::DeletionNotice, notices, now)
        .await?;
    txn.commit().await?;
    mail.wake();
    Ok(())
}

/// Deletes every workplace whose grace period is over and emails each one's Owners its
/// certificate (the job runner). `backups`: where this instance keeps backups and for how long,
/// when it keeps any: the deleted workplace's backup key is shredded there at once.
pub async fn terminate_due(
    db: &Database,
    mail: &MailQueue,
    backups: Option<KeptBackups<'_>>,
    now: DateTime<Utc>,
) -> Result<Vec<Certificate>> {
    // The operator's view across workplaces: which requests are due. Each workplace is then
    // read and deleted through its own tenant scope.
    let due = workplace_terminations::Entity::find()
        .filter(workplace_terminations::Column::DeleteAt.lte(now))
        .all(db.connection())
        .await?;
    let mut certificates = Vec::with_capacity(due.len());
    for request in due {
        let workplace = request.workplace_id;
        // One workplace's failure (logged, retried on the next run) does not hold up the others.
        match terminate(db, mail, backups, request, now).await {
            Ok(certificate) => certificates.push(certificate),
            Err(err) => {
                tracing::error!(%workplace, code = err.code(), error = %err, "a workplace due for deletion could not be deleted");
            }
        }
    }
    Ok(certificates)
}

/// Where an instance keeps its backups, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct KeptBackups<'a> {
    pub store: &'a crate::operations::backup::BackupStore,
    pub retention: Duration,
}

async fn terminate(
    db: &Database,
    mail: &MailQueue,
    backups: Option<KeptBackups<'_>>,
    request: workplace_terminations::Model,
    now: DateTime<Utc>,
) -> Result<Certificate> {
    let workplace = WorkplaceId::from_uuid(request.workplace_id);
    let tenant = TenantDb::for_system(db, workplace, "workplace termination");
    // Addresses are read before they are deleted: the certificate goes to these people.
    let owners = crate::organisation::people::owner_contacts(&tenant).await?;
    let requested_by = requester_name(&tenant, UserId::from_uuid(request.requested_by)).await?;
    let (name, deleted, data_keys_destroyed) = delete_now(
        &tenant,
        Some(UserId::from_uuid(request.requested_by)),
        backups,
        now,
    )
    .await?;
    let certificate = Certificate {
        id: deleted.certificate,
        workplace,
        workplace_name: name,
        requested_by,
        requested_at: request.requested_at,
        deleted_at: now,
        deleted: deleted.counts,
        data_keys_destroyed,
        backups_expire_by: backups.map(|kept| now + kept.retention),
    };
    tracing::info!(%workplace, certificate = %certificate.id, owners = owners.len(), "workplace deleted at the end of its grace period");
    // The workplace is gone: its certificates are queued as no workplace's mail.
    let certificates = owners
        .iter()
        .map(|(email, owner)| deletion_certificate_mail(email, owner, &certificate))
        .collect();
    if let Err(err) = mail
        .enqueue_all(None, MailKind::DeletionNotice, certificates, now)
        .await
    {
        tracing::error!(%workplace, error = %err, "the deletion certificates could not be queued");
    }
    Ok(certificate)
}

struct Counts {
    certificate: uuid::Uuid,
    counts: Vec<(&'static str, u64)>,
}

/// Deletes the workplace now: keys first, then every row by cascade, then its backup key.
/// `actor`: who asked for it.
async fn delete_now(
    tenant: &TenantDb,
    actor: Option<UserId>,
    backups: Option<KeptBackups<'_>>,
    now: DateTime<Utc>,
) -> Result<(String, Counts, u64)> {
    let workplace = tenant.workplace_id();
    // Unlogged: the workplace's own log is deleted here; the deletion is recorded in the
    // instance's chain instead.
    let txn = tenant.begin_unlogged().await?;
    let row = workplaces::Entity::find_by_id(workplace.uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let counts = vec![
        ("people", tenant.select::<users::Entity>().count(&txn).await?),
        (
            "departments",
            tenant.select::<departments::Entity>().count(&txn).await?,
        ),
        ("surveys", tenant.select::<surveys::Entity>().count(&txn).await?),
        (
            "survey rounds",
            tenant.select::<rounds::Entity>().count(&txn).await?,
        ),
        ("answers", tenant.select::<answers::Entity>().count(&txn).await?),
        ("comments", tenant.select::<comments::Entity>().count(&txn).await?),
        (
            "data-subject requests",
            tenant.select::<subject_requests::Entity>().count(&txn).await?,
        ),
        (
            "audit log entries",
            audit_log::Entity::find()
                .filter(audit_log::Column::WorkplaceId.eq(workplace.uuid()))
                .count(&txn)
                .await?,
        ),
    ];
    // The keys go first and explicitly: deleting them is what makes the data unrecoverable.
    let destroyed = data_keys::Entity::delete_many()
        .filter(data_keys::Column::WorkplaceId.eq(workplace.uuid()))
        .exec(&txn)
        .await?
        .rows_affected;
    // Everything else of the workplace follows by cascade.
    workplaces::Entity::delete_by_id(workplace.uuid())
        .exec(&txn)
        .await?;
    // The log rows have no foreign key (they outlive what they describe elsewhere); a deleted
    // workplace's own log goes with it.
    tenant
        .delete_many::<audit_log::Entity>()
        .filter(audit_log::Column::WorkplaceId.eq(workplace.uuid()))
        .exec(&txn)
        .await?;
    audit_chains::Entity::delete_many()
        .filter(audit_chains::Column::WorkplaceId.eq(workplace.uuid()))
        .exec(&txn)
        .await?;
    // Its backup key leaves the backup store too, so older backups lose this workplace's part.
    crate::operations::backup::request_shred(&txn, workplace.uuid(), now).await?;
    let certificate = uuid::Uuid::new_v4();
    tenant.unbind(&txn).await?;
    let mut event =
        SecurityEvent::new(EventKind::WorkplaceDeleted, now).about("deletion_certificate", Some(certificate));
    if let Some(actor) = actor {
        event = event.by(actor);
    }
    crate::platform::security_events::store_and_log(&txn, &event).await?;
    txn.commit().await?;
    tenant.keyring()?.forget(workplace);
    purge_deleted_storage(tenant.database(), "data_keys").await;
    if let Some(KeptBackups { store, .. }) = backups {
        // Should the store be out of reach now, the request waits and the next backup run
        // shreds first.
        if let Err(err) = crate::operations::backup::shred_pending(tenant.database(), store, now).await {
            tracing::warn!(code = err.code(), error = %err, "the deleted workplace's backup key is not shredded yet");
        }
    }
    Ok((row.name, Counts { certificate, counts }, destroyed))
}

/// Makes the storage let go of an erased person's rows without a lock other workplaces wait on.
/// SQLite overwrites deleted content (`secure_delete`) and the checkpoint empties the write-ahead
/// log of the pages that held it. PostgreSQL keeps the deleted row version until routine vacuum
/// reclaims it and later writes reuse its space: until then it sits in the data files as it was
/// stored, its personal fields sealed under the workplace key (never in clear), out of reach of
/// every query, export and later backup. Rewriting the table (`VACUUM FULL`) would remove it at
/// once but locks the people table of every workplace, so an erasure never does that; an
/// overwrite before the delete would add nothing, since PostgreSQL writes a new row version
/// and keeps the old one alike.
pub(crate) async fn let_go_of_erased_people(db: &crate::Database) {
    if db.backend() == Backend::Sqlite {
        if let Err(err) = db
            .connection()
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
        {
            tracing::warn!(error = %err, "could not checkpoint the storage after an erasure");
        }
    }
}

/// Makes the storage let go of deleted rows (wrapped keys): SQLite overwrites deleted content
/// (`secure_delete`) and the checkpoint empties the write-ahead log; PostgreSQL rewrites the
/// small key table so no dead row versions remain in it. A failure is logged, not returned:
/// the deletion itself has happened, and the keys are already unreachable through Candor.
pub(crate) async fn purge_deleted_storage(db: &crate::Database, table: &'static str) {
    let statement = match db.backend() {
        Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)".to_owned(),
        Backend::Postgres => format!("VACUUM FULL {table}"),
    };
    if let Err(err) = db.connection().execute_unprepared(&statement).await {
        tracing::warn!(table, error = %err, "could not compact the storage after a deletion");
    }
}

/// An Owner asked for the whole workplace to be deleted: every Owner hears of it at once, so
/// a mistaken or hostile request can be cancelled in time.
fn termination_requested_mail(
    to: &str,
    name: &str,
    workplace: &str,
    by: &str,
    delete_at: &str,
    link: &str,
) -> crate::platform::mail::Mail {
    crate::platform::mail::Mail {
        to: to.to_owned(),
        subject: format!("Candor: {workplace} is to be deleted on {delete_at}"),
        body: format!(
            "Hello {name},\n\n{by} asked for the workplace {workplace} to be deleted. On {delete_at} every \
             person, department, survey, answer, comment and log entry of it will be deleted and its keys \
             destroyed; this cannot be undone.\n\nUntil then, any Owner can cancel the deletion in \
             Settings:\n\n{link}\n\nIf you did not expect this, cancel it and check who holds the Owner \
             role.\n\n— Candor\n"
        ),
    }
}

/// A pending deletion was cancelled.
fn termination_cancelled_mail(
    to: &str,
    name: &str,
    workplace: &str,
    by: &str,
    link: &str,
) -> crate::platform::mail::Mail {
    crate::platform::mail::Mail {
        to: to.to_owned(),
        subject: format!("Candor: deletion of {workplace} cancelled"),
        body: format!(
            "Hello {name},\n\n{by} cancelled the deletion of the workplace {workplace}. Nothing will be \
             deleted.\n\n{link}\n\n— Candor\n"
        ),
    }
}

/// What a deletion removed, when, and when the last backup holding it goes.
fn deletion_certificate_mail(to: &str, name: &str, certificate: &Certificate) -> crate::platform::mail::Mail {
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut deleted = String::new();
    for (what, count) in &certificate.deleted {
        deleted.push_str(&format!("  - {what}: {count}\n"));
    }
    let backups = match certificate.backups_expire_by {
        Some(by) => format!(
            "Backups: the workplace's backup key was destroyed with it, so its part of every backup \
             taken before the deletion can no longer be decrypted. Those backups are themselves deleted \
             by {} at the latest (backup retention).",
            at(by)
        ),
        None => "Backups: this installation keeps no backups.".to_owned(),
    };
    crate::platform::mail::Mail {
        to: to.to_owned(),
        subject: format!("Candor deletion certificate: {}", certificate.workplace_name),
        body: format!(
            "Hello {name},\n\nthis certifies that the workplace {} (id {}) was deleted from Candor.\n\n\
             Certificate number: {}\nDeletion requested: {}{}\nDeleted: {}\n\nWhat was deleted:\n{deleted}\
             \nEncryption keys destroyed: {} data key(s). Whatever was sealed under them cannot be opened \
             again by anyone.\n\n{backups}\n\nYour own account was part of the workplace and is deleted \
             too; this email is the last Candor sends you. Keep it as your record.\n\n— Candor\n",
            certificate.workplace_name,
            certificate.workplace,
            certificate.id,
            at(certificate.requested_at),
            certificate
                .requested_by
                .as_ref()
                .map(|by| format!(" by {by}"))
                .unwrap_or_default(),
            at(certificate.deleted_at),
            certificate.data_keys_destroyed,
        ),
    }
}
