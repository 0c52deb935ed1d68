//! "Remember this device": a workplace may let a known device skip the second factor for a
//! number of days (0, the default, always asks for both). A remembered device holds a random
//! token in its own cookie; the database keeps only its hash, with the device and network it was
//! remembered on.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    RememberDeviceDays,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TrustedDevices {
    Table,
    Id,
    UserId,
    TokenHash,
    Device,
    NetworkPrefix,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .add_column(integer(Workplaces::RememberDeviceDays).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TrustedDevices::Table)
                    .col(uuid(TrustedDevices::Id).primary_key())
                    .col(uuid(TrustedDevices::UserId))
                    .col(string_len(TrustedDevices::TokenHash, 64).unique_key())
                    .col(string_len(TrustedDevices::Device, 100))
                    .col(string_len(TrustedDevices::NetworkPrefix, 64))
                    .col(timestamp_with_time_zone(TrustedDevices::CreatedAt))
                    .col(timestamp_with_time_zone(TrustedDevices::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TrustedDevices::Table, TrustedDevices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TrustedDevices::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .drop_column(Workplaces::RememberDeviceDays)
                    .to_owned(),
            )
            .await
    }
}
