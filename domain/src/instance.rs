//! Facts about this running instance that the public Security page shows. They are read from the
//! live database, never hard-coded.

use serde::Serialize;

use crate::{Database, Result};

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
