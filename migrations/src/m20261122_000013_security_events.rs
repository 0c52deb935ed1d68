//! Security events: what happened (a stable kind), how serious it is, when, and to which
//! workplace, person or record it refers — by id only, never names, addresses or content.
//!
//! Events about a workplace stay after the workplace is deleted (there is no foreign key), so
//! the deletion itself remains on record.

use sea_orm_migration::{prelude::*, schema::*};

use crate::row_level_security;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SecurityEvents {
    Table,
    Id,
    WorkplaceId,
    OccurredAt,
    Kind,
    Severity,
    ActorId,
    Subject,
    SubjectId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SecurityEvents::Table)
                    .col(uuid(SecurityEvents::Id).primary_key())
                    .col(uuid_null(SecurityEvents::WorkplaceId))
                    .col(timestamp_with_time_zone(SecurityEvents::OccurredAt))
                    .col(string_len(SecurityEvents::Kind, 64))
                    .col(string_len(SecurityEvents::Severity, 16))
                    .col(uuid_null(SecurityEvents::ActorId))
                    .col(string_len_null(SecurityEvents::Subject, 64))
                    .col(uuid_null(SecurityEvents::SubjectId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("security_events_by_workplace")
                    .table(SecurityEvents::Table)
                    .col(SecurityEvents::WorkplaceId)
                    .col(SecurityEvents::OccurredAt)
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "security_events").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "security_events").await?;
        manager
            .drop_table(Table::drop().table(SecurityEvents::Table).to_owned())
            .await
    }
}
