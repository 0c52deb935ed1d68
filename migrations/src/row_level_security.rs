//! Row-level security for a workplace table on PostgreSQL, as migration 7 set it up for the
//! first tenant tables: a policy keyed on the transaction's `candor.workplace_id`, forced on the
//! table owner too. Later tenant tables use these helpers in their own migrations.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

const CURRENT: &str = "nullif(current_setting('candor.workplace_id', true), '')";

pub async fn enable(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
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
    Ok(())
}

pub async fn disable(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    for statement in [
        format!("DROP POLICY IF EXISTS {table}_one_workplace ON {table}"),
        format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"),
    ] {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}
