//! Settings from command-line flags, `CANDOR_*` environment variables and an optional
//! `candor.toml`, in that order of precedence. Every value is parsed in one place, and a bad
//! value is reported as one line naming the setting.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use app::transport::TransportMode;

/// Declares every setting once: its field (the flag `--name`, the `candor.toml` key `name`), its
/// environment variable, its value's name and its help text, and whether it is a secret (never
/// shown in `--help`). `RawSettings` — the clap definition behind `candor --help` — and the keys
/// the file accepts are derived from the declaration; how each value is parsed, defaulted and
/// checked is `Config::from_raw`.
macro_rules! settings {
    (
        only_flags_and_environment { $($flag:tt)* }
        also_in_the_file { $($file:tt)* }
    ) => {
        settings!(@struct [] [] $($flag)* ; $($file)*);
    };
    // Collect every declaration into one struct; the ones after `;` may come from the file.
    (@struct [$($flags:tt)*] [$($files:tt)*]
        $(#[doc = $doc:literal])* $field:ident: $env:literal, $value:literal $(, $secret:ident)?; $($rest:tt)*
    ) => {
        settings!(@struct [$($flags)* ($field, $env, $value, [$($doc)*], [$($secret)?])] [$($files)*] $($rest)*);
    };
    (@struct [$($flags:tt)*] [$($files:tt)*] ; $($rest:tt)*) => {
        settings!(@file [$($flags)*] [$($files)*] $($rest)*);
    };
    (@file [$($flags:tt)*] [$($files:tt)*]
        $(#[doc = $doc:literal])* $field:ident: $env:literal, $value:literal $(, $secret:ident)?; $($rest:tt)*
    ) => {
        settings!(@file [$($flags)*] [$($files)* ($field, $env, $value, [$($doc)*], [$($secret)?])] $($rest)*);
    };
    (@file
        [$(($flag:ident, $flag_env:literal, $flag_value:literal, [$($flag_doc:literal)*], [$($flag_secret:ident)?]))*]
        [$(($file:ident, $file_env:literal, $file_value:literal, [$($file_doc:literal)*], [$($file_secret:ident)?]))*]
    ) => {
        /// Raw settings as given, before validation. Doubles as the clap definition so that
        /// `candor --help` lists every setting with its environment variable.
        #[derive(clap::Args, Debug, Default, Clone)]
        pub struct RawSettings {
            $(
                $(#[doc = $flag_doc])*
                #[arg(long, env = $flag_env, global = true, value_name = $flag_value,
                      hide_env_values = settings!(@secret $($flag_secret)?))]
                pub $flag: Option<String>,
            )*
            $(
                $(#[doc = $file_doc])*
                #[arg(long, env = $file_env, global = true, value_name = $file_value,
                      hide_env_values = settings!(@secret $($file_secret)?))]
                pub $file: Option<String>,
            )*
        }

        impl RawSettings {
            /// The keys `candor.toml` accepts.
            pub const FILE_KEYS: &'static [&'static str] = &[$(stringify!($file)),*];

            /// Where the file's value of `key` goes; None for a key the file may not set.
            fn file_slot(&mut self, key: &str) -> Option<&mut Option<String>> {
                match key {
                    $(stringify!($file) => Some(&mut self.$file),)*
                    _ => None,
                }
            }
        }
    };
    (@secret secret) => { true };
    (@secret) => { false };
}

