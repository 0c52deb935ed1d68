//! Which rows go into which part of a backup, in the order a restore inserts them (a row after
//! the rows it refers to), and how one table is written out and read back in.
//!
//! A workplace's part holds its `workplaces` row, every row with its `workplace_id`, and its
//! people's account rows (`user_id`). The instance's part holds the rest: keys, leases,
//! throttles, benchmarks, and log rows of no workplace or of one since deleted. The mail queue is
//! in no part. Every table is named here; a unit test fails when a table is missing.

use futures_util::StreamExt;
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Query},
    Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, Iterable,
    PrimaryKeyToColumn, QueryFilter, QueryOrder,
};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    segment::{SegmentSender, TableDigest, TableSummary},
    BackupError,
};
use crate::platform::entities;

/// How a table's rows are divided between the parts of a backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Every row is the instance's.
    Instance,
    /// The `workplaces` table itself.
    WorkplaceRow,
    /// Rows carry `workplace_id`. `orphans`: the column may be empty or name a workplace that
    /// no longer exists (log rows have no foreign key); those rows are the instance's.
    Workplace { orphans: bool },
    /// Rows of a person (`user_id`). `nullable`: rows of nobody are the instance's.
    Person { nullable: bool },
    /// In no part: the mail queue. A restored instance must not send mail that was waiting when
    /// the backup was taken (reminders of a round long closed, links long expired), and dead
    /// letters holding live links must not outlive their 14 days in a backup.
    NotBackedUp,
}

/// Which part is being written or checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Instance,
    Workplace(uuid::Uuid),
}

pub struct Table {
    pub name: &'static str,
    pub owner: Owner,
}

impl Table {
    /// The rows of this table that belong to `part`, or None when none can.
    pub fn filter(&self, part: Part) -> Option<Condition> {
        let workplace_ids = || {
            Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("workplaces"))
                .to_owned()
        };
        match (self.owner, part) {
            (Owner::NotBackedUp, _) => None,
            (Owner::Instance, Part::Instance) => Some(Condition::all()),
            (Owner::Instance, Part::Workplace(_)) => None,
            (Owner::WorkplaceRow, Part::Instance) => None,
            (Owner::WorkplaceRow, Part::Workplace(id)) => {
                Some(Condition::all().add(Expr::col(Alias::new("id")).eq(id)))
            }
            (Owner::Workplace { orphans }, Part::Instance) => orphans.then(|| {
                Condition::any()
                    .add(Expr::col(Alias::new("workplace_id")).is_null())
                    .add(Expr::col(Alias::new("workplace_id")).not_in_subquery(workplace_ids()))
            }),
            (Owner::Workplace { .. }, Part::Workplace(id)) => {
                Some(Condition::all().add(Expr::col(Alias::new("workplace_id")).eq(id)))
            }
            (Owner::Person { nullable }, Part::Instance) => {
                nullable.then(|| Condition::all().add(Expr::col(Alias::new("user_id")).is_null()))
            }
            (Owner::Person { .. }, Part::Workplace(id)) => Some(
                Condition::all().add(
                    Expr::col(Alias::new("user_id")).in_subquery(
                        Query::select()
                            .column(Alias::new("id"))
                            .from(Alias::new("users"))
                            .and_where(Expr::col(Alias::new("workplace_id")).eq(id))
                            .to_owned(),
                    ),
                ),
            ),
        }
    }
}

/// The most values one restore `INSERT` binds: below SQLite's limit of 32,766 (PostgreSQL allows
/// 65,535). A statement holds as many rows as fit, so narrow tables go in with few statements.
const VALUES_PER_INSERT: usize = 30_000;

/// Tables whose rows must all be at hand before any is inserted: departments refer to their
/// parent department, so a restore orders them parent first ([`parent_first`]).
pub fn loaded_whole(table: &str) -> bool {
    table == "departments"
}

macro_rules! tables {
    ($( $table:ident: $owner:expr ),* $(,)?) => {
        /// Every table, parents before children.
        pub const TABLES: &[Table] = &[ $( Table { name: stringify!($table), owner: $owner } ),* ];

        /// Writes `table`'s rows matching `filter` to `out`; returns how many.
        pub async fn dump(
            txn: &DatabaseTransaction,
            table: &str,
            filter: Condition,
            rows: u64,
            out: &mut SegmentSender,
            tick: &mut (dyn FnMut(u64) + Send),
        ) -> Result<u64, BackupError> {
            match table {
                $( stringify!($table) => dump_rows::<entities::$table::Entity>(txn, table, filter, rows, out, tick).await, )*
                other => Err(BackupError::Internal(format!("no table {other}"))),
            }
        }

        /// The summary of `table`'s rows matching `filter`, as a segment's closing frame has it.
        pub async fn digest(txn: &DatabaseTransaction, table: &str, filter: Condition) -> Result<TableSummary, BackupError> {
            match table {
                $( stringify!($table) => digest_rows::<entities::$table::Entity>(txn, table, filter).await, )*
                other => Err(BackupError::Internal(format!("no table {other}"))),
            }
        }

        /// Inserts rows read from a segment into `table`.
        pub async fn load(txn: &DatabaseTransaction, table: &str, rows: Vec<Vec<u8>>) -> Result<(), BackupError> {
            match table {
                $( stringify!($table) => load_rows::<entities::$table::Entity>(txn, table, rows).await, )*
                other => Err(BackupError::Corrupt { file: String::new(), reason: format!("unknown table {other}") }),
            }
        }

        /// The SQL name each entity maps to, for the completeness test.
        #[cfg(test)]
        pub fn entity_table_names() -> Vec<(&'static str, String)> {
            use sea_orm::EntityName;
            vec![ $( (stringify!($table), entities::$table::Entity.table_name().to_owned()) ),* ]
        }
    };
}

