//! Incidents, recorded by the platform's operators (outside any workplace): what happened, whether
//! it is a personal-data breach and when that was verified (the 24-hour notification clock starts
//! there), the notice sent to the affected workplaces' Owners, and the analysis afterwards. Which
//! workplaces an incident affects, and when each was notified, is a workplace row.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Incidents {
    Table,
    Id,
    Title,
    Nature,
    OpenedAt,
    BreachVerifiedAt,
    LikelyImpact,
    Mitigation,
    Contact,
    NotifiedAt,
    Analysis,
    ClosedAt,
}

#[derive(DeriveIden)]
enum IncidentWorkplaces {
    Table,
    Id,
    IncidentId,
    WorkplaceId,
    NotifiedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Incidents::Table)
                    .col(uuid(Incidents::Id).primary_key())
                    .col(text(Incidents::Title))
                    .col(text(Incidents::Nature))
                    .col(timestamp_with_time_zone(Incidents::OpenedAt))
                    .col(timestamp_with_time_zone_null(Incidents::BreachVerifiedAt))
                    .col(text_null(Incidents::LikelyImpact))
                    .col(text_null(Incidents::Mitigation))
                    .col(text_null(Incidents::Contact))
                    .col(timestamp_with_time_zone_null(Incidents::NotifiedAt))
                    .col(text_null(Incidents::Analysis))
                    .col(timestamp_with_time_zone_null(Incidents::ClosedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentWorkplaces::Table)
                    .col(uuid(IncidentWorkplaces::Id).primary_key())
                    .col(uuid(IncidentWorkplaces::IncidentId))
                    .col(uuid(IncidentWorkplaces::WorkplaceId))
                    .col(timestamp_with_time_zone_null(IncidentWorkplaces::NotifiedAt))
                    .foreign_key(&mut cascading(
                        IncidentWorkplaces::Table,
                        IncidentWorkplaces::IncidentId,
                        "incidents",
                    ))
                    .foreign_key(&mut cascading(
                        IncidentWorkplaces::Table,
                        IncidentWorkplaces::WorkplaceId,
                        "workplaces",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("incident_workplaces_once")
                    .table(IncidentWorkplaces::Table)
                    .col(IncidentWorkplaces::IncidentId)
                    .col(IncidentWorkplaces::WorkplaceId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "incident_workplaces").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "incident_workplaces").await?;
        for table in ["incident_workplaces", "incidents"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
