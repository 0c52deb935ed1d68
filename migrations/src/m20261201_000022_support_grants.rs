//! Support access: a workplace's Owner lets Candor's operators look at the workplace's setup for
//! a limited time. Without a live grant the operator's tools refuse; every grant, revocation and
//! use is logged in the workplace's audit chain and in the instance's.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SupportGrants {
    Table,
    Id,
    WorkplaceId,
    GrantedBy,
    GrantedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupportGrants::Table)
                    .col(uuid(SupportGrants::Id).primary_key())
                    .col(uuid(SupportGrants::WorkplaceId))
                    .col(uuid(SupportGrants::GrantedBy))
                    .col(timestamp_with_time_zone(SupportGrants::GrantedAt))
                    .col(timestamp_with_time_zone(SupportGrants::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SupportGrants::RevokedAt))
                    .foreign_key(&mut cascading(
                        SupportGrants::Table,
                        SupportGrants::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "support_grants").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "support_grants").await?;
        manager
            .drop_table(Table::drop().table(SupportGrants::Table).to_owned())
            .await
    }
}
