//! Benchmarks across workplaces. A workplace that opts in contributes, per built-in question,
//! its whole-workplace figure over recently closed rounds (the mean, or the eNPS score) — and
//! only where at least its own minimum group answered. Each contribution is computed inside its
//! workplace's scope; only the platform figure, the plain average of at least
//! [`MIN_WORKPLACES`] contributions, leaves it. Opted-in workplaces see that figure beside
//! their own; no answer, count or single workplace's figure ever crosses workplaces.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::OnConflict, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

use super::{QuestionId, QuestionKind};
use crate::{
    entities::{answers, benchmarks, rounds, workplaces},
    ids::WorkplaceId,
    policy::{require, Action, Identity, Resource},
    tenant::TenantDb,
    Database, Error, Result,
};

/// A platform figure is published only from at least this many workplaces.
pub const MIN_WORKPLACES: usize = 5;
/// Rounds that opened within this many days (and have closed) count.
pub const WINDOW_DAYS: i64 = 90;

/// The platform figure for one built-in question.
#[derive(Clone, Debug, PartialEq)]
pub struct Benchmark {
    /// The mean on 1–5, or the eNPS score.
    pub value: f64,
    pub workplaces: u32,
    pub computed_at: DateTime<Utc>,
}

/// What one workplace contributes: its figure per built-in question.
async fn contribution(tenant: &TenantDb, now: DateTime<Utc>) -> Result<BTreeMap<String, f64>> {
    let txn = tenant.begin_read().await?;
    let recent: Vec<(uuid::Uuid, uuid::Uuid)> = tenant
        .select::<rounds::Entity>()
        .select_only()
        .column(rounds::Column::Id)
        .column(rounds::Column::SurveyId)
        .filter(rounds::Column::ClosedAt.is_not_null())
        .filter(rounds::Column::OpensAt.gte(now - Duration::days(WINDOW_DAYS)))
        .into_tuple()
        .all(&txn)
        .await?;
    if recent.is_empty() {
        txn.commit().await?;
        return Ok(BTreeMap::new());
    }
    let (minimum, _) = super::minimum_group_sizes(tenant, &txn).await?;
    // Built-in questions of the surveys those rounds belong to, by id.
    let mut library: BTreeMap<QuestionId, (String, QuestionKind)> = BTreeMap::new();
    let mut surveys: Vec<uuid::Uuid> = recent.iter().map(|(_, survey)| *survey).collect();
    surveys.sort();
    surveys.dedup();
    for survey in surveys {
        for question in super::questions_in(tenant, &txn, survey).await? {
            if let (Some(key), QuestionKind::Scale { .. } | QuestionKind::Enps) =
                (&question.library_key, &question.kind)
            {
                library.insert(question.id, (key.clone(), question.kind));
            }
        }
    }
    let counts: Vec<(QuestionId, i32, i64)> = tenant
        .select::<answers::Entity>()
        .select_only()
        .column(answers::Column::QuestionId)
        .column(answers::Column::Value)
        .column_as(answers::Column::Id.count(), "n")
        .filter(answers::Column::RoundId.is_in(recent.iter().map(|(round, _)| *round)))
        .filter(answers::Column::QuestionId.is_in(library.keys().copied()))
        .group_by(answers::Column::QuestionId)
        .group_by(answers::Column::Value)
        .into_tuple()
        .all(&txn)
        .await?;
    txn.commit().await?;
    // Per built-in question: answers per value, over every survey that asked it.
    let mut per_key: BTreeMap<String, (bool, BTreeMap<i32, u64>)> = BTreeMap::new();
    for (question, value, n) in counts {
        let Some((key, kind)) = library.get(&question) else {
            continue;
        };
        let entry = per_key
            .entry(key.clone())
            .or_insert_with(|| (matches!(kind, QuestionKind::Enps), BTreeMap::new()));
        *entry.1.entry(value).or_default() += u64::try_from(n).unwrap_or(0);
    }
    Ok(per_key
        .into_iter()
        .filter_map(|(key, (enps, values))| {
            let total: u64 = values.values().sum();
            // Too few answers to speak for the workplace: no contribution.
            if total < u64::from(minimum) {
                return None;
            }
            let figure = if enps {
                let promoters: u64 = values.iter().filter(|(v, _)| **v >= 9).map(|(_, n)| n).sum();
                let detractors: u64 = values.iter().filter(|(v, _)| **v <= 6).map(|(_, n)| n).sum();
                (promoters as f64 - detractors as f64) * 100.0 / total as f64
            } else {
                values.iter().map(|(v, n)| f64::from(*v) * *n as f64).sum::<f64>() / total as f64
            };
            Some((key, figure))
        })
        .collect())
}

