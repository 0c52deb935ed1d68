//! Rotating a workplace's data key while Candor keeps serving: a new key version is added (new
//! values are sealed with it at once), then every sealed field of the workplace is opened and
//! sealed again under it, in batches, each batch its own transaction. Reads keep working
//! throughout because every version stays available. An interrupted rotation resumes where it
//! stopped; it finishes only after a full pass finds nothing left under an older key (a write
//! that raced the pass is caught by the next one).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    platform::{
        crypto::key_version,
        entities::{key_rotations, users, workplaces},
        ids::WorkplaceId,
        security_events::{EventKind, SecurityEvent},
        tenant::TenantDb,
        user_fields,
    },
    Database, Error, Result,
};

/// How far a rotation got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Rows looked at in this pass.
    pub done: u64,
    pub total: u64,
    /// Which pass (the last one confirms nothing is left).
    pub pass: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Rows per transaction.
    pub batch: u64,
    /// Stop after this many batches (a time-boxed run); the next run resumes.
    pub max_batches: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            batch: 500,
            max_batches: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotated {
    pub to_version: u32,
    /// Whether this run continued an unfinished rotation.
    pub resumed: bool,
    /// Rows sealed again by this run.
    pub resealed: u64,
    pub finished: bool,
}

fn sealed_under(row: &users::Model, version: u32) -> bool {
    [&row.email_sealed, &row.name_sealed]
        .into_iter()
        .all(|sealed| sealed.as_deref().map(key_version) == Some(Ok(version)))
}

/// The workplace tables holding sealed fields, resealed in this order on each pass. Where a
/// session signed in from is not among them: a session lives at most 12 hours, and every key
/// version stays available to open it until then.
#[derive(Clone, Copy, Debug)]
enum SealedTable {
    /// Names and email addresses, and each person's authenticator seeds.
    Users,
    Comments,
    CommentReplies,
    /// Answers waiting in a round's ballot box.
    Ballots,
}

/// What one batch of a table did.
struct Step {
    seen: u64,
    changed: u64,
    last: Option<uuid::Uuid>,
}

