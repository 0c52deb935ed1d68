//! The subprocessors the operator uses, kept by the operator and readable by everyone, and every
//! change to that list as it was announced to the workplaces' Owners. Instance tables: they
//! belong to no workplace.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Subprocessors {
    Table,
    Id,
    Name,
    Purpose,
    Location,
    DataCategories,
    /// The first day it processes data for Candor (a future day for an announced addition).
    FromDate,
    /// The last day; NULL while it stays.
    UntilDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SubprocessorChanges {
    Table,
    Id,
    SubprocessorId,
    Kind,
    Summary,
    EffectiveOn,
    AnnouncedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Subprocessors::Table)
                    .col(uuid(Subprocessors::Id).primary_key())
                    .col(string_len(Subprocessors::Name, 120))
                    .col(string_len(Subprocessors::Purpose, 400))
                    .col(string_len(Subprocessors::Location, 120))
                    .col(string_len(Subprocessors::DataCategories, 400))
                    .col(date(Subprocessors::FromDate))
                    .col(date_null(Subprocessors::UntilDate))
                    .col(timestamp_with_time_zone(Subprocessors::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubprocessorChanges::Table)
                    .col(uuid(SubprocessorChanges::Id).primary_key())
                    .col(uuid(SubprocessorChanges::SubprocessorId))
                    .col(string_len(SubprocessorChanges::Kind, 16))
                    .col(string_len(SubprocessorChanges::Summary, 1000))
                    .col(date(SubprocessorChanges::EffectiveOn))
                    .col(timestamp_with_time_zone(SubprocessorChanges::AnnouncedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SubprocessorChanges::Table, SubprocessorChanges::SubprocessorId)
                            .to(Subprocessors::Table, Subprocessors::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SubprocessorChanges::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Subprocessors::Table).to_owned())
            .await
    }
}
