//! The database handle: connection pool, backend, migrations and schema introspection.
//!
//! The raw connection stays private to the domain: other crates reach data only through domain
//! functions (and, from the tenancy work on, through the tenant scope).

use std::{collections::BTreeMap, fmt, time::Duration};

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
    ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, Statement,
};
use serde::Serialize;

use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// Which backend a database URL points at, or an error naming the setting.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(Error::Invalid {
                field: "database URL",
                reason: "must start with sqlite:// or postgres://".into(),
            }),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which migrations have been applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaVersion {
    pub applied: usize,
    pub known: usize,
    pub latest: Option<String>,
}

impl SchemaVersion {
    pub fn is_current(&self) -> bool {
        self.applied == self.known
    }
}

/// A backend-neutral description of the schema: table → column → (type family, nullable).
/// Used to prove that SQLite and PostgreSQL end up with the same shape.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SchemaSnapshot {
    pub tables: BTreeMap<String, BTreeMap<String, ColumnShape>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnShape {
    pub family: &'static str,
    pub nullable: bool,
}

#[derive(Clone)]
pub struct Database {
    conn: DatabaseConnection,
    backend: Backend,
    target: String,
    /// Present once [`Database::unlock`] checked the master key.
    keyring: Option<std::sync::Arc<crate::platform::crypto::Keyring>>,
    security_events: crate::platform::security_events::SecurityEvents,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .field("target", &self.target)
            .field("keyring", &self.keyring)
            .finish()
    }
}

