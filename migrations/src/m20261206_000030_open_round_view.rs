//! What an open round's participation is shown on: the department tree and the minimum group size
//! as they were when the round opened. Without them, a department moved or a minimum changed
//! between two looks at the same open round would bracket a few people.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rounds {
    Table,
    OpenedMinimum,
    OpenedTree,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Rounds::Table)
                    .add_column(integer_null(Rounds::OpenedMinimum))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Rounds::Table)
                    .add_column(text_null(Rounds::OpenedTree))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Rounds::OpenedTree, Rounds::OpenedMinimum] {
            manager
                .alter_table(Table::alter().table(Rounds::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
