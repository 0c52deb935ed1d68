//! A workplace's people directory has a version that every change to its people moves: a
//! trigger on `users` (insert, update, delete) bumps `workplaces.people_version`, whoever
//! writes — any request, job, command or process. A cache of the opened directory compares it
//! with one small read instead of opening every sealed name again.
//!
//! The trigger only updates: a workplace being deleted (its people going with it) has no row
//! left to bump, and nothing is created for it. Versions only grow (see [`SQLITE_NEXT`]).

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

/// The columns the directory shows (and the workplace): an update touching only others (a
/// password rehashed at sign-in, an address verified) leaves the version alone.
const SHOWN: [&str; 9] = [
    "name_sealed",
    "email_sealed",
    "role",
    "custom_role_id",
    "department_id",
    "start_date",
    "status",
    "restricted_at",
    "workplace_id",
];

/// The next version: one more, or the time in microseconds if that is larger. A version never
/// comes back: a restore re-inserts the people (and moves it past every earlier time), so a
/// list kept from before cannot match by chance.
const SQLITE_NEXT: &str =
    "max(people_version + 1, CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER))";
const POSTGRES_NEXT: &str =
    "greatest(people_version + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)";

/// On PostgreSQL, once per statement (a bulk import moves the version once, not per person),
/// from the statement's changed rows.
fn postgres_function() -> String {
    let now: Vec<String> = SHOWN.iter().map(|c| format!("c.{c}")).collect();
    let was: Vec<String> = SHOWN.iter().map(|c| format!("e.{c}")).collect();
    format!(
        "CREATE FUNCTION candor_people_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF TG_OP = 'UPDATE' THEN \
         UPDATE workplaces SET people_version = {POSTGRES_NEXT} WHERE id IN \
         (SELECT c.workplace_id FROM changed c JOIN earlier e ON e.id = c.id \
         WHERE ({}) IS DISTINCT FROM ({})); \
         ELSE \
         UPDATE workplaces SET people_version = {POSTGRES_NEXT} \
         WHERE id IN (SELECT DISTINCT workplace_id FROM changed); \
         END IF; RETURN NULL; END $$",
        now.join(", "),
        was.join(", ")
    )
}

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
                db.execute_unprepared(&postgres_function()).await?;
                for (name, event, rows) in TRIGGERS {
                    let tables = match event {
                        "UPDATE" => "OLD TABLE AS earlier NEW TABLE AS changed".to_owned(),
                        _ => format!("{rows} TABLE AS changed"),
                    };
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} AFTER {event} ON users REFERENCING {tables} \
                         FOR EACH STATEMENT EXECUTE FUNCTION candor_people_changed()"
                    ))
                    .await?;
                }
            }
            _ => {
                let changed: Vec<String> = SHOWN.iter().map(|c| format!("OLD.{c} IS NOT NEW.{c}")).collect();
                for (name, event, row) in TRIGGERS {
                    let when = match event {
                        "UPDATE" => format!(" WHEN {}", changed.join(" OR ")),
                        _ => String::new(),
                    };
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} AFTER {event} ON users{when} BEGIN \
                         UPDATE workplaces SET people_version = {SQLITE_NEXT} \
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
