//! The tenant scope: the only way domain code reaches a workplace's tables. A `TenantDb` exists
//! for a verified identity or for a named system job, never from nothing; every query it builds
//! is filtered by the workplace, and on PostgreSQL every transaction also sets the workplace for
//! row-level-security policies.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DeleteMany, EntityTrait, QueryFilter, Select,
    TransactionTrait, UpdateMany,
};

use crate::{
    platform::{
        audit::Trail,
        entities::TenantScoped,
        ids::WorkplaceId,
        policy::{self, Action, Identity, Resource},
    },
    Backend, Database, Result,
};

/// The database as one workplace sees it.
#[derive(Clone, Debug)]
pub struct TenantDb {
    db: Database,
    workplace_id: WorkplaceId,
    /// Who acts through this scope: the policy is asked about them before every change.
    actor: Actor,
    /// Where reads and changes are recorded for the audit log.
    trail: Option<Trail>,
}

/// Who acts through a tenant scope: a signed-in person as the policy loaded them, or one of
/// Candor's own jobs, named for the log.
#[derive(Clone, Debug)]
pub enum Actor {
    Person(std::sync::Arc<Identity>),
    System(&'static str),
}

/// A transaction of one workplace. Committing it first writes what its trail collected into
/// the audit log, inside the same transaction: a change is never stored without its entry, and
/// an entry that cannot be written undoes the change.
pub(crate) struct TenantTxn {
    txn: DatabaseTransaction,
    trail: Option<Trail>,
    workplace_id: WorkplaceId,
}

impl std::ops::Deref for TenantTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl TenantTxn {
    pub(crate) async fn commit(self) -> Result<()> {
        if let Some(trail) = &self.trail {
            write_trail_entries(&self.txn, vec![(trail, self.workplace_id)]).await?;
        }
        self.txn.commit().await?;
        Ok(())
    }

    /// Undoes everything in this transaction; its trail records nothing.
    pub(crate) async fn rollback(self) -> Result<()> {
        self.txn.rollback().await?;
        Ok(())
    }
}

/// Writes what `trails` collected into the audit log through `txn`, the transaction that made
/// their changes: anonymous requests' entries wait for their day to end, the others are
/// chained at once, all of them in one append.
async fn write_trail_entries(txn: &DatabaseTransaction, trails: Vec<(&Trail, WorkplaceId)>) -> Result<()> {
    let mut chained = Vec::new();
    let mut deferred = Vec::new();
    for (trail, workplace) in trails {
        let entries = trail.take_for_commit(workplace);
        if trail.is_anonymous() {
            deferred.extend(entries);
        } else {
            chained.extend(entries);
        }
    }
    if !deferred.is_empty() {
        crate::platform::audit::pending::defer(txn, &deferred).await?;
    }
    if !chained.is_empty() {
        crate::platform::audit::append(txn, &chained).await?;
    }
    Ok(())
}

/// The audit entries of `scopes`' requests, written into `txn`: for changes several requests
/// made in one transaction (check-ins stored together).
pub(crate) async fn write_trails(txn: &DatabaseTransaction, scopes: &[&TenantDb]) -> Result<()> {
    let trails = scopes
        .iter()
        .filter_map(|scope| scope.trail.as_ref().map(|trail| (trail, scope.workplace_id)))
        .collect();
    write_trail_entries(txn, trails).await
}

#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for TenantTxn {
    fn get_database_backend(&self) -> sea_orm::DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> std::result::Result<sea_orm::ExecResult, sea_orm::DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(
        &self,
        sql: &str,
    ) -> std::result::Result<sea_orm::ExecResult, sea_orm::DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> std::result::Result<Option<sea_orm::QueryResult>, sea_orm::DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> std::result::Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

/// Addresses that already have an account: in this workplace, or in another one.
#[derive(Debug, Default)]
pub(crate) struct TakenAddresses {
    pub(crate) here: std::collections::BTreeSet<String>,
    pub(crate) elsewhere: std::collections::BTreeSet<String>,
}

impl TenantDb {
    /// The workplace of a signed-in person, as the policy loaded them.
    pub fn for_identity(db: &Database, identity: &Identity) -> Self {
        Self {
            db: db.clone(),
            workplace_id: identity.workplace_id,
            actor: Actor::Person(std::sync::Arc::new(identity.clone())),
            trail: None,
        }
    }

    /// Who acts through this scope.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The signed-in person acting through this scope, for what answers to a person (their
    /// check-ins, what their role may see). Candor's own jobs act for no one and are refused.
    pub fn person(&self) -> Result<&Identity> {
        match &self.actor {
            Actor::Person(identity) => Ok(identity),
            Actor::System(_) => Err(crate::Error::Forbidden),
        }
    }

    /// This scope with `identity` acting in it, keeping its workplace and trail: lets a test
    /// act as several people of one workplace.
    #[cfg(feature = "testing")]
    pub fn as_person(&self, identity: &Identity) -> Self {
        Self {
            actor: Actor::Person(std::sync::Arc::new(identity.clone())),
            ..self.clone()
        }
    }

