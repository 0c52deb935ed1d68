//! Leases for background jobs, so that with several Candor processes on one database each
//! scheduled job runs in one of them at a time. A lease names its holder and expires on its own,
//! so a process that dies while holding one does not block the job for good.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobLeases {
    Table,
    Name,
    Holder,
    LeasedUntil,
    LastFinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JobLeases::Table)
                    .col(string_len(JobLeases::Name, 64).primary_key())
                    .col(string_len(JobLeases::Holder, 64))
                    .col(timestamp_with_time_zone(JobLeases::LeasedUntil))
                    .col(timestamp_with_time_zone_null(JobLeases::LastFinishedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JobLeases::Table).to_owned())
            .await
    }
}
