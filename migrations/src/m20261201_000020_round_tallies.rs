//! Counts of a closed round, kept once it closes: who was asked and who answered per department,
//! and answers per question, department and value. A closed round never changes, so its results
//! and trend read a few hundred rows instead of aggregating every answer again. Counts only —
//! the same figures the answers give, nothing about any person.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoundTallies {
    Table,
    Id,
    WorkplaceId,
    RoundId,
    DepartmentId,
    /// None: a participation row (asked, and whether they answered).
    QuestionId,
    Value,
    Answered,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RoundTallies::Table)
                    .col(uuid(RoundTallies::Id).primary_key())
                    .col(uuid(RoundTallies::WorkplaceId))
                    .col(uuid(RoundTallies::RoundId))
                    .col(uuid_null(RoundTallies::DepartmentId))
                    .col(uuid_null(RoundTallies::QuestionId))
                    .col(integer_null(RoundTallies::Value))
                    .col(boolean(RoundTallies::Answered))
                    .col(big_integer(RoundTallies::Count))
                    .foreign_key(&mut cascading(
                        RoundTallies::Table,
                        RoundTallies::WorkplaceId,
                        "workplaces",
                    ))
                    .foreign_key(&mut cascading(
                        RoundTallies::Table,
                        RoundTallies::RoundId,
                        "rounds",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("round_tallies_by_round")
                    .table(RoundTallies::Table)
                    .col(RoundTallies::RoundId)
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "round_tallies").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "round_tallies").await?;
        manager
            .drop_table(Table::drop().table(RoundTallies::Table).to_owned())
            .await
    }
}
