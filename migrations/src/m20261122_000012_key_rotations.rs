//! Rotations of a workplace's data key: which version the workplace's fields are being moved to,
//! how far the job got (so an interrupted rotation resumes), and when it finished.

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
enum KeyRotations {
    Table,
    Id,
    WorkplaceId,
    ToVersion,
    RowsDone,
    StartedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KeyRotations::Table)
                    .col(uuid(KeyRotations::Id).primary_key())
                    .col(uuid(KeyRotations::WorkplaceId))
                    .col(integer(KeyRotations::ToVersion))
                    .col(big_integer(KeyRotations::RowsDone))
                    .col(timestamp_with_time_zone(KeyRotations::StartedAt))
                    .col(timestamp_with_time_zone_null(KeyRotations::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KeyRotations::Table, KeyRotations::WorkplaceId)
                            .to(Workplaces::Table, Workplaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "key_rotations").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "key_rotations").await?;
        manager
            .drop_table(Table::drop().table(KeyRotations::Table).to_owned())
            .await
    }
}
