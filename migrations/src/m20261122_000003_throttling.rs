//! Sign-in throttling state, shared by every server process: recent failures per bucket (network
//! address, second-factor codes) and consecutive failures per account. Subjects are SHA-256
//! hashes, never addresses or emails in clear.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ThrottleEvents {
    Table,
    Id,
    Bucket,
    Subject,
    OccurredAt,
}

#[derive(DeriveIden)]
enum AccountThrottles {
    Table,
    Subject,
    Failures,
    LastFailureAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ThrottleEvents::Table)
                    .col(uuid(ThrottleEvents::Id).primary_key())
                    .col(string_len(ThrottleEvents::Bucket, 16))
                    .col(string_len(ThrottleEvents::Subject, 64))
                    .col(timestamp_with_time_zone(ThrottleEvents::OccurredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("throttle_events_lookup")
                    .table(ThrottleEvents::Table)
                    .col(ThrottleEvents::Bucket)
                    .col(ThrottleEvents::Subject)
                    .col(ThrottleEvents::OccurredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountThrottles::Table)
                    .col(string_len(AccountThrottles::Subject, 64).primary_key())
                    .col(integer(AccountThrottles::Failures))
                    .col(timestamp_with_time_zone(AccountThrottles::LastFailureAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountThrottles::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ThrottleEvents::Table).to_owned())
            .await
    }
}
