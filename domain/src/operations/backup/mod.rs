//! Encrypted backups, their retention, restores and restore drills.
//!
//! A backup is one consistent snapshot of the database, written as one file per part: the
//! instance's rows, and each workplace's rows (see `tables`). Every part is an age stream. The
//! instance's part is encrypted to the operator's backup key (`age1…`, the public half only is
//! configured on the server, so a compromised server cannot read old backups). Each workplace's
//! part is encrypted to a key of that workplace whose private half exists only in the backup
//! store, itself encrypted to the operator's key: deleting that one file when a workplace is
//! deleted makes its part of every older backup unreadable, even with the operator's key.
//!
//! A backup reads and a restore writes the whole database, every workplace at once, like
//! `pg_dump`: it works below the tenant scope on purpose, outside any workplace transaction (where
//! PostgreSQL's row-level policies let every row through), and never opens a sealed field.
//!
//! Store layout:
//! ```text
//! <store>/backups/<name>/manifest.json     what the backup holds, with a checksum per file
//! <store>/backups/<name>/instance.age
//! <store>/backups/<name>/<workplace>.age
//! <store>/keys/<workplace>/<key id>.age    the workplace's private key, encrypted to the operator
//! <store>/.incoming/<name>/                a backup being written; renamed when complete
//! ```

mod segment;
mod tables;

use std::{
    collections::{BTreeMap, HashMap},
    io,
    path::{Path, PathBuf},
    str::FromStr,
};

use age::secrecy::ExposeSecret;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::{
    platform::{
        entities::{backup_keys, backup_runs, backup_shreds, workplaces},
        security_events::{EventKind, SecurityEvent},
    },
    Database,
};
use segment::{SegmentHeader, SegmentReader, SegmentWriter, TableSummary};
use tables::{Part, TABLES};

pub use tables::Owner;

const FORMAT: &str = "candor-backup/1";
const MANIFEST: &str = "manifest.json";
const INSTANCE_FILE: &str = "instance.age";

/// Why a backup, restore or drill did not happen. Every message is safe to print and says what
/// to do; none carries data from the database.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Config(String),
    #[error(
        "the disk holding {path} is full; the backup was abandoned and the last good backup is untouched"
    )]
    DiskFull { path: String },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("{file} is damaged: {reason}; nothing was restored")]
    Corrupt { file: String, reason: String },
    #[error("the private key does not open {file}: this backup was encrypted to another backup key")]
    WrongIdentity { file: String },
    #[error(
        "this backup was made by another Candor installation (master key {backup}); this one uses master key \
         {ours}. Restore it with the master key it was made under"
    )]
    OtherInstallation { backup: String, ours: String },
    #[error(
        "the backup's schema ends at migration {backup}; this Candor's ends at {ours}. Restore with Candor \
         {version} (which made it), then upgrade"
    )]
    SchemaMismatch {
        backup: String,
        ours: String,
        version: String,
    },
    #[error(
        "the target database is not empty ({rows} rows in {tables} tables); pass --replace to overwrite it"
    )]
    NotEmpty { rows: u64, tables: usize },
    #[error("no backup found in {0}")]
    NoBackup(String),
    #[error("{0}")]
    DrillOverdue(String),
    #[error("the restored data does not match the backup: {0}; nothing was restored")]
    Mismatch(String),
    #[error("database: {}", .0.public_message())]
    Database(crate::Error),
    #[error("{0}")]
    Internal(String),
}

