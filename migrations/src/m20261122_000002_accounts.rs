//! Accounts: people who sign in, single-use email tokens, database-held sessions, TOTP factors
//! and recovery codes. Secrets are stored only as hashes (tokens, codes, passwords); the TOTP
//! secret is needed in clear to check codes, and moves under field encryption with the keyring.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    WorkplaceId,
    Email,
    DisplayName,
    PasswordHash,
    EmailVerifiedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    TokenHash,
    SecondFactorAt,
    CreatedAt,
    LastSeenAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum TotpFactors {
    Table,
    Id,
    UserId,
    Secret,
    LastUsedStep,
    ConfirmedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

fn user_fk(table: impl IntoIden + 'static, column: impl IntoIden + 'static) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(uuid(Users::WorkplaceId))
                    .col(string_len(Users::Email, 320).unique_key())
                    .col(string_len(Users::DisplayName, 200))
                    .col(string_len(Users::PasswordHash, 200))
                    .col(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::WorkplaceId)
                            .to(Workplaces::Table, Workplaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(uuid(EmailTokens::Id).primary_key())
                    .col(uuid(EmailTokens::UserId))
                    .col(string_len(EmailTokens::Purpose, 32))
                    .col(string_len(EmailTokens::TokenHash, 64).unique_key())
                    .col(timestamp_with_time_zone(EmailTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(EmailTokens::UsedAt))
                    .col(timestamp_with_time_zone(EmailTokens::CreatedAt))
                    .foreign_key(&mut user_fk(EmailTokens::Table, EmailTokens::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::UserId))
                    .col(string_len(Sessions::TokenHash, 64).unique_key())
                    .col(timestamp_with_time_zone_null(Sessions::SecondFactorAt))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .foreign_key(&mut user_fk(Sessions::Table, Sessions::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TotpFactors::Table)
                    .col(uuid(TotpFactors::Id).primary_key())
                    .col(uuid(TotpFactors::UserId))
                    .col(binary(TotpFactors::Secret))
                    .col(big_integer_null(TotpFactors::LastUsedStep))
                    .col(timestamp_with_time_zone_null(TotpFactors::ConfirmedAt))
                    .col(timestamp_with_time_zone(TotpFactors::CreatedAt))
                    .foreign_key(&mut user_fk(TotpFactors::Table, TotpFactors::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(uuid(RecoveryCodes::Id).primary_key())
                    .col(uuid(RecoveryCodes::UserId))
                    .col(string_len(RecoveryCodes::CodeHash, 64))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .foreign_key(&mut user_fk(RecoveryCodes::Table, RecoveryCodes::UserId))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RecoveryCodes::Table.into_iden(),
            TotpFactors::Table.into_iden(),
            Sessions::Table.into_iden(),
            EmailTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