tables! {
    // The instance's own tables.
    master_keys: Owner::Instance,
    instance_keys: Owner::Instance,
    job_leases: Owner::Instance,
    benchmarks: Owner::Instance,
    benchmark_publications: Owner::Instance,
    throttle_events: Owner::Instance,
    account_throttles: Owner::Instance,
    backup_runs: Owner::Instance,
    backup_shreds: Owner::Instance,
    incidents: Owner::Instance,
    subprocessors: Owner::Instance,
    subprocessor_changes: Owner::Instance,
    // A workplace and everything it owns.
    workplaces: Owner::WorkplaceRow,
    data_keys: Owner::Workplace { orphans: false },
    backup_keys: Owner::Workplace { orphans: false },
    key_rotations: Owner::Workplace { orphans: false },
    workplace_roles: Owner::Workplace { orphans: false },
    departments: Owner::Workplace { orphans: false },
    users: Owner::Workplace { orphans: false },
    email_tokens: Owner::Person { nullable: false },
    sessions: Owner::Person { nullable: false },
    totp_factors: Owner::Person { nullable: false },
    recovery_codes: Owner::Person { nullable: false },
    passkeys: Owner::Person { nullable: false },
    webauthn_ceremonies: Owner::Person { nullable: true },
    trusted_devices: Owner::Person { nullable: false },
    department_grants: Owner::Workplace { orphans: false },
    surveys: Owner::Workplace { orphans: false },
    survey_questions: Owner::Workplace { orphans: false },
    survey_targets: Owner::Workplace { orphans: false },
    rounds: Owner::Workplace { orphans: false },
    round_participants: Owner::Workplace { orphans: false },
    answers: Owner::Workplace { orphans: false },
    comments: Owner::Workplace { orphans: false },
    comment_replies: Owner::Workplace { orphans: false },
    round_tallies: Owner::Workplace { orphans: false },
    round_releases: Owner::Workplace { orphans: false },
    ballots: Owner::Workplace { orphans: false },
    security_events: Owner::Workplace { orphans: true },
    audit_chains: Owner::Workplace { orphans: true },
    audit_log: Owner::Workplace { orphans: true },
    audit_pending: Owner::Workplace { orphans: false },
    audit_reviews: Owner::Workplace { orphans: false },
    audit_alerts: Owner::Workplace { orphans: false },
    audit_settings: Owner::Workplace { orphans: false },
    support_grants: Owner::Workplace { orphans: false },
    subject_requests: Owner::Workplace { orphans: false },
    incident_workplaces: Owner::Workplace { orphans: false },
    retention_policies: Owner::Workplace { orphans: false },
    invitation_mail: Owner::Workplace { orphans: false },
    workplace_terminations: Owner::Workplace { orphans: false },
    // Mail waiting for delivery: never in a backup (see `Owner::NotBackedUp`).
    mail_queue: Owner::NotBackedUp,
}

/// The rows matching `filter`. `ordered`: in primary-key order (for what is written out).
fn matching<E: EntityTrait>(filter: Condition, ordered: bool) -> sea_orm::Select<E> {
    // What is written out goes in primary-key order, never the physical one: rows stored in the
    // order they were written (ballots next to the participants who cast them) must not carry
    // that order into a backup. A digest sorts its row hashes itself, so it reads unordered.
    let mut select = E::find().filter(filter);
    if ordered {
        for key in E::PrimaryKey::iter() {
            select = select.order_by_asc(key.into_column());
        }
    }
    select
}

/// A row as a backup holds it.
fn encoded<M: Serialize>(table: &str, model: Result<M, sea_orm::DbErr>) -> Result<Vec<u8>, BackupError> {
    postcard::to_allocvec(&model.map_err(db_error)?)
        .map_err(|err| BackupError::Internal(format!("cannot encode a {table} row: {err}")))
}

