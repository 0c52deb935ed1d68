//! The keyring: the master key from configuration, checked against the database at start; one
//! random data key per workplace, stored only wrapped by the master key and versioned; and the
//! instance's blind-index key for email lookups, also stored wrapped.
//!
//! Deleting a workplace deletes its data keys with it: whatever was sealed under them, in the
//! database or in any copy of it, can no longer be opened with any key Candor holds.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, RwLock},
};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{
    field::{DataKey, FieldPlace, OpenError},
    master_key::{MasterKey, KEY_BYTES},
};
use crate::{
    platform::{
        entities::{data_keys, instance_keys, master_keys},
        ids::WorkplaceId,
        security_events::{EventKind, SecurityEvent, SecurityEvents},
    },
    Error, Result,
};

const EMAIL_INDEX: &str = "email_index";
/// Seals mail while it waits in the queue (the instance's, not a workplace's: operator mail and
/// a deleted workplace's certificate have no workplace key to use).
const MAIL: &str = "mail";
/// Where queued mail is sealed: bound to its queue row.
const MAIL_TABLE: &str = "mail_queue";
const MAIL_COLUMN: &str = "message";

/// Why the keyring cannot be opened at start. Each message says what to check.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(
        "the configured master key (id {given}) is not the one this database was written with \
         (id {expected}); start with the right CANDOR_MASTER_KEY or CANDOR_MASTER_KEY_FILE"
    )]
    WrongMasterKey { given: String, expected: String },
    #[error("the stored {0} cannot be opened with the master key: it is corrupted")]
    Corrupted(&'static str),
    #[error(transparent)]
    Database(#[from] Error),
}

impl From<sea_orm::DbErr> for KeyringError {
    fn from(err: sea_orm::DbErr) -> Self {
        KeyringError::Database(err.into())
    }
}

/// A workplace's data keys, every version it has.
#[derive(Debug)]
pub struct TenantKeys {
    workplace: WorkplaceId,
    keys: BTreeMap<u32, DataKey>,
    /// Where a field that does not open is reported.
    events: SecurityEvents,
}

impl TenantKeys {
    /// The key new values are sealed with.
    fn current(&self) -> Result<&DataKey> {
        self.keys
            .values()
            .next_back()
            .ok_or_else(|| Error::Internal(format!("workplace {} has no data key", self.workplace)))
    }

    pub fn current_version(&self) -> Option<u32> {
        self.keys.keys().next_back().copied()
    }

    fn place<'a>(&self, table: &'a str, column: &'a str, row: uuid::Uuid) -> FieldPlace<'a> {
        FieldPlace {
            workplace: self.workplace.uuid(),
            table,
            column,
            row,
        }
    }

    /// Seals a value of `table.column` in `row` with the current key.
    pub fn seal(&self, table: &str, column: &str, row: uuid::Uuid, plaintext: &[u8]) -> Result<Vec<u8>> {
        Ok(self.current()?.seal(self.place(table, column, row), plaintext))
    }

    /// Opens a value of `table.column` in `row`, with whichever key version sealed it.
    pub fn open(
        &self,
        table: &str,
        column: &str,
        row: uuid::Uuid,
        sealed: &[u8],
    ) -> std::result::Result<Vec<u8>, OpenError> {
        let opened = super::field::key_version(sealed).and_then(|version| {
            self.keys
                .get(&version)
                .ok_or(OpenError::MissingKeyVersion(version))?
                .open(self.place(table, column, row), sealed)
        });
        if opened.is_err() {
            self.events.record(
                SecurityEvent::new(EventKind::FieldOpenFailed, Utc::now())
                    .in_workplace(self.workplace)
                    .about(format!("{table}.{column}"), Some(row)),
            );
        }
        opened
    }
}

impl TenantKeys {
    /// Opens a sealed text value as a [`super::Personal`]; a value that does not open (already
    /// recorded as a security event by [`TenantKeys::open`]) or is not text is an internal error
    /// naming the field, never its content.
    pub(crate) fn open_text(
        &self,
        table: &str,
        column: &str,
        row: uuid::Uuid,
        sealed: &[u8],
    ) -> Result<super::Personal> {
        let bytes = self
            .open(table, column, row, sealed)
            .map_err(|err| Error::Internal(format!("{table}.{column} of {row}: {err}")))?;
        String::from_utf8(bytes)
            .map(super::Personal::new)
            .map_err(|_| Error::Internal(format!("{table}.{column} of {row} is not text")))
    }
}

/// What [`Keyring::rotate_master`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterRotation {
    pub retired: String,
    pub new: String,
    pub data_keys: u64,
}