impl BackupError {
    /// A stable code for logs, run records and alerts.
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::Config(_) => "backup.config",
            BackupError::DiskFull { .. } => "backup.disk_full",
            BackupError::Write { .. } => "backup.write_failed",
            BackupError::Read { .. } => "backup.read_failed",
            BackupError::Corrupt { .. } => "backup.corrupt",
            BackupError::WrongIdentity { .. } => "backup.wrong_key",
            BackupError::OtherInstallation { .. } => "backup.other_installation",
            BackupError::SchemaMismatch { .. } => "backup.schema_mismatch",
            BackupError::NotEmpty { .. } => "backup.target_not_empty",
            BackupError::NoBackup(_) => "backup.none",
            BackupError::DrillOverdue(_) => "backup.drill_overdue",
            BackupError::Mismatch(_) => "backup.mismatch",
            BackupError::Database(_) => "backup.database",
            BackupError::Internal(_) => "backup.internal",
        }
    }

    pub(crate) fn write(path: &Path, source: io::Error) -> Self {
        let path = path.display().to_string();
        // ENOSPC and EDQUOT: out of space, whatever the platform calls it.
        if source.kind() == io::ErrorKind::StorageFull
            || source.kind() == io::ErrorKind::QuotaExceeded
            || matches!(source.raw_os_error(), Some(28 | 122))
        {
            BackupError::DiskFull { path }
        } else {
            BackupError::Write { path, source }
        }
    }

    pub(crate) fn read(path: &Path, source: io::Error) -> Self {
        BackupError::Read {
            path: path.display().to_string(),
            source,
        }
    }

    /// A write error from inside a segment, where the path is not at hand.
    pub(crate) fn segment_write(source: io::Error) -> Self {
        Self::write(Path::new("the backup store"), source)
    }
}

impl From<crate::Error> for BackupError {
    fn from(err: crate::Error) -> Self {
        BackupError::Database(err)
    }
}

impl From<sea_orm::DbErr> for BackupError {
    fn from(err: sea_orm::DbErr) -> Self {
        BackupError::Database(err.into())
    }
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

/// What a backup holds, stored beside its files in plain JSON. Row counts per table are inside
/// the encrypted parts only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub id: uuid::Uuid,
    /// The directory name: the time it was taken, `20261202T010000Z`.
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub candor_version: String,
    pub schema: Option<String>,
    pub source_backend: String,
    /// The master key the data keys inside are wrapped with: the installation it belongs to.
    pub master_key_id: String,
    /// The operator's backup key the instance's part and the workplace keys are encrypted to.
    pub recipient: String,
    pub rows: u64,
    pub bytes: u64,
    pub parts: Vec<PartEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartEntry {
    pub file: String,
    /// None: the instance's part.
    pub workplace: Option<uuid::Uuid>,
    /// The workplace key it is encrypted to.
    pub key_id: Option<uuid::Uuid>,
    pub bytes: u64,
    pub sha256: String,
}

/// A backup found in the store.
#[derive(Clone, Debug)]
pub struct BackupInfo {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// Where backups go and the key they are encrypted to.
#[derive(Clone, Debug)]
pub struct BackupStore {
    root: PathBuf,
}

/// How far a long operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub done: u64,
    pub total: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Rows written into the backup.
    Writing,
    /// Rows decrypted and checked before anything is restored.
    Checking,
    /// Rows inserted into the target database.
    Restoring,
    /// Rows read back from the target and compared with the backup.
    Comparing,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Writing => "writing",
            Stage::Checking => "checking",
            Stage::Restoring => "restoring",
            Stage::Comparing => "comparing",
        }
    }
}

/// Reads an age identity file (`AGE-SECRET-KEY-1…` lines; `#` comments ignored).
pub fn read_identity(path: &Path) -> Result<age::x25519::Identity> {
    let text = std::fs::read_to_string(path).map_err(|err| BackupError::read(path, err))?;
    parse_identity(&text).ok_or_else(|| {
        BackupError::Config(format!(
            "{} holds no age private key (a line starting AGE-SECRET-KEY-1)",
            path.display()
        ))
    })
}

fn parse_identity(text: &str) -> Option<age::x25519::Identity> {
    text.lines()
        .map(str::trim)
        .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
        .and_then(|line| age::x25519::Identity::from_str(line).ok())
}

/// Parses the operator's public backup key.
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    age::x25519::Recipient::from_str(text.trim())
        .map_err(|_| BackupError::Config("the backup key must be an age public key (age1…)".into()))
}

