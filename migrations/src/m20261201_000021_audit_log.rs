//! The audit log: one hash-chained list of entries per workplace (and one for the instance) that
//! records every access to personal data or results and every security event — by id, code and
//! keyed hash only, never a name, address, answer, comment, token or address in clear.
//!
//! `audit_chains` holds each chain's head (last sequence number and hash) so appends are
//! serialised per chain, and where the retained part of the chain starts after a purge.
//! Reviews, alerts and the workplace's audit settings sit beside it. Like security events, the
//! log has no foreign key to its workplace: a deleted workplace's deletion stays on record.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    /// The workplace's id, or the nil id for the instance's own chain.
    ChainId,
    WorkplaceId,
    Seq,
    OccurredAt,
    RequestId,
    /// `access` or `security`.
    Category,
    Action,
    Severity,
    Outcome,
    ActorId,
    EntityType,
    /// Up to 100 ids, separated by spaces.
    EntityIds,
    EntityCount,
    /// Keyed hashes (truncated) of the network and the account name a sign-in named.
    NetworkTag,
    AccountTag,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChains {
    Table,
    ChainId,
    WorkplaceId,
    LastSeq,
    LastHash,
    /// The first entry still kept, and the hash it chains to (zeros at the start of a chain).
    FirstSeq,
    FirstPrevHash,
}

#[derive(DeriveIden)]
enum AuditReviews {
    Table,
    Id,
    WorkplaceId,
    EntryId,
    ReviewerId,
    ReviewedAt,
    /// Sealed with the workplace's data key: a reviewer may write anything here.
    Note,
}

#[derive(DeriveIden)]
enum AuditAlerts {
    Table,
    Id,
    WorkplaceId,
    RaisedAt,
    Rule,
    Severity,
    Count,
    WindowMinutes,
    ActorId,
    NetworkTag,
    AccountTag,
    /// The entry that tipped the rule over, as evidence.
    EntrySeq,
    AcknowledgedBy,
    AcknowledgedAt,
}

#[derive(DeriveIden)]
enum AuditSettings {
    Table,
    WorkplaceId,
    RetentionDays,
    ReviewIntervalDays,
    FailedSignInLimit,
    DenialLimit,
    ExportLimit,
    /// The last entry the monitor looked at.
    MonitoredSeq,
    ReviewRemindedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(uuid(AuditLog::Id).primary_key())
                    .col(uuid(AuditLog::ChainId))
                    .col(uuid_null(AuditLog::WorkplaceId))
                    .col(big_integer(AuditLog::Seq))
                    .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                    .col(string_len_null(AuditLog::RequestId, 64))
                    .col(string_len(AuditLog::Category, 16))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::Severity, 16))
                    .col(string_len(AuditLog::Outcome, 16))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len_null(AuditLog::EntityType, 64))
                    .col(text_null(AuditLog::EntityIds))
                    .col(integer(AuditLog::EntityCount))
                    .col(string_len_null(AuditLog::NetworkTag, 16))
                    .col(string_len_null(AuditLog::AccountTag, 16))
                    .col(blob(AuditLog::PrevHash))
                    .col(blob(AuditLog::Hash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_by_chain")
                    .table(AuditLog::Table)
                    .col(AuditLog::ChainId)
                    .col(AuditLog::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_by_time")
                    .table(AuditLog::Table)
                    .col(AuditLog::WorkplaceId)
                    .col(AuditLog::OccurredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditChains::Table)
                    .col(uuid(AuditChains::ChainId).primary_key())
                    .col(uuid_null(AuditChains::WorkplaceId))
                    .col(big_integer(AuditChains::LastSeq))
                    .col(blob(AuditChains::LastHash))
                    .col(big_integer(AuditChains::FirstSeq))
                    .col(blob(AuditChains::FirstPrevHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditReviews::Table)
                    .col(uuid(AuditReviews::Id).primary_key())
                    .col(uuid(AuditReviews::WorkplaceId))
                    .col(uuid(AuditReviews::EntryId))
                    .col(uuid(AuditReviews::ReviewerId))
                    .col(timestamp_with_time_zone(AuditReviews::ReviewedAt))
                    .col(blob_null(AuditReviews::Note))
                    .foreign_key(&mut cascading(
                        AuditReviews::Table,
                        AuditReviews::WorkplaceId,
                        "workplaces",
                    ))
                    .foreign_key(&mut cascading(
                        AuditReviews::Table,
                        AuditReviews::EntryId,
                        "audit_log",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_reviews_by_entry")
                    .table(AuditReviews::Table)
                    .col(AuditReviews::EntryId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditAlerts::Table)
                    .col(uuid(AuditAlerts::Id).primary_key())
                    .col(uuid(AuditAlerts::WorkplaceId))
                    .col(timestamp_with_time_zone(AuditAlerts::RaisedAt))
                    .col(string_len(AuditAlerts::Rule, 64))
                    .col(string_len(AuditAlerts::Severity, 16))
                    .col(integer(AuditAlerts::Count))
                    .col(integer(AuditAlerts::WindowMinutes))
                    .col(uuid_null(AuditAlerts::ActorId))
                    .col(string_len_null(AuditAlerts::NetworkTag, 16))
                    .col(string_len_null(AuditAlerts::AccountTag, 16))
                    .col(big_integer(AuditAlerts::EntrySeq))
                    .col(uuid_null(AuditAlerts::AcknowledgedBy))
                    .col(timestamp_with_time_zone_null(AuditAlerts::AcknowledgedAt))
                    .foreign_key(&mut cascading(
                        AuditAlerts::Table,
                        AuditAlerts::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_alerts_by_time")
                    .table(AuditAlerts::Table)
                    .col(AuditAlerts::WorkplaceId)
                    .col(AuditAlerts::RaisedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditSettings::Table)
                    .col(uuid(AuditSettings::WorkplaceId).primary_key())
                    .col(integer(AuditSettings::RetentionDays))
                    .col(integer(AuditSettings::ReviewIntervalDays))
                    .col(integer(AuditSettings::FailedSignInLimit))
                    .col(integer(AuditSettings::DenialLimit))
                    .col(integer(AuditSettings::ExportLimit))
                    .col(big_integer(AuditSettings::MonitoredSeq))
                    .col(timestamp_with_time_zone_null(AuditSettings::ReviewRemindedAt))
                    .foreign_key(&mut cascading(
                        AuditSettings::Table,
                        AuditSettings::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        for table in [
            "audit_log",
            "audit_chains",
            "audit_reviews",
            "audit_alerts",
            "audit_settings",
        ] {
            row_level_security::enable(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_settings",
            "audit_alerts",
            "audit_reviews",
            "audit_chains",
            "audit_log",
        ] {
            row_level_security::disable(manager, table).await?;
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
