//! Settings from command-line flags, `CANDOR_*` environment variables and an optional
//! `candor.toml`, in that order of precedence. Every value is parsed in one place, and a bad
//! value is reported as one line naming the setting.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use app::transport::TransportMode;

/// Raw settings as given, before validation. Doubles as the clap definition so that
/// `candor --help` lists every setting with its environment variable.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RawSettings {
    /// Optional TOML file with the settings below (keys without the CANDOR_ prefix, in lower case).
    /// Default: ./candor.toml when it exists.
    #[arg(long, env = "CANDOR_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database, generated keys and certificates, and the mail outbox.
    /// Default: ./data
    #[arg(long, env = "CANDOR_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// sqlite://… or postgres://user:password@host:port/db. Default: SQLite file in the data directory.
    #[arg(
        long,
        env = "CANDOR_DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// The master key (256 bits as base64 or hex) that wraps every workplace's data keys. Keep it
    /// out of the data directory and its backups in production. Default: CANDOR_MASTER_KEY_FILE.
    #[arg(
        long,
        env = "CANDOR_MASTER_KEY",
        global = true,
        value_name = "KEY",
        hide_env_values = true
    )]
    pub master_key: Option<String>,
    /// A file holding the master key, when CANDOR_MASTER_KEY is not set. Default:
    /// master.key in the data directory (scripts/run creates one there on first start).
    #[arg(long, env = "CANDOR_MASTER_KEY_FILE", global = true, value_name = "FILE")]
    pub master_key_file: Option<String>,
    /// Address and port to listen on. Default: 127.0.0.1:3000 (port 0 picks a free port).
    #[arg(long, env = "CANDOR_LISTEN", global = true, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// TLS mode: off (loopback only, or behind a declared proxy), files (CANDOR_TLS_CERT and
    /// CANDOR_TLS_KEY) or self-signed (a localhost certificate generated into the data directory).
    /// Default: off
    #[arg(long, env = "CANDOR_TLS", global = true, value_name = "off|files|self-signed")]
    pub tls: Option<String>,
    /// PEM certificate chain, with CANDOR_TLS=files.
    #[arg(long, env = "CANDOR_TLS_CERT", global = true, value_name = "FILE")]
    pub tls_cert: Option<String>,
    /// PEM private key, with CANDOR_TLS=files.
    #[arg(long, env = "CANDOR_TLS_KEY", global = true, value_name = "FILE")]
    pub tls_key: Option<String>,
    /// Set to true when a TLS-terminating proxy sits in front of Candor; allows plain HTTP on a
    /// non-loopback address and turns on HSTS. Default: false
    #[arg(
        long,
        env = "CANDOR_BEHIND_TLS_PROXY",
        global = true,
        value_name = "true|false"
    )]
    pub behind_tls_proxy: Option<String>,
    /// Log filter (tracing syntax). Default: info
    #[arg(long, env = "CANDOR_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// Log format: text (human-readable) or json. Default: text
    #[arg(long, env = "CANDOR_LOG_FORMAT", global = true, value_name = "text|json")]
    pub log_format: Option<String>,
    /// Directory of the built site (/pkg/candor.js, .wasm, .css). Default: $LEPTOS_SITE_ROOT or target/site
    #[arg(long, env = "CANDOR_SITE_ROOT", global = true, value_name = "DIR")]
    pub site_root: Option<String>,
    /// Seconds a request may take before it is answered with 408. Default: 30
    #[arg(long, env = "CANDOR_REQUEST_TIMEOUT", global = true, value_name = "SECONDS")]
    pub request_timeout: Option<String>,
    /// Requests one network (an IPv4 address, an IPv6 /64) may make per second, with bursts of
    /// ten times that; over it, 429 with Retry-After. Default: 50
    #[arg(
        long,
        env = "CANDOR_NETWORK_REQUESTS_PER_SECOND",
        global = true,
        value_name = "COUNT"
    )]
    pub network_requests_per_second: Option<String>,
    /// Largest accepted request body in bytes. Default: 1048576 (1 MiB)
    #[arg(long, env = "CANDOR_BODY_LIMIT", global = true, value_name = "BYTES")]
    pub body_limit: Option<String>,
    /// The address people use to reach Candor, for links in emails (e.g. https://candor.example.com).
    /// Default: the address Candor listens on.
    #[arg(long, env = "CANDOR_PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Sender of Candor's emails. Default: Candor <no-reply@localhost>
    #[arg(long, env = "CANDOR_MAIL_FROM", global = true, value_name = "MAILBOX")]
    pub mail_from: Option<String>,
    /// SMTP server for outgoing mail (smtps://user:password@host or smtp://host?tls=required).
    /// Default: none; mail is written as .eml files into the data directory's outbox/.
    #[arg(
        long,
        env = "CANDOR_SMTP_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Failed sign-ins from one network address that trigger a temporary block; 0 turns the block
    /// off (for load tests only). Default: 10
    #[arg(long, env = "CANDOR_SIGNIN_MAX_FAILURES", global = true, value_name = "COUNT")]
    pub signin_max_failures: Option<String>,
    /// Seconds within which those failures count. Default: 300
    #[arg(long, env = "CANDOR_SIGNIN_WINDOW", global = true, value_name = "SECONDS")]
    pub signin_window: Option<String>,
    /// Seconds an address stays blocked. Default: 900
    #[arg(long, env = "CANDOR_SIGNIN_BLOCK", global = true, value_name = "SECONDS")]
    pub signin_block: Option<String>,
    /// Days after which a workplace's data key is rotated by the scheduler (its fields sealed
    /// again under a new key, in the background); 0 turns scheduled rotation off. Default: 365
    #[arg(
        long,
        env = "CANDOR_TENANT_KEY_MAX_AGE_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub tenant_key_max_age_days: Option<String>,
    /// Where encrypted backups are stored: a directory on other storage than the database (a
    /// mounted volume of another server). Backups are off until this and CANDOR_BACKUP_RECIPIENT
    /// are set.
    #[arg(long, env = "CANDOR_BACKUP_DIR", global = true, value_name = "DIR")]
    pub backup_dir: Option<String>,
    /// The operator's public backup key (age1…, from `candor backup keygen`). Backups are
    /// encrypted to it; its private half is needed only to restore, and belongs elsewhere.
    #[arg(
        long,
        env = "CANDOR_BACKUP_RECIPIENT",
        global = true,
        value_name = "AGE_PUBLIC_KEY"
    )]
    pub backup_recipient: Option<String>,
    /// Hours between scheduled backups, 1–168. Default: 24
    #[arg(
        long,
        env = "CANDOR_BACKUP_INTERVAL_HOURS",
        global = true,
        value_name = "HOURS"
    )]
    pub backup_interval_hours: Option<String>,
    /// Days a backup is kept before it is deleted (the newest is always kept). Default: 30
    #[arg(
        long,
        env = "CANDOR_BACKUP_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub backup_retention_days: Option<String>,
    /// Days between restore drills (the newest backup restored into a scratch database and
    /// checked row by row). Default: 7
    #[arg(long, env = "CANDOR_BACKUP_DRILL_DAYS", global = true, value_name = "DAYS")]
    pub backup_drill_days: Option<String>,
    /// The private backup key file, on the host that runs restore drills. Without it this
    /// process does not drill, and warns when no drill has passed in time.
    #[arg(long, env = "CANDOR_BACKUP_IDENTITY_FILE", global = true, value_name = "FILE")]
    pub backup_identity_file: Option<String>,
    /// A database for restore drills (replaced each time). Default: a temporary SQLite file.
    #[arg(
        long,
        env = "CANDOR_BACKUP_SCRATCH_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub backup_scratch_url: Option<String>,
    /// The operator's address: operations alerts (failed backups and drills) and the in-app help
    /// form go there. Default: none (alerts go to the log and the instance's audit chain only,
    /// and the help form says help is not set up).
    #[arg(long, env = "CANDOR_OPERATOR_EMAIL", global = true, value_name = "ADDRESS")]
    pub operator_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSetting {
    Off,
    Files { cert: PathBuf, key: PathBuf },
    SelfSigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the master key comes from. Debug output never shows a key.
#[derive(Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// Given in CANDOR_MASTER_KEY (already checked to be well formed).
    Inline(String),
    File(PathBuf),
}

impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeySource::Inline(_) => f.write_str("Inline(<redacted>)"),
            MasterKeySource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

impl MasterKeySource {
    /// Reads the key; a missing file, a short or malformed key is an error naming the setting.
    pub fn load(&self) -> Result<domain::platform::crypto::MasterKey, ConfigError> {
        match self {
            MasterKeySource::Inline(text) => domain::platform::crypto::MasterKey::from_text(text)
                .map_err(|err| invalid("CANDOR_MASTER_KEY", err.to_string())),
            MasterKeySource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|err| {
                    invalid(
                        "CANDOR_MASTER_KEY_FILE",
                        format!(
                            "cannot read {}: {err}. Set CANDOR_MASTER_KEY or CANDOR_MASTER_KEY_FILE, \
                             or create a key with `candor keys generate --out {}`",
                            path.display(),
                            path.display()
                        ),
                    )
                })?;
                domain::platform::crypto::MasterKey::from_text(&text)
                    .map_err(|err| invalid("CANDOR_MASTER_KEY_FILE", format!("{}: {err}", path.display())))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub master_key: MasterKeySource,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub listen: SocketAddr,
    pub tls: TlsSetting,
    pub behind_tls_proxy: bool,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub site_root: PathBuf,
    pub request_timeout: Duration,
    pub network_requests_per_second: u32,
    pub body_limit: usize,
    pub public_url: Option<String>,
    pub mail_from: String,
    pub smtp_url: Option<String>,
    pub address_rule: domain::access::auth::throttle::AddressRule,
    /// None: no scheduled rotation.
    pub tenant_key_max_age: Option<chrono::Duration>,
    /// None: backups are not configured.
    pub backups: Option<BackupSettings>,
    pub operator_email: Option<String>,
}

/// Backups, as configured.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    pub target: domain::operations::backup::BackupTarget,
    pub interval: chrono::Duration,
    pub retention: chrono::Duration,
    pub drill_every: chrono::Duration,
    pub identity_file: Option<PathBuf>,
    pub scratch_url: Option<String>,
}

