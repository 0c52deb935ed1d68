//! Where a session or remembered device signed in from (browser family and network prefix) is
//! personal data too: sessions keep it sealed for the sessions page, plus a keyed pseudonym for
//! "is this a known place?" comparisons; remembered devices keep the pseudonym only.
//!
//! The plaintext columns are dropped. Rows from before carry no context: such a session shows an
//! unknown device, and a device remembered before asks for the second factor once more.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    NetworkPrefix,
    Device,
    ContextIndex,
    ContextSealed,
}

#[derive(DeriveIden)]
enum TrustedDevices {
    Table,
    NetworkPrefix,
    Device,
    ContextIndex,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per statement.
        for change in [
            Table::alter()
                .table(Sessions::Table)
                .add_column(string_len_null(Sessions::ContextIndex, 64))
                .to_owned(),
            Table::alter()
                .table(Sessions::Table)
                .add_column(blob_null(Sessions::ContextSealed))
                .to_owned(),
            Table::alter()
                .table(Sessions::Table)
                .drop_column(Sessions::NetworkPrefix)
                .to_owned(),
            Table::alter()
                .table(Sessions::Table)
                .drop_column(Sessions::Device)
                .to_owned(),
            Table::alter()
                .table(TrustedDevices::Table)
                .add_column(string_len_null(TrustedDevices::ContextIndex, 64))
                .to_owned(),
            Table::alter()
                .table(TrustedDevices::Table)
                .drop_column(TrustedDevices::NetworkPrefix)
                .to_owned(),
            Table::alter()
                .table(TrustedDevices::Table)
                .drop_column(TrustedDevices::Device)
                .to_owned(),
        ] {
            manager.alter_table(change).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for change in [
            Table::alter()
                .table(TrustedDevices::Table)
                .add_column(string_len(TrustedDevices::Device, 100).default(""))
                .to_owned(),
            Table::alter()
                .table(TrustedDevices::Table)
                .add_column(string_len(TrustedDevices::NetworkPrefix, 64).default(""))
                .to_owned(),
            Table::alter()
                .table(TrustedDevices::Table)
                .drop_column(TrustedDevices::ContextIndex)
                .to_owned(),
            Table::alter()
                .table(Sessions::Table)
                .add_column(string_len(Sessions::Device, 100).default(""))
                .to_owned(),
            Table::alter()
                .table(Sessions::Table)
                .add_column(string_len(Sessions::NetworkPrefix, 64).default(""))
                .to_owned(),
            Table::alter()
                .table(Sessions::Table)
                .drop_column(Sessions::ContextSealed)
                .to_owned(),
            Table::alter()
                .table(Sessions::Table)
                .drop_column(Sessions::ContextIndex)
                .to_owned(),
        ] {
            manager.alter_table(change).await?;
        }
        Ok(())
    }
}
