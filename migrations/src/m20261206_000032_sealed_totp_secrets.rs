//! Authenticator-app seeds become sealed fields under the workplace's data key.
//!
//! The plaintext column is renamed `legacy_secret`: when Candor next starts with its master key,
//! it seals every seed still held in clear and empties the legacy value (SQLite cannot drop a
//! NOT NULL column without rebuilding the table, so the emptied column stays for now).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TotpFactors {
    Table,
    Secret,
    LegacySecret,
    SecretSealed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per statement.
        for change in [
            Table::alter()
                .table(TotpFactors::Table)
                .rename_column(TotpFactors::Secret, TotpFactors::LegacySecret)
                .to_owned(),
            Table::alter()
                .table(TotpFactors::Table)
                .add_column(blob_null(TotpFactors::SecretSealed))
                .to_owned(),
        ] {
            manager.alter_table(change).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for change in [
            Table::alter()
                .table(TotpFactors::Table)
                .drop_column(TotpFactors::SecretSealed)
                .to_owned(),
            Table::alter()
                .table(TotpFactors::Table)
                .rename_column(TotpFactors::LegacySecret, TotpFactors::Secret)
                .to_owned(),
        ] {
            manager.alter_table(change).await?;
        }
        Ok(())
    }
}
