//! Closing rounds: when their window ends (the job runner) or early, by someone who manages
//! surveys. The process that claims a round releases it in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::rounds::{find, RoundId};
use crate::{
    platform::{entities::rounds, ids::WorkplaceId, tenant::TenantDb},
    Database, Error, Result,
};

/// Closes every round whose window has ended, keeping its counts; returns how many.
pub async fn close_due(db: &Database, now: DateTime<Utc>) -> Result<u64> {
    // A system job across workplaces: which rounds ended is read outside any workplace.
    let due: Vec<(RoundId, uuid::Uuid)> = rounds::Entity::find()
        .select_only()
        .column(rounds::Column::Id)
        .column(rounds::Column::WorkplaceId)
        .filter(rounds::Column::ClosedAt.is_null())
        .filter(rounds::Column::ClosesAt.lte(now))
        .into_tuple()
        .all(db.connection())
        .await?;
    let mut closed = 0;
    for (round, workplace) in due {
        let tenant = TenantDb::for_system(db, WorkplaceId::from_uuid(workplace), "close survey rounds");
        // One round that cannot be released must not keep every other round open, nor stop the
        // scheduler's other jobs: it is logged and tried again on the next run.
        match close_one(&tenant, round, now).await {
            Ok(true) => closed += 1,
            Ok(false) => {}
            Err(err) => tracing::error!(%round, error = %err, "a survey round could not be closed"),
        }
    }
    Ok(closed)
}

/// Closes and releases one due round in its own transaction; false when another process
/// closed it first.
async fn close_one(tenant: &TenantDb, round: RoundId, now: DateTime<Utc>) -> Result<bool> {
    let txn = tenant.begin().await?;
    // Another process may have closed it meanwhile: only the one that closes it releases it.
    let claimed = tenant
        .update_many::<rounds::Entity>()
        .col_expr(
            rounds::Column::ClosedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .filter(rounds::Column::Id.eq(round))
        .filter(rounds::Column::ClosedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    release_closed(tenant, &txn, round, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// What closing a round does, in the transaction that claimed it: its ballots are opened, its
/// results released and frozen, and only what that release allows is kept.
async fn release_closed(
    tenant: &TenantDb,
    txn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
    now: DateTime<Utc>,
) -> Result<()> {
    super::release::close(tenant, txn, round, now).await
}

/// Ends an open round now, before its window is over (people with `surveys`): nobody can answer
/// it any more and its results are released.
pub async fn close_now(tenant: &TenantDb, round: RoundId, now: DateTime<Utc>) -> Result<()> {
    use crate::platform::policy::{Action, Resource};
    tenant.touch(crate::platform::audit::EntityType::Round, [round]);
    tenant.require(Action::ManageSurveys, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let row = find(tenant, &txn, round).await?;
    if row.closed_at.is_some() {
        return Err(Error::Conflict("This round has already closed.".into()));
    }
    if row.opens_at > now {
        return Err(Error::Conflict("This round has not opened yet.".into()));
    }
    let claimed = tenant
        .update_many::<rounds::Entity>()
        .col_expr(
            rounds::Column::ClosedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .col_expr(rounds::Column::ClosesAt, sea_orm::sea_query::Expr::value(now))
        .filter(rounds::Column::WorkplaceId.eq(tenant.workplace_id().uuid()))
        .filter(rounds::Column::Id.eq(round))
        .filter(rounds::Column::ClosedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(Error::Conflict("This round has already closed.".into()));
    }
    release_closed(tenant, &txn, round, now).await?;
    txn.commit().await?;
    Ok(())
}
