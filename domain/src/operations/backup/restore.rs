//! Restoring a backup into an empty (or replaced) database, checked before anything is written.

use std::{collections::BTreeMap, path::Path};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use super::segment::{SegmentReader, TableSummary};
use super::tables::{Part, TABLES};
use super::{segment, tables, MANIFEST};
use crate::{
    platform::security_events::{EventKind, SecurityEvent},
    Database,
};

use super::{
    error::BackupError, error::Result, store::BackupStore, BackupInfo, Manifest, PartEntry, Progress, Stage,
};

/// What a restore (or a drill) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreReport {
    pub backup: String,
    pub rows: u64,
    pub workplaces: usize,
    /// Workplaces deleted since the backup: their key was shredded, their part cannot be read.
    pub shredded: Vec<uuid::Uuid>,
    /// Per table: rows restored and checked.
    pub tables: BTreeMap<String, u64>,
}

/// What a restore needs besides the target database.
pub struct RestoreRequest<'a> {
    pub backup: &'a BackupInfo,
    pub identity: &'a age::x25519::Identity,
    /// The master key this Candor runs with; it must be the one the backup was made under.
    pub master_key_id: &'a str,
    /// Drop whatever the target holds first.
    pub replace: bool,
}

/// A part that can be read, with the key that opens it.
pub(super) struct Readable<'a> {
    entry: &'a PartEntry,
    identity: age::x25519::Identity,
    tables: Vec<TableSummary>,
}

/// Restores a backup into `target`. Everything is checked before the target is touched; the
/// rows go in within one transaction and are compared with the backup before it commits.
pub async fn restore(
    target: &Database,
    request: RestoreRequest<'_>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<RestoreReport> {
    let manifest = &request.backup.manifest;
    let store = BackupStore::of_backup(request.backup)
        .ok_or_else(|| BackupError::Config("a backup lives in <store>/backups/<name>".into()))?;
    if manifest.master_key_id != request.master_key_id {
        return Err(BackupError::OtherInstallation {
            backup: manifest.master_key_id.clone(),
            ours: request.master_key_id.to_owned(),
        });
    }
    if request.identity.to_public().to_string() != manifest.recipient {
        return Err(BackupError::WrongIdentity {
            file: request.backup.dir.display().to_string(),
        });
    }
    let ours = Database::latest_known_migration();
    if manifest.schema != ours {
        return Err(BackupError::SchemaMismatch {
            backup: manifest.schema.clone().unwrap_or_else(|| "none".into()),
            ours: ours.unwrap_or_else(|| "none".into()),
            version: manifest.candor_version.clone(),
        });
    }
    let (readable, shredded) = check_parts(request.backup, &store, request.identity, progress)?;

    let clear = prepare_target(target, request.replace).await?;
    let txn = target.begin_write().await?;
    if clear {
        clear_all(&txn).await?;
    }
    let mut report = RestoreReport {
        backup: manifest.name.clone(),
        rows: 0,
        workplaces: readable
            .iter()
            .filter(|part| part.entry.workplace.is_some())
            .count(),
        shredded,
        tables: BTreeMap::new(),
    };
    let total = readable
        .iter()
        .flat_map(|part| part.tables.iter())
        .map(|table| table.rows)
        .sum::<u64>();
    let mut done = 0u64;
    for part in &readable {
        let path = request.backup.dir.join(&part.entry.file);
        let mut reader = SegmentReader::open(&path, &part.identity)?;
        let mut table: Option<(String, Vec<Vec<u8>>)> = None;
        loop {
            match reader.next_item()? {
                segment::Item::Table { table: name, rows } => {
                    if let Some((previous, rows)) = table.take() {
                        done += rows.len() as u64;
                        tables::load(&txn, &previous, rows).await?;
                        progress(Progress {
                            stage: Stage::Restoring,
                            done,
                            total,
                        });
                    }
                    table = Some((name, Vec::with_capacity(usize::try_from(rows).unwrap_or(0))));
                }
                segment::Item::Row(bytes) => match table.as_mut() {
                    Some((_, rows)) => rows.push(bytes),
                    None => return Err(corrupt(&path, "a row outside any table")),
                },
                segment::Item::End(_) => break,
            }
        }
        if let Some((previous, rows)) = table.take() {
            done += rows.len() as u64;
            tables::load(&txn, &previous, rows).await?;
            progress(Progress {
                stage: Stage::Restoring,
                done,
                total,
            });
        }
    }

    // Read everything back and compare with what the backup says it holds.
    let mut compared = 0u64;
    for part in &readable {
        let which = part.entry.workplace.map_or(Part::Instance, Part::Workplace);
        for summary in &part.tables {
            let table = TABLES
                .iter()
                .find(|table| table.name == summary.table)
                .ok_or_else(|| BackupError::Mismatch(format!("unknown table {}", summary.table)))?;
            let filter = table
                .filter(which)
                .ok_or_else(|| BackupError::Mismatch(format!("{} in the wrong part", table.name)))?;
            let now_there = tables::digest(&txn, table.name, filter).await?;
            if &now_there != summary {
                return Err(BackupError::Mismatch(format!(
                    "{}: {} rows read back, {} in the backup",
                    table.name, now_there.rows, summary.rows
                )));
            }
            compared += summary.rows;
            *report.tables.entry(table.name.to_owned()).or_default() += summary.rows;
            progress(Progress {
                stage: Stage::Comparing,
                done: compared,
                total,
            });
        }
    }
    report.rows = compared;
    txn.commit().await?;
    Ok(report)
}

