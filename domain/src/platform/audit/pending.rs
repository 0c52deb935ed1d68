//! Entries that must not sit next to their author's other requests. A comment's author reading
//! or answering replies is recorded without an actor and at the day only — but the log's
//! sequence would still place the entry between that person's other requests. So these
//! entries wait, without a sequence, until their day has ended; then [`flush`] chains each
//! workplace's waiting entries of past days in a shuffled order, after everything else of that
//! day.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use super::{Category, Entry, Outcome, Severity};
use crate::{
    platform::{entities::audit_pending, ids::WorkplaceId},
    Error, Result,
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

pub(crate) fn entry_of(row: &audit_pending::Model) -> Result<Entry> {
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
    entry.severity = Severity::from_stored(&row.severity)?;
    entry.outcome = Outcome::from_stored(&row.outcome)?;
    Ok(entry)
}
