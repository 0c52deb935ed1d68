//! Tenure bands a workplace chooses for results by time at the workplace: ascending boundaries
//! in whole years ("1,2,5": under 1 year, 1 to 2, 2 to 5, 5 or more).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    TenureBounds,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .add_column(string_len(Workplaces::TenureBounds, 64).default("1,2,5"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .drop_column(Workplaces::TenureBounds)
                    .to_owned(),
            )
            .await
    }
}
