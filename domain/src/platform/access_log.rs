//! The access log as the rest of Candor meets it: a request's trail written when the request
//! ends, the anonymous entries of past days chained, the chains verified, security events read
//! back. The entries and the chain themselves are `audit`'s; this module brings in the tenant
//! scope their writing needs.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    platform::{
        audit::{self, Anchor, Category, ChainReport, Entry, Trail},
        entities::{audit_log, audit_pending},
        ids::WorkplaceId,
        security_events::{self, StoredEvent},
        tenant::TenantDb,
    },
    Database, Result,
};

/// Writes what `trail` left, with how the request ended (`status`); a request that left nothing
/// yet gets one entry. Fails (and the request with it) when the log cannot be written.
pub async fn finish(trail: &Trail, db: &Database, status: u16) -> Result<()> {
    let entries = trail.take_remaining(status);
    if entries.is_empty() {
        return Ok(());
    }
    let workplace = entries[0].workplace;
    match workplace {
        Some(workplace) => {
            let tenant = TenantDb::for_audit_log(db, workplace);
            let txn = tenant.begin_unlogged().await?;
            if trail.is_anonymous() {
                audit::pending::defer(&txn, &entries).await?;
            } else {
                audit::append(&txn, &entries).await?;
            }
            txn.commit().await?;
        }
        None => {
            let txn = db.begin_write().await?;
            audit::append(&txn, &entries).await?;
            txn.commit().await?;
        }
    }
    Ok(())
}

/// Chains every waiting entry of a day before `now`'s, per workplace, shuffled; returns how many.
pub async fn flush_pending(db: &Database, now: DateTime<Utc>) -> Result<usize> {
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
        let tenant = TenantDb::for_audit_log(db, WorkplaceId::from_uuid(workplace));
        let txn = tenant.begin_unlogged().await?;
        let mut rows = audit_pending::Entity::find()
            .filter(audit_pending::Column::WorkplaceId.eq(workplace))
            .filter(audit_pending::Column::Day.lt(today))
            .all(&txn)
            .await?;
        rows.shuffle(&mut rand::rng());
        // Oldest day first; within a day, the shuffled order.
        rows.sort_by_key(|row| row.day);
        let entries: Vec<Entry> = rows.iter().map(audit::pending::entry_of).collect::<Result<_>>()?;
        if !entries.is_empty() {
            audit::append(&txn, &entries).await?;
        }
        for chunk in rows.chunks(500) {
            tenant
                .delete_many::<audit_pending::Entity>()
                .filter(audit_pending::Column::Id.is_in(chunk.iter().map(|r| r.id)))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        flushed += rows.len();
    }
    Ok(flushed)
}

/// Recomputes every chain (or only `only`'s) from its first kept entry to its head, and checks
/// `anchors` on the way.
pub async fn verify(
    db: &Database,
    only: Option<WorkplaceId>,
    anchors: &[Anchor],
) -> Result<Vec<ChainReport>> {
    audit::verify(db.connection(), only, anchors).await
}

/// The newest events of one workplace, newest first.
pub async fn recent_security_events(tenant: &TenantDb, limit: u64) -> Result<Vec<StoredEvent>> {
    let txn = tenant.begin_read().await?;
    let rows = tenant
        .select::<audit_log::Entity>()
        .filter(audit_log::Column::Category.eq(Category::Security.code()))
        .order_by_desc(audit_log::Column::Seq)
        .limit(limit)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(rows.into_iter().map(security_events::to_stored).collect())
}

/// The newest events about the instance as a whole (no workplace), newest first.
pub async fn recent_instance_security_events(db: &crate::Database, limit: u64) -> Result<Vec<StoredEvent>> {
    let rows = audit_log::Entity::find()
        .filter(audit_log::Column::ChainId.eq(uuid::Uuid::nil()))
        .filter(audit_log::Column::Category.eq(Category::Security.code()))
        .order_by_desc(audit_log::Column::Seq)
        .limit(limit)
        .all(db.connection())
        .await?;
    Ok(rows.into_iter().map(security_events::to_stored).collect())
}
