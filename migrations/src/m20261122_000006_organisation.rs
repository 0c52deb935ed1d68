//! The organisation inside a workplace: departments as a tree, each person's role, department,
//! start date and status, and managers' grants on department subtrees.
//!
//! Every account so far created its own workplace at signup, so each becomes its Owner.

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
    Role,
    DepartmentId,
    StartDate,
    Status,
}

#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
    WorkplaceId,
    ParentId,
    Name,
    ArchivedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DepartmentGrants {
    Table,
    Id,
    WorkplaceId,
    UserId,
    DepartmentId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Departments::Table)
                    .col(uuid(Departments::Id).primary_key())
                    .col(uuid(Departments::WorkplaceId))
                    .col(uuid_null(Departments::ParentId))
                    .col(string_len(Departments::Name, 120))
                    .col(timestamp_with_time_zone_null(Departments::ArchivedAt))
                    .col(timestamp_with_time_zone(Departments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Departments::Table, Departments::WorkplaceId)
                            .to(Workplaces::Table, Workplaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Departments::Table, Departments::ParentId)
                            .to(Departments::Table, Departments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("departments_by_workplace")
                    .table(Departments::Table)
                    .col(Departments::WorkplaceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DepartmentGrants::Table)
                    .col(uuid(DepartmentGrants::Id).primary_key())
                    .col(uuid(DepartmentGrants::WorkplaceId))
                    .col(uuid(DepartmentGrants::UserId))
                    .col(uuid(DepartmentGrants::DepartmentId))
                    .col(timestamp_with_time_zone(DepartmentGrants::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DepartmentGrants::Table, DepartmentGrants::WorkplaceId)
                            .to(Workplaces::Table, Workplaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DepartmentGrants::Table, DepartmentGrants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DepartmentGrants::Table, DepartmentGrants::DepartmentId)
                            .to(Departments::Table, Departments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("department_grants_once")
                    .table(DepartmentGrants::Table)
                    .col(DepartmentGrants::UserId)
                    .col(DepartmentGrants::DepartmentId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement, and cannot add a foreign key to an existing
        // table: the department of a person is checked by the domain, inside the tenant scope.
        for column in [
            string_len(Users::Role, 40).default("employee").to_owned(),
            uuid_null(Users::DepartmentId).to_owned(),
            date_null(Users::StartDate).to_owned(),
            string_len(Users::Status, 16).default("active").to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(Users::Table).add_column(column).to_owned())
                .await?;
        }
        manager
            .exec_stmt(
                Query::update()
                    .table(Users::Table)
                    .value(Users::Role, "owner")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Users::Status, Users::StartDate, Users::DepartmentId, Users::Role] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(DepartmentGrants::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Departments::Table).to_owned())
            .await
    }
}