/// Recomputes every platform figure from the workplaces that opted in; returns how many
/// questions have one. Questions with fewer than [`MIN_WORKPLACES`] contributions lose theirs.
pub async fn recompute(db: &Database, now: DateTime<Utc>) -> Result<usize> {
    // A system job across workplaces: which workplaces opted in is read outside any of them.
    let opted: Vec<uuid::Uuid> = workplaces::Entity::find()
        .select_only()
        .column(workplaces::Column::Id)
        .filter(workplaces::Column::BenchmarkOptIn.eq(true))
        .into_tuple()
        .all(db.connection())
        .await?;
    let mut figures: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for workplace in opted {
        let tenant = TenantDb::for_system(db, WorkplaceId::from_uuid(workplace), "benchmark contribution");
        for (key, figure) in contribution(&tenant, now).await? {
            figures.entry(key).or_default().push(figure);
        }
    }
    let published: Vec<(String, f64, usize)> = figures
        .into_iter()
        .filter(|(_, values)| values.len() >= MIN_WORKPLACES)
        .map(|(key, values)| {
            let n = values.len();
            (key, values.iter().sum::<f64>() / n as f64, n)
        })
        .collect();
    let conn = db.connection();
    use sea_orm::TransactionTrait;
    let txn = conn.begin().await?;
    benchmarks::Entity::delete_many()
        .filter(benchmarks::Column::LibraryKey.is_not_in(published.iter().map(|(key, _, _)| key.clone())))
        .exec(&txn)
        .await?;
    for (key, value, n) in &published {
        benchmarks::Entity::insert(benchmarks::ActiveModel {
            library_key: Set(key.clone()),
            value: Set(*value),
            workplaces: Set(i32::try_from(*n).unwrap_or(i32::MAX)),
            computed_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(benchmarks::Column::LibraryKey)
                .update_columns([
                    benchmarks::Column::Value,
                    benchmarks::Column::Workplaces,
                    benchmarks::Column::ComputedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(published.len())
}

async fn opted_in(tenant: &TenantDb, conn: &impl sea_orm::ConnectionTrait) -> Result<bool> {
    Ok(workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?
        .benchmark_opt_in)
}

/// The platform figures by built-in question key, for a workplace that opted in (none
/// otherwise: seeing them is the other half of contributing).
pub(crate) async fn for_workplace(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<BTreeMap<String, Benchmark>> {
    if !opted_in(tenant, conn).await? {
        return Ok(BTreeMap::new());
    }
    // The platform figures are instance-wide rows: nothing in them belongs to one workplace.
    Ok(benchmarks::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            (
                row.library_key,
                Benchmark {
                    value: row.value,
                    workplaces: u32::try_from(row.workplaces).unwrap_or(0),
                    computed_at: row.computed_at,
                },
            )
        })
        .collect())
}

/// Whether the workplace takes part in benchmarks (the `settings` permission).
pub async fn opt_in(tenant: &TenantDb, identity: &Identity) -> Result<bool> {
    require(identity, Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let on = opted_in(tenant, &txn).await?;
    txn.commit().await?;
    Ok(on)
}

/// Opts the workplace in or out; out takes effect for the platform figures at the next
/// recomputation.
pub async fn set_opt_in(tenant: &TenantDb, identity: &Identity, on: bool) -> Result<()> {
    require(identity, Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let row = workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut changed: workplaces::ActiveModel = row.into();
    changed.benchmark_opt_in = Set(on);
    changed.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}
