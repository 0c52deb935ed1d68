//! Starting and stopping Candor: data directory, database, migrations, TLS, listener.

use std::{io, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use app::state::AppState;
use domain::access::auth::{
    password::{HashCost, PasswordHasher, PasswordPolicy},
    session::SessionPolicy,
};
use domain::platform::mail_queue::MailQueue;
use leptos::prelude::LeptosOptions;

use crate::{
    config::Config,
    http::{self, HttpSettings},
    tls::{self, TlsError},
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("key rotation failed: {0}")]
    Rotation(String),
    #[error("audit log: {0}")]
    Audit(String),
    #[error("support: {0}")]
    Support(String),
    #[error("incident: {0}")]
    Incident(String),
    #[error("subprocessors: {0}")]
    Subprocessors(String),
    #[error("workplace: {0}")]
    Workplace(String),
    #[error("backup: {0}")]
    Backup(#[from] domain::operations::backup::BackupError),
    #[error("cannot create the key file {path}: {source}")]
    KeyFile { path: String, source: io::Error },
    #[error("CANDOR_DATA_DIR: cannot create {path}: {source}")]
    DataDir { path: String, source: io::Error },
    #[error("CANDOR_DATABASE_URL: {0}")]
    Database(domain::Error),
    #[error("{0}")]
    MasterKey(#[from] crate::config::ConfigError),
    #[error("CANDOR_MASTER_KEY: {0}")]
    Keyring(#[from] domain::platform::crypto::KeyringError),
    #[error("database migration failed on {target}: {source}")]
    Migration { target: String, source: domain::Error },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("{}", .0.public_message())]
    Mail(domain::Error),
    #[error("CANDOR_PUBLIC_URL: {0}")]
    PublicUrl(String),
    #[error("CANDOR_LISTEN: cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("the server stopped with an error: {0}")]
    Serve(io::Error),
}

/// A server that is accepting connections.
pub struct Running {
    pub local_addr: SocketAddr,
    pub tls: bool,
    handle: axum_server::Handle,
    task: tokio::task::JoinHandle<io::Result<()>>,
}

impl Running {
    /// The address a person should open (see [`listening_url`]).
    pub fn url(&self) -> String {
        listening_url(self.local_addr, self.tls)
    }

    /// Stops accepting connections and lets requests in flight finish (up to `grace`).
    pub async fn shutdown(self, grace: Duration) -> Result<(), StartError> {
        self.handle.graceful_shutdown(Some(grace));
        self.wait().await
    }

    pub async fn wait(self) -> Result<(), StartError> {
        match self.task.await {
            Ok(result) => result.map_err(StartError::Serve),
            Err(join) => Err(StartError::Serve(io::Error::other(join.to_string()))),
        }
    }
}

/// Opens the database and applies pending migrations.
pub async fn open_database(config: &Config) -> Result<domain::Database, StartError> {
    if config.database_url.starts_with("sqlite:") {
        create_private_dir(&config.data_dir)?;
    }
    let db = domain::Database::connect(&config.database_url)
        .await
        .map_err(StartError::Database)?;
    let applied = db.migrate().await.map_err(|source| StartError::Migration {
        target: db.target().to_owned(),
        source,
    })?;
    if applied > 0 {
        tracing::info!(applied, backend = %db.backend(), "applied database migrations");
    }
    if db.row_level_security().await.map_err(StartError::Database)?
        == domain::RowLevelSecurity::BypassedByRole
    {
        tracing::warn!(
            "the database role is a superuser or has BYPASSRLS, so row-level security does not bind it; \
             connect as an ordinary role that owns Candor's tables"
        );
    }
    Ok(db)
}

/// [`open_database`], then the master key checked against it and the keyring unlocked.
pub async fn open_unlocked_database(config: &Config) -> Result<domain::Database, StartError> {
    let master = config.master_key.load()?;
    let db = open_database(config).await?;
    let db = domain::operations::instance::unlock(db, master, chrono::Utc::now()).await?;
    if let Ok(keyring) = db.keyring() {
        tracing::info!(master_key = %keyring.master_key_id(), "keyring unlocked");
    }
    // Rounds that closed before releases were kept are frozen now, before anyone can open one
    // on a tree reorganised since.
    let released = domain::surveys::release::release_pending(&db, chrono::Utc::now())
        .await
        .map_err(StartError::Database)?;
    if released > 0 {
        tracing::info!(
            released,
            "released survey rounds that closed before releases were kept"
        );
    }
    Ok(db)
}

/// The HTTP application for `config` on `db`: pages, server functions, health, middleware.
/// `listening_url` is where links in emails point unless CANDOR_PUBLIC_URL says otherwise.
/// Email is queued on `mail`, whose sender runs elsewhere (see `start`).
pub fn app(
    config: &Config,
    db: domain::Database,
    mail: MailQueue,
    listening_url: &str,
) -> Result<axum::Router, StartError> {
    app_with_clock(config, db, mail, listening_url, Arc::new(domain::SystemClock))
}

/// [`app`] with the time read from `clock` (tests move it instead of waiting).
pub fn app_with_clock(
    config: &Config,
    db: domain::Database,
    mail: MailQueue,
    listening_url: &str,
    clock: Arc<dyn domain::Clock>,
) -> Result<axum::Router, StartError> {
    let transport = config.transport();
    // Password hashing may use every core but one, so a flood of sign-ins cannot starve pages.
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    let hasher =
        PasswordHasher::new(HashCost::default(), cores.saturating_sub(1).max(1)).map_err(StartError::Mail)?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| listening_url.trim_end_matches('/').to_owned());
    let relying_party = url::Url::parse(&public_url)
        .map(|url| Arc::new(domain::access::auth::passkey::RelyingParty::new(&url)))
        .map_err(|err| StartError::PublicUrl(format!("`{public_url}` is not a URL: {err}")))?;
    let directory = domain::organisation::directory::Directory::start(db.clone());
    let access_log = domain::platform::access_log::AccessLogWriter::start(db.clone());
    let state = AppState {
        relying_party,
        db,
        clock,
        transport,
        mail,
        submissions: domain::surveys::submissions::SubmissionWriter::start(),
        access_log,
        imports: Default::default(),
        directory,
        hasher,
        password_policy: PasswordPolicy::default(),
        session_policy: SessionPolicy::default(),
        sign_in_guard: domain::access::sign_in_guard::SignInGuard {
            address: config.address_rule,
            ..Default::default()
        },
        public_url,
        support_inbox: config.operator_email.clone(),
        backups: config.backups.as_ref().map(|b| app::state::BackupPolicy {
            interval_hours: b.interval.num_hours(),
            retention_days: b.retention.num_days(),
            drill_days: b.drill_every.num_days(),
            drills_here: b.identity_file.is_some(),
        }),
    };
    let leptos_options = LeptosOptions::builder()
        .output_name("candor")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .build();
    let settings = HttpSettings {
        request_timeout: config.request_timeout,
        body_limit: config.body_limit,
        hsts: transport.sends_hsts(),
        budgets: crate::budgets::BudgetSettings::with_rates(
            config.network_requests_per_second,
            config.session_requests_per_second,
            config.anonymous_calls_per_second,
        ),
    };
    Ok(http::router(state, leptos_options, settings))
}

pub(crate) fn mailer(config: &Config) -> Result<domain::platform::mail::Mailer, StartError> {
    config.mailer().map_err(StartError::Mail)
}

pub async fn start(config: &Config) -> Result<Running, StartError> {
    create_private_dir(&config.data_dir)?;
    let db = open_unlocked_database(config).await?;
    let tls_config = tls::server_config(&config.tls, &config.data_dir)?;
    let bind_error = |source| StartError::Bind {
        addr: config.listen,
        source,
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let listening = listening_url(local_addr, tls_config.is_some());
    let mail = MailQueue::new(db.clone());
    crate::mail_sender::spawn(
        mail.clone(),
        mailer(config)?,
        config.mail_per_minute,
        Arc::new(domain::SystemClock),
    );
    crate::jobs::spawn(
        db.clone(),
        Arc::new(domain::SystemClock),
        crate::jobs::Schedule {
            tenant_key_max_age: config.tenant_key_max_age,
            backups: config.backups.clone(),
        },
        crate::jobs::Notifier {
            mail: mail.clone(),
            public_url: config.public_url.clone().unwrap_or_else(|| listening.clone()),
            operator_email: config.operator_email.clone(),
        },
    );
    let app = app(config, db, mail, &listening)?;
    let handle = axum_server::Handle::new();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let tls = tls_config.is_some();
    // Pages stream in several chunks: without TCP_NODELAY, Nagle's algorithm and delayed ACKs
    // hold each later chunk back for about 40 ms.
    let no_delay = axum_server::accept::NoDelayAcceptor::new();
    let task = match tls_config {
        Some(tls_config) => {
            let rustls = axum_server::tls_rustls::RustlsConfig::from_config(tls_config);
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(rustls).acceptor(no_delay);
            let server = axum_server::from_tcp(listener)
                .acceptor(acceptor)
                .handle(handle.clone());
            tokio::spawn(server.serve(service))
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .acceptor(no_delay)
                .handle(handle.clone());
            tokio::spawn(server.serve(service))
        }
    };
    Ok(Running {
        local_addr,
        tls,
        handle,
        task,
    })
}

fn create_private_dir(path: &Path) -> Result<(), StartError> {
    let failed = |source| StartError::DataDir {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(path).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

/// Creates a file only its owner can read, refusing to replace an existing one (a master key
/// overwritten by mistake would make every workplace's data unreadable).
pub fn create_private_file(path: &Path, contents: &[u8]) -> Result<(), StartError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut file| file.write_all(contents))
        .map_err(|source| StartError::KeyFile {
            path: path.display().to_string(),
            source,
        })
}

/// The address a person should open: `localhost` for loopback (browsers need a host name for
/// passkeys), otherwise the bound address.
fn listening_url(addr: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    let host = if addr.ip().is_loopback() {
        "localhost".to_owned()
    } else {
        addr.ip().to_string()
    };
    format!("{scheme}://{host}:{}/", addr.port())
}
