//! Results released once, and answers that cannot be linked to who gave them.
//!
//! `ballots`: a submission's answers and comments, sealed with the workplace key, holding no
//! person, no time and no order of their own. The submission writes its ballot in the same
//! transaction that marks the person answered; a later transaction (the mixer) opens the
//! ballots of a round in shuffled batches, writes their answers and comments, and deletes them,
//! so nothing an answer row carries (transaction id, row order, time) points back at the
//! participant row or the access-log entry of the submission.
//!
//! `audit_pending`: access-log entries of requests that must not be tied to who made them (a
//! comment's author reading or answering replies). They hold no actor and only the day, and are
//! chained into the log after that day has ended, shuffled, so their place in the sequence
//! does not sit next to the same person's other requests.
//!
//! `benchmark_publications`: the privacy budget's ledger. Every publication of a platform
//! benchmark spends ε of differential privacy on each contributing workplace; the ledger is
//! what keeps the total within its bound.
//!
//! `round_releases`: what a round released when it closed, frozen: the department tree as it
//! was (names, parents, who answered from where), the minimum group sizes then in force, and
//! every released cell with its figures. Results of a closed round are read from here only,
//! never recomputed, so a later reorganisation or setting change cannot re-slice them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Ballots {
    Table,
    Id,
    WorkplaceId,
    RoundId,
    /// The sealed answers and comments (JSON inside).
    TextSealed,
}

#[derive(DeriveIden)]
enum AuditPending {
    Table,
    Id,
    WorkplaceId,
    Day,
    Action,
    Category,
    Severity,
    Outcome,
}

#[derive(DeriveIden)]
enum BenchmarkPublications {
    Table,
    Id,
    LibraryKey,
    PublishedAt,
    Epsilon,
}

#[derive(DeriveIden)]
enum RoundReleases {
    Table,
    RoundId,
    WorkplaceId,
    ReleasedAt,
    Minimum,
    CommentMinimum,
    /// The frozen tree and released cells, as JSON.
    Release,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Ballots::Table)
                    .col(uuid(Ballots::Id).primary_key())
                    .col(uuid(Ballots::WorkplaceId))
                    .col(uuid(Ballots::RoundId))
                    .col(blob(Ballots::TextSealed))
                    .foreign_key(&mut cascading(Ballots::Table, Ballots::WorkplaceId, "workplaces"))
                    .foreign_key(&mut cascading(Ballots::Table, Ballots::RoundId, "rounds"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ballots_by_round")
                    .table(Ballots::Table)
                    .col(Ballots::RoundId)
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "ballots").await?;
        manager
            .create_table(
                Table::create()
                    .table(RoundReleases::Table)
                    .col(uuid(RoundReleases::RoundId).primary_key())
                    .col(uuid(RoundReleases::WorkplaceId))
                    .col(timestamp_with_time_zone(RoundReleases::ReleasedAt))
                    .col(integer(RoundReleases::Minimum))
                    .col(integer(RoundReleases::CommentMinimum))
                    .col(text(RoundReleases::Release))
                    .foreign_key(&mut cascading(
                        RoundReleases::Table,
                        RoundReleases::WorkplaceId,
                        "workplaces",
                    ))
                    .foreign_key(&mut cascading(
                        RoundReleases::Table,
                        RoundReleases::RoundId,
                        "rounds",
                    ))
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "round_releases").await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditPending::Table)
                    .col(uuid(AuditPending::Id).primary_key())
                    .col(uuid(AuditPending::WorkplaceId))
                    .col(date(AuditPending::Day))
                    .col(string(AuditPending::Action))
                    .col(string(AuditPending::Category))
                    .col(string(AuditPending::Severity))
                    .col(string(AuditPending::Outcome))
                    .foreign_key(&mut cascading(
                        AuditPending::Table,
                        AuditPending::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "audit_pending").await?;
        manager
            .create_table(
                Table::create()
                    .table(BenchmarkPublications::Table)
                    .col(uuid(BenchmarkPublications::Id).primary_key())
                    .col(string(BenchmarkPublications::LibraryKey))
                    .col(timestamp_with_time_zone(BenchmarkPublications::PublishedAt))
                    .col(double(BenchmarkPublications::Epsilon))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BenchmarkPublications::Table).to_owned())
            .await?;
        row_level_security::disable(manager, "audit_pending").await?;
        manager
            .drop_table(Table::drop().table(AuditPending::Table).to_owned())
            .await?;
        row_level_security::disable(manager, "round_releases").await?;
        manager
            .drop_table(Table::drop().table(RoundReleases::Table).to_owned())
            .await?;
        row_level_security::disable(manager, "ballots").await?;
        manager
            .drop_table(Table::drop().table(Ballots::Table).to_owned())
            .await
    }
}
