//! Comments are read a page at a time: a page's ids by round in id order (the question and
//! department beside them, so skipping to page 400 reads the index alone), and counted per
//! question and stored department (again from the index alone). Both lead with the workplace:
//! every tenant query filters on it, and without it in the index each entry would cost a visit
//! to the row (and its sealed text).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Comments {
    Table,
    WorkplaceId,
    RoundId,
    Id,
    QuestionId,
    DepartmentId,
}

const IN_ID_ORDER: &str = "comments_by_round_in_id_order";
const PER_QUESTION: &str = "comments_by_round_question_department";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(IN_ID_ORDER)
                    .table(Comments::Table)
                    .col(Comments::WorkplaceId)
                    .col(Comments::RoundId)
                    .col(Comments::Id)
                    .col(Comments::QuestionId)
                    .col(Comments::DepartmentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(PER_QUESTION)
                    .table(Comments::Table)
                    .col(Comments::WorkplaceId)
                    .col(Comments::RoundId)
                    .col(Comments::QuestionId)
                    .col(Comments::DepartmentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [PER_QUESTION, IN_ID_ORDER] {
            manager
                .drop_index(Index::drop().name(name).table(Comments::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