async fn dump_rows<E>(
    txn: &DatabaseTransaction,
    table: &str,
    filter: Condition,
    rows: u64,
    out: &mut SegmentSender,
    tick: &mut (dyn FnMut(u64) + Send),
) -> Result<u64, BackupError>
where
    E: EntityTrait,
    E::Model: Serialize + Send + Sync,
{
    out.start_table(table, rows).await?;
    let mut written = 0u64;
    let mut stream = matching::<E>(filter, true).stream(txn).await.map_err(db_error)?;
    while let Some(model) = stream.next().await {
        out.row(encoded(table, model)?).await?;
        written += 1;
        if written.is_multiple_of(1000) {
            tick(1000);
        }
    }
    tick(written % 1000);
    Ok(written)
}

async fn digest_rows<E>(
    txn: &DatabaseTransaction,
    table: &str,
    filter: Condition,
) -> Result<TableSummary, BackupError>
where
    E: EntityTrait,
    E::Model: Serialize + Send + Sync,
{
    let mut digest = TableDigest::default();
    let mut stream = matching::<E>(filter, false).stream(txn).await.map_err(db_error)?;
    while let Some(model) = stream.next().await {
        digest.add(&encoded(table, model)?);
    }
    Ok(digest.finish(table))
}

/// Rows of a table whose rows refer to others of the same table (departments to their parent)
/// must go in parent-first; the dump writes them in whatever order the database returns them.
fn parent_first(table: &str, rows: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, BackupError> {
    if !loaded_whole(table) {
        return Ok(rows);
    }
    let mut models: Vec<(entities::departments::Model, Vec<u8>)> = rows
        .into_iter()
        .map(|bytes| postcard::from_bytes(&bytes).map(|model| (model, bytes)))
        .collect::<Result<_, _>>()
        .map_err(|err| BackupError::Corrupt {
            file: String::new(),
            reason: format!("a departments row does not decode ({err})"),
        })?;
    let mut placed = std::collections::HashSet::new();
    let mut ordered = Vec::with_capacity(models.len());
    while !models.is_empty() {
        let before = models.len();
        let (ready, waiting): (Vec<_>, Vec<_>) = models
            .into_iter()
            .partition(|(model, _)| model.parent_id.is_none_or(|parent| placed.contains(&parent)));
        for (model, bytes) in ready {
            placed.insert(model.id);
            ordered.push(bytes);
        }
        models = waiting;
        if models.len() == before {
            return Err(BackupError::Corrupt {
                file: String::new(),
                reason: "departments refer to parents that are not in the backup".into(),
            });
        }
    }
    Ok(ordered)
}

async fn load_rows<E>(txn: &DatabaseTransaction, table: &str, rows: Vec<Vec<u8>>) -> Result<(), BackupError>
where
    E: EntityTrait,
    E::Model: DeserializeOwned + IntoActiveModel<E::ActiveModel>,
{
    let rows = parent_first(table, rows)?;
    let per_insert = (VALUES_PER_INSERT / E::Column::iter().count().max(1)).max(1);
    let mut batch = Vec::with_capacity(per_insert.min(rows.len()));
    for bytes in rows {
        let model: E::Model = postcard::from_bytes(&bytes).map_err(|err| BackupError::Corrupt {
            file: String::new(),
            reason: format!("a {table} row does not decode ({err})"),
        })?;
        batch.push(model.into_active_model());
        if batch.len() == per_insert {
            E::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(txn)
                .await
                .map_err(db_error)?;
        }
    }
    if !batch.is_empty() {
        E::insert_many(batch)
            .exec_without_returning(txn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// How many rows of `table` match `filter`, inside the snapshot.
pub async fn count(
    txn: &DatabaseTransaction,
    table: &str,
    filter: Option<Condition>,
) -> Result<u64, BackupError> {
    let mut query = Query::select();
    query.expr(Expr::cust("count(*)")).from(Alias::new(table));
    if let Some(filter) = filter {
        query.cond_where(filter);
    }
    let row = txn
        .query_one(&query)
        .await
        .map_err(db_error)?
        .ok_or_else(|| BackupError::Internal("count returned nothing".into()))?;
    let n: i64 = row.try_get_by_index(0).map_err(db_error)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn db_error(err: sea_orm::DbErr) -> BackupError {
    BackupError::Database(crate::Error::from(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_names_its_entity_table() {
        for (listed, actual) in entity_table_names() {
            assert_eq!(listed, actual);
        }
        assert_eq!(TABLES.len(), entity_table_names().len());
    }

    #[test]
    fn a_workplace_table_is_never_part_of_the_instance_unless_it_can_hold_orphans() {
        let instance: Vec<_> = TABLES
            .iter()
            .filter(|table| table.filter(Part::Instance).is_some())
            .map(|table| table.name)
            .collect();
        assert!(instance.contains(&"audit_log"));
        assert!(instance.contains(&"webauthn_ceremonies"));
        assert!(!instance.contains(&"users"));
        assert!(!instance.contains(&"answers"));
    }
}
