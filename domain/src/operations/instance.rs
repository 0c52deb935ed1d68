//! Facts about this running instance that the public Security page shows. They are read from the
//! live database, never hard-coded.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::{
    platform::entities::{data_keys, master_keys},
    Database, Result,
};

#[derive(Clone, Debug, Serialize)]
pub struct DatabaseFacts {
    pub backend: &'static str,
    pub schema_applied: usize,
    pub schema_known: usize,
    pub schema_latest: Option<String>,
}

pub async fn database_facts(db: &Database) -> Result<DatabaseFacts> {
    let version = db.schema_version().await?;
    Ok(DatabaseFacts {
        backend: db.backend().label(),
        schema_applied: version.applied,
        schema_known: version.known,
        schema_latest: version.latest,
    })
}

/// How personal data is encrypted at rest here, read from the keyring's tables.
#[derive(Clone, Debug, Serialize)]
pub struct EncryptionFacts {
    pub cipher: &'static str,
    /// What is sealed, in words.
    pub sealed_fields: Vec<&'static str>,
    /// When the master key in use was first used with this database.
    pub master_key_since: Option<DateTime<Utc>>,
    /// The newest data key of any workplace (a new workplace or a rotation).
    pub newest_data_key: Option<DateTime<Utc>>,
}

pub async fn encryption_facts(db: &Database) -> Result<EncryptionFacts> {
    let conn = db.connection();
    let master = master_keys::Entity::find()
        .filter(master_keys::Column::RetiredAt.is_null())
        .order_by_desc(master_keys::Column::CreatedAt)
        .one(conn)
        .await?;
    let newest = data_keys::Entity::find()
        .order_by_desc(data_keys::Column::CreatedAt)
        .one(conn)
        .await?;
    Ok(EncryptionFacts {
        cipher: crate::platform::crypto::CIPHER,
        sealed_fields: crate::platform::user_fields::SEALED
            .iter()
            .chain(crate::access::context_fields::SEALED)
            .chain(crate::surveys::answering::SEALED)
            .chain(crate::access::factors::SEALED)
            .copied()
            .collect(),
        master_key_since: master.map(|row| row.created_at),
        newest_data_key: newest.map(|row| row.created_at),
    })
}

/// Opens the keyring (see [`Database::unlock`]) and seals what an older version of Candor
/// stored in plain text (people's names and addresses, authenticator seeds), rewriting the
/// storage so the replaced plaintext does not linger in free pages or dead row versions.
pub async fn unlock(
    db: crate::Database,
    master: crate::platform::crypto::MasterKey,
    now: DateTime<Utc>,
) -> std::result::Result<crate::Database, crate::platform::crypto::KeyringError> {
    let db = db.unlock(master, now).await?;
    let keyring = db.keyring()?;
    let people = crate::platform::user_fields::seal_legacy_rows(keyring, db.connection(), now).await?;
    let seeds = crate::access::factors::seal_legacy_totp_seeds(keyring, db.connection(), now).await?;
    if people + seeds > 0 {
        let compact: &[&str] = match db.backend() {
            crate::Backend::Sqlite => &["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"],
            crate::Backend::Postgres => &["VACUUM FULL users", "VACUUM FULL totp_factors"],
        };
        for statement in compact {
            db.connection()
                .execute_unprepared(statement)
                .await
                .map_err(crate::Error::from)?;
        }
        tracing::info!(
            people,
            authenticator_seeds = seeds,
            "sealed personal fields and authenticator seeds stored before encryption"
        );
    }
    Ok(db)
}