/// A configuration problem: which setting, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

fn invalid(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

/// Keys accepted in candor.toml, mapped onto the raw settings.
const FILE_KEYS: [&str; 29] = [
    "data_dir",
    "master_key_file",
    "database_url",
    "listen",
    "tls",
    "tls_cert",
    "tls_key",
    "behind_tls_proxy",
    "log",
    "log_format",
    "site_root",
    "request_timeout",
    "network_requests_per_second",
    "body_limit",
    "public_url",
    "mail_from",
    "smtp_url",
    "signin_max_failures",
    "signin_window",
    "signin_block",
    "tenant_key_max_age_days",
    "backup_dir",
    "backup_recipient",
    "backup_interval_hours",
    "backup_retention_days",
    "backup_drill_days",
    "backup_identity_file",
    "backup_scratch_url",
    "operator_email",
];

impl RawSettings {
    /// Fills settings not given as flags or environment variables from the TOML file.
    pub fn merge_file(&mut self) -> Result<(), ConfigError> {
        let (path, required) = match &self.config {
            Some(path) => (path.clone(), true),
            None => (PathBuf::from("candor.toml"), false),
        };
        if !required && !path.exists() {
            return Ok(());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|err| invalid("CANDOR_CONFIG", format!("cannot read {}: {err}", path.display())))?;
        let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
            invalid(
                "CANDOR_CONFIG",
                format!("{} is not valid TOML: {}", path.display(), err.message()),
            )
        })?;
        for (key, value) in table {
            let Some(known) = FILE_KEYS.iter().find(|k| **k == key) else {
                return Err(invalid(
                    "CANDOR_CONFIG",
                    format!("{}: unknown setting `{key}`", path.display()),
                ));
            };
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(invalid(
                        "CANDOR_CONFIG",
                        format!(
                            "{}: `{key}` must be a string, number or boolean, not {}",
                            path.display(),
                            other.type_str()
                        ),
                    ))
                }
            };
            let slot = match *known {
                "data_dir" => &mut self.data_dir,
                "master_key_file" => &mut self.master_key_file,
                "database_url" => &mut self.database_url,
                "listen" => &mut self.listen,
                "tls" => &mut self.tls,
                "tls_cert" => &mut self.tls_cert,
                "tls_key" => &mut self.tls_key,
                "behind_tls_proxy" => &mut self.behind_tls_proxy,
                "log" => &mut self.log,
                "log_format" => &mut self.log_format,
                "site_root" => &mut self.site_root,
                "request_timeout" => &mut self.request_timeout,
                "network_requests_per_second" => &mut self.network_requests_per_second,
                "public_url" => &mut self.public_url,
                "mail_from" => &mut self.mail_from,
                "smtp_url" => &mut self.smtp_url,
                "signin_max_failures" => &mut self.signin_max_failures,
                "signin_window" => &mut self.signin_window,
                "signin_block" => &mut self.signin_block,
                "tenant_key_max_age_days" => &mut self.tenant_key_max_age_days,
                "backup_dir" => &mut self.backup_dir,
                "backup_recipient" => &mut self.backup_recipient,
                "backup_interval_hours" => &mut self.backup_interval_hours,
                "backup_retention_days" => &mut self.backup_retention_days,
                "backup_drill_days" => &mut self.backup_drill_days,
                "backup_identity_file" => &mut self.backup_identity_file,
                "backup_scratch_url" => &mut self.backup_scratch_url,
                "operator_email" => &mut self.operator_email,
                _ => &mut self.body_limit,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        Ok(())
    }
}

