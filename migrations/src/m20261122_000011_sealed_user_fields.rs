//! People's names and email addresses become sealed fields with a blind index for lookups.
//!
//! The plaintext columns are renamed `legacy_*`: when Candor next starts with its master key, it
//! seals every row still holding plaintext and overwrites the legacy values with nothing
//! personal (the row id, an empty name). SQLite cannot drop a column that carries a UNIQUE
//! constraint without rebuilding the table, so the emptied columns stay for now.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Email,
    DisplayName,
    LegacyEmail,
    LegacyDisplayName,
    EmailIndex,
    EmailSealed,
    NameSealed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per statement.
        for change in [
            Table::alter()
                .table(Users::Table)
                .rename_column(Users::Email, Users::LegacyEmail)
                .to_owned(),
            Table::alter()
                .table(Users::Table)
                .rename_column(Users::DisplayName, Users::LegacyDisplayName)
                .to_owned(),
            Table::alter()
                .table(Users::Table)
                .add_column(blob_null(Users::EmailIndex))
                .to_owned(),
            Table::alter()
                .table(Users::Table)
                .add_column(blob_null(Users::EmailSealed))
                .to_owned(),
            Table::alter()
                .table(Users::Table)
                .add_column(blob_null(Users::NameSealed))
                .to_owned(),
        ] {
            manager.alter_table(change).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("users_email_index_once")
                    .table(Users::Table)
                    .col(Users::EmailIndex)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("users_email_index_once")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        for change in [
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::NameSealed)
                .to_owned(),
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::EmailSealed)
                .to_owned(),
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::EmailIndex)
                .to_owned(),
            Table::alter()
                .table(Users::Table)
                .rename_column(Users::LegacyDisplayName, Users::DisplayName)
                .to_owned(),
            Table::alter()
                .table(Users::Table)
                .rename_column(Users::LegacyEmail, Users::Email)
                .to_owned(),
        ] {
            manager.alter_table(change).await?;
        }
        Ok(())
    }
}
