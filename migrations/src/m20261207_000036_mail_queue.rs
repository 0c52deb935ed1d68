//! The mail queue: every email waits here, sealed, until the sender delivers it. A row is deleted
//! once the mail server accepts it; one the server refuses for good, or that fails too often,
//! stays as a dead letter for the operator. The recipient's blind index lets an erasure drop mail
//! still waiting for that person; the workplace (none for the operator's own mail) takes its mail
//! with it when it is deleted.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailQueue {
    Table,
    Id,
    WorkplaceId,
    Kind,
    Priority,
    RecipientIndex,
    Message,
    State,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    DeadAt,
}

const DUE: &str = "mail_queue_due";
const BY_RECIPIENT: &str = "mail_queue_by_recipient";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailQueue::Table)
                    .col(uuid(MailQueue::Id).primary_key())
                    .col(uuid_null(MailQueue::WorkplaceId))
                    .col(string(MailQueue::Kind))
                    .col(integer(MailQueue::Priority))
                    .col(binary(MailQueue::RecipientIndex))
                    .col(binary(MailQueue::Message))
                    .col(string(MailQueue::State))
                    .col(integer(MailQueue::Attempts))
                    .col(timestamp_with_time_zone(MailQueue::NextAttemptAt))
                    .col(string_null(MailQueue::LastError))
                    .col(timestamp_with_time_zone(MailQueue::CreatedAt))
                    .col(timestamp_with_time_zone_null(MailQueue::DeadAt))
                    .foreign_key(&mut cascading(
                        MailQueue::Table,
                        MailQueue::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        // What the sender asks for: the most urgent mail that is due.
        manager
            .create_index(
                Index::create()
                    .name(DUE)
                    .table(MailQueue::Table)
                    .col(MailQueue::State)
                    .col(MailQueue::Priority)
                    .col(MailQueue::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BY_RECIPIENT)
                    .table(MailQueue::Table)
                    .col(MailQueue::RecipientIndex)
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "mail_queue").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "mail_queue").await?;
        manager
            .drop_table(Table::drop().table(MailQueue::Table).to_owned())
            .await
    }
}