/// Reseals one batch of a table whose rows carry one sealed text column, `text_sealed`.
macro_rules! reseal_text_batch {
    ($entity:ident, $table:literal, $tenant:expr, $txn:expr, $keys:expr, $target:expr, $after:expr, $batch:expr) => {{
        use crate::platform::entities::$entity;
        let mut query = $tenant.select::<$entity::Entity>();
        if let Some(after) = $after {
            query = query.filter($entity::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc($entity::Column::Id)
            .limit($batch)
            .all($txn)
            .await?;
        let mut step = Step {
            seen: rows.len() as u64,
            changed: 0,
            last: rows.last().map(|row| row.id),
        };
        for row in rows {
            if key_version(&row.text_sealed) == Ok($target) {
                continue;
            }
            let text = $keys.open_text($table, "text", row.id, &row.text_sealed)?;
            let sealed = $keys.seal($table, "text", row.id, text.expose().as_bytes())?;
            let mut changed: $entity::ActiveModel = row.into();
            changed.text_sealed = Set(sealed);
            changed.update($txn).await?;
            step.changed += 1;
        }
        Ok(step)
    }};
}

impl SealedTable {
    const ALL: [SealedTable; 4] = [
        SealedTable::Users,
        SealedTable::Comments,
        SealedTable::CommentReplies,
        SealedTable::Ballots,
    ];

    async fn count(self, tenant: &TenantDb, conn: &impl sea_orm::ConnectionTrait) -> Result<u64> {
        use crate::platform::entities::{ballots, comment_replies, comments};
        Ok(match self {
            SealedTable::Ballots => tenant.select::<ballots::Entity>().count(conn).await?,
            SealedTable::Users => tenant.select::<users::Entity>().count(conn).await?,
            SealedTable::Comments => tenant.select::<comments::Entity>().count(conn).await?,
            SealedTable::CommentReplies => tenant.select::<comment_replies::Entity>().count(conn).await?,
        })
    }

    /// Reseals under `target` the rows after `after` (in id order) not yet sealed under it.
    #[allow(clippy::too_many_arguments)]
    async fn reseal_batch(
        self,
        tenant: &TenantDb,
        txn: &sea_orm::DatabaseTransaction,
        keyring: &crate::platform::crypto::Keyring,
        keys: &crate::platform::crypto::TenantKeys,
        target: u32,
        after: Option<uuid::Uuid>,
        batch: u64,
    ) -> Result<Step> {
        match self {
            SealedTable::Users => {
                let mut query = tenant.select::<users::Entity>();
                if let Some(after) = after {
                    query = query.filter(users::Column::Id.gt(after));
                }
                let rows = query
                    .order_by_asc(users::Column::Id)
                    .limit(batch)
                    .all(txn)
                    .await?;
                let people: Vec<uuid::Uuid> = rows.iter().map(|row| row.id).collect();
                let mut step = Step {
                    seen: rows.len() as u64,
                    // Their authenticator seeds are sealed under the same key.
                    changed: crate::access::factors::reseal_totp_seeds(txn, keys, &people, target).await?,
                    last: rows.last().map(|row| row.id),
                };
                for row in rows {
                    if sealed_under(&row, target) {
                        continue;
                    }
                    let opened = user_fields::open_with(keys, &row)?;
                    let sealed = user_fields::seal(
                        keyring,
                        keys,
                        row.id,
                        opened.name.expose(),
                        opened.email.expose(),
                    )?;
                    let id = row.id;
                    let mut changed: users::ActiveModel = row.into();
                    sealed.apply(&mut changed, id);
                    changed.update(txn).await?;
                    step.changed += 1;
                }
                Ok(step)
            }
            SealedTable::Comments => {
                reseal_text_batch!(comments, "comments", tenant, txn, keys, target, after, batch)
            }
            SealedTable::Ballots => {
                reseal_text_batch!(ballots, "ballots", tenant, txn, keys, target, after, batch)
            }
            SealedTable::CommentReplies => {
                reseal_text_batch!(
                    comment_replies,
                    "comment_replies",
                    tenant,
                    txn,
                    keys,
                    target,
                    after,
                    batch
                )
            }
        }
    }
}

/// Rotates (or resumes rotating) the data key of `workplace`; `progress` is told after each
/// batch.
pub async fn rotate_workplace(
    db: &Database,
    workplace: WorkplaceId,
    options: Options,
    now: DateTime<Utc>,
    mut progress: impl FnMut(Progress),
) -> Result<Rotated> {
    let conn = db.connection();
    workplaces::Entity::find_by_id(workplace.uuid())
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let keyring = db.keyring()?;
    let tenant = TenantDb::for_system(db, workplace, "data key rotation");
    let txn = tenant.begin().await?;
    let unfinished = tenant
        .select::<key_rotations::Entity>()
        .filter(key_rotations::Column::FinishedAt.is_null())
        .one(&txn)
        .await?;
    let (rotation, resumed) = match unfinished {
        Some(rotation) => (rotation, true),
        None => {
            let version = keyring.add_version(&txn, workplace, now).await?;
            let rotation = key_rotations::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                workplace_id: Set(workplace.uuid()),
                to_version: Set(
                    i32::try_from(version).map_err(|_| Error::Internal("version out of range".into()))?
                ),
                rows_done: Set(0),
                started_at: Set(now),
                finished_at: Set(None),
            }
            .insert(&txn)
            .await?;
            crate::platform::security_events::store_and_log(
                &txn,
                &SecurityEvent::new(EventKind::TenantKeyRotationStarted, now).in_workplace(workplace),
            )
            .await?;
            (rotation, false)
        }
    };
    txn.commit().await?;
    let target =
        u32::try_from(rotation.to_version).map_err(|_| Error::Internal("version out of range".into()))?;
    let batch = options.batch.max(1);
    let mut batches = 0u64;
    let mut resealed = 0u64;
    let mut pass = 0u32;
    loop {
        pass += 1;
        let mut total = 0;
        for table in SealedTable::ALL {
            total += table.count(&tenant, conn).await?;
        }
        let mut done = 0u64;
        let mut changed_in_pass = 0u64;
        for table in SealedTable::ALL {
            let mut after: Option<uuid::Uuid> = None;
            loop {
                if options.max_batches.is_some_and(|max| batches >= max) {
                    return Ok(Rotated {
                        to_version: target,
                        resumed,
                        resealed,
                        finished: false,
                    });
                }
                let txn = tenant.begin().await?;
                let keys = tenant.data_keys_in(&txn).await?;
                if keys.current_version() != Some(target) {
                    return Err(Error::Conflict(format!(
                        "a newer data key than version {target} exists; run the rotation again"
                    )));
                }
                let step = table
                    .reseal_batch(&tenant, &txn, keyring, &keys, target, after, batch)
                    .await?;
                if step.seen == 0 {
                    txn.commit().await?;
                    break;
                }
                after = step.last;
                done += step.seen;
                changed_in_pass += step.changed;
                tenant
                    .update_many::<key_rotations::Entity>()
                    .col_expr(
                        key_rotations::Column::RowsDone,
                        sea_orm::sea_query::Expr::value(i64::try_from(done).unwrap_or(i64::MAX)),
                    )
                    .filter(key_rotations::Column::Id.eq(rotation.id))
                    .exec(&txn)
                    .await?;
                txn.commit().await?;
                batches += 1;
                progress(Progress { done, total, pass });
            }
        }
        resealed += changed_in_pass;
        if changed_in_pass == 0 {
            break;
        }
    }
    let txn = tenant.begin().await?;
    tenant
        .update_many::<key_rotations::Entity>()
        .col_expr(
            key_rotations::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .filter(key_rotations::Column::Id.eq(rotation.id))
        .exec(&txn)
        .await?;
    crate::platform::security_events::store_and_log(
        &txn,
        &SecurityEvent::new(EventKind::TenantKeyRotated, now).in_workplace(workplace),
    )
    .await?;
    txn.commit().await?;
    Ok(Rotated {
        to_version: target,
        resumed,
        resealed,
        finished: true,
    })
}

/// How many of the workplace's people have their fields sealed under each data-key version.
pub async fn versions_in_use(tenant: &TenantDb) -> Result<BTreeMap<u32, u64>> {
    let txn = tenant.begin().await?;
    let rows = tenant.select::<users::Entity>().all(&txn).await?;
    txn.commit().await?;
    let mut counts = BTreeMap::new();
    for row in rows {
        if let Some(Ok(version)) = row.name_sealed.as_deref().map(key_version) {
            *counts.entry(version).or_default() += 1;
        }
    }
    Ok(counts)
}

/// Every workplace, for rotating all of them.
pub async fn workplace_ids(db: &Database) -> Result<Vec<WorkplaceId>> {
    Ok(workplaces::Entity::find()
        .select_only()
        .column(workplaces::Column::Id)
        .into_tuple::<uuid::Uuid>()
        .all(db.connection())
        .await?
        .into_iter()
        .map(WorkplaceId::from_uuid)
        .collect())
}

/// Workplaces due for a scheduled rotation: their newest data key is older than `max_age`, or
/// a rotation was left unfinished.
pub async fn due_workplaces(
    db: &Database,
    max_age: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Vec<WorkplaceId>> {
    use crate::platform::entities::data_keys;
    let conn = db.connection();
    // A system job across workplaces: outside any workplace transaction.
    let newest: Vec<(uuid::Uuid, Option<DateTime<Utc>>)> = data_keys::Entity::find()
        .select_only()
        .column(data_keys::Column::WorkplaceId)
        .column_as(data_keys::Column::CreatedAt.max(), "newest")
        .group_by(data_keys::Column::WorkplaceId)
        .into_tuple()
        .all(conn)
        .await?;
    let unfinished: Vec<uuid::Uuid> = key_rotations::Entity::find()
        .select_only()
        .column(key_rotations::Column::WorkplaceId)
        .filter(key_rotations::Column::FinishedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    let cutoff = now - max_age;
    let mut due: Vec<WorkplaceId> = newest
        .into_iter()
        .filter(|(_, newest)| newest.is_some_and(|created| created <= cutoff))
        .map(|(id, _)| id)
        .chain(unfinished)
        .map(WorkplaceId::from_uuid)
        .collect();
    due.sort();
    due.dedup();
    Ok(due)
}