    /// Asks the policy whether this scope's actor may do `action` on `resource`: the check every
    /// domain change makes before it reads or writes anything. Candor's own jobs do what they
    /// were written to do.
    pub fn require(&self, action: Action, resource: Resource) -> Result<()> {
        match &self.actor {
            Actor::Person(identity) => policy::require(identity, action, resource),
            Actor::System(_) => Ok(()),
        }
    }

    /// Whether this scope's actor may do `action` on `resource`, for choices offered rather than
    /// refused (which roles an import may give). Candor's own jobs may.
    pub fn allows(&self, action: Action, resource: Resource) -> bool {
        match &self.actor {
            Actor::Person(identity) => policy::allows(identity, action, resource),
            Actor::System(_) => true,
        }
    }

    /// Records this scope's reads and changes in `trail` (the request's).
    pub fn with_trail(mut self, trail: Trail) -> Self {
        self.trail = Some(trail);
        self
    }

    /// Keeps this request's entries at the day, without request id (see [`Trail::coarsen`]).
    pub(crate) fn coarsen_trail(&self) {
        if let Some(trail) = &self.trail {
            trail.coarsen();
        }
    }

    /// Records this request without its actor, at the day (see [`Trail::anonymise`]).
    pub(crate) fn anonymise_trail(&self) {
        if let Some(trail) = &self.trail {
            trail.anonymise();
        }
    }

    /// The time as the request's clock reads it (the system clock outside a request).
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.trail.as_ref().map_or_else(chrono::Utc::now, Trail::now)
    }

    /// Notes that `ids` of `entity` were read or changed, for the audit log.
    pub(crate) fn touch(
        &self,
        entity: crate::platform::audit::EntityType,
        ids: impl IntoIterator<Item = uuid::Uuid>,
    ) {
        if let Some(trail) = &self.trail {
            trail.touch(entity, ids);
        }
    }

    /// One workplace for a background job or CLI command; `purpose` names it in the log.
    pub(crate) fn for_system(db: &Database, workplace_id: WorkplaceId, purpose: &'static str) -> Self {
        tracing::debug!(%workplace_id, purpose, "system access to a workplace");
        Self {
            db: db.clone(),
            workplace_id,
            actor: Actor::System(purpose),
            trail: Some(Trail::for_system(
                std::sync::Arc::new(crate::SystemClock),
                purpose,
            )),
        }
    }

    /// The scope the audit log writes a request's remaining entries through: no trail of its own
    /// (its writes are the log), no log line per request.
    pub(crate) fn for_audit_log(db: &Database, workplace_id: WorkplaceId) -> Self {
        Self {
            db: db.clone(),
            workplace_id,
            actor: Actor::System("access log"),
            trail: None,
        }
    }

    pub fn workplace_id(&self) -> WorkplaceId {
        self.workplace_id
    }

    /// A transaction bound to this workplace, for work that may write (see
    /// [`Database::begin_write`]).
    pub(crate) async fn begin(&self) -> Result<TenantTxn> {
        let txn = self.db.begin_write().await?;
        Ok(TenantTxn {
            txn: self.bind(txn).await?,
            trail: self.trail.clone(),
            workplace_id: self.workplace_id,
        })
    }

    /// A write transaction whose commit records nothing: for the audit log's own writes.
    pub(crate) async fn begin_unlogged(&self) -> Result<DatabaseTransaction> {
        let txn = self.db.begin_write().await?;
        self.bind(txn).await
    }

    /// A transaction bound to this workplace that only reads: on SQLite it runs beside other
    /// readers and a writer instead of queueing for the write lock.
    pub(crate) async fn begin_read(&self) -> Result<DatabaseTransaction> {
        let txn = self.db.connection().begin().await?;
        self.bind(txn).await
    }

    /// Ends this transaction's binding to the workplace, for the instance's own record of what
    /// was just done to it (a deleted workplace's deletion, written to the instance's chain in
    /// the same transaction). Only for rows of no workplace: nothing else may follow.
    pub(crate) async fn unbind(&self, txn: &DatabaseTransaction) -> Result<()> {
        if self.db.backend() == Backend::Postgres {
            txn.execute_unprepared("SELECT set_config('candor.workplace_id', '', true)")
                .await?;
        }
        Ok(())
    }

    async fn bind(&self, txn: DatabaseTransaction) -> Result<DatabaseTransaction> {
        if self.db.backend() == Backend::Postgres {
            // Transaction-local: pooled connections never carry one workplace into another's
            // request.
            txn.execute_unprepared(&format!(
                "SELECT set_config('candor.workplace_id', '{}', true)",
                self.workplace_id.uuid()
            ))
            .await?;
        }
        Ok(txn)
    }

