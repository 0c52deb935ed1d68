//! Workplaces are Candor's tenants: every tenant table carries a `workplace_id` that points here.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    Id,
    Name,
    Status,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workplaces::Table)
                    .col(uuid(Workplaces::Id).primary_key())
                    .col(string_len(Workplaces::Name, 200))
                    .col(string_len(Workplaces::Status, 20))
                    .col(timestamp_with_time_zone(Workplaces::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Workplaces::Table).to_owned())
            .await
    }
}
