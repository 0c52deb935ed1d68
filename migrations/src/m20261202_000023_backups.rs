//! Backups: each workplace's part of a backup is encrypted to a key of its own (its public half
//! here, its private half only in the backup store, encrypted to the operator's key), so deleting
//! that one file makes every older backup of the workplace unreadable. Runs of backups, pruning
//! and restore drills are recorded for the Security page and for alerts; shredding that could
//! not reach the backup store yet waits in `backup_shreds`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BackupKeys {
    Table,
    Id,
    WorkplaceId,
    Recipient,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BackupRuns {
    Table,
    Id,
    Kind,
    BackupId,
    StartedAt,
    FinishedAt,
    Outcome,
    Detail,
    Bytes,
    Rows,
}

#[derive(DeriveIden)]
enum BackupShreds {
    Table,
    ShreddedWorkplaceId,
    RequestedAt,
    DoneAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupKeys::Table)
                    .col(uuid(BackupKeys::Id).primary_key())
                    .col(uuid(BackupKeys::WorkplaceId))
                    .col(text(BackupKeys::Recipient))
                    .col(timestamp_with_time_zone(BackupKeys::CreatedAt))
                    .foreign_key(&mut cascading(
                        BackupKeys::Table,
                        BackupKeys::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "backup_keys").await?;
        manager
            .create_table(
                Table::create()
                    .table(BackupRuns::Table)
                    .col(uuid(BackupRuns::Id).primary_key())
                    .col(string_len(BackupRuns::Kind, 16))
                    .col(string_len_null(BackupRuns::BackupId, 64))
                    .col(timestamp_with_time_zone(BackupRuns::StartedAt))
                    .col(timestamp_with_time_zone(BackupRuns::FinishedAt))
                    .col(string_len(BackupRuns::Outcome, 16))
                    .col(string_len_null(BackupRuns::Detail, 200))
                    .col(big_integer(BackupRuns::Bytes))
                    .col(big_integer(BackupRuns::Rows))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("backup_runs_by_kind")
                    .table(BackupRuns::Table)
                    .col(BackupRuns::Kind)
                    .col(BackupRuns::FinishedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BackupShreds::Table)
                    .col(uuid(BackupShreds::ShreddedWorkplaceId).primary_key())
                    .col(timestamp_with_time_zone(BackupShreds::RequestedAt))
                    .col(timestamp_with_time_zone_null(BackupShreds::DoneAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "backup_keys").await?;
        for table in ["backup_shreds", "backup_runs", "backup_keys"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