impl Config {
    /// Validates raw settings into a configuration. `site_root_hint` is `$LEPTOS_SITE_ROOT`.
    pub fn from_raw(raw: &RawSettings, site_root_hint: Option<&str>) -> Result<Self, ConfigError> {
        let data_dir =
            PathBuf::from(non_empty(raw.data_dir.as_deref(), "CANDOR_DATA_DIR")?.unwrap_or("data"));
        let master_key = match (
            non_empty(raw.master_key.as_deref(), "CANDOR_MASTER_KEY")?,
            non_empty(raw.master_key_file.as_deref(), "CANDOR_MASTER_KEY_FILE")?,
        ) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "CANDOR_MASTER_KEY",
                    "set either CANDOR_MASTER_KEY or CANDOR_MASTER_KEY_FILE, not both",
                ))
            }
            (Some(text), None) => {
                let source = MasterKeySource::Inline(text.to_owned());
                source.load()?;
                source
            }
            (None, Some(path)) => MasterKeySource::File(PathBuf::from(path)),
            (None, None) => MasterKeySource::File(data_dir.join("master.key")),
        };
        let database_url = match non_empty(raw.database_url.as_deref(), "CANDOR_DATABASE_URL")? {
            Some(url) => {
                domain::Backend::from_url(url).map_err(|_| {
                    invalid("CANDOR_DATABASE_URL", "must start with sqlite:// or postgres://")
                })?;
                url.to_owned()
            }
            None => default_sqlite_url(&data_dir),
        };
        let listen_text = non_empty(raw.listen.as_deref(), "CANDOR_LISTEN")?.unwrap_or("127.0.0.1:3000");
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            invalid(
                "CANDOR_LISTEN",
                format!("`{listen_text}` is not an address:port such as 127.0.0.1:3000"),
            )
        })?;
        let tls = match non_empty(raw.tls.as_deref(), "CANDOR_TLS")?.unwrap_or("off") {
            "off" => TlsSetting::Off,
            "self-signed" => TlsSetting::SelfSigned,
            "files" => {
                let cert = non_empty(raw.tls_cert.as_deref(), "CANDOR_TLS_CERT")?
                    .ok_or_else(|| invalid("CANDOR_TLS_CERT", "is required with CANDOR_TLS=files"))?;
                let key = non_empty(raw.tls_key.as_deref(), "CANDOR_TLS_KEY")?
                    .ok_or_else(|| invalid("CANDOR_TLS_KEY", "is required with CANDOR_TLS=files"))?;
                TlsSetting::Files {
                    cert: cert.into(),
                    key: key.into(),
                }
            }
            other => {
                return Err(invalid(
                    "CANDOR_TLS",
                    format!("`{other}` is not one of off, files, self-signed"),
                ))
            }
        };
        let behind_tls_proxy = parse_bool(raw.behind_tls_proxy.as_deref(), "CANDOR_BEHIND_TLS_PROXY")?;
        if tls == TlsSetting::Off && !behind_tls_proxy && !listen.ip().is_loopback() {
            return Err(invalid(
                "CANDOR_LISTEN",
                format!(
                    "{listen} is not a loopback address, and plain HTTP is served only on loopback: \
                     set CANDOR_TLS=files (or self-signed), or CANDOR_BEHIND_TLS_PROXY=true if a TLS proxy is in front"
                ),
            ));
        }
        let log_format = match non_empty(raw.log_format.as_deref(), "CANDOR_LOG_FORMAT")?.unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "CANDOR_LOG_FORMAT",
                    format!("`{other}` is not one of text, json"),
                ))
            }
        };
        let log_filter = non_empty(raw.log.as_deref(), "CANDOR_LOG")?
            .unwrap_or("info")
            .to_owned();
        tracing_subscriber::EnvFilter::try_new(&log_filter).map_err(|err| {
            invalid(
                "CANDOR_LOG",
                format!("`{log_filter}` is not a valid filter: {err}"),
            )
        })?;
        let site_root = PathBuf::from(
            non_empty(raw.site_root.as_deref(), "CANDOR_SITE_ROOT")?
                .or(site_root_hint.filter(|s| !s.is_empty()))
                .unwrap_or("target/site"),
        );
        let request_timeout = Duration::from_secs(parse_number(
            raw.request_timeout.as_deref(),
            "CANDOR_REQUEST_TIMEOUT",
            30,
            1..=3600,
        )?);
        let network_requests_per_second = parse_number(
            raw.network_requests_per_second.as_deref(),
            "CANDOR_NETWORK_REQUESTS_PER_SECOND",
            50,
            1..=1_000_000,
        )?;
        let body_limit = parse_number(
            raw.body_limit.as_deref(),
            "CANDOR_BODY_LIMIT",
            1024 * 1024,
            1024..=64 * 1024 * 1024,
        )?;
        let public_url = match non_empty(raw.public_url.as_deref(), "CANDOR_PUBLIC_URL")? {
            None => None,
            Some(text) => {
                let url = url::Url::parse(text)
                    .map_err(|_| invalid("CANDOR_PUBLIC_URL", format!("`{text}` is not a URL")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(invalid(
                        "CANDOR_PUBLIC_URL",
                        "must be an http:// or https:// address",
                    ));
                }
                Some(text.trim_end_matches('/').to_owned())
            }
        };
        let mail_from = non_empty(raw.mail_from.as_deref(), "CANDOR_MAIL_FROM")?
            .unwrap_or("Candor <no-reply@localhost>")
            .to_owned();
        let smtp_url = non_empty(raw.smtp_url.as_deref(), "CANDOR_SMTP_URL")?.map(str::to_owned);
        let seconds = |value: u64| chrono::Duration::seconds(i64::try_from(value).unwrap_or(i64::MAX));
        let address_rule = domain::access::auth::throttle::AddressRule {
            max_failures: usize::try_from(parse_number(
                raw.signin_max_failures.as_deref(),
                "CANDOR_SIGNIN_MAX_FAILURES",
                10,
                0..=1000,
            )?)
            .unwrap_or(10),
            window: seconds(parse_number(
                raw.signin_window.as_deref(),
                "CANDOR_SIGNIN_WINDOW",
                300,
                10..=86_400,
            )?),
            block: seconds(parse_number(
                raw.signin_block.as_deref(),
                "CANDOR_SIGNIN_BLOCK",
                900,
                10..=86_400,
            )?),
        };
        let tenant_key_max_age = match parse_number(
            raw.tenant_key_max_age_days.as_deref(),
            "CANDOR_TENANT_KEY_MAX_AGE_DAYS",
            365,
            0..=3650,
        )? {
            0 => None,
            days => Some(chrono::Duration::days(i64::try_from(days).unwrap_or(365))),
        };
        let backups = backup_settings(raw)?;
        let operator_email = match non_empty(raw.operator_email.as_deref(), "CANDOR_OPERATOR_EMAIL")? {
            None => None,
            Some(text) => {
                text.parse::<lettre::Address>().map_err(|_| {
                    invalid(
                        "CANDOR_OPERATOR_EMAIL",
                        format!("`{text}` is not an email address"),
                    )
                })?;
                Some(text.to_owned())
            }
        };
        Ok(Config {
            master_key,
            backups,
            operator_email,
            address_rule,
            tenant_key_max_age,
            public_url,
            mail_from,
            smtp_url,
            data_dir,
            database_url,
            listen,
            tls,
            behind_tls_proxy,
            log_filter,
            log_format,
            site_root,
            request_timeout,
            network_requests_per_second: u32::try_from(network_requests_per_second).unwrap_or(u32::MAX),
            body_limit: usize::try_from(body_limit).unwrap_or(usize::MAX),
        })
    }

    /// How browsers reach this instance, as shown on the Security page.
    /// Where mail goes: the SMTP server when one is set, else `.eml` files under the data
    /// directory's outbox.
    pub fn mailer(&self) -> domain::Result<domain::platform::mail::Mailer> {
        match &self.smtp_url {
            Some(url) => domain::platform::mail::Mailer::smtp(url, &self.mail_from),
            None => domain::platform::mail::Mailer::outbox(self.data_dir.join("outbox"), &self.mail_from),
        }
    }

    pub fn transport(&self) -> TransportMode {
        match (&self.tls, self.behind_tls_proxy) {
            (TlsSetting::Files { .. } | TlsSetting::SelfSigned, _) => TransportMode::Tls13,
            (TlsSetting::Off, true) => TransportMode::BehindTlsProxy,
            (TlsSetting::Off, false) => TransportMode::LoopbackHttp,
        }
    }
}