impl Database {
    /// Connects to `url` (sqlite://… or postgres://…). Fails fast with an error that names the
    /// host (never the password) when the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self> {
        let backend = Backend::from_url(url)?;
        let target = redact_url(url);
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        match backend {
            Backend::Sqlite => {
                options.max_connections(8).map_sqlx_sqlite_opts(|o| {
                    o.create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        // Deleted rows are overwritten, not left in free pages: a deleted
                        // workplace's wrapped keys must not linger in the file.
                        .pragma("secure_delete", "ON")
                        .busy_timeout(Duration::from_secs(5))
                });
            }
            Backend::Postgres => {
                options.max_connections(20);
            }
        }
        let conn = sea_orm::Database::connect(options)
            .await
            .map_err(|err| Error::Unavailable(format!("cannot reach the database at {target}: {err}")))?;
        let security_events = crate::platform::security_events::SecurityEvents::start(conn.clone());
        Ok(Self {
            conn,
            backend,
            target,
            keyring: None,
            security_events,
        })
    }

    /// Checks the master key against this (migrated) database and opens the keyring; personal
    /// fields can be sealed and opened from then on. A wrong key fails here, before anything is
    /// written under it. `operations::instance::unlock` also seals what older versions stored in
    /// plain text: start-up goes through it.
    pub async fn unlock(
        mut self,
        master: crate::platform::crypto::MasterKey,
        now: chrono::DateTime<chrono::Utc>,
    ) -> std::result::Result<Self, crate::platform::crypto::KeyringError> {
        let keyring =
            crate::platform::crypto::Keyring::unlock(&self.conn, master, self.security_events.clone(), now)
                .await?;
        self.keyring = Some(std::sync::Arc::new(keyring));
        Ok(self)
    }

    /// The keyring; an error if the database was never unlocked (a wiring mistake).
    pub fn keyring(&self) -> Result<&crate::platform::crypto::Keyring> {
        self.keyring
            .as_deref()
            .ok_or_else(|| Error::Internal("the keyring is locked: no master key was given".into()))
    }

    /// Where security events go.
    pub fn security_events(&self) -> &crate::platform::security_events::SecurityEvents {
        &self.security_events
    }

    /// The pooled connection, for domain modules only.
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// A transaction that may write. On SQLite it takes the write lock at `BEGIN` (waiting up
    /// to the busy timeout for it): a deferred transaction that reads first and writes later
    /// fails at once with "database is locked" when another writer got in between, instead
    /// of waiting its turn.
    pub(crate) async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction> {
        crate::platform::transactions::begin_write_on(&self.conn).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database location with any password removed, safe for logs and error messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Applies every pending migration; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        let pending = Migrator::get_pending_migrations(&self.conn).await?.len();
        Migrator::up(&self.conn, None).await?;
        let adopted = crate::platform::security_events::adopt_stored_events(&self.conn).await?;
        if adopted > 0 {
            tracing::info!(adopted, "security events moved into the audit log");
        }
        Ok(pending)
    }

    /// The name of the newest migration this build of Candor knows.
    pub fn latest_known_migration() -> Option<String> {
        Migrator::migrations().last().map(|m| m.name().to_owned())
    }

    /// The first transaction of a consistent snapshot: every read in it sees the database as it
    /// was when it began (PostgreSQL: REPEATABLE READ, read only; SQLite: a WAL read snapshot).
    pub(crate) async fn begin_snapshot(&self) -> Result<sea_orm::DatabaseTransaction> {
        use sea_orm::{AccessMode, IsolationLevel, TransactionTrait};
        Ok(match self.backend {
            Backend::Postgres => {
                self.conn
                    .begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
                    .await?
            }
            Backend::Sqlite => self.conn.begin().await?,
        })
    }

    pub async fn schema_version(&self) -> Result<SchemaVersion> {
        let applied = Migrator::get_applied_migrations(&self.conn).await?;
        Ok(SchemaVersion {
            applied: applied.len(),
            known: Migrator::migrations().len(),
            latest: applied.last().map(|m| m.name().to_owned()),
        })
    }

    /// Succeeds when the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        self.conn
            .execute_unprepared("SELECT 1")
            .await
            .map(|_| ())
            .map_err(|err| Error::Unavailable(format!("{}: {err}", self.target)))
    }

    /// The application tables (not the migration bookkeeping) and their columns.
    pub async fn schema_snapshot(&self) -> Result<SchemaSnapshot> {
        let mut snapshot = SchemaSnapshot::default();
        match self.backend {
            Backend::Postgres => {
                let rows = self
                    .query_all(
                        "SELECT table_name, column_name, data_type, is_nullable \
                         FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name <> 'seaql_migrations'",
                    )
                    .await?;
                for row in rows {
                    let table: String = row.try_get("", "table_name")?;
                    let column: String = row.try_get("", "column_name")?;
                    let data_type: String = row.try_get("", "data_type")?;
                    let nullable: String = row.try_get("", "is_nullable")?;
                    snapshot.tables.entry(table).or_default().insert(
                        column,
                        ColumnShape {
                            family: type_family(&data_type),
                            nullable: nullable == "YES",
                        },
                    );
                }
            }
            Backend::Sqlite => {
                let tables = self
                    .query_all(
                        "SELECT name FROM sqlite_master WHERE type = 'table' \
                         AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'",
                    )
                    .await?;
                for table in tables {
                    let table: String = table.try_get("", "name")?;
                    let columns = self
                        .query_all(&format!(
                            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}')"
                        ))
                        .await?;
                    let entry = snapshot.tables.entry(table).or_default();
                    for column in columns {
                        let name: String = column.try_get("", "name")?;
                        let declared: String = column.try_get("", "type")?;
                        let not_null: i32 = column.try_get("", "notnull")?;
                        let primary_key: i32 = column.try_get("", "pk")?;
                        entry.insert(
                            name,
                            ColumnShape {
                                family: type_family(&declared),
                                nullable: not_null == 0 && primary_key == 0,
                            },
                        );
                    }
                }
            }
        }
        Ok(snapshot)
    }

    async fn query_all(&self, sql: &str) -> Result<Vec<sea_orm::QueryResult>> {
        let backend: DbBackend = self.conn.get_database_backend();
        Ok(self
            .conn
            .query_all_raw(Statement::from_string(backend, sql.to_owned()))
            .await?)
    }

    /// Closes every pooled connection.
    pub async fn close(self) -> Result<()> {
        Ok(self.conn.close().await?)
    }

    /// Whether PostgreSQL's row-level security binds the role Candor connects as.
    pub async fn row_level_security(&self) -> Result<RowLevelSecurity> {
        if self.backend != Backend::Postgres {
            return Ok(RowLevelSecurity::NotAvailable);
        }
        let row = self
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT (rolsuper OR rolbypassrls) AS bypasses FROM pg_roles WHERE rolname = current_user",
            ))
            .await?
            .ok_or_else(|| Error::Internal("current role not found in pg_roles".into()))?;
        let bypasses: bool = row.try_get("", "bypasses")?;
        Ok(if bypasses {
            RowLevelSecurity::BypassedByRole
        } else {
            RowLevelSecurity::Enforced
        })
    }

    /// Tables that hold a `workplace_id` but have no forced row-level security (PostgreSQL;
    /// empty elsewhere). A new workplace table that forgot its policy shows up here.
    pub async fn workplace_tables_without_row_level_security(&self) -> Result<Vec<String>> {
        if self.backend != Backend::Postgres {
            return Ok(Vec::new());
        }
        let rows = self
            .query_all(
                "SELECT c.relname AS name FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN information_schema.columns col \
                   ON col.table_schema = n.nspname AND col.table_name = c.relname \
                 WHERE n.nspname = current_schema() AND c.relkind = 'r' \
                   AND col.column_name = 'workplace_id' \
                   AND NOT (c.relrowsecurity AND c.relforcerowsecurity) \
                 ORDER BY 1",
            )
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String>("", "name")?))
            .collect()
    }

    /// Applies the first `steps` migrations only, to build a database as an older Candor left it.
    #[cfg(feature = "testing")]
    pub async fn migrate_first(&self, steps: u32) -> Result<()> {
        Migrator::up(&self.conn, Some(steps)).await?;
        Ok(())
    }

    /// Runs a raw statement (to create a cluster role, or to put rows in an older shape); only
    /// the test harness needs it.
    #[cfg(feature = "testing")]
    pub async fn execute_admin(&self, sql: &str) -> Result<()> {
        self.conn.execute_unprepared(sql).await.map(|_| ())?;
        Ok(())
    }
}