    /// Counts every row of `table` with no filter of Candor's own, inside a tenant transaction:
    /// on PostgreSQL, row-level security alone decides what is counted.
    #[cfg(feature = "testing")]
    pub async fn count_unfiltered(&self, table: &str) -> Result<i64> {
        let txn = self.begin().await?;
        let row = txn
            .query_one_raw(sea_orm::Statement::from_string(
                txn.get_database_backend(),
                format!("SELECT count(*) AS n FROM {table}"),
            ))
            .await?
            .ok_or_else(|| crate::Error::Internal("count returned nothing".into()))?;
        let n: i64 = row.try_get("", "n")?;
        txn.commit().await?;
        Ok(n)
    }

    /// Inserts a department row for another workplace through this tenant's transaction, as a
    /// buggy query would; row-level security must refuse it on PostgreSQL.
    #[cfg(feature = "testing")]
    pub async fn insert_department_for(&self, other: WorkplaceId) -> Result<()> {
        use sea_orm::ActiveModelTrait;
        let txn = self.begin().await?;
        crate::platform::entities::departments::ActiveModel {
            id: sea_orm::Set(uuid::Uuid::new_v4()),
            workplace_id: sea_orm::Set(other.uuid()),
            parent_id: sea_orm::Set(None),
            name: sea_orm::Set("Smuggled".into()),
            archived_at: sea_orm::Set(None),
            created_at: sea_orm::Set(chrono::Utc::now()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Which of `emails` already belong to an account, in this workplace or another. Addresses
    /// are unique across Candor, so this one check looks beyond the workplace (outside its
    /// row-level security); callers tell the other workplaces' part only to someone who has
    /// spent invitation allowance on it (see [`crate::organisation::invitation_budget`]).
    pub(crate) async fn emails_taken(&self, emails: &[String]) -> Result<TakenAddresses> {
        use sea_orm::QuerySelect;
        let keyring = self.db.keyring()?;
        // Compared by blind index: the addresses themselves are sealed.
        let by_index: std::collections::HashMap<Vec<u8>, &String> = emails
            .iter()
            .map(|email| (keyring.email_index(email), email))
            .collect();
        let mut taken = TakenAddresses::default();
        let indexes: Vec<Vec<u8>> = by_index.keys().cloned().collect();
        for chunk in indexes.chunks(500) {
            let found: Vec<(Option<Vec<u8>>, uuid::Uuid)> = crate::platform::entities::users::Entity::find()
                .select_only()
                .column(crate::platform::entities::users::Column::EmailIndex)
                .column(crate::platform::entities::users::Column::WorkplaceId)
                .filter(crate::platform::entities::users::Column::EmailIndex.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(self.db.connection())
                .await?;
            for (index, workplace) in found {
                let Some(email) = index.and_then(|index| by_index.get(&index).map(|email| (*email).clone()))
                else {
                    continue;
                };
                if workplace == self.workplace_id.uuid() {
                    taken.here.insert(email);
                } else {
                    taken.elsewhere.insert(email);
                }
            }
        }
        Ok(taken)
    }

    /// This workplace's data keys (its first one is created on first use), for sealing and
    /// opening its personal fields.
    pub async fn data_keys(&self) -> Result<std::sync::Arc<crate::platform::crypto::TenantKeys>> {
        self.data_keys_in(self.db.connection()).await
    }

    /// [`TenantDb::data_keys`] through `conn` (a transaction already open).
    pub(crate) async fn data_keys_in(
        &self,
        conn: &impl ConnectionTrait,
    ) -> Result<std::sync::Arc<crate::platform::crypto::TenantKeys>> {
        self.db
            .keyring()?
            .tenant(conn, self.workplace_id, chrono::Utc::now())
            .await
    }

    pub(crate) fn database(&self) -> &Database {
        &self.db
    }

    pub(crate) fn keyring(&self) -> Result<&crate::platform::crypto::Keyring> {
        self.db.keyring()
    }

    /// Rows of `E` in this workplace only.
    pub(crate) fn select<E: TenantScoped>(&self) -> Select<E> {
        E::find().filter(E::workplace_column().eq(self.workplace_id.uuid()))
    }

    /// Changes to rows of `E` in this workplace only: every update of a workplace's table
    /// goes through here (a test forbids the unscoped `Entity::update_many`).
    pub(crate) fn update_many<E: TenantScoped>(&self) -> UpdateMany<E> {
        Self::update_in(self.workplace_id)
    }

    /// [`TenantDb::update_many`] for account-level work that knows the workplace from the
    /// account itself and runs in its caller's transaction.
    pub(crate) fn update_in<E: TenantScoped>(workplace: WorkplaceId) -> UpdateMany<E> {
        E::update_many().filter(E::workplace_column().eq(workplace.uuid()))
    }

    /// Deletion of rows of `E` in this workplace only: every delete from a workplace's table
    /// goes through here (a test forbids the unscoped `Entity::delete_many`).
    pub(crate) fn delete_many<E: TenantScoped>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::workplace_column().eq(self.workplace_id.uuid()))
    }
}
