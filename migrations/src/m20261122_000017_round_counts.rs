//! How many were asked in a round and how many answered, kept on the round itself: lists of
//! rounds then need no count over every participant of every round.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rounds {
    Table,
    Asked,
    Answered,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            integer(Rounds::Asked).default(0).to_owned(),
            integer(Rounds::Answered).default(0).to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(Rounds::Table).add_column(column).to_owned())
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE rounds SET \
                 asked = (SELECT count(*) FROM round_participants p WHERE p.round_id = rounds.id), \
                 answered = (SELECT count(*) FROM round_participants p WHERE p.round_id = rounds.id AND p.answered)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Rounds::Answered, Rounds::Asked] {
            manager
                .alter_table(Table::alter().table(Rounds::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