fn backup_settings(raw: &RawSettings) -> Result<Option<BackupSettings>, ConfigError> {
    let dir = non_empty(raw.backup_dir.as_deref(), "CANDOR_BACKUP_DIR")?;
    let recipient = non_empty(raw.backup_recipient.as_deref(), "CANDOR_BACKUP_RECIPIENT")?;
    let (dir, recipient) = match (dir, recipient) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(invalid(
            "CANDOR_BACKUP_RECIPIENT",
            "is required with CANDOR_BACKUP_DIR: create a key pair with `candor backup keygen --out FILE` \
                 and give its public key (age1…)",
        )),
        (None, Some(_)) => {
            return Err(invalid(
                "CANDOR_BACKUP_DIR",
                "is required with CANDOR_BACKUP_RECIPIENT: a directory on other storage than the database",
            ))
        }
        (Some(dir), Some(recipient)) => (dir, recipient),
    };
    let recipient = domain::operations::backup::parse_recipient(recipient)
        .map_err(|err| invalid("CANDOR_BACKUP_RECIPIENT", err.to_string()))?;
    let hours = |value: u64| chrono::Duration::hours(i64::try_from(value).unwrap_or(24));
    let days = |value: u64| chrono::Duration::days(i64::try_from(value).unwrap_or(30));
    Ok(Some(BackupSettings {
        target: domain::operations::backup::BackupTarget {
            store: domain::operations::backup::BackupStore::new(dir),
            recipient,
        },
        interval: hours(parse_number(
            raw.backup_interval_hours.as_deref(),
            "CANDOR_BACKUP_INTERVAL_HOURS",
            24,
            1..=168,
        )?),
        retention: days(parse_number(
            raw.backup_retention_days.as_deref(),
            "CANDOR_BACKUP_RETENTION_DAYS",
            30,
            1..=3650,
        )?),
        drill_every: days(parse_number(
            raw.backup_drill_days.as_deref(),
            "CANDOR_BACKUP_DRILL_DAYS",
            7,
            1..=90,
        )?),
        identity_file: non_empty(raw.backup_identity_file.as_deref(), "CANDOR_BACKUP_IDENTITY_FILE")?
            .map(PathBuf::from),
        scratch_url: non_empty(raw.backup_scratch_url.as_deref(), "CANDOR_BACKUP_SCRATCH_URL")?
            .map(str::to_owned),
    }))
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("candor.db").display())
}

