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

mod create;
mod drill;
mod error;
mod facts;
mod keys;
mod restore;
mod runs;
mod segment;
mod shred;
mod store;
mod tables;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use create::{backup_name, create, run_backup, BackupTarget};
pub use drill::{drill, run_drill, DrillReport};
pub use error::BackupError;
#[cfg(feature = "testing")]
pub use facts::rows_of_workplace;
pub use facts::{facts, fingerprint, table_names, BackupFacts};
pub use keys::{generate_identity, parse_recipient, read_identity, BackupRecipient};
pub use restore::{record_restored, restore, RestoreReport, RestoreRequest};
pub use runs::{prune, record, Run, RunKind};
pub(crate) use shred::request_shred;
pub use shred::shred_pending;
pub use store::BackupStore;
pub use tables::Owner;

const FORMAT: &str = "candor-backup/1";
const MANIFEST: &str = "manifest.json";
const INSTANCE_FILE: &str = "instance.age";

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
    /// Rows inserted into the target database.
    Restoring,
    /// Rows read back from the target and compared with the backup.
    Comparing,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Writing => "writing",
            Stage::Restoring => "restoring",
            Stage::Comparing => "comparing",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{io, path::Path};

    use super::{keys::parse_identity, *};

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
