//! Invitation mail a workplace has sent, for its rolling daily budget: one row per invitation,
//! resend or import, with how many messages it sent. Rows older than a day are deleted when the
//! workplace next spends.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InvitationMail {
    Table,
    Id,
    WorkplaceId,
    Messages,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InvitationMail::Table)
                    .col(uuid(InvitationMail::Id).primary_key())
                    .col(uuid(InvitationMail::WorkplaceId))
                    .col(integer(InvitationMail::Messages))
                    .col(timestamp_with_time_zone(InvitationMail::SentAt))
                    .foreign_key(&mut cascading(
                        InvitationMail::Table,
                        InvitationMail::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitation_mail_by_workplace")
                    .table(InvitationMail::Table)
                    .col(InvitationMail::WorkplaceId)
                    .col(InvitationMail::SentAt)
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "invitation_mail").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InvitationMail::Table).to_owned())
            .await
    }
}
