//! Pulse surveys: a survey (questions, targeting, cadence), its rounds, who was asked in each
//! round and whether they answered, and the answers themselves.
//!
//! Anonymity by construction: an answer row holds the round, the question, the value and the
//! aggregation attributes (department at answer time, tenure band) — never the person, and no
//! time of its own. Who answered lives in `round_participants`, which holds no time either, so
//! the two cannot be joined by when they were written. Comments are sealed.

use sea_orm_migration::{prelude::*, schema::*};

use crate::row_level_security;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    Id,
    MinimumGroupSize,
    CommentMinimumGroupSize,
}

#[derive(DeriveIden)]
enum Surveys {
    Table,
    Id,
    WorkplaceId,
    Title,
    Status,
    Cadence,
    WindowDays,
    FirstRoundAt,
    NextRoundAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SurveyTargets {
    Table,
    Id,
    WorkplaceId,
    SurveyId,
    DepartmentId,
}

#[derive(DeriveIden)]
enum SurveyQuestions {
    Table,
    Id,
    WorkplaceId,
    SurveyId,
    Position,
    Kind,
    Prompt,
    LibraryKey,
    Choices,
    LowLabel,
    HighLabel,
}

#[derive(DeriveIden)]
enum Rounds {
    Table,
    Id,
    WorkplaceId,
    SurveyId,
    Number,
    OpensAt,
    ClosesAt,
    ClosedAt,
    RemindedAt,
}

#[derive(DeriveIden)]
enum RoundParticipants {
    Table,
    Id,
    WorkplaceId,
    RoundId,
    UserId,
    DepartmentId,
    Answered,
}

#[derive(DeriveIden)]
enum Answers {
    Table,
    Id,
    WorkplaceId,
    RoundId,
    QuestionId,
    DepartmentId,
    TenureBand,
    Value,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    WorkplaceId,
    RoundId,
    QuestionId,
    DepartmentId,
    TenureBand,
    TextSealed,
}

fn workplace_fk(
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Workplaces::Table, Workplaces::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

const TABLES: [&str; 7] = [
    "surveys",
    "survey_targets",
    "survey_questions",
    "rounds",
    "round_participants",
    "answers",
    "comments",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Results are shown only for groups at least this large (comments may ask for more).
        for column in [
            integer(Workplaces::MinimumGroupSize).default(5).to_owned(),
            integer(Workplaces::CommentMinimumGroupSize).default(5).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Workplaces::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Surveys::Table)
                    .col(uuid(Surveys::Id).primary_key())
                    .col(uuid(Surveys::WorkplaceId))
                    .col(string_len(Surveys::Title, 120))
                    .col(string_len(Surveys::Status, 16))
                    .col(string_len(Surveys::Cadence, 16))
                    .col(integer(Surveys::WindowDays))
                    .col(timestamp_with_time_zone(Surveys::FirstRoundAt))
                    .col(timestamp_with_time_zone_null(Surveys::NextRoundAt))
                    .col(uuid_null(Surveys::CreatedBy))
                    .col(timestamp_with_time_zone(Surveys::CreatedAt))
                    .foreign_key(&mut workplace_fk(Surveys::Table, Surveys::WorkplaceId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SurveyTargets::Table)
                    .col(uuid(SurveyTargets::Id).primary_key())
                    .col(uuid(SurveyTargets::WorkplaceId))
                    .col(uuid(SurveyTargets::SurveyId))
                    .col(uuid(SurveyTargets::DepartmentId))
                    .foreign_key(&mut workplace_fk(
                        SurveyTargets::Table,
                        SurveyTargets::WorkplaceId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SurveyTargets::Table, SurveyTargets::SurveyId)
                            .to(Surveys::Table, Surveys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SurveyQuestions::Table)
                    .col(uuid(SurveyQuestions::Id).primary_key())
                    .col(uuid(SurveyQuestions::WorkplaceId))
                    .col(uuid(SurveyQuestions::SurveyId))
                    .col(integer(SurveyQuestions::Position))
                    .col(string_len(SurveyQuestions::Kind, 16))
                    .col(string_len(SurveyQuestions::Prompt, 300))
                    .col(string_len_null(SurveyQuestions::LibraryKey, 64))
                    .col(text_null(SurveyQuestions::Choices))
                    .col(string_len_null(SurveyQuestions::LowLabel, 60))
                    .col(string_len_null(SurveyQuestions::HighLabel, 60))
                    .foreign_key(&mut workplace_fk(
                        SurveyQuestions::Table,
                        SurveyQuestions::WorkplaceId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SurveyQuestions::Table, SurveyQuestions::SurveyId)
                            .to(Surveys::Table, Surveys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Rounds::Table)
                    .col(uuid(Rounds::Id).primary_key())
                    .col(uuid(Rounds::WorkplaceId))
                    .col(uuid(Rounds::SurveyId))
                    .col(integer(Rounds::Number))
                    .col(timestamp_with_time_zone(Rounds::OpensAt))
                    .col(timestamp_with_time_zone(Rounds::ClosesAt))
                    .col(timestamp_with_time_zone_null(Rounds::ClosedAt))
                    .col(timestamp_with_time_zone_null(Rounds::RemindedAt))
                    .foreign_key(&mut workplace_fk(Rounds::Table, Rounds::WorkplaceId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Rounds::Table, Rounds::SurveyId)
                            .to(Surveys::Table, Surveys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rounds_once_per_number")
                    .table(Rounds::Table)
                    .col(Rounds::SurveyId)
                    .col(Rounds::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoundParticipants::Table)
                    .col(uuid(RoundParticipants::Id).primary_key())
                    .col(uuid(RoundParticipants::WorkplaceId))
                    .col(uuid(RoundParticipants::RoundId))
                    .col(uuid(RoundParticipants::UserId))
                    .col(uuid_null(RoundParticipants::DepartmentId))
                    .col(boolean(RoundParticipants::Answered))
                    .foreign_key(&mut workplace_fk(
                        RoundParticipants::Table,
                        RoundParticipants::WorkplaceId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoundParticipants::Table, RoundParticipants::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("round_participants_once")
                    .table(RoundParticipants::Table)
                    .col(RoundParticipants::RoundId)
                    .col(RoundParticipants::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("round_participants_by_user")
                    .table(RoundParticipants::Table)
                    .col(RoundParticipants::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Answers::Table)
                    .col(uuid(Answers::Id).primary_key())
                    .col(uuid(Answers::WorkplaceId))
                    .col(uuid(Answers::RoundId))
                    .col(uuid(Answers::QuestionId))
                    .col(uuid_null(Answers::DepartmentId))
                    .col(string_len(Answers::TenureBand, 16))
                    .col(integer(Answers::Value))
                    .foreign_key(&mut workplace_fk(Answers::Table, Answers::WorkplaceId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Answers::Table, Answers::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("answers_by_round")
                    .table(Answers::Table)
                    .col(Answers::RoundId)
                    .col(Answers::QuestionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(uuid(Comments::Id).primary_key())
                    .col(uuid(Comments::WorkplaceId))
                    .col(uuid(Comments::RoundId))
                    .col(uuid(Comments::QuestionId))
                    .col(uuid_null(Comments::DepartmentId))
                    .col(string_len(Comments::TenureBand, 16))
                    .col(blob(Comments::TextSealed))
                    .foreign_key(&mut workplace_fk(Comments::Table, Comments::WorkplaceId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for table in TABLES {
            row_level_security::enable(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            row_level_security::disable(manager, table).await?;
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        for column in [Workplaces::CommentMinimumGroupSize, Workplaces::MinimumGroupSize] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Workplaces::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
