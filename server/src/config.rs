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
/// environment variable, its value's name, whether it is a secret (never shown in `--help`), the
/// type it is read as, the parser that checks it, and its default (which its help text states;
/// a test holds the two together). `RawSettings` — the clap definition behind `candor --help` —
/// the keys the file accepts, and one typed getter per setting are derived from the declaration. A getter
/// returns the parsed value (or the default; none: `Option`), or an error naming the setting.
/// `Config::from_raw` only combines settings that depend on each other.
macro_rules! settings {
    (
        only_flags_and_environment { $($flag:tt)* }
        also_in_the_file { $($file:tt)* }
    ) => {
        settings!(@collect [] [] $($flag)* ; $($file)*);
    };
    // Collect every declaration; the ones after `;` may also come from the file.
    (@collect [$($flags:tt)*] [$($files:tt)*]
        $(#[doc = $doc:literal])*
        $field:ident($env:literal, $value:literal $(, $secret:ident)?) -> $ty:ty = $parse:expr
            $(, default $default:literal)?;
        $($rest:tt)*
    ) => {
        settings!(@collect
            [$($flags)* ($field, $env, $value, [$($doc)*], [$($secret)?], ($ty), ($parse), [$($default)?])]
            [$($files)*] $($rest)*);
    };
    (@collect [$($flags:tt)*] [$($files:tt)*] ; $($rest:tt)*) => {
        settings!(@file [$($flags)*] [$($files)*] $($rest)*);
    };
    (@file [$($flags:tt)*] [$($files:tt)*]
        $(#[doc = $doc:literal])*
        $field:ident($env:literal, $value:literal $(, $secret:ident)?) -> $ty:ty = $parse:expr
            $(, default $default:literal)?;
        $($rest:tt)*
    ) => {
        settings!(@file [$($flags)*]
            [$($files)* ($field, $env, $value, [$($doc)*], [$($secret)?], ($ty), ($parse), [$($default)?])]
            $($rest)*);
    };
    (@file
        [$(($flag:ident, $flag_env:literal, $flag_value:literal, [$($flag_doc:literal)*], [$($flag_secret:ident)?],
            ($flag_ty:ty), ($flag_parse:expr), [$($flag_default:literal)?]))*]
        [$(($file:ident, $file_env:literal, $file_value:literal, [$($file_doc:literal)*], [$($file_secret:ident)?],
            ($file_ty:ty), ($file_parse:expr), [$($file_default:literal)?]))*]
    ) => {
        /// Raw settings as given, before validation. Doubles as the clap definition so that
        /// `candor --help` lists every setting with its environment variable and default.
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

            /// Every setting's environment variable and declared default, for tests and docs.
            #[cfg(test)]
            const DEFAULTS: &'static [(&'static str, Option<&'static str>)] = &[
                $(($flag_env, settings!(@default $($flag_default)?)),)*
                $(($file_env, settings!(@default $($file_default)?)),)*
            ];

            /// Where the file's value of `key` goes; None for a key the file may not set.
            fn file_slot(&mut self, key: &str) -> Option<&mut Option<String>> {
                match key {
                    $(stringify!($file) => Some(&mut self.$file),)*
                    _ => None,
                }
            }

            /// Reads every setting through its getter: with nothing given, every default parses.
            #[cfg(test)]
            fn read_all(&self) -> Result<(), ConfigError> {
                $(self.$flag()?;)*
                $(self.$file()?;)*
                Ok(())
            }

            $(settings!(@getter $flag, $flag_env, ($flag_ty), ($flag_parse), [$($flag_default)?]);)*
            $(settings!(@getter $file, $file_env, ($file_ty), ($file_parse), [$($file_default)?]);)*
        }
    };
    (@getter $field:ident, $env:literal, ($ty:ty), ($parse:expr), [$default:literal]) => {
        pub fn $field(&self) -> Result<$ty, ConfigError> {
            let parse = $parse;
            parse(non_empty(self.$field.as_deref(), $env)?.unwrap_or($default), $env)
        }
    };
    (@getter $field:ident, $env:literal, ($ty:ty), ($parse:expr), []) => {
        pub fn $field(&self) -> Result<Option<$ty>, ConfigError> {
            let parse = $parse;
            non_empty(self.$field.as_deref(), $env)?.map(|text| parse(text, $env)).transpose()
        }
    };
    (@default $default:literal) => { Some($default) };
    (@default) => { None };
    (@secret secret) => { true };
    (@secret) => { false };
}

