//! Benchmarks across workplaces: a workplace may opt in to contribute its whole-workplace figure
//! per built-in question and to see the platform's. Only the platform figures are stored here,
//! published per question once at least five workplaces contribute; no workplace's own figure
//! or answer is kept outside it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    BenchmarkOptIn,
}

#[derive(DeriveIden)]
enum Benchmarks {
    Table,
    LibraryKey,
    Value,
    Workplaces,
    ComputedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .add_column(boolean(Workplaces::BenchmarkOptIn).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Benchmarks::Table)
                    .col(string_len(Benchmarks::LibraryKey, 40).primary_key())
                    .col(double(Benchmarks::Value))
                    .col(integer(Benchmarks::Workplaces))
                    .col(timestamp_with_time_zone(Benchmarks::ComputedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Benchmarks::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .drop_column(Workplaces::BenchmarkOptIn)
                    .to_owned(),
            )
            .await
    }
}
