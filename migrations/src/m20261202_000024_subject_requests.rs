//! Data-subject requests: what a person asked their workplace for (a copy of their data, a
//! restriction of processing, erasure), when it was received, by when it is due (one month), and
//! when and by whom it was carried out. A restricted person is kept but left out of new rounds
//! and their emails (`users.restricted_at`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SubjectRequests {
    Table,
    Id,
    WorkplaceId,
    /// The person's account id; kept after erasure as a bare id (the account is gone).
    SubjectId,
    Kind,
    ReceivedAt,
    DueAt,
    RecordedBy,
    DoneAt,
    DoneBy,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    RestrictedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SubjectRequests::Table)
                    .col(uuid(SubjectRequests::Id).primary_key())
                    .col(uuid(SubjectRequests::WorkplaceId))
                    .col(uuid(SubjectRequests::SubjectId))
                    .col(string_len(SubjectRequests::Kind, 16))
                    .col(timestamp_with_time_zone(SubjectRequests::ReceivedAt))
                    .col(timestamp_with_time_zone(SubjectRequests::DueAt))
                    .col(uuid(SubjectRequests::RecordedBy))
                    .col(timestamp_with_time_zone_null(SubjectRequests::DoneAt))
                    .col(uuid_null(SubjectRequests::DoneBy))
                    .foreign_key(&mut cascading(
                        SubjectRequests::Table,
                        SubjectRequests::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("subject_requests_by_workplace")
                    .table(SubjectRequests::Table)
                    .col(SubjectRequests::WorkplaceId)
                    .col(SubjectRequests::DueAt)
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "subject_requests").await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::RestrictedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::RestrictedAt)
                    .to_owned(),
            )
            .await?;
        row_level_security::disable(manager, "subject_requests").await?;
        manager
            .drop_table(Table::drop().table(SubjectRequests::Table).to_owned())
            .await
    }
}