settings! {
    only_flags_and_environment {
        /// Optional TOML file with the settings below (keys without the CANDOR_ prefix, in lower case).
        /// Default: ./candor.toml when it exists.
        config: "CANDOR_CONFIG", "FILE";
        /// The master key (256 bits as base64 or hex) that wraps every workplace's data keys. Keep it
        /// out of the data directory and its backups in production. Default: CANDOR_MASTER_KEY_FILE.
        master_key: "CANDOR_MASTER_KEY", "KEY", secret;
    }
    also_in_the_file {
        /// Directory for the SQLite database, generated keys and certificates, and the mail outbox.
        /// Default: ./data
        data_dir: "CANDOR_DATA_DIR", "DIR";
        /// sqlite://… or postgres://user:password@host:port/db. Default: SQLite file in the data directory.
        database_url: "CANDOR_DATABASE_URL", "URL", secret;
        /// A file holding the master key, when CANDOR_MASTER_KEY is not set. Default:
        /// master.key in the data directory (scripts/run creates one there on first start).
        master_key_file: "CANDOR_MASTER_KEY_FILE", "FILE";
        /// Address and port to listen on. Default: 127.0.0.1:3000 (port 0 picks a free port).
        listen: "CANDOR_LISTEN", "ADDR:PORT";
        /// TLS mode: off (loopback only, or behind a declared proxy), files (CANDOR_TLS_CERT and
        /// CANDOR_TLS_KEY) or self-signed (a localhost certificate generated into the data directory).
        /// Default: off
        tls: "CANDOR_TLS", "off|files|self-signed";
        /// PEM certificate chain, with CANDOR_TLS=files.
        tls_cert: "CANDOR_TLS_CERT", "FILE";
        /// PEM private key, with CANDOR_TLS=files.
        tls_key: "CANDOR_TLS_KEY", "FILE";
        /// Set to true when a TLS-terminating proxy sits in front of Candor; allows plain HTTP on a
        /// non-loopback address and turns on HSTS. Default: false
        behind_tls_proxy: "CANDOR_BEHIND_TLS_PROXY", "true|false";
        /// Log filter (tracing syntax). Default: info
        log: "CANDOR_LOG", "FILTER";
        /// Log format: text (human-readable) or json. Default: text
        log_format: "CANDOR_LOG_FORMAT", "text|json";
        /// Directory of the built site (/pkg/candor.js, .wasm, .css). Default: $LEPTOS_SITE_ROOT or target/site
        site_root: "CANDOR_SITE_ROOT", "DIR";
        /// Seconds a request may take before it is answered with 408. Default: 30
        request_timeout: "CANDOR_REQUEST_TIMEOUT", "SECONDS";
        /// Requests one network (an IPv4 address, an IPv6 /64) may make per second, with bursts of
        /// ten times that; over it, 429 with Retry-After. Default: 50
        network_requests_per_second: "CANDOR_NETWORK_REQUESTS_PER_SECOND", "COUNT";
        /// Largest accepted request body in bytes. Default: 1048576 (1 MiB)
        body_limit: "CANDOR_BODY_LIMIT", "BYTES";
        /// The address people use to reach Candor, for links in emails (e.g. https://candor.example.com).
        /// Default: the address Candor listens on.
        public_url: "CANDOR_PUBLIC_URL", "URL";
        /// Sender of Candor's emails. Default: Candor <no-reply@localhost>
        mail_from: "CANDOR_MAIL_FROM", "MAILBOX";
        /// SMTP server for outgoing mail (smtps://user:password@host or smtp://host?tls=required).
        /// Default: none; mail is written as .eml files into the data directory's outbox/.
        smtp_url: "CANDOR_SMTP_URL", "URL", secret;
        /// Failed sign-ins from one network address that trigger a temporary block; 0 turns the block
        /// off (for load tests only). Default: 10
        signin_max_failures: "CANDOR_SIGNIN_MAX_FAILURES", "COUNT";
        /// Seconds within which those failures count. Default: 300
        signin_window: "CANDOR_SIGNIN_WINDOW", "SECONDS";
        /// Seconds an address stays blocked. Default: 900
        signin_block: "CANDOR_SIGNIN_BLOCK", "SECONDS";
        /// Days after which a workplace's data key is rotated by the scheduler (its fields sealed
        /// again under a new key, in the background); 0 turns scheduled rotation off. Default: 365
        tenant_key_max_age_days: "CANDOR_TENANT_KEY_MAX_AGE_DAYS", "DAYS";
        /// Where encrypted backups are stored: a directory on other storage than the database (a
        /// mounted volume of another server). Backups are off until this and CANDOR_BACKUP_RECIPIENT
        /// are set.
        backup_dir: "CANDOR_BACKUP_DIR", "DIR";
        /// The operator's public backup key (age1…, from `candor backup keygen`). Backups are
        /// encrypted to it; its private half is needed only to restore, and belongs elsewhere.
        backup_recipient: "CANDOR_BACKUP_RECIPIENT", "AGE_PUBLIC_KEY";
        /// Hours between scheduled backups, 1–168. Default: 24
        backup_interval_hours: "CANDOR_BACKUP_INTERVAL_HOURS", "HOURS";
        /// Days a backup is kept before it is deleted (the newest is always kept). Default: 30
        backup_retention_days: "CANDOR_BACKUP_RETENTION_DAYS", "DAYS";
        /// Days between restore drills (the newest backup restored into a scratch database and
        /// checked row by row). Default: 7
        backup_drill_days: "CANDOR_BACKUP_DRILL_DAYS", "DAYS";
        /// The private backup key file, on the host that runs restore drills. Without it this
        /// process does not drill, and warns when no drill has passed in time.
        backup_identity_file: "CANDOR_BACKUP_IDENTITY_FILE", "FILE";
        /// A database for restore drills (replaced each time). Default: a temporary SQLite file.
        backup_scratch_url: "CANDOR_BACKUP_SCRATCH_URL", "URL", secret;
        /// The operator's address: operations alerts (failed backups and drills) and the in-app help
        /// form go there. Default: none (alerts go to the log and the instance's audit chain only,
        /// and the help form says help is not set up).
        operator_email: "CANDOR_OPERATOR_EMAIL", "ADDRESS";
    }
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

impl RawSettings {
    /// Fills settings not given as flags or environment variables from the TOML file.
    pub fn merge_file(&mut self) -> Result<(), ConfigError> {
        let (path, required) = match &self.config {
            Some(path) => (PathBuf::from(path), true),
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
            if self.file_slot(&key).is_none() {
                return Err(invalid(
                    "CANDOR_CONFIG",
                    format!("{}: unknown setting `{key}`", path.display()),
                ));
            }
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
            let Some(slot) = self.file_slot(&key) else {
                continue;
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
            config: Some(path.display().to_string()),
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
    fn every_setting_is_a_flag_an_environment_variable_and_mostly_a_file_key() {
        use clap::Args;
        let command = RawSettings::augment_args(clap::Command::new("candor"));
        let mut flags = Vec::new();
        for arg in command.get_arguments() {
            let name = arg.get_id().as_str().to_owned();
            let env = arg.get_env().map(|env| env.to_string_lossy().into_owned());
            assert_eq!(env, Some(format!("CANDOR_{}", name.to_uppercase())), "{name}");
            assert_eq!(arg.get_long(), Some(name.replace('_', "-").as_str()), "{name}");
            assert!(arg.get_help().is_some(), "{name} has no help");
            flags.push(name);
        }
        assert_eq!(flags.len(), 31);
        for key in RawSettings::FILE_KEYS {
            assert!(flags.iter().any(|flag| flag == key), "{key}");
        }
        // The file names where to find it, and the master key stays out of it.
        for key in ["config", "master_key"] {
            assert!(!RawSettings::FILE_KEYS.contains(&key), "{key}");
        }
        assert_eq!(RawSettings::FILE_KEYS.len(), flags.len() - 2);
        // Secrets are never shown by --help.
        for arg in command.get_arguments() {
            let secret = ["database_url", "master_key", "smtp_url", "backup_scratch_url"]
                .contains(&arg.get_id().as_str());
            assert_eq!(arg.is_hide_env_values_set(), secret, "{}", arg.get_id());
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("candor.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:4000\"\n").unwrap();
        let mut settings = RawSettings {
            config: Some(path.display().to_string()),
            ..raw()
        };
        let err = settings.merge_file().unwrap_err();
        assert_eq!(err.setting, "CANDOR_CONFIG");
        assert!(err.message.contains("lisen"));
    }
}
