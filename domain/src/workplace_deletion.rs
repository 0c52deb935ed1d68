//! Deleting a workplace: its data keys are destroyed first, then every row it owns. Whatever
//! was sealed under those keys — in rows a database keeps after deletion, in a copy of a table,
//! in a dump — can no longer be opened with any key Candor holds.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::{
    entities::{data_keys, workplaces},
    policy::{require, Action, Identity, Resource},
    security_events::{EventKind, SecurityEvent},
    tenant::TenantDb,
    Backend, Error, Result,
};

/// What a deletion destroyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deleted {
    pub data_keys: u64,
}

/// What the deletion form shows: the name to type, and whether this person may delete at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletionTarget {
    pub workplace_name: String,
    pub allowed: bool,
}

pub async fn target(tenant: &TenantDb, identity: &Identity) -> Result<DeletionTarget> {
    let txn = tenant.begin().await?;
    let row = workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    txn.commit().await?;
    Ok(DeletionTarget {
        workplace_name: row.name,
        allowed: crate::policy::allows(identity, Action::DeleteWorkplace, Resource::Workplace),
    })
}

/// Deletes the workplace of `identity` (an Owner) once `confirmation` repeats its name.
pub async fn delete_workplace(
    tenant: &TenantDb,
    identity: &Identity,
    confirmation: &str,
    now: DateTime<Utc>,
) -> Result<Deleted> {
    require(identity, Action::DeleteWorkplace, Resource::Workplace)?;
    let workplace = tenant.workplace_id();
    let txn = tenant.begin().await?;
    let row = workplaces::Entity::find_by_id(workplace.uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    if confirmation.trim() != row.name {
        return Err(Error::Invalid {
            field: "confirmation",
            reason: "type the workplace's name exactly as shown".into(),
        });
    }
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
    // Its backup key leaves the backup store too, so older backups lose this workplace's part.
    crate::backup::request_shred(&txn, workplace.uuid(), now).await?;
    crate::security_events::store_and_log(
        &txn,
        &SecurityEvent::new(EventKind::WorkplaceDeleted, now)
            .in_workplace(workplace)
            .by(identity.user_id),
    )
    .await?;
    txn.commit().await?;
    tenant.keyring()?.forget(workplace);
    purge_deleted_storage(tenant.database(), "data_keys").await;
    if let Some(store) = tenant.database().backup_store() {
        // Should the store be out of reach now, the request waits and the next backup run
        // shreds first.
        if let Err(err) = crate::backup::shred_pending(tenant.database(), store, now).await {
            tracing::warn!(code = err.code(), error = %err, "the deleted workplace's backup key is not shredded yet");
        }
    }
    Ok(Deleted { data_keys: destroyed })
}

/// Makes the storage let go of deleted rows (wrapped keys, an erased person): SQLite overwrites deleted content
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
