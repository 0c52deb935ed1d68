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
        group_commit::GroupWriter,
        ids::WorkplaceId,
        security_events::{self, StoredEvent},
        tenant::TenantDb,
    },
    Database, Result,
};

/// Writes what `trail` left, with how the request ended (`status`); a request that left nothing
/// yet gets one entry. Fails (and the request with it) when the log cannot be written.
pub async fn finish(trail: &Trail, db: &Database, status: u16) -> Result<()> {
    write_together(db, vec![Remaining::of(trail, status)])
        .await
        .pop()
        .unwrap_or(Ok(()))
}

/// What a request left for the log when it ended, taken from its trail.
#[derive(Debug)]
pub struct Remaining {
    entries: Vec<Entry>,
    /// Entries without who asked wait for the end of their day (see `audit::pending`).
    anonymous: bool,
}

impl Remaining {
    pub fn of(trail: &Trail, status: u16) -> Self {
        Self {
            entries: trail.take_remaining(status),
            anonymous: trail.is_anonymous(),
        }
    }
}

/// A workplace (none: the instance) and whether its entries are anonymous.
type GroupKey = (Option<WorkplaceId>, bool);

/// Writes what several requests left: one transaction per workplace (and one for the anonymous
/// entries of a workplace, so that they share no transaction with a named person's), instead of
/// one per request, the workplaces side by side. Returns one outcome per request, in order. When
/// a shared transaction fails, each of its requests is written alone, so that only the one that
/// still fails is refused.
pub async fn write_together(db: &Database, batch: Vec<Remaining>) -> Vec<Result<()>> {
    let mut outcomes: Vec<Result<()>> = batch.iter().map(|_| Ok(())).collect();
    // Per workplace chain and kind: which requests, with their entries.
    let mut groups: std::collections::BTreeMap<GroupKey, Vec<(usize, Vec<Entry>)>> = Default::default();
    for (index, remaining) in batch.into_iter().enumerate() {
        let Some(first) = remaining.entries.first() else {
            continue;
        };
        // A trail's entries all belong to the workplace it was identified with.
        let key = (first.workplace, remaining.anonymous);
        groups.entry(key).or_default().push((index, remaining.entries));
        // Until its group reports otherwise (a panic reports nothing).
        outcomes[index] = Err(crate::Error::Internal(
            "the access-log entries were not written".into(),
        ));
    }
    let (anonymous, named): (Vec<_>, Vec<_>) = groups.into_iter().partition(|((_, anonymous), _)| *anonymous);
    // The anonymous entries after the named ones, in no fixed order: where they fall among
    // the batch's transactions follows from nothing but the batch.
    let mut anonymous = anonymous;
    {
        use rand::seq::SliceRandom;
        anonymous.shuffle(&mut rand::rng());
    }
    for pass in [named, anonymous] {
        let mut writing = tokio::task::JoinSet::new();
        for ((workplace, anonymous), members) in pass {
            let db = db.clone();
            writing.spawn(async move {
                let written = write_group(&db, workplace, anonymous, &members).await;
                (
                    members.into_iter().map(|(index, _)| index).collect::<Vec<_>>(),
                    written,
                )
            });
        }
        while let Some(done) = writing.join_next().await {
            match done {
                Ok((indexes, written)) => {
                    for (index, outcome) in indexes.into_iter().zip(written) {
                        outcomes[index] = outcome;
                    }
                }
                // A panic while writing: those requests keep the error they started with.
                Err(err) => tracing::error!(error = %err, "writing access-log entries panicked"),
            }
        }
    }
    outcomes
}

/// One group's requests in one transaction; if that fails, each alone.
async fn write_group(
    db: &Database,
    workplace: Option<WorkplaceId>,
    anonymous: bool,
    members: &[(usize, Vec<Entry>)],
) -> Vec<Result<()>> {
    if let [(_, entries)] = members {
        return vec![write_entries(db, workplace, anonymous, entries).await];
    }
    let entries: Vec<Entry> = members
        .iter()
        .flat_map(|(_, entries)| entries.iter().cloned())
        .collect();
    match write_entries(db, workplace, anonymous, &entries).await {
        Ok(()) => members.iter().map(|_| Ok(())).collect(),
        Err(err) => {
            tracing::warn!(
                code = err.code(),
                requests = members.len(),
                "access-log entries written together failed; writing each alone"
            );
            let mut outcomes = Vec::with_capacity(members.len());
            for (_, entries) in members {
                outcomes.push(write_entries(db, workplace, anonymous, entries).await);
            }
            outcomes
        }
    }
}

async fn write_entries(
    db: &Database,
    workplace: Option<WorkplaceId>,
    anonymous: bool,
    entries: &[Entry],
) -> Result<()> {
    match workplace {
        Some(workplace) => {
            let tenant = TenantDb::for_audit_log(db, workplace);
            let txn = tenant.begin_unlogged().await?;
            if anonymous {
                audit::pending::defer(&txn, entries).await?;
            } else {
                audit::append(&txn, entries).await?;
            }
            txn.commit().await?;
        }
        None => {
            let txn = db.begin_write().await?;
            audit::append(&txn, entries).await?;
            txn.commit().await?;
        }
    }
    Ok(())
}

/// Every request's remaining entries go to one writer, which writes all that arrived while it
/// was busy together ([`write_together`]) and answers each request once they are committed: a
/// page load or read waits for its log entry as before, but many share a transaction.
#[derive(Clone, Debug)]
pub struct AccessLogWriter {
    writer: GroupWriter<Remaining, ()>,
}

/// The most requests whose entries one batch writes.
const MOST_PER_BATCH: usize = 256;
/// Requests that may wait for the writer; one more is refused as busy.
const WAITING: usize = 4096;

impl AccessLogWriter {
    /// Starts the writer on the current Tokio runtime.
    pub fn start(db: Database) -> Self {
        let writer = GroupWriter::start("the access log", MOST_PER_BATCH, WAITING, move |batch| {
            let db = db.clone();
            async move { write_together(&db, batch).await }
        });
        Self { writer }
    }

    /// [`finish`] through the writer.
    pub async fn finish(&self, trail: &Trail, status: u16) -> Result<()> {
        let remaining = Remaining::of(trail, status);
        if remaining.entries.is_empty() {
            return Ok(());
        }
        // The request has already run (and may have committed): its entries wait for room
        // rather than being refused.
        self.writer.write_when_room(remaining).await
    }
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
