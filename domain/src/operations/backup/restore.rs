//! Restoring a backup into an empty (or replaced) database, checked as it is read and compared
//! before it commits.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use super::segment::{SegmentReader, TableSummary};
use super::tables::{Part, TABLES};
use super::{segment, tables, MANIFEST};
use crate::{
    platform::security_events::{EventKind, SecurityEvent},
    Database,
};

use super::{error::BackupError, error::Result, store::BackupStore, BackupInfo, Manifest, Progress, Stage};

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
struct Readable {
    path: PathBuf,
    workplace: Option<uuid::Uuid>,
    identity: age::x25519::Identity,
}

/// What the reading thread hands the restore, in file order.
enum Read {
    /// The rows that follow belong to this table.
    Table(String),
    /// Rows of the current table, each already counted into the part's digests.
    Rows(Vec<Vec<u8>>),
    /// A part read to its end, every table's count and digest matching its closing summary.
    PartEnd {
        workplace: Option<uuid::Uuid>,
        tables: Vec<TableSummary>,
    },
}

/// Restores a backup into `target`. Every file's checksum is checked before the target is
/// touched. The parts are then decrypted and decoded once, on a thread of their own, while the
/// rows go into the target within one transaction: each table's count and digest is checked as it
/// is read, and every row is read back and compared before the transaction commits, so a damaged
/// or foreign backup leaves no row behind.
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
    let (readable, shredded) = open_parts(request.backup, &store, request.identity)?;

    let clear = prepare_target(target, request.replace).await?;
    let txn = target.begin_write().await?;
    if clear {
        clear_all(&txn).await?;
    }
    let mut report = RestoreReport {
        backup: manifest.name.clone(),
        rows: 0,
        workplaces: readable.iter().filter(|part| part.workplace.is_some()).count(),
        shredded,
        tables: BTreeMap::new(),
    };
    // Until every part is read: the manifest's count, which includes the parts of shredded
    // workplaces. (Per-part counts would end that sooner, but the manifest is not encrypted,
    // and exact row counts per workplace, compared from one backup to the next, would tell its
    // activity to anyone who can read the backup store.)
    let total = manifest.rows;

    let readable_parts = readable.len();
    let (send, mut received) = tokio::sync::mpsc::channel(segment::BATCHES_IN_FLIGHT);
    let backup_id = manifest.id;
    // Decrypting and decompressing is file and CPU work: it runs beside the inserts, never on
    // the async runtime's threads. If the restore stops early, the closed channel stops it too.
    let reading = tokio::task::spawn_blocking(move || {
        if let Err(err) = read_parts(&readable, backup_id, &send) {
            let _ = send.blocking_send(Err(err));
        }
    });
    let mut done = 0u64;
    let mut table: Option<String> = None;
    let mut whole_table: Vec<Vec<u8>> = Vec::new();
    let mut parts: Vec<(Option<uuid::Uuid>, Vec<TableSummary>)> = Vec::new();
    while let Some(read) = received.recv().await {
        match read? {
            Read::Table(name) => {
                load_whole_table(&txn, table.take(), &mut whole_table).await?;
                table = Some(name);
            }
            Read::Rows(rows) => {
                let name = table
                    .as_deref()
                    .ok_or_else(|| BackupError::Internal("rows before their table".into()))?;
                done += rows.len() as u64;
                if tables::loaded_whole(name) {
                    whole_table.extend(rows);
                } else {
                    tables::load(&txn, name, rows).await?;
                }
                progress(Progress {
                    stage: Stage::Restoring,
                    done,
                    total,
                });
            }
            Read::PartEnd { workplace, tables } => {
                load_whole_table(&txn, table.take(), &mut whole_table).await?;
                parts.push((workplace, tables));
            }
        }
    }
    reading
        .await
        .map_err(|err| BackupError::Internal(format!("the reading thread stopped: {err}")))?;
    if parts.len() != readable_parts {
        return Err(BackupError::Internal("a part was not read to its end".into()));
    }

    // What was loaded is the whole now: the line ends at 100 % with shredded parts left out.
    let total = done;
    progress(Progress {
        stage: Stage::Restoring,
        done,
        total,
    });

    // Read everything back and compare with what the backup says it holds.
    let mut compared = 0u64;
    for (workplace, summaries) in &parts {
        let which = workplace.map_or(Part::Instance, Part::Workplace);
        for summary in summaries {
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

/// Inserts the rows kept back for a table that goes in whole (see [`tables::loaded_whole`]).
async fn load_whole_table(
    txn: &DatabaseTransaction,
    table: Option<String>,
    rows: &mut Vec<Vec<u8>>,
) -> Result<()> {
    if let Some(name) = table.filter(|name| tables::loaded_whole(name)) {
        tables::load(txn, &name, std::mem::take(rows)).await?;
    }
    Ok(())
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

/// Checks every file of a backup against the manifest's size and checksum, and opens each
/// workplace's key. Returns the parts that can be read, instance first, and the workplaces whose
/// key was shredded. Touches no database.
fn open_parts(
    backup: &BackupInfo,
    store: &BackupStore,
    operator: &age::x25519::Identity,
) -> Result<(Vec<Readable>, Vec<uuid::Uuid>)> {
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
        readable.push(Readable {
            path: backup.dir.join(&entry.file),
            workplace: entry.workplace,
            identity,
        });
    }
    Ok((readable, shredded))
}

/// Decrypts and decodes every part in turn, handing its rows to `send` in batches and checking
/// each table against the part's closing summary as it goes. Stops quietly when the receiving
/// restore has stopped.
fn read_parts(
    parts: &[Readable],
    backup_id: uuid::Uuid,
    send: &tokio::sync::mpsc::Sender<Result<Read>>,
) -> Result<()> {
    let hand = |read: Read| send.blocking_send(Ok(read)).is_ok();
    for part in parts {
        let path = &part.path;
        let mut reader = SegmentReader::open(path, &part.identity)?;
        if reader.header.backup_id != backup_id || reader.header.workplace != part.workplace {
            return Err(corrupt(path, "it belongs to another backup or workplace"));
        }
        let mut seen: Vec<TableSummary> = Vec::new();
        let mut current: Option<(String, u64, segment::TableDigest)> = None;
        let mut batch = segment::RowBatch::default();
        // Hands over the rows gathered so far; false once the restore has stopped listening.
        let hand_batch =
            |batch: &mut segment::RowBatch| batch.take().is_none_or(|rows| hand(Read::Rows(rows)));
        let close = |current: &mut Option<(String, u64, segment::TableDigest)>,
                     seen: &mut Vec<TableSummary>|
         -> Result<()> {
            if let Some((name, expected, digest)) = current.take() {
                let summary = digest.finish(&name);
                if summary.rows != expected {
                    return Err(corrupt(
                        path,
                        &format!("{name} holds {} of {expected} rows", summary.rows),
                    ));
                }
                seen.push(summary);
            }
            Ok(())
        };
        loop {
            match reader.next_item()? {
                segment::Item::Table { table, rows } => {
                    if !hand_batch(&mut batch) {
                        return Ok(());
                    }
                    close(&mut current, &mut seen)?;
                    if !TABLES.iter().any(|known| known.name == table) {
                        return Err(corrupt(path, &format!("unknown table {table}")));
                    }
                    if !hand(Read::Table(table.clone())) {
                        return Ok(());
                    }
                    current = Some((table, rows, segment::TableDigest::default()));
                }
                segment::Item::Row(bytes) => {
                    let Some((_, _, digest)) = current.as_mut() else {
                        return Err(corrupt(path, "a row outside any table"));
                    };
                    digest.add(&bytes);
                    if batch.push(bytes) && !hand_batch(&mut batch) {
                        return Ok(());
                    }
                }
                segment::Item::End(tables) => {
                    close(&mut current, &mut seen)?;
                    if tables != seen {
                        return Err(corrupt(path, "its rows differ from its closing summary"));
                    }
                    if !hand_batch(&mut batch) {
                        return Ok(());
                    }
                    if !hand(Read::PartEnd {
                        workplace: part.workplace,
                        tables,
                    }) {
                        return Ok(());
                    }
                    break;
                }
            }
        }
    }
    Ok(())
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