/// Records in the restored database that it came from `manifest` (kept apart from the restore
/// itself, which copies the backup exactly).
pub async fn record_restored(db: &Database, manifest: &Manifest, now: DateTime<Utc>) -> Result<()> {
    let event = SecurityEvent::new(EventKind::BackupRestored, now).about("backup", Some(manifest.id));
    crate::platform::security_events::store_and_log(db.connection(), &event).await?;
    Ok(())
}

pub(super) fn corrupt(path: &Path, reason: &str) -> BackupError {
    BackupError::Corrupt {
        file: path.display().to_string(),
        reason: reason.to_owned(),
    }
}

/// Checks every file of a backup against the manifest, then decrypts and reads every part to
/// its end, comparing each table with the part's closing summary. Touches no database.
pub(super) fn check_parts<'a>(
    backup: &'a BackupInfo,
    store: &BackupStore,
    operator: &age::x25519::Identity,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<(Vec<Readable<'a>>, Vec<uuid::Uuid>)> {
    let manifest = &backup.manifest;
    if manifest.parts.first().is_none_or(|part| part.workplace.is_some()) {
        return Err(corrupt(
            &backup.dir.join(MANIFEST),
            "the instance's part is missing",
        ));
    }
    for entry in &manifest.parts {
        let path = backup.dir.join(&entry.file);
        if entry.file.contains('/') || entry.file.contains("..") {
            return Err(corrupt(
                &backup.dir.join(MANIFEST),
                "a part names a file outside the backup",
            ));
        }
        let (bytes, sha256) = segment::file_checksum(&path)?;
        if bytes != entry.bytes {
            return Err(corrupt(
                &path,
                &format!("{bytes} bytes where the manifest says {}", entry.bytes),
            ));
        }
        if sha256 != entry.sha256 {
            return Err(corrupt(&path, "its checksum differs from the manifest's"));
        }
    }
    let mut readable = Vec::new();
    let mut shredded = Vec::new();
    let mut done = 0u64;
    for entry in &manifest.parts {
        let identity = match (entry.workplace, entry.key_id) {
            (None, _) => operator.clone(),
            (Some(workplace), Some(key)) => match store.open_workplace_key(workplace, key, operator)? {
                Some(identity) => identity,
                None => {
                    shredded.push(workplace);
                    continue;
                }
            },
            (Some(_), None) => {
                return Err(corrupt(&backup.dir.join(MANIFEST), "a workplace part has no key"))
            }
        };
        let path = backup.dir.join(&entry.file);
        let mut reader = SegmentReader::open(&path, &identity)?;
        if reader.header.backup_id != manifest.id || reader.header.workplace != entry.workplace {
            return Err(corrupt(&path, "it belongs to another backup or workplace"));
        }
        let mut seen: Vec<TableSummary> = Vec::new();
        let mut current: Option<(String, u64, segment::TableDigest)> = None;
        let close = |current: &mut Option<(String, u64, segment::TableDigest)>,
                     seen: &mut Vec<TableSummary>|
         -> Result<()> {
            if let Some((name, expected, digest)) = current.take() {
                let summary = digest.finish(&name);
                if summary.rows != expected {
                    return Err(corrupt(
                        &path,
                        &format!("{name} holds {} of {expected} rows", summary.rows),
                    ));
                }
                seen.push(summary);
            }
            Ok(())
        };
        let tables = loop {
            match reader.next_item()? {
                segment::Item::Table { table, rows } => {
                    close(&mut current, &mut seen)?;
                    if !TABLES.iter().any(|known| known.name == table) {
                        return Err(corrupt(&path, &format!("unknown table {table}")));
                    }
                    current = Some((table, rows, segment::TableDigest::default()));
                }
                segment::Item::Row(bytes) => match current.as_mut() {
                    Some((_, _, digest)) => {
                        digest.add(&bytes);
                        done += 1;
                        if done.is_multiple_of(10_000) {
                            progress(Progress {
                                stage: Stage::Checking,
                                done,
                                total: manifest.rows,
                            });
                        }
                    }
                    None => return Err(corrupt(&path, "a row outside any table")),
                },
                segment::Item::End(tables) => {
                    close(&mut current, &mut seen)?;
                    break tables;
                }
            }
        };
        if tables != seen {
            return Err(corrupt(&path, "its rows differ from its closing summary"));
        }
        readable.push(Readable {
            entry,
            identity,
            tables,
        });
    }
    progress(Progress {
        stage: Stage::Checking,
        done,
        total: manifest.rows,
    });
    Ok((readable, shredded))
}

/// Refuses a target holding data unless told to replace it, and brings its schema up to date.
/// Returns whether rows must be cleared (inside the restore's transaction, so a failed restore
/// leaves the replaced data as it was).
pub(super) async fn prepare_target(target: &Database, replace: bool) -> Result<bool> {
    let existing = target.schema_snapshot().await?;
    let mut rows = 0u64;
    let mut tables_with_rows = 0usize;
    if !existing.tables.is_empty() {
        let txn = target.begin_snapshot().await?;
        for table in TABLES
            .iter()
            .filter(|table| existing.tables.contains_key(table.name))
        {
            let n = tables::count(&txn, table.name, None).await?;
            if n > 0 {
                rows += n;
                tables_with_rows += 1;
            }
        }
        txn.rollback().await?;
    }
    if rows > 0 && !replace {
        return Err(BackupError::NotEmpty {
            rows,
            tables: tables_with_rows,
        });
    }
    target.migrate().await?;
    Ok(rows > 0)
}

/// Deletes every row, children before parents.
pub(super) async fn clear_all(txn: &DatabaseTransaction) -> Result<()> {
    for table in TABLES.iter().rev() {
        let statement = sea_orm::sea_query::Query::delete()
            .from_table(sea_orm::sea_query::Alias::new(table.name))
            .to_owned();
        txn.execute(&statement).await?;
    }
    Ok(())
}
