//! PostgreSQL row-level security on every table that belongs to one workplace. A transaction
//! opened through the tenant scope sets `candor.workplace_id`; the policies then show and accept
//! only that workplace's rows, even for a query that forgot its filter. Outside a tenant
//! transaction (sign-in by email, which cannot know the workplace yet) the setting is empty and
//! rows are not restricted. FORCE applies the policies to the tables' owner as well; only
//! superusers and BYPASSRLS roles skip them, which Candor reports at start.
//!
//! SQLite has no row-level security: there the tenant scope's filters are the guard.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub const TENANT_TABLES: [&str; 3] = ["users", "departments", "department_grants"];

const CURRENT: &str = "nullif(current_setting('candor.workplace_id', true), '')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TENANT_TABLES {
            for statement in [
                format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
                format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
                format!(
                    "CREATE POLICY {table}_one_workplace ON {table} \
                     USING ({CURRENT} IS NULL OR workplace_id = {CURRENT}::uuid) \
                     WITH CHECK ({CURRENT} IS NULL OR workplace_id = {CURRENT}::uuid)"
                ),
            ] {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TENANT_TABLES {
            for statement in [
                format!("DROP POLICY IF EXISTS {table}_one_workplace ON {table}"),
                format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"),
                format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"),
            ] {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }
}
