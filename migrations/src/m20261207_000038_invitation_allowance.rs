//! A workplace's daily invitation allowance, when the operator has set one: a large employer
//! importing its whole staff needs more than the default, which exists to stop free workplaces
//! from relaying mail. Empty means the default.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    InvitationsPerDay,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .add_column(ColumnDef::new(Workplaces::InvitationsPerDay).integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .drop_column(Workplaces::InvitationsPerDay)
                    .to_owned(),
            )
            .await
    }
}
