//! What the Security page and tests read about backups: sizes, dates, fingerprints.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::tables::{self, TABLES};
use crate::{platform::entities::backup_runs, Database};

use super::{error::Result, runs::RunKind};

/// The latest runs, for the Security page and the operator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BackupFacts {
    pub last_backup_at: Option<DateTime<Utc>>,
    pub last_backup_bytes: Option<u64>,
    pub last_backup_failed_at: Option<DateTime<Utc>>,
    pub last_drill_passed_at: Option<DateTime<Utc>>,
    pub last_drill_failed_at: Option<DateTime<Utc>>,
}

/// Rows and digest of every table a backup holds, whole: two databases with equal fingerprints
/// hold the same rows (the mail queue, in no backup, aside).
pub async fn fingerprint(db: &Database) -> Result<BTreeMap<String, (u64, String)>> {
    let txn = db.begin_snapshot().await?;
    let mut out = BTreeMap::new();
    for table in TABLES
        .iter()
        .filter(|table| table.owner != tables::Owner::NotBackedUp)
    {
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
    use super::tables::Part;
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
