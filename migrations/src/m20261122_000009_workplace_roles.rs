//! Roles a workplace defines for itself from the permission sets, and which of them a person
//! holds (`users.role` is then `custom`). Row-level security covers the new table on PostgreSQL.

use sea_orm_migration::{prelude::*, schema::*};

use crate::row_level_security;

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
    CustomRoleId,
}

#[derive(DeriveIden)]
enum WorkplaceRoles {
    Table,
    Id,
    WorkplaceId,
    Name,
    /// The name folded to lower case, unique in the workplace.
    NameKey,
    Permissions,
    ResultsLimitedToGrants,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkplaceRoles::Table)
                    .col(uuid(WorkplaceRoles::Id).primary_key())
                    .col(uuid(WorkplaceRoles::WorkplaceId))
                    .col(string_len(WorkplaceRoles::Name, 60))
                    .col(string_len(WorkplaceRoles::NameKey, 60))
                    .col(string_len(WorkplaceRoles::Permissions, 120))
                    .col(boolean(WorkplaceRoles::ResultsLimitedToGrants))
                    .col(timestamp_with_time_zone(WorkplaceRoles::CreatedAt))
                    .col(timestamp_with_time_zone(WorkplaceRoles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorkplaceRoles::Table, WorkplaceRoles::WorkplaceId)
                            .to(Workplaces::Table, Workplaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("workplace_roles_name_once")
                    .table(WorkplaceRoles::Table)
                    .col(WorkplaceRoles::WorkplaceId)
                    .col(WorkplaceRoles::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // SQLite cannot add a foreign key to an existing table: the domain checks the role
        // belongs to the workplace, and refuses to delete a role someone holds.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(uuid_null(Users::CustomRoleId))
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "workplace_roles").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "workplace_roles").await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::CustomRoleId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(WorkplaceRoles::Table).to_owned())
            .await
    }
}
