//! Shredding a deleted workplace's backup key, so its part of every backup becomes unreadable.

use std::io;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::{
    platform::{
        entities::backup_shreds,
        security_events::{EventKind, SecurityEvent},
    },
    Database,
};

use super::{error::BackupError, error::Result, store::sync_dir, store::BackupStore};

/// Queues the shredding of a deleted workplace's backup keys (inside its deletion's
/// transaction, so the request cannot be lost).
pub(crate) async fn request_shred(
    txn: &impl ConnectionTrait,
    workplace: uuid::Uuid,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    backup_shreds::ActiveModel {
        shredded_workplace_id: Set(workplace),
        requested_at: Set(now),
        done_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Removes the backup keys of every deleted workplace still waiting; returns how many.
pub async fn shred_pending(db: &Database, store: &BackupStore, now: DateTime<Utc>) -> Result<usize> {
    let waiting = backup_shreds::Entity::find()
        .filter(backup_shreds::Column::DoneAt.is_null())
        .all(db.connection())
        .await?;
    for row in &waiting {
        let dir = store.workplace_keys(row.shredded_workplace_id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(BackupError::write(&dir, err)),
        }
        if let Some(parent) = dir.parent() {
            let _ = sync_dir(parent);
        }
        let txn = db.begin_write().await?;
        backup_shreds::ActiveModel {
            shredded_workplace_id: Set(row.shredded_workplace_id),
            done_at: Set(Some(now)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let event = SecurityEvent::new(EventKind::BackupKeyShredded, now)
            .about("workplace", Some(row.shredded_workplace_id));
        crate::platform::security_events::store_and_log(&txn, &event).await?;
        txn.commit().await?;
    }
    Ok(waiting.len())
}