/// Row-level security as it applies to Candor's own database role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowLevelSecurity {
    /// SQLite: the tenant scope's filters are the guard.
    NotAvailable,
    /// PostgreSQL policies bind every query of this role.
    Enforced,
    /// The role is a superuser or has BYPASSRLS: the policies do not apply to it.
    BypassedByRole,
}

/// Maps a declared column type of either backend to a family, so schemas can be compared.
fn type_family(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("uuid") {
        "uuid"
    } else if t.contains("timestamp") {
        "timestamp"
    } else if t == "date" || t.starts_with("date_") {
        // PostgreSQL `date`; SQLite stores it as `date_text`.
        "date"
    } else if t.contains("bool") {
        "boolean"
    } else if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") {
        "text"
    } else if t.contains("blob") || t.contains("bytea") || t.contains("binary") {
        "binary"
    } else if t.contains("json") {
        "json"
    } else if t.contains("real") || t.contains("double") || t.contains("float") || t.contains("numeric") {
        "number"
    } else {
        "other"
    }
}

/// Removes the password from a database URL.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => url.split('@').next_back().unwrap_or_default().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_the_target() {
        let redacted = redact_url("postgres://candor:hunter2@db.internal:5432/candor");
        assert!(!redacted.contains("hunter2"));
        assert!(redacted.contains("db.internal:5432"));
        assert_eq!(
            redact_url("sqlite://data/candor.db?mode=rwc"),
            "sqlite://data/candor.db?mode=rwc"
        );
    }

    #[test]
    fn backends_are_recognised_by_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgresql://h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::from_url("mysql://h/db").is_err());
    }

    #[test]
    fn type_families_agree_across_backends() {
        assert_eq!(type_family("uuid_text"), type_family("uuid"));
        assert_eq!(
            type_family("timestamp_with_timezone_text"),
            type_family("timestamp with time zone")
        );
        assert_eq!(type_family("varchar(200)"), type_family("character varying"));
    }
}
