//! The keyring's tables. `master_keys` records each master key's id and check value (never the
//! key); `data_keys` holds each workplace's data keys wrapped by a master key, one row per
//! version, deleted with the workplace; `instance_keys` holds wrapped keys of the instance
//! itself (the blind-index key for email lookups).

use sea_orm_migration::{prelude::*, schema::*};

use crate::row_level_security;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MasterKeys {
    Table,
    Id,
    CheckValue,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum DataKeys {
    Table,
    Id,
    WorkplaceId,
    Version,
    Wrapped,
    MasterKeyId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InstanceKeys {
    Table,
    Purpose,
    Wrapped,
    MasterKeyId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MasterKeys::Table)
                    .col(string_len(MasterKeys::Id, 32).primary_key())
                    .col(blob(MasterKeys::CheckValue))
                    .col(timestamp_with_time_zone(MasterKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(MasterKeys::RetiredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DataKeys::Table)
                    .col(uuid(DataKeys::Id).primary_key())
                    .col(uuid(DataKeys::WorkplaceId))
                    .col(integer(DataKeys::Version))
                    .col(blob(DataKeys::Wrapped))
                    .col(string_len(DataKeys::MasterKeyId, 32))
                    .col(timestamp_with_time_zone(DataKeys::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DataKeys::Table, DataKeys::WorkplaceId)
                            .to(Workplaces::Table, Workplaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("data_keys_version_once")
                    .table(DataKeys::Table)
                    .col(DataKeys::WorkplaceId)
                    .col(DataKeys::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InstanceKeys::Table)
                    .col(string_len(InstanceKeys::Purpose, 40).primary_key())
                    .col(blob(InstanceKeys::Wrapped))
                    .col(string_len(InstanceKeys::MasterKeyId, 32))
                    .col(timestamp_with_time_zone(InstanceKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "data_keys").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "data_keys").await?;
        for table in [
            InstanceKeys::Table.into_iden(),
            DataKeys::Table.into_iden(),
            MasterKeys::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
