//! Leases for background jobs. Any number of Candor processes may share one database; before a
//! process runs a scheduled job it takes the job's lease, and only the holder of an unexpired
//! lease runs it. A lease expires by itself, so a process that dies mid-job blocks nobody for
//! longer than the lease.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, Condition, EntityTrait, QueryFilter, Set,
};

use crate::{platform::entities::job_leases, Database, Result};

/// A job this process holds until `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub job: String,
    holder: String,
    pub until: DateTime<Utc>,
    /// When the job last finished, in any process.
    pub last_finished_at: Option<DateTime<Utc>>,
}

/// Takes the lease on `job` for `holder` until `now + length`, if nobody else holds it.
pub async fn try_lease(
    db: &Database,
    job: &str,
    holder: &str,
    length: Duration,
    now: DateTime<Utc>,
) -> Result<Option<Lease>> {
    let conn = db.connection();
    // The row exists from the first attempt on, already expired.
    job_leases::Entity::insert(job_leases::ActiveModel {
        name: Set(job.to_owned()),
        holder: Set(String::new()),
        leased_until: Set(DateTime::<Utc>::UNIX_EPOCH),
        last_finished_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(job_leases::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    let until = now + length;
    // One conditional update: of two processes racing, the database lets exactly one match.
    let taken = job_leases::Entity::update_many()
        .col_expr(job_leases::Column::Holder, Expr::value(holder.to_owned()))
        .col_expr(job_leases::Column::LeasedUntil, Expr::value(until))
        .filter(job_leases::Column::Name.eq(job))
        .filter(
            Condition::any()
                .add(job_leases::Column::LeasedUntil.lte(now))
                .add(job_leases::Column::Holder.eq(holder)),
        )
        .exec(conn)
        .await?
        .rows_affected;
    if taken != 1 {
        return Ok(None);
    }
    let row = job_leases::Entity::find_by_id(job.to_owned()).one(conn).await?;
    Ok(Some(Lease {
        job: job.to_owned(),
        holder: holder.to_owned(),
        until,
        last_finished_at: row.and_then(|row| row.last_finished_at),
    }))
}

/// Records the job as finished at `now` and gives the lease back.
pub async fn finish(db: &Database, lease: Lease, now: DateTime<Utc>) -> Result<()> {
    job_leases::Entity::update_many()
        .col_expr(job_leases::Column::LeasedUntil, Expr::value(now))
        .col_expr(job_leases::Column::LastFinishedAt, Expr::value(Some(now)))
        .filter(job_leases::Column::Name.eq(lease.job.as_str()))
        .filter(job_leases::Column::Holder.eq(lease.holder.as_str()))
        .exec(db.connection())
        .await?;
    Ok(())
}

/// Gives the lease back without recording a finish (the job found nothing due).
pub async fn release(db: &Database, lease: Lease, now: DateTime<Utc>) -> Result<()> {
    job_leases::Entity::update_many()
        .col_expr(job_leases::Column::LeasedUntil, Expr::value(now))
        .filter(job_leases::Column::Name.eq(lease.job.as_str()))
        .filter(job_leases::Column::Holder.eq(lease.holder.as_str()))
        .exec(db.connection())
        .await?;
    Ok(())
}