/// A new operator key pair: (private key file text, public key).
pub fn generate_identity(now: DateTime<Utc>) -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let text = format!(
        "# Candor backup key, created {}\n# public key: {public}\n{}\n",
        now.format("%Y-%m-%d %H:%M UTC"),
        identity.to_string().expose_secret()
    );
    (text, public)
}

fn encrypt_to(recipient: &age::x25519::Recipient, plaintext: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|err| BackupError::Internal(format!("cannot set up encryption: {err}")))?;
    let mut out = Vec::new();
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|err| BackupError::Internal(err.to_string()))?;
    writer
        .write_all(plaintext)
        .map_err(|err| BackupError::Internal(err.to_string()))?;
    writer
        .finish()
        .map_err(|err| BackupError::Internal(err.to_string()))?;
    Ok(out)
}

/// Writes `bytes` to `path` and syncs it, so a crash never leaves half a file named as whole.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path).map_err(|err| BackupError::write(path, err))?;
    file.write_all(bytes)
        .map_err(|err| BackupError::write(path, err))?;
    file.sync_all().map_err(|err| BackupError::write(path, err))
}

fn sync_dir(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| BackupError::write(path, err))
}

fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|err| BackupError::write(path, err))
}

impl BackupStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn backups(&self) -> PathBuf {
        self.root.join("backups")
    }

    fn incoming(&self) -> PathBuf {
        self.root.join(".incoming")
    }

    fn workplace_keys(&self, workplace: uuid::Uuid) -> PathBuf {
        self.root.join("keys").join(workplace.to_string())
    }

    fn workplace_key(&self, workplace: uuid::Uuid, key: uuid::Uuid) -> PathBuf {
        self.workplace_keys(workplace).join(format!("{key}.age"))
    }

    /// Every complete backup, oldest first. A directory without a readable manifest is skipped
    /// (it is not a backup Candor finished).
    pub fn list(&self) -> Result<Vec<BackupInfo>> {
        let dir = self.backups();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(BackupError::read(&dir, err)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|err| BackupError::read(&dir, err))?;
            if let Ok(info) = Self::open_dir(&entry.path()) {
                found.push(info);
            }
        }
        found.sort_by_key(|info| info.manifest.created_at);
        Ok(found)
    }

    fn open_dir(dir: &Path) -> Result<BackupInfo> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read(&path).map_err(|err| BackupError::read(&path, err))?;
        let manifest: Manifest = serde_json::from_slice(&text).map_err(|err| BackupError::Corrupt {
            file: path.display().to_string(),
            reason: format!("the manifest does not parse ({err})"),
        })?;
        if manifest.format != FORMAT {
            return Err(BackupError::Corrupt {
                file: path.display().to_string(),
                reason: format!("format {} is not {FORMAT}", manifest.format),
            });
        }
        Ok(BackupInfo {
            dir: dir.to_owned(),
            manifest,
        })
    }

    /// A backup by name (`20261202T010000Z`), `latest`, or the path of its directory.
    pub fn find(&self, which: &str) -> Result<BackupInfo> {
        if which == "latest" {
            return self
                .list()?
                .pop()
                .ok_or_else(|| BackupError::NoBackup(self.root.display().to_string()));
        }
        let as_path = Path::new(which);
        let dir = if as_path.is_dir() {
            as_path.to_owned()
        } else {
            self.backups().join(which)
        };
        if !dir.join(MANIFEST).exists() {
            return Err(BackupError::NoBackup(dir.display().to_string()));
        }
        Self::open_dir(&dir)
    }

    /// The store a backup directory lives in (`<store>/backups/<name>`).
    pub fn of_backup(backup: &BackupInfo) -> Option<Self> {
        backup.dir.parent()?.parent().map(Self::new)
    }

    /// Opens a workplace's private backup key with the operator's; None when it was shredded.
    fn open_workplace_key(
        &self,
        workplace: uuid::Uuid,
        key: uuid::Uuid,
        operator: &age::x25519::Identity,
    ) -> Result<Option<age::x25519::Identity>> {
        use std::io::Read;
        let path = self.workplace_key(workplace, key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(BackupError::read(&path, err)),
        };
        let file = path.display().to_string();
        let decryptor = age::Decryptor::new(&bytes[..]).map_err(|err| BackupError::Corrupt {
            file: file.clone(),
            reason: err.to_string(),
        })?;
        let mut reader = decryptor
            .decrypt(std::iter::once(operator as &dyn age::Identity))
            .map_err(|err| match err {
                age::DecryptError::NoMatchingKeys => BackupError::WrongIdentity { file: file.clone() },
                other => BackupError::Corrupt {
                    file: file.clone(),
                    reason: other.to_string(),
                },
            })?;
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|err| BackupError::Corrupt {
                file: file.clone(),
                reason: err.to_string(),
            })?;
        let identity = parse_identity(&text).ok_or(BackupError::Corrupt {
            file,
            reason: "holds no key".into(),
        })?;
        Ok(Some(identity))
    }
}