/// The unlocked keys of a running instance.
pub struct Keyring {
    master: MasterKey,
    email_index: Zeroizing<[u8; KEY_BYTES]>,
    mail: DataKey,
    /// Unwrapped data keys by workplace, loaded on first use.
    tenants: RwLock<HashMap<WorkplaceId, Arc<TenantKeys>>>,
    events: SecurityEvents,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("master", &self.master)
            .finish_non_exhaustive()
    }
}

fn mail_place(row: uuid::Uuid) -> FieldPlace<'static> {
    FieldPlace {
        workplace: uuid::Uuid::nil(),
        table: MAIL_TABLE,
        column: MAIL_COLUMN,
        row,
    }
}

fn data_key_context(workplace: WorkplaceId, version: u32) -> Vec<u8> {
    format!("candor/data-key/{workplace}/{version}").into_bytes()
}

/// Stores the refusal of a master key; the start-up error that follows says what to check.
async fn reject_master_key(conn: &impl ConnectionTrait, now: DateTime<Utc>) {
    let event = SecurityEvent::new(EventKind::MasterKeyRejected, now);
    if let Err(err) = crate::platform::security_events::store_and_log(conn, &event).await {
        tracing::error!(error = %err, "the refused master key could not be recorded");
    }
}

fn instance_key_context(purpose: &str) -> Vec<u8> {
    format!("candor/instance-key/{purpose}").into_bytes()
}

/// Opens the instance key for `purpose`, creating (and storing wrapped) a fresh one on first use.
async fn instance_key(
    conn: &impl ConnectionTrait,
    master: &MasterKey,
    purpose: &str,
    name: &'static str,
    now: DateTime<Utc>,
) -> std::result::Result<Zeroizing<[u8; KEY_BYTES]>, KeyringError> {
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    match instance_keys::Entity::find_by_id(purpose.to_owned())
        .one(conn)
        .await?
    {
        Some(row) => {
            let opened = master
                .unwrap(&row.wrapped, &instance_key_context(purpose))
                .ok_or(KeyringError::Corrupted(name))?;
            if opened.len() != KEY_BYTES {
                return Err(KeyringError::Corrupted(name));
            }
            key.copy_from_slice(&opened);
        }
        None => {
            // Two processes starting at once may both get here: one row wins, and both use it.
            let fresh = DataKey::generate(0);
            instance_keys::Entity::insert(instance_keys::ActiveModel {
                purpose: Set(purpose.to_owned()),
                wrapped: Set(master.wrap(fresh.bytes(), &instance_key_context(purpose))),
                master_key_id: Set(master.id()),
                created_at: Set(now),
            })
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(instance_keys::Column::Purpose)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
            let stored = instance_keys::Entity::find_by_id(purpose.to_owned())
                .one(conn)
                .await?
                .ok_or(KeyringError::Corrupted(name))?;
            let opened = master
                .unwrap(&stored.wrapped, &instance_key_context(purpose))
                .ok_or(KeyringError::Corrupted(name))?;
            if opened.len() != KEY_BYTES {
                return Err(KeyringError::Corrupted(name));
            }
            key.copy_from_slice(&opened);
        }
    }
    Ok(key)
}

