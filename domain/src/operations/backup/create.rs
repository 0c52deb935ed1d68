//! Taking a backup: one consistent snapshot, one encrypted part per workplace.

use std::{collections::HashMap, path::Path};

use age::secrecy::ExposeSecret;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, Set};

use super::segment::{SegmentHeader, SegmentSender};
use super::tables::{Part, TABLES};
use super::{tables, FORMAT, INSTANCE_FILE, MANIFEST};
use crate::{
    platform::entities::{backup_keys, workplaces},
    Database,
};

use super::{
    error::BackupError, error::Result, keys::encrypt_to, keys::parse_recipient, runs::record, runs::Run,
    runs::RunKind, shred::shred_pending, store::create_dir, store::sync_dir, store::write_synced,
    store::BackupStore, Manifest, PartEntry, Progress, Stage,
};

/// What the scheduler and `candor backup` need: the store and the operator's public key.
#[derive(Clone, Debug)]
pub struct BackupTarget {
    pub store: BackupStore,
    pub recipient: age::x25519::Recipient,
}

/// Makes sure every workplace has a backup key whose private half is in the store; returns the
/// key id and public key per workplace.
pub(super) async fn workplace_recipients(
    db: &Database,
    target: &BackupTarget,
    workplace_ids: &[uuid::Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<uuid::Uuid, (uuid::Uuid, age::x25519::Recipient)>> {
    let conn = db.connection();
    let stored = backup_keys::Entity::find()
        .order_by_asc(backup_keys::Column::CreatedAt)
        .all(conn)
        .await?;
    let mut keys = HashMap::new();
    for row in stored {
        // The newest key whose private half is still in this store wins.
        if target.store.workplace_key(row.workplace_id, row.id).exists() {
            if let Ok(recipient) = parse_recipient(&row.recipient) {
                keys.insert(row.workplace_id, (row.id, recipient));
            }
        }
    }
    for &workplace in workplace_ids {
        if keys.contains_key(&workplace) {
            continue;
        }
        let identity = age::x25519::Identity::generate();
        let key_id = uuid::Uuid::new_v4();
        let dir = target.store.workplace_keys(workplace);
        create_dir(&dir)?;
        let secret = format!("{}\n", identity.to_string().expose_secret());
        let sealed = encrypt_to(&target.recipient, secret.as_bytes())?;
        write_synced(&target.store.workplace_key(workplace, key_id), &sealed)?;
        sync_dir(&dir)?;
        let recipient = identity.to_public();
        backup_keys::ActiveModel {
            id: Set(key_id),
            workplace_id: Set(workplace),
            recipient: Set(recipient.to_string()),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
        keys.insert(workplace, (key_id, recipient));
    }
    Ok(keys)
}

pub(super) async fn workplace_ids(conn: &impl ConnectionTrait) -> Result<Vec<uuid::Uuid>> {
    Ok(workplaces::Entity::find()
        .order_by_asc(workplaces::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect())
}

/// The backup's directory name for `now`.
pub fn backup_name(now: DateTime<Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Takes a backup into the store. On failure nothing is left under `backups/` and earlier
/// backups are untouched. Use [`run_backup`] to also record the run.
pub async fn create(
    db: &Database,
    target: &BackupTarget,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Manifest> {
    let master_key_id = db.keyring()?.master_key_id();
    shred_pending(db, &target.store, now).await?;
    let name = backup_name(now);
    let incoming = target.store.incoming().join(&name);
    let done = target.store.backups().join(&name);
    if done.exists() {
        return Err(BackupError::Config(format!(
            "a backup named {name} already exists; backups are at most one a second"
        )));
    }
    create_dir(&target.store.backups())?;
    create_dir(&incoming)?;
    let written = write_parts(db, target, &incoming, &name, &master_key_id, now, progress).await;
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(err) => {
            let _ = std::fs::remove_dir_all(&incoming);
            return Err(err);
        }
    };
    std::fs::rename(&incoming, &done).map_err(|err| {
        let _ = std::fs::remove_dir_all(&incoming);
        BackupError::write(&done, err)
    })?;
    sync_dir(&target.store.backups())?;
    Ok(manifest)
}

/// [`create`], then the run recorded (with a `backup.created` or a critical `backup.failed`
/// security event) whichever way it went.
pub async fn run_backup(
    db: &Database,
    target: &BackupTarget,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Manifest> {
    let started = std::time::Instant::now();
    let result = create(db, target, now, progress).await;
    let finished = now + Duration::from_std(started.elapsed()).unwrap_or_default();
    let recorded = record(
        db,
        Run {
            kind: RunKind::Backup,
            backup: result.as_ref().ok(),
            started_at: now,
            finished_at: finished,
            failure: result.as_ref().err(),
            rows: result.as_ref().map_or(0, |manifest| manifest.rows),
        },
    )
    .await;
    if let Err(err) = recorded {
        tracing::error!(code = err.code(), error = %err, "a backup run could not be recorded");
    }
    result
}

pub(super) async fn write_parts(
    db: &Database,
    target: &BackupTarget,
    dir: &Path,
    name: &str,
    master_key_id: &str,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Manifest> {
    let id = uuid::Uuid::new_v4();
    let mut keys = workplace_recipients(db, target, &workplace_ids(db.connection()).await?, now).await?;
    let snapshot = db.begin_snapshot().await?;
    let in_snapshot = workplace_ids(&snapshot).await?;
    if in_snapshot.iter().any(|w| !keys.contains_key(w)) {
        // A workplace created since the keys were prepared.
        keys = workplace_recipients(db, target, &in_snapshot, now).await?;
    }
    let mut parts = vec![Part::Instance];
    parts.extend(in_snapshot.iter().map(|&w| Part::Workplace(w)));

    // Count first, for progress and to prove the parts cover every row.
    let mut planned: Vec<Vec<(usize, u64)>> = Vec::new();
    let mut total = 0u64;
    let mut per_table = vec![0u64; TABLES.len()];
    for part in &parts {
        let mut counts = Vec::new();
        for (index, table) in TABLES.iter().enumerate() {
            if let Some(filter) = table.filter(*part) {
                let n = tables::count(&snapshot, table.name, Some(filter)).await?;
                counts.push((index, n));
                total += n;
                per_table[index] += n;
            }
        }
        planned.push(counts);
    }
    for (index, table) in TABLES.iter().enumerate() {
        if table.owner == tables::Owner::NotBackedUp {
            continue;
        }
        let all = tables::count(&snapshot, table.name, None).await?;
        if all != per_table[index] {
            return Err(BackupError::Internal(format!(
                "the parts of the backup would hold {} of {all} rows of {}",
                per_table[index], table.name
            )));
        }
    }

    let mut done = 0u64;
    let mut entries = Vec::new();
    let mut bytes = 0u64;
    for (part, counts) in parts.iter().zip(planned) {
        let (file, workplace, key_id, recipient) = match part {
            Part::Instance => (INSTANCE_FILE.to_owned(), None, None, target.recipient.clone()),
            Part::Workplace(w) => {
                let (key_id, recipient) = keys
                    .get(w)
                    .cloned()
                    .ok_or_else(|| BackupError::Internal("a workplace has no backup key".into()))?;
                (format!("{w}.age"), Some(*w), Some(key_id), recipient)
            }
        };
        let path = dir.join(&file);
        let mut writer = SegmentSender::create(
            &path,
            &recipient,
            &SegmentHeader {
                backup_id: id,
                workplace,
            },
        )?;
        for (index, rows) in counts {
            let table = &TABLES[index];
            let filter = table
                .filter(*part)
                .ok_or_else(|| BackupError::Internal("filter vanished".into()))?;
            let mut tick = |n: u64| {
                done += n;
                progress(Progress {
                    stage: Stage::Writing,
                    done,
                    total,
                });
            };
            let wrote = tables::dump(&snapshot, table.name, filter, rows, &mut writer, &mut tick).await?;
            if wrote != rows {
                return Err(BackupError::Internal(format!(
                    "{} changed during the snapshot ({rows} counted, {wrote} read)",
                    table.name
                )));
            }
        }
        let written = writer.finish().await?;
        bytes += written.bytes;
        entries.push(PartEntry {
            file,
            workplace,
            key_id,
            bytes: written.bytes,
            sha256: written.sha256,
        });
    }
    snapshot.rollback().await?;

    let manifest = Manifest {
        format: FORMAT.to_owned(),
        id,
        name: name.to_owned(),
        created_at: now,
        candor_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema: db.schema_version().await?.latest,
        source_backend: db.backend().label().to_owned(),
        master_key_id: master_key_id.to_owned(),
        recipient: target.recipient.to_string(),
        rows: total,
        bytes,
        parts: entries,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|err| BackupError::Internal(err.to_string()))?;
    write_synced(&dir.join(MANIFEST), &json)?;
    sync_dir(dir)?;
    Ok(manifest)
}
