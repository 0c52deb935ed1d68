//! The tenant scope: the only way domain code reaches a workplace's tables. A `TenantDb` exists
//! for a verified identity or for a named system job, never from nothing; every query it builds
//! is filtered by the workplace, and on PostgreSQL every transaction also sets the workplace for
//! row-level-security policies.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Select, TransactionTrait,
};

use crate::{ids::WorkplaceId, policy::Identity, Backend, Database, Result};

/// The database as one workplace sees it.
#[derive(Clone, Debug)]
pub struct TenantDb {
    db: Database,
    workplace_id: WorkplaceId,
}

/// An entity that belongs to one workplace.
pub(crate) trait TenantScoped: EntityTrait {
    fn workplace_column() -> Self::Column;
}

impl TenantDb {
    /// The workplace of a signed-in person, as the policy loaded them.
    pub fn for_identity(db: &Database, identity: &Identity) -> Self {
        Self {
            db: db.clone(),
            workplace_id: identity.workplace_id,
        }
    }

    /// One workplace for a background job or CLI command; `purpose` names it in the log.
    pub fn for_system(db: &Database, workplace_id: WorkplaceId, purpose: &'static str) -> Self {
        tracing::debug!(%workplace_id, purpose, "system access to a workplace");
        Self {
            db: db.clone(),
            workplace_id,
        }
    }

    pub fn workplace_id(&self) -> WorkplaceId {
        self.workplace_id
    }

    /// A transaction bound to this workplace.
    pub(crate) async fn begin(&self) -> Result<DatabaseTransaction> {
        let txn = self.db.connection().begin().await?;
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

    /// Rows of `E` in this workplace only.
    pub(crate) fn select<E: TenantScoped>(&self) -> Select<E> {
        E::find().filter(E::workplace_column().eq(self.workplace_id.uuid()))
    }
}
