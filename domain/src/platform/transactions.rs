//! Write transactions started alike on either backend: on SQLite a writer takes the write lock
//! when it begins (`BEGIN IMMEDIATE`), so two writers never both read and then fail to upgrade.

use sea_orm::DatabaseConnection;

use crate::Result;

/// A write transaction on a bare connection (`Database::begin_write` and the security-event
/// writer task, which holds one) (the security-event writer task holds one).
pub(crate) async fn begin_write_on(conn: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    Ok(match conn.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            conn.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?
        }
        _ => conn.begin().await?,
    })
}
