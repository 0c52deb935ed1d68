//! How long a workplace keeps its data, and the end of a workplace.
//!
//! `retention_policies`: after how many months people who left are erased and comments deleted
//! (a workplace without a row uses the defaults; a NULL month count keeps the data until it is
//! removed by hand). `users.left_at` dates a person's leaving, so the clock has a start.
//! `workplace_terminations`: an Owner's request to delete the whole workplace once its grace
//! period is over; cancelling deletes the row.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RetentionPolicies {
    Table,
    WorkplaceId,
    PeopleLeftMonths,
    CommentsMonths,
    UpdatedAt,
    UpdatedBy,
    LastAppliedAt,
    LastPeopleErased,
    LastCommentsDeleted,
}

#[derive(DeriveIden)]
enum WorkplaceTerminations {
    Table,
    WorkplaceId,
    RequestedBy,
    RequestedAt,
    DeleteAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    LeftAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RetentionPolicies::Table)
                    .col(uuid(RetentionPolicies::WorkplaceId).primary_key())
                    .col(integer_null(RetentionPolicies::PeopleLeftMonths))
                    .col(integer_null(RetentionPolicies::CommentsMonths))
                    .col(timestamp_with_time_zone(RetentionPolicies::UpdatedAt))
                    .col(uuid_null(RetentionPolicies::UpdatedBy))
                    .col(timestamp_with_time_zone_null(RetentionPolicies::LastAppliedAt))
                    .col(big_integer(RetentionPolicies::LastPeopleErased).default(0))
                    .col(big_integer(RetentionPolicies::LastCommentsDeleted).default(0))
                    .foreign_key(&mut cascading(
                        RetentionPolicies::Table,
                        RetentionPolicies::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "retention_policies").await?;
        manager
            .create_table(
                Table::create()
                    .table(WorkplaceTerminations::Table)
                    .col(uuid(WorkplaceTerminations::WorkplaceId).primary_key())
                    .col(uuid(WorkplaceTerminations::RequestedBy))
                    .col(timestamp_with_time_zone(WorkplaceTerminations::RequestedAt))
                    .col(timestamp_with_time_zone(WorkplaceTerminations::DeleteAt))
                    .foreign_key(&mut cascading(
                        WorkplaceTerminations::Table,
                        WorkplaceTerminations::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "workplace_terminations").await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::LeftAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::LeftAt)
                    .to_owned(),
            )
            .await?;
        for table in ["workplace_terminations", "retention_policies"] {
            row_level_security::disable(manager, table).await?;
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