/// What the scheduler and `candor backup` need: the store and the operator's public key.
#[derive(Clone, Debug)]
pub struct BackupTarget {
    pub store: BackupStore,
    pub recipient: age::x25519::Recipient,
}

/// Makes sure every workplace has a backup key whose private half is in the store; returns the
/// key id and public key per workplace.
async fn workplace_recipients(
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

async fn workplace_ids(conn: &impl ConnectionTrait) -> Result<Vec<uuid::Uuid>> {
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

/// [`drill`], then its outcome recorded in `live` (the database whose backups are drilled).
pub async fn run_drill(
    live: &Database,
    store: &BackupStore,
    identity: &age::x25519::Identity,
    scratch_url: Option<&str>,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<DrillReport> {
    let master_key_id = live.keyring()?.master_key_id();
    let result = drill(store, identity, &master_key_id, scratch_url, progress).await;
    let latest = store.find("latest").ok();
    let seconds = result.as_ref().map_or(0.0, |report| report.seconds);
    let recorded = record(
        live,
        Run {
            kind: RunKind::Drill,
            backup: latest.as_ref().map(|info| &info.manifest),
            started_at: now,
            finished_at: now + Duration::milliseconds((seconds * 1000.0) as i64),
            failure: result.as_ref().err(),
            rows: result.as_ref().map_or(0, |report| report.restore.rows),
        },
    )
    .await;
    if let Err(err) = recorded {
        tracing::error!(code = err.code(), error = %err, "a restore drill could not be recorded");
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn write_parts(
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
        let mut writer = SegmentWriter::create(
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
        let written = writer.finish(&path)?;
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
struct Readable<'a> {
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

fn corrupt(path: &Path, reason: &str) -> BackupError {
    BackupError::Corrupt {
        file: path.display().to_string(),
        reason: reason.to_owned(),
    }
}

/// Checks every file of a backup against the manifest, then decrypts and reads every part to
/// its end, comparing each table with the part's closing summary. Touches no database.
fn check_parts<'a>(
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
async fn prepare_target(target: &Database, replace: bool) -> Result<bool> {
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
async fn clear_all(txn: &DatabaseTransaction) -> Result<()> {
    for table in TABLES.iter().rev() {
        let statement = sea_orm::sea_query::Query::delete()
            .from_table(sea_orm::sea_query::Alias::new(table.name))
            .to_owned();
        txn.execute(&statement).await?;
    }
    Ok(())
}

/// What [`drill`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct DrillReport {
    pub restore: RestoreReport,
    pub seconds: f64,
}

/// Restores the newest backup into a scratch database (a temporary SQLite file unless
/// `scratch_url` names one, which is replaced) and checks every row against the backup.
pub async fn drill(
    store: &BackupStore,
    identity: &age::x25519::Identity,
    master_key_id: &str,
    scratch_url: Option<&str>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<DrillReport> {
    let started = std::time::Instant::now();
    let backup = store.find("latest")?;
    let scratch_dir =
        tempfile::tempdir().map_err(|err| BackupError::write(Path::new("a temporary directory"), err))?;
    let url = match scratch_url {
        Some(url) => url.to_owned(),
        None => format!(
            "sqlite://{}?mode=rwc",
            scratch_dir.path().join("drill.db").display()
        ),
    };
    let scratch = Database::connect(&url).await?;
    let report = restore(
        &scratch,
        RestoreRequest {
            backup: &backup,
            identity,
            master_key_id,
            replace: true,
        },
        progress,
    )
    .await;
    let _ = scratch.close().await;
    Ok(DrillReport {
        restore: report?,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Kinds of recorded runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    Backup,
    Prune,
    Drill,
}

impl RunKind {
    fn code(self) -> &'static str {
        match self {
            RunKind::Backup => "backup",
            RunKind::Prune => "prune",
            RunKind::Drill => "drill",
        }
    }
}

/// One finished run, for the record.
pub struct Run<'a> {
    pub kind: RunKind,
    pub backup: Option<&'a Manifest>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub failure: Option<&'a BackupError>,
    pub rows: u64,
}

/// Stores a run and its security event (in the instance's audit chain) in one transaction.
pub async fn record(db: &Database, run: Run<'_>) -> Result<()> {
    let kind = match (run.kind, run.failure.is_some()) {
        (RunKind::Backup, false) => EventKind::BackupCreated,
        (RunKind::Backup, true) => EventKind::BackupFailed,
        (RunKind::Drill, false) => EventKind::RestoreDrillPassed,
        (RunKind::Drill, true) => EventKind::RestoreDrillFailed,
        (RunKind::Prune, _) => EventKind::BackupDeleted,
    };
    let txn = db.begin_write().await?;
    insert_run(&txn, &run).await?;
    let event = SecurityEvent::new(kind, run.finished_at).about(
        run.failure.map_or("backup", |err| err.code()),
        run.backup.map(|manifest| manifest.id),
    );
    crate::platform::security_events::store_and_log(&txn, &event).await?;
    txn.commit().await?;
    Ok(())
}

async fn insert_run(txn: &DatabaseTransaction, run: &Run<'_>) -> Result<()> {
    backup_runs::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(run.kind.code().to_owned()),
        backup_id: Set(run.backup.map(|manifest| manifest.name.clone())),
        started_at: Set(run.started_at),
        finished_at: Set(run.finished_at),
        outcome: Set(if run.failure.is_some() { "failed" } else { "ok" }.to_owned()),
        detail: Set(run.failure.map(|err| err.code().to_owned())),
        bytes: Set(run
            .backup
            .map_or(0, |manifest| i64::try_from(manifest.bytes).unwrap_or(i64::MAX))),
        rows: Set(i64::try_from(run.rows).unwrap_or(i64::MAX)),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Deletes backups older than `retention`, always keeping the newest one (a stopped schedule
/// must not end with no backup at all), and clears what interrupted runs left in `.incoming`.
/// Each deletion is recorded. Returns the names deleted.
pub async fn prune(
    db: &Database,
    store: &BackupStore,
    retention: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut backups = store.list()?;
    backups.pop();
    let cutoff = now - retention;
    let mut deleted = Vec::new();
    for backup in backups
        .iter()
        .filter(|backup| backup.manifest.created_at < cutoff)
    {
        std::fs::remove_dir_all(&backup.dir).map_err(|err| BackupError::write(&backup.dir, err))?;
        record(
            db,
            Run {
                kind: RunKind::Prune,
                backup: Some(&backup.manifest),
                started_at: now,
                finished_at: now,
                failure: None,
                rows: backup.manifest.rows,
            },
        )
        .await?;
        deleted.push(backup.manifest.name.clone());
    }
    if let Ok(entries) = std::fs::read_dir(store.incoming()) {
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(24 * 3600));
            if stale {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(deleted)
}

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

/// The latest runs, for the Security page and the operator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BackupFacts {
    pub last_backup_at: Option<DateTime<Utc>>,
    pub last_backup_bytes: Option<u64>,
    pub last_backup_failed_at: Option<DateTime<Utc>>,
    pub last_drill_passed_at: Option<DateTime<Utc>>,
    pub last_drill_failed_at: Option<DateTime<Utc>>,
}

/// Rows and digest of every table of `db`, whole: two databases with equal fingerprints hold
/// the same rows.
pub async fn fingerprint(db: &Database) -> Result<BTreeMap<String, (u64, String)>> {
    let txn = db.begin_snapshot().await?;
    let mut out = BTreeMap::new();
    for table in TABLES {
        let summary = tables::digest(&txn, table.name, sea_orm::Condition::all()).await?;
        out.insert(
            table.name.to_owned(),
            (summary.rows, crate::platform::text::hex(&summary.digest)),
        );
    }
    txn.rollback().await?;
    Ok(out)
}

/// The names of every table a backup covers.
pub fn table_names() -> Vec<&'static str> {
    TABLES.iter().map(|table| table.name).collect()
}

pub async fn facts(db: &Database) -> Result<BackupFacts> {
    let latest = |kind: RunKind, outcome: &'static str| {
        backup_runs::Entity::find()
            .filter(backup_runs::Column::Kind.eq(kind.code()))
            .filter(backup_runs::Column::Outcome.eq(outcome))
            .order_by_desc(backup_runs::Column::FinishedAt)
            .one(db.connection())
    };
    let backup = latest(RunKind::Backup, "ok").await?;
    Ok(BackupFacts {
        last_backup_at: backup.as_ref().map(|run| run.finished_at),
        last_backup_bytes: backup.map(|run| u64::try_from(run.bytes).unwrap_or(0)),
        last_backup_failed_at: latest(RunKind::Backup, "failed")
            .await?
            .map(|run| run.finished_at),
        last_drill_passed_at: latest(RunKind::Drill, "ok").await?.map(|run| run.finished_at),
        last_drill_failed_at: latest(RunKind::Drill, "failed").await?.map(|run| run.finished_at),
    })
}

/// Every table that still holds rows of `workplace` (by its id, or its people's), with the count:
/// empty once a workplace is fully deleted.
#[cfg(feature = "testing")]
pub async fn rows_of_workplace(db: &Database, workplace: uuid::Uuid) -> Result<Vec<(&'static str, u64)>> {
    let txn = db.begin_snapshot().await?;
    let mut out = Vec::new();
    for table in TABLES {
        if let Some(filter) = table.filter(Part::Workplace(workplace)) {
            let rows = tables::count(&txn, table.name, Some(filter)).await?;
            if rows > 0 {
                out.push((table.name, rows));
            }
        }
    }
    txn.rollback().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_files_round_trip_and_comments_are_ignored() {
        let (text, public) = generate_identity(Utc::now());
        let identity = parse_identity(&text).unwrap();
        assert_eq!(identity.to_public().to_string(), public);
        assert!(parse_identity("# nothing here\n").is_none());
        assert!(parse_recipient("age1nope").is_err());
        assert!(parse_recipient(&public).is_ok());
    }

    #[test]
    fn names_sort_as_times() {
        let a = backup_name(
            DateTime::parse_from_rfc3339("2026-12-02T01:00:00Z")
                .unwrap()
                .into(),
        );
        let b = backup_name(
            DateTime::parse_from_rfc3339("2026-12-10T00:00:00Z")
                .unwrap()
                .into(),
        );
        assert_eq!(a, "20261202T010000Z");
        assert!(a < b);
    }

    #[test]
    fn out_of_space_is_reported_as_a_full_disk() {
        let err = BackupError::write(Path::new("/x"), io::Error::from_raw_os_error(28));
        assert_eq!(err.code(), "backup.disk_full");
        let err = BackupError::write(Path::new("/x"), io::Error::from_raw_os_error(13));
        assert_eq!(err.code(), "backup.write_failed");
    }
}
