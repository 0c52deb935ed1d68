//! A workplace's people directory has a version that every change to its people moves: a
//! trigger on `users` (insert, update, delete) bumps `workplaces.people_version`, whoever
//! writes — any request, job, command or process. A cache of the opened directory compares it
//! with one small read instead of opening every sealed name again.
//!
//! The trigger only updates: a workplace being deleted (its people going with it) has no row
//! left to bump, and nothing is created for it.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workplaces {
    Table,
    PeopleVersion,
}

/// Each trigger, its event, and which rows name the workplace (new ones; old ones once deleted).
const TRIGGERS: [(&str, &str, &str); 3] = [
    ("users_inserted_change_directory", "INSERT", "NEW"),
    ("users_updated_change_directory", "UPDATE", "NEW"),
    ("users_deleted_change_directory", "DELETE", "OLD"),
];

/// On PostgreSQL, once per statement (a bulk import moves the version once, not per person),
/// from the statement's changed rows.
const POSTGRES_FUNCTION: &str = "CREATE FUNCTION candor_people_changed() RETURNS trigger \
     LANGUAGE plpgsql AS $$ BEGIN \
     UPDATE workplaces SET people_version = people_version + 1 \
     WHERE id IN (SELECT DISTINCT workplace_id FROM changed); \
     RETURN NULL; END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .add_column(
                        ColumnDef::new(Workplaces::PeopleVersion)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(POSTGRES_FUNCTION).await?;
                for (name, event, rows) in TRIGGERS {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} AFTER {event} ON users REFERENCING {rows} TABLE AS changed \
                         FOR EACH STATEMENT EXECUTE FUNCTION candor_people_changed()"
                    ))
                    .await?;
                }
            }
            _ => {
                for (name, event, row) in TRIGGERS {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} AFTER {event} ON users BEGIN \
                         UPDATE workplaces SET people_version = people_version + 1 \
                         WHERE id = {row}.workplace_id; END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _, _) in TRIGGERS {
            let on = if manager.get_database_backend() == DbBackend::Postgres {
                " ON users"
            } else {
                ""
            };
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}{on}"))
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION IF EXISTS candor_people_changed()")
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Workplaces::Table)
                    .drop_column(Workplaces::PeopleVersion)
                    .to_owned(),
            )
            .await
    }
}