settings! {
    only_flags_and_environment {
        /// Optional TOML file with the settings below (keys without the CANDOR_ prefix, in lower case).
        /// Default: ./candor.toml when it exists.
        config("CANDOR_CONFIG", "FILE") -> PathBuf = path;
        /// The master key (256 bits as base64 or hex) that wraps every workplace's data keys. Keep it
        /// out of the data directory and its backups in production. Default: CANDOR_MASTER_KEY_FILE.
        master_key("CANDOR_MASTER_KEY", "KEY", secret) -> MasterKeySource = master_key;
    }
    also_in_the_file {
        /// Directory for the SQLite database, generated keys and certificates, and the mail outbox.
        /// Default: data
        data_dir("CANDOR_DATA_DIR", "DIR") -> PathBuf = path, default "data";
        /// sqlite://… or postgres://user:password@host:port/db. Default: SQLite file in the data directory.
        database_url("CANDOR_DATABASE_URL", "URL", secret) -> String = database_url;
        /// A file holding the master key, when CANDOR_MASTER_KEY is not set. Default:
        /// master.key in the data directory (scripts/run creates one there on first start).
        master_key_file("CANDOR_MASTER_KEY_FILE", "FILE") -> PathBuf = path;
        /// Address and port to listen on (port 0 picks a free port). Default: 127.0.0.1:3000
        listen("CANDOR_LISTEN", "ADDR:PORT") -> SocketAddr = socket_address, default "127.0.0.1:3000";
        /// TLS mode: off (loopback only, or behind a declared proxy), files (CANDOR_TLS_CERT and
        /// CANDOR_TLS_KEY) or self-signed (a localhost certificate generated into the data directory).
        /// Default: off
        tls("CANDOR_TLS", "off|files|self-signed") -> TlsMode = tls_mode, default "off";
        /// PEM certificate chain, with CANDOR_TLS=files.
        tls_cert("CANDOR_TLS_CERT", "FILE") -> PathBuf = path;
        /// PEM private key, with CANDOR_TLS=files.
        tls_key("CANDOR_TLS_KEY", "FILE") -> PathBuf = path;
        /// Set to true when a TLS-terminating proxy sits in front of Candor; allows plain HTTP on a
        /// non-loopback address and turns on HSTS. Default: false
        behind_tls_proxy("CANDOR_BEHIND_TLS_PROXY", "true|false") -> bool = boolean, default "false";
        /// Log filter (tracing syntax). Default: info
        log("CANDOR_LOG", "FILTER") -> String = log_filter, default "info";
        /// Log format: text (human-readable) or json. Default: text
        log_format("CANDOR_LOG_FORMAT", "text|json") -> LogFormat = log_format, default "text";
        /// Directory of the built site (/pkg/candor.js, .wasm, .css). Default: $LEPTOS_SITE_ROOT or target/site
        site_root("CANDOR_SITE_ROOT", "DIR") -> PathBuf = path;
        /// Seconds a request may take before it is answered with 408. Default: 30
        request_timeout("CANDOR_REQUEST_TIMEOUT", "SECONDS") -> u64 = number(1..=3600), default "30";
        /// Requests one network (an IPv4 address, an IPv6 /64) may make per second, with bursts of
        /// ten times that; over it, 429 with Retry-After. Default: 50
        network_requests_per_second("CANDOR_NETWORK_REQUESTS_PER_SECOND", "COUNT") -> u64
            = number(1..=1_000_000), default "50";
        /// Requests one session may make per second, with bursts of twelve times that; over it,
        /// 429 with Retry-After. Default: 10
        session_requests_per_second("CANDOR_SESSION_REQUESTS_PER_SECOND", "COUNT") -> u64
            = number(1..=1_000_000), default "10";
        /// Calls without a session (signing up and in, public facts) one network may make per
        /// second, with bursts of twenty times that; over it, 429 with Retry-After. Default: 2
        anonymous_calls_per_second("CANDOR_ANONYMOUS_CALLS_PER_SECOND", "COUNT") -> u64
            = number(1..=1_000_000), default "2";
        /// Largest accepted request body in bytes (1048576 is 1 MiB; a people import's file may
        /// be up to 4 MiB whatever this says). Default: 1048576
        body_limit("CANDOR_BODY_LIMIT", "BYTES") -> u64 = number(1024..=64 * 1024 * 1024), default "1048576";
        /// The address people use to reach Candor, for links in emails (e.g. https://candor.example.com).
        /// Default: the address Candor listens on.
        public_url("CANDOR_PUBLIC_URL", "URL") -> String = web_address;
        /// Sender of Candor's emails. Default: Candor <no-reply@localhost>
        mail_from("CANDOR_MAIL_FROM", "MAILBOX") -> String = text, default "Candor <no-reply@localhost>";
        /// SMTP server for outgoing mail (smtps://user:password@host or smtp://host?tls=required).
        /// Default: none; mail is written as .eml files into the data directory's outbox/.
        smtp_url("CANDOR_SMTP_URL", "URL", secret) -> String = text;
        /// Emails the mail queue's sender hands to the mail server per minute, most urgent first
        /// (a relay's sending limit, say). Requests never wait for it. Default: 600
        mail_per_minute("CANDOR_MAIL_PER_MINUTE", "COUNT") -> u64 = number(1..=60_000), default "600";
        /// Failed sign-ins from one network address that trigger a temporary block; 0 turns the block
        /// off (for load tests only). Default: 10
        signin_max_failures("CANDOR_SIGNIN_MAX_FAILURES", "COUNT") -> u64 = number(0..=1000), default "10";
        /// Seconds within which those failures count. Default: 300
        signin_window("CANDOR_SIGNIN_WINDOW", "SECONDS") -> u64 = number(10..=86_400), default "300";
        /// Seconds an address stays blocked. Default: 900
        signin_block("CANDOR_SIGNIN_BLOCK", "SECONDS") -> u64 = number(10..=86_400), default "900";
        /// Days after which a workplace's data key is rotated by the scheduler (its fields sealed
        /// again under a new key, in the background); 0 turns scheduled rotation off. Default: 365
        tenant_key_max_age_days("CANDOR_TENANT_KEY_MAX_AGE_DAYS", "DAYS") -> u64 = number(0..=3650), default "365";
        /// Where encrypted backups are stored: a directory on other storage than the database (a
        /// mounted volume of another server). Backups are off until this and CANDOR_BACKUP_RECIPIENT
        /// are set.
        backup_dir("CANDOR_BACKUP_DIR", "DIR") -> PathBuf = path;
        /// The operator's public backup key (age1…, from `candor backup keygen`). Backups are
        /// encrypted to it; its private half is needed only to restore, and belongs elsewhere.
        backup_recipient("CANDOR_BACKUP_RECIPIENT", "AGE_PUBLIC_KEY") -> domain::operations::backup::BackupRecipient = backup_recipient;
        /// Hours between scheduled backups, 1–168. Default: 24
        backup_interval_hours("CANDOR_BACKUP_INTERVAL_HOURS", "HOURS") -> u64 = number(1..=168), default "24";
        /// Days a backup is kept before it is deleted (the newest is always kept). Default: 30
        backup_retention_days("CANDOR_BACKUP_RETENTION_DAYS", "DAYS") -> u64 = number(1..=3650), default "30";
        /// Days between restore drills (the newest backup restored into a scratch database and
        /// checked row by row). Default: 7
        backup_drill_days("CANDOR_BACKUP_DRILL_DAYS", "DAYS") -> u64 = number(1..=90), default "7";
        /// The private backup key file, on the host that runs restore drills. Without it this
        /// process does not drill, and warns when no drill has passed in time.
        backup_identity_file("CANDOR_BACKUP_IDENTITY_FILE", "FILE") -> PathBuf = path;
        /// A database for restore drills (replaced each time). Default: a temporary SQLite file.
        backup_scratch_url("CANDOR_BACKUP_SCRATCH_URL", "URL", secret) -> String = text;
        /// The operator's address: operations alerts (failed backups and drills) and the in-app help
        /// form go there. Default: none (alerts go to the log and the instance's audit chain only,
        /// and the help form says help is not set up).
        operator_email("CANDOR_OPERATOR_EMAIL", "ADDRESS") -> String = email_address;
    }
}

