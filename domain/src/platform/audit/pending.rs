//! Entries that must not sit next to their author's other requests. A comment's author reading
//! or answering replies is recorded without an actor and at the day only — but the log's
//! sequence would still place the entry between that person's other requests. So these
//! entries wait, without a sequence, until their day has ended; then [`flush`] chains each
//! workplace's waiting entries of past days in a shuffled order, after everything else of that
//! day.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::{Category, Entry, Outcome, Severity};
use crate::{
    platform::{entities::audit_pending, ids::WorkplaceId},
    Database, Error, Result,
};

/// Keeps `entries` (anonymous, of one workplace each) until their day is over.
pub(crate) async fn defer(conn: &impl ConnectionTrait, entries: &[Entry]) -> Result<()> {
    for entry in entries {
        let workplace = entry
            .workplace
            .ok_or_else(|| Error::Internal("an anonymous entry belongs to no workplace".into()))?;
        audit_pending::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            workplace_id: Set(workplace.uuid()),
            day: Set(entry.occurred_at.date_naive()),
            action: Set(super::clean_code(&entry.action, 64)),
            category: Set(entry.category.code().to_owned()),
            severity: Set(entry.severity.code().to_owned()),
            outcome: Set(entry.outcome.code().to_owned()),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

fn entry_of(row: &audit_pending::Model) -> Entry {
    let category = if row.category == Category::Security.code() {
        Category::Security
    } else {
        Category::Access
    };
    let midnight = row
        .day
        .and_hms_opt(0, 0, 0)
        .map_or_else(Utc::now, |t| t.and_utc());
    let mut entry = Entry::new(&row.action, category, midnight);
    entry.workplace = Some(WorkplaceId::from_uuid(row.workplace_id));
    entry.severity = [Severity::Info, Severity::Warning, Severity::Critical]
        .into_iter()
        .find(|s| s.code() == row.severity)
        .unwrap_or(Severity::Info);
    entry.outcome = [
        Outcome::Ok,
        Outcome::Invalid,
        Outcome::Unauthenticated,
        Outcome::Denied,
        Outcome::Throttled,
        Outcome::Error,
    ]
    .into_iter()
    .find(|o| o.code() == row.outcome)
    .unwrap_or(Outcome::Error);
    entry
}

/// Chains every waiting entry of a day before `now`'s, per workplace, shuffled; returns how many.
pub async fn flush(db: &Database, now: DateTime<Utc>) -> Result<usize> {
    use rand::seq::SliceRandom;
    let today: NaiveDate = now.date_naive();
    // A system job across workplaces: which have entries waiting is read outside any of them.
    let mut workplaces: Vec<uuid::Uuid> = audit_pending::Entity::find()
        .select_only()
        .column(audit_pending::Column::WorkplaceId)
        .filter(audit_pending::Column::Day.lt(today))
        .distinct()
        .into_tuple()
        .all(db.connection())
        .await?;
    workplaces.sort();
    let mut flushed = 0;
    for workplace in workplaces {
        let tenant = crate::platform::tenant::TenantDb::for_audit_log(db, WorkplaceId::from_uuid(workplace));
        let txn = tenant.begin_unlogged().await?;
        let mut rows = audit_pending::Entity::find()
            .filter(audit_pending::Column::WorkplaceId.eq(workplace))
            .filter(audit_pending::Column::Day.lt(today))
            .all(&txn)
            .await?;
        rows.shuffle(&mut rand::rng());
        // Oldest day first; within a day, the shuffled order.
        rows.sort_by_key(|row| row.day);
        let entries: Vec<Entry> = rows.iter().map(entry_of).collect();
        if !entries.is_empty() {
            super::append(&txn, &entries).await?;
        }
        for chunk in rows.chunks(500) {
            audit_pending::Entity::delete_many()
                .filter(audit_pending::Column::Id.is_in(chunk.iter().map(|r| r.id)))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        flushed += rows.len();
    }
    Ok(flushed)
}
