//! Why a backup, restore or drill did not happen, as the operator reads it.

use std::{io, path::Path};

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

pub(super) type Result<T, E = BackupError> = std::result::Result<T, E>;