/// How the TLS setting was given; `Config` turns it into a [`TlsSetting`] with its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Off,
    Files,
    SelfSigned,
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
    pub session_requests_per_second: u32,
    pub anonymous_calls_per_second: u32,
    pub body_limit: usize,
    /// Emails the mail queue's sender sends per minute.
    pub mail_per_minute: u32,
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
        let (path, required) = match self.config()? {
            Some(path) => (path, true),
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
    /// Validates raw settings into a configuration: each value through its declared getter,
    /// then the rules between settings. `site_root_hint` is `$LEPTOS_SITE_ROOT`.
    pub fn from_raw(raw: &RawSettings, site_root_hint: Option<&str>) -> Result<Self, ConfigError> {
        let data_dir = raw.data_dir()?;
        let master_key = match (raw.master_key()?, raw.master_key_file()?) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "CANDOR_MASTER_KEY",
                    "set either CANDOR_MASTER_KEY or CANDOR_MASTER_KEY_FILE, not both",
                ))
            }
            (Some(inline), None) => inline,
            (None, Some(path)) => MasterKeySource::File(path),
            (None, None) => MasterKeySource::File(data_dir.join("master.key")),
        };
        let database_url = raw
            .database_url()?
            .unwrap_or_else(|| default_sqlite_url(&data_dir));
        let listen = raw.listen()?;
        let tls = match raw.tls()? {
            TlsMode::Off => TlsSetting::Off,
            TlsMode::SelfSigned => TlsSetting::SelfSigned,
            TlsMode::Files => TlsSetting::Files {
                cert: raw
                    .tls_cert()?
                    .ok_or_else(|| invalid("CANDOR_TLS_CERT", "is required with CANDOR_TLS=files"))?,
                key: raw
                    .tls_key()?
                    .ok_or_else(|| invalid("CANDOR_TLS_KEY", "is required with CANDOR_TLS=files"))?,
            },
        };
        let behind_tls_proxy = raw.behind_tls_proxy()?;
        if tls == TlsSetting::Off && !behind_tls_proxy && !listen.ip().is_loopback() {
            return Err(invalid(
                "CANDOR_LISTEN",
                format!(
                    "{listen} is not a loopback address, and plain HTTP is served only on loopback: \
                     set CANDOR_TLS=files (or self-signed), or CANDOR_BEHIND_TLS_PROXY=true if a TLS proxy is in front"
                ),
            ));
        }
        let site_root = match raw.site_root()? {
            Some(path) => path,
            None => PathBuf::from(site_root_hint.filter(|s| !s.is_empty()).unwrap_or("target/site")),
        };
        let seconds = |value: u64| chrono::Duration::seconds(i64::try_from(value).unwrap_or(i64::MAX));
        let address_rule = domain::access::auth::throttle::AddressRule {
            max_failures: usize::try_from(raw.signin_max_failures()?).unwrap_or(usize::MAX),
            window: seconds(raw.signin_window()?),
            block: seconds(raw.signin_block()?),
        };
        let tenant_key_max_age = match raw.tenant_key_max_age_days()? {
            0 => None,
            days => Some(chrono::Duration::days(i64::try_from(days).unwrap_or(i64::MAX))),
        };
        Ok(Config {
            master_key,
            backups: backup_settings(raw)?,
            operator_email: raw.operator_email()?,
            address_rule,
            tenant_key_max_age,
            public_url: raw.public_url()?,
            mail_from: raw.mail_from()?,
            smtp_url: raw.smtp_url()?,
            data_dir,
            database_url,
            listen,
            tls,
            behind_tls_proxy,
            log_filter: raw.log()?,
            log_format: raw.log_format()?,
            site_root,
            request_timeout: Duration::from_secs(raw.request_timeout()?),
            network_requests_per_second: u32::try_from(raw.network_requests_per_second()?)
                .unwrap_or(u32::MAX),
            session_requests_per_second: u32::try_from(raw.session_requests_per_second()?)
                .unwrap_or(u32::MAX),
            anonymous_calls_per_second: u32::try_from(raw.anonymous_calls_per_second()?).unwrap_or(u32::MAX),
            body_limit: usize::try_from(raw.body_limit()?).unwrap_or(usize::MAX),
            mail_per_minute: u32::try_from(raw.mail_per_minute()?).unwrap_or(u32::MAX),
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
    let (dir, recipient) = match (raw.backup_dir()?, raw.backup_recipient()?) {
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
    let hours = |value: u64| chrono::Duration::hours(i64::try_from(value).unwrap_or(i64::MAX));
    let days = |value: u64| chrono::Duration::days(i64::try_from(value).unwrap_or(i64::MAX));
    Ok(Some(BackupSettings {
        target: domain::operations::backup::BackupTarget {
            store: domain::operations::backup::BackupStore::new(dir),
            recipient,
        },
        interval: hours(raw.backup_interval_hours()?),
        retention: days(raw.backup_retention_days()?),
        drill_every: days(raw.backup_drill_days()?),
        identity_file: raw.backup_identity_file()?,
        scratch_url: raw.backup_scratch_url()?,
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

// The parsers settings are declared with: each reads a trimmed, non-empty value and names the
// setting in its error.

fn text(value: &str, _setting: &'static str) -> Result<String, ConfigError> {
    Ok(value.to_owned())
}

fn path(value: &str, _setting: &'static str) -> Result<PathBuf, ConfigError> {
    Ok(PathBuf::from(value))
}

fn boolean(value: &str, setting: &'static str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        other => Err(invalid(setting, format!("`{other}` is not true or false"))),
    }
}

/// A whole number within `range`.
fn number(range: std::ops::RangeInclusive<u64>) -> impl Fn(&str, &'static str) -> Result<u64, ConfigError> {
    move |value, setting| {
        let number: u64 = value
            .parse()
            .map_err(|_| invalid(setting, format!("`{value}` is not a whole number")))?;
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
}

fn master_key(value: &str, _setting: &'static str) -> Result<MasterKeySource, ConfigError> {
    let source = MasterKeySource::Inline(value.to_owned());
    source.load()?;
    Ok(source)
}

fn database_url(value: &str, setting: &'static str) -> Result<String, ConfigError> {
    domain::Backend::from_url(value)
        .map_err(|_| invalid(setting, "must start with sqlite:// or postgres://"))?;
    Ok(value.to_owned())
}

fn socket_address(value: &str, setting: &'static str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        invalid(
            setting,
            format!("`{value}` is not an address:port such as 127.0.0.1:3000"),
        )
    })
}

fn tls_mode(value: &str, setting: &'static str) -> Result<TlsMode, ConfigError> {
    match value {
        "off" => Ok(TlsMode::Off),
        "files" => Ok(TlsMode::Files),
        "self-signed" => Ok(TlsMode::SelfSigned),
        other => Err(invalid(
            setting,
            format!("`{other}` is not one of off, files, self-signed"),
        )),
    }
}

fn log_format(value: &str, setting: &'static str) -> Result<LogFormat, ConfigError> {
    match value {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(invalid(setting, format!("`{other}` is not one of text, json"))),
    }
}

fn log_filter(value: &str, setting: &'static str) -> Result<String, ConfigError> {
    tracing_subscriber::EnvFilter::try_new(value)
        .map_err(|err| invalid(setting, format!("`{value}` is not a valid filter: {err}")))?;
    Ok(value.to_owned())
}

/// An http:// or https:// address, kept without a trailing slash.
fn web_address(value: &str, setting: &'static str) -> Result<String, ConfigError> {
    let url = url::Url::parse(value).map_err(|_| invalid(setting, format!("`{value}` is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(setting, "must be an http:// or https:// address"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn email_address(value: &str, setting: &'static str) -> Result<String, ConfigError> {
    value
        .parse::<lettre::Address>()
        .map_err(|_| invalid(setting, format!("`{value}` is not an email address")))?;
    Ok(value.to_owned())
}

fn backup_recipient(
    value: &str,
    setting: &'static str,
) -> Result<domain::operations::backup::BackupRecipient, ConfigError> {
    domain::operations::backup::parse_recipient(value).map_err(|err| invalid(setting, err.to_string()))
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
        assert_eq!(flags.len(), 34);
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
    fn every_declared_default_is_valid_and_shown_by_help() {
        use clap::Args;
        raw().read_all().unwrap();
        let command = RawSettings::augment_args(clap::Command::new("candor"));
        let mut with_defaults = 0;
        for (env, default) in RawSettings::DEFAULTS {
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_env().is_some_and(|e| e == *env))
                .unwrap();
            let help = arg.get_help().unwrap().to_string();
            if let Some(default) = default {
                with_defaults += 1;
                assert!(help.ends_with(&format!("Default: {default}")), "{env}: {help}");
            }
        }
        assert_eq!(with_defaults, 20);
        assert_eq!(RawSettings::DEFAULTS.len(), 34);
        // A default stands in only for what is not given at all: an empty value is an error.
        let empty = RawSettings {
            config: Some(String::new()),
            ..raw()
        };
        assert_eq!(
            empty.clone().merge_file().unwrap_err().message,
            "is set but empty"
        );
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