fn non_empty<'a>(value: Option<&'a str>, setting: &'static str) -> Result<Option<&'a str>, ConfigError> {
    match value.map(str::trim) {
        Some("") => Err(invalid(setting, "is set but empty")),
        other => Ok(other),
    }
}

fn parse_bool(value: Option<&str>, setting: &'static str) -> Result<bool, ConfigError> {
    match non_empty(value, setting)?.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(invalid(setting, format!("`{other}` is not true or false"))),
    }
}

fn parse_number(
    value: Option<&str>,
    setting: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(text) = non_empty(value, setting)? else {
        return Ok(default);
    };
    let number: u64 = text
        .parse()
        .map_err(|_| invalid(setting, format!("`{text}` is not a whole number")))?;
    if !range.contains(&number) {
        return Err(invalid(
            setting,
            format!(
                "{number} is outside the allowed range {}–{}",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawSettings {
        RawSettings::default()
    }

    #[test]
    fn defaults_give_a_local_sqlite_instance_on_loopback() {
        let config = Config::from_raw(&raw(), None).unwrap();
        assert_eq!(config.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(config.database_url, "sqlite://data/candor.db?mode=rwc");
        assert_eq!(config.transport(), TransportMode::LoopbackHttp);
        assert_eq!(config.site_root, PathBuf::from("target/site"));
    }

    #[test]
    fn plain_http_beyond_loopback_is_refused_unless_a_proxy_is_declared() {
        let mut settings = RawSettings {
            listen: Some("0.0.0.0:8080".into()),
            ..raw()
        };
        let err = Config::from_raw(&settings, None).unwrap_err();
        assert_eq!(err.setting, "CANDOR_LISTEN");
        settings.behind_tls_proxy = Some("true".into());
        assert_eq!(
            Config::from_raw(&settings, None).unwrap().transport(),
            TransportMode::BehindTlsProxy
        );
        settings.behind_tls_proxy = None;
        settings.tls = Some("self-signed".into());
        assert_eq!(
            Config::from_raw(&settings, None).unwrap().transport(),
            TransportMode::Tls13
        );
    }

    #[test]
    fn the_master_key_comes_from_the_environment_or_a_file() {
        let config = Config::from_raw(&raw(), None).unwrap();
        assert_eq!(
            config.master_key,
            MasterKeySource::File(PathBuf::from("data/master.key"))
        );
        let key = domain::platform::crypto::MasterKey::generate();
        let inline = Config::from_raw(
            &RawSettings {
                master_key: Some(key.to_text().to_string()),
                ..raw()
            },
            None,
        )
        .unwrap();
        assert_eq!(inline.master_key.load().unwrap().id(), key.id());
        assert!(!format!("{inline:?}").contains(key.to_text().as_str()));
        let dir = tempfile::tempdir().unwrap();
        let missing = MasterKeySource::File(dir.path().join("master.key"));
        assert_eq!(missing.load().unwrap_err().setting, "CANDOR_MASTER_KEY_FILE");
        let short = dir.path().join("short.key");
        std::fs::write(&short, "c2hvcnQ=\n").unwrap();
        let error = MasterKeySource::File(short).load().unwrap_err();
        assert!(error.message.contains("5 bytes long"), "{error}");
    }

    #[test]
    fn each_bad_value_names_its_setting() {
        let cases: [(RawSettings, &str); 11] = [
            (
                RawSettings {
                    listen: Some("nowhere".into()),
                    ..raw()
                },
                "CANDOR_LISTEN",
            ),
            (
                RawSettings {
                    master_key: Some("c2hvcnQ=".into()),
                    ..raw()
                },
                "CANDOR_MASTER_KEY",
            ),
            (
                RawSettings {
                    master_key: Some("not base64 at all!".into()),
                    ..raw()
                },
                "CANDOR_MASTER_KEY",
            ),
            (
                RawSettings {
                    master_key: Some(
                        domain::platform::crypto::MasterKey::generate()
                            .to_text()
                            .to_string(),
                    ),
                    master_key_file: Some("/etc/candor.key".into()),
                    ..raw()
                },
                "CANDOR_MASTER_KEY",
            ),
            (
                RawSettings {
                    database_url: Some("mysql://x".into()),
                    ..raw()
                },
                "CANDOR_DATABASE_URL",
            ),
            (
                RawSettings {
                    tls: Some("maybe".into()),
                    ..raw()
                },
                "CANDOR_TLS",
            ),
            (
                RawSettings {
                    tls: Some("files".into()),
                    ..raw()
                },
                "CANDOR_TLS_CERT",
            ),
            (
                RawSettings {
                    log_format: Some("xml".into()),
                    ..raw()
                },
                "CANDOR_LOG_FORMAT",
            ),
            (
                RawSettings {
                    request_timeout: Some("0".into()),
                    ..raw()
                },
                "CANDOR_REQUEST_TIMEOUT",
            ),
            (
                RawSettings {
                    body_limit: Some("lots".into()),
                    ..raw()
                },
                "CANDOR_BODY_LIMIT",
            ),
            (
                RawSettings {
                    data_dir: Some(" ".into()),
                    ..raw()
                },
                "CANDOR_DATA_DIR",
            ),
        ];
        for (settings, setting) in cases {
            assert_eq!(Config::from_raw(&settings, None).unwrap_err().setting, setting);
        }
    }

    #[test]
    fn file_values_fill_only_what_flags_and_environment_left_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("candor.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:4000\"\nbody_limit = 4096\ndata_dir = \"/srv/x\"\n",
        )
        .unwrap();
        let mut settings = RawSettings {
            config: Some(path),
            data_dir: Some("/env/dir".into()),
            ..raw()
        };
        settings.merge_file().unwrap();
        let config = Config::from_raw(&settings, None).unwrap();
        assert_eq!(config.listen.port(), 4000);
        assert_eq!(config.body_limit, 4096);
        assert_eq!(config.data_dir, PathBuf::from("/env/dir"));
    }

    #[test]
    fn sign_in_throttling_is_configurable() {
        let defaults = Config::from_raw(&raw(), None).unwrap();
        assert_eq!(
            defaults.address_rule,
            domain::access::auth::throttle::AddressRule::default()
        );
        let settings = RawSettings {
            signin_max_failures: Some("0".into()),
            signin_block: Some("60".into()),
            ..raw()
        };
        let config = Config::from_raw(&settings, None).unwrap();
        assert_eq!(config.address_rule.max_failures, 0);
        assert_eq!(config.address_rule.block, chrono::Duration::seconds(60));
        let too_short = RawSettings {
            signin_window: Some("5".into()),
            ..raw()
        };
        assert_eq!(
            Config::from_raw(&too_short, None).unwrap_err().setting,
            "CANDOR_SIGNIN_WINDOW"
        );
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("candor.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:4000\"\n").unwrap();
        let mut settings = RawSettings {
            config: Some(path),
            ..raw()
        };
        let err = settings.merge_file().unwrap_err();
        assert_eq!(err.setting, "CANDOR_CONFIG");
        assert!(err.message.contains("lisen"));
    }
}
