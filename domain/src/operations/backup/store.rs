//! The backup store on disk: its layout, listing backups, workplace keys and durable writes.

use std::{
    io,
    path::{Path, PathBuf},
};

use super::{FORMAT, MANIFEST};

use super::{error::BackupError, error::Result, keys::parse_identity, BackupInfo, Manifest};

/// Where backups go and the key they are encrypted to.
#[derive(Clone, Debug)]
pub struct BackupStore {
    root: PathBuf,
}

/// Writes `bytes` to `path` and syncs it, so a crash never leaves half a file named as whole.
pub(super) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path).map_err(|err| BackupError::write(path, err))?;
    file.write_all(bytes)
        .map_err(|err| BackupError::write(path, err))?;
    file.sync_all().map_err(|err| BackupError::write(path, err))
}

pub(super) fn sync_dir(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| BackupError::write(path, err))
}

pub(super) fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|err| BackupError::write(path, err))
}

impl BackupStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(super) fn backups(&self) -> PathBuf {
        self.root.join("backups")
    }

    pub(super) fn incoming(&self) -> PathBuf {
        self.root.join(".incoming")
    }

    pub(super) fn workplace_keys(&self, workplace: uuid::Uuid) -> PathBuf {
        self.root.join("keys").join(workplace.to_string())
    }

    pub(super) fn workplace_key(&self, workplace: uuid::Uuid, key: uuid::Uuid) -> PathBuf {
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

    pub(super) fn open_dir(dir: &Path) -> Result<BackupInfo> {
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
    pub(super) fn open_workplace_key(
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