impl Keyring {
    /// Checks `master` against the database and opens the instance keys; on a new database,
    /// records the key's check value and creates the index key.
    pub(crate) async fn unlock(
        conn: &impl ConnectionTrait,
        master: MasterKey,
        events: SecurityEvents,
        now: DateTime<Utc>,
    ) -> std::result::Result<Self, KeyringError> {
        let known = master_keys::Entity::find()
            .filter(master_keys::Column::RetiredAt.is_null())
            .all(conn)
            .await?;
        match known.iter().find(|row| row.id == master.id()) {
            Some(row) if bool::from(row.check_value.as_slice().ct_eq(&master.check_value())) => {}
            // Same id, different check value: the stored record was altered.
            Some(_) => {
                reject_master_key(conn, now).await;
                return Err(KeyringError::Corrupted("master key record"));
            }
            None if known.is_empty() => {
                master_keys::ActiveModel {
                    id: Set(master.id()),
                    check_value: Set(master.check_value()),
                    created_at: Set(now),
                    retired_at: Set(None),
                }
                .insert(conn)
                .await?;
            }
            None => {
                reject_master_key(conn, now).await;
                return Err(KeyringError::WrongMasterKey {
                    given: master.id(),
                    expected: known
                        .iter()
                        .map(|row| row.id.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        let email_index = instance_key(conn, &master, EMAIL_INDEX, "email index key", now).await?;
        let mail = instance_key(conn, &master, MAIL, "mail key", now).await?;
        Ok(Self {
            master,
            email_index,
            mail: DataKey::from_bytes(0, mail.as_ref()).ok_or(KeyringError::Corrupted("mail key"))?,
            tenants: RwLock::new(HashMap::new()),
            events,
        })
    }

    pub fn master_key_id(&self) -> String {
        self.master.id()
    }

    /// Wraps every stored key again under `new`, records `new` and retires the master key in
    /// use, in one transaction. Every Candor process must then restart with `new`.
    pub async fn rotate_master(
        &self,
        db: &crate::Database,
        new: &MasterKey,
        now: DateTime<Utc>,
    ) -> Result<MasterRotation> {
        use sea_orm::TransactionTrait;
        if new.id() == self.master.id() {
            return Err(Error::Invalid {
                field: "new master key",
                reason: "is the master key already in use".into(),
            });
        }
        let txn = db.connection().begin().await?;
        let mut data_key_count = 0u64;
        for row in data_keys::Entity::find().all(&txn).await? {
            let workplace = WorkplaceId::from_uuid(row.workplace_id);
            let version = u32::try_from(row.version)
                .map_err(|_| Error::Internal(format!("data key {} has a negative version", row.id)))?;
            let context = data_key_context(workplace, version);
            let opened = self.master.unwrap(&row.wrapped, &context).ok_or_else(|| {
                Error::Internal(format!("data key {} does not open with the master key", row.id))
            })?;
            let mut changed: data_keys::ActiveModel = row.into();
            changed.wrapped = Set(new.wrap(&opened, &context));
            changed.master_key_id = Set(new.id());
            changed.update(&txn).await?;
            data_key_count += 1;
        }
        for row in instance_keys::Entity::find().all(&txn).await? {
            let context = instance_key_context(&row.purpose);
            let opened = self
                .master
                .unwrap(&row.wrapped, &context)
                .ok_or_else(|| Error::Internal(format!("instance key {} does not open", row.purpose)))?;
            let mut changed: instance_keys::ActiveModel = row.into();
            changed.wrapped = Set(new.wrap(&opened, &context));
            changed.master_key_id = Set(new.id());
            changed.update(&txn).await?;
        }
        master_keys::Entity::update_many()
            .col_expr(
                master_keys::Column::RetiredAt,
                sea_orm::sea_query::Expr::value(Some(now)),
            )
            .filter(master_keys::Column::RetiredAt.is_null())
            .exec(&txn)
            .await?;
        master_keys::ActiveModel {
            id: Set(new.id()),
            check_value: Set(new.check_value()),
            created_at: Set(now),
            retired_at: Set(None),
        }
        .insert(&txn)
        .await?;
        crate::platform::security_events::store_and_log(
            &txn,
            &SecurityEvent::new(EventKind::MasterKeyRotated, now),
        )
        .await?;
        txn.commit().await?;
        Ok(MasterRotation {
            retired: self.master.id(),
            new: new.id(),
            data_keys: data_key_count,
        })
    }

    /// The blind index of a normalised email address: equal addresses give equal indexes, and
    /// without the index key nothing can be learnt from one.
    pub fn email_index(&self, normalised_email: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.email_index.as_ref())
            .unwrap_or_else(|_| unreachable!());
        mac.update(normalised_email.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Seals a queued email (row `id` of the mail queue).
    pub(crate) fn seal_mail(&self, id: uuid::Uuid, plaintext: &[u8]) -> Vec<u8> {
        self.mail.seal(mail_place(id), plaintext)
    }

    /// Opens a queued email sealed by [`Keyring::seal_mail`] for the same row.
    pub(crate) fn open_mail(&self, id: uuid::Uuid, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.mail
            .open(mail_place(id), sealed)
            .map(Zeroizing::new)
            .map_err(|err| Error::Internal(format!("a queued email cannot be opened: {err}")))
    }

    /// The newest data-key version of a workplace, as stored.
    async fn newest_version(conn: &impl ConnectionTrait, workplace: WorkplaceId) -> Result<Option<u32>> {
        let newest: Option<Option<i32>> = data_keys::Entity::find()
            .select_only()
            .column_as(data_keys::Column::Version.max(), "newest")
            .filter(data_keys::Column::WorkplaceId.eq(workplace.uuid()))
            .into_tuple()
            .one(conn)
            .await?;
        Ok(newest.flatten().and_then(|v| u32::try_from(v).ok()))
    }

    /// A stable keyed hash of `value` for `purpose` (hex): equal values give equal pseudonyms,
    /// and without the instance's index key nothing can be learnt from one.
    pub fn pseudonym(&self, purpose: &str, value: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.email_index.as_ref())
            .unwrap_or_else(|_| unreachable!());
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        crate::platform::text::hex(&mac.finalize().into_bytes())
    }

    /// The workplace's data keys, creating its first one if it has none. The cached keys are
    /// used while no newer version exists (checked with one indexed query), so a rotation run
    /// by another process is seen by the next read here.
    pub(crate) async fn tenant(
        &self,
        conn: &impl ConnectionTrait,
        workplace: WorkplaceId,
        now: DateTime<Utc>,
    ) -> Result<Arc<TenantKeys>> {
        let newest = Self::newest_version(conn, workplace).await?;
        if newest.is_none() {
            // Deleted by another process (or never created): drop any copy held here.
            self.forget(workplace);
        }
        if let Some(keys) = self
            .tenants
            .read()
            .map_err(|_| Error::Internal("keyring cache poisoned".into()))?
            .get(&workplace)
            .filter(|keys| newest.is_some() && keys.current_version() == newest)
        {
            return Ok(keys.clone());
        }
        let mut keys = self.load(conn, workplace).await?;
        if keys.keys.is_empty() {
            let fresh = DataKey::generate(1);
            let inserted = data_keys::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                workplace_id: Set(workplace.uuid()),
                version: Set(1),
                wrapped: Set(self.master.wrap(fresh.bytes(), &data_key_context(workplace, 1))),
                master_key_id: Set(self.master.id()),
                created_at: Set(now),
            }
            .insert(conn)
            .await;
            match inserted {
                Ok(_) => {}
                // Another request created it first (the version is unique per workplace).
                Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {}
                Err(err) => return Err(err.into()),
            }
            keys = self.load(conn, workplace).await?;
        }
        let keys = Arc::new(keys);
        self.tenants
            .write()
            .map_err(|_| Error::Internal("keyring cache poisoned".into()))?
            .insert(workplace, keys.clone());
        Ok(keys)
    }

    /// Every data key stored in the database, of every workplace and version, unwrapped: what
    /// someone holding the master key and a copy of the database could use.
    #[cfg(feature = "testing")]
    pub(crate) async fn every_stored_data_key(&self, conn: &impl ConnectionTrait) -> Result<Vec<Vec<u8>>> {
        let mut keys = Vec::new();
        for row in data_keys::Entity::find().all(conn).await? {
            let version = u32::try_from(row.version).unwrap_or_default();
            let context = data_key_context(WorkplaceId::from_uuid(row.workplace_id), version);
            if let Some(opened) = self.master.unwrap(&row.wrapped, &context) {
                keys.push(opened.to_vec());
            }
        }
        Ok(keys)
    }

    /// Drops the workplace's unwrapped keys from memory (after the workplace was deleted).
    pub(crate) fn forget(&self, workplace: WorkplaceId) {
        match self.tenants.write() {
            Ok(mut tenants) => {
                tenants.remove(&workplace);
            }
            Err(poisoned) => {
                poisoned.into_inner().remove(&workplace);
            }
        }
    }

    /// Adds the workplace's next data-key version (new values are sealed with it from now on)
    /// and returns it.
    pub(crate) async fn add_version(
        &self,
        conn: &impl ConnectionTrait,
        workplace: WorkplaceId,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let version = Self::newest_version(conn, workplace).await?.unwrap_or(0) + 1;
        let fresh = DataKey::generate(version);
        data_keys::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            workplace_id: Set(workplace.uuid()),
            version: Set(
                i32::try_from(version).map_err(|_| Error::Internal("data-key versions exhausted".into()))?
            ),
            wrapped: Set(self
                .master
                .wrap(fresh.bytes(), &data_key_context(workplace, version))),
            master_key_id: Set(self.master.id()),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
        Ok(version)
    }

    async fn load(&self, conn: &impl ConnectionTrait, workplace: WorkplaceId) -> Result<TenantKeys> {
        let rows = data_keys::Entity::find()
            .filter(data_keys::Column::WorkplaceId.eq(workplace.uuid()))
            .order_by_asc(data_keys::Column::Version)
            .all(conn)
            .await?;
        let mut keys = BTreeMap::new();
        for row in rows {
            let version = u32::try_from(row.version)
                .map_err(|_| Error::Internal(format!("data key {} has a negative version", row.id)))?;
            let opened = self
                .master
                .unwrap(&row.wrapped, &data_key_context(workplace, version))
                .ok_or_else(|| {
                    Error::Internal(format!("data key {} does not open with the master key", row.id))
                })?;
            let key = DataKey::from_bytes(version, &opened)
                .ok_or_else(|| Error::Internal(format!("data key {} has the wrong length", row.id)))?;
            keys.insert(version, key);
        }
        Ok(TenantKeys {
            workplace,
            keys,
            events: self.events.clone(),
        })
    }
}
