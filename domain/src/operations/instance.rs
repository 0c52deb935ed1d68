//! Facts about this running instance that the public Security page shows. They are read from the
//! live database, never hard-coded.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
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
