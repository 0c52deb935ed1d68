//! The operator's age key pair: reading, parsing and generating it, and encrypting to it.

use std::{path::Path, str::FromStr};

use age::secrecy::ExposeSecret;
use chrono::{DateTime, Utc};

use super::{error::BackupError, error::Result};

/// Reads an age identity file (`AGE-SECRET-KEY-1…` lines; `#` comments ignored).
pub fn read_identity(path: &Path) -> Result<age::x25519::Identity> {
    let text = std::fs::read_to_string(path).map_err(|err| BackupError::read(path, err))?;
    parse_identity(&text).ok_or_else(|| {
        BackupError::Config(format!(
            "{} holds no age private key (a line starting AGE-SECRET-KEY-1)",
            path.display()
        ))
    })
}

pub(super) fn parse_identity(text: &str) -> Option<age::x25519::Identity> {
    text.lines()
        .map(str::trim)
        .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
        .and_then(|line| age::x25519::Identity::from_str(line).ok())
}

/// The operator's public backup key: backups are encrypted to it.
pub type BackupRecipient = age::x25519::Recipient;

/// Parses the operator's public backup key.
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    age::x25519::Recipient::from_str(text.trim())
        .map_err(|_| BackupError::Config("the backup key must be an age public key (age1…)".into()))
}

/// A new operator key pair: (private key file text, public key).
pub fn generate_identity(now: DateTime<Utc>) -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let text = format!(
        "# Candor backup key, created {}\n# public key: {public}\n{}\n",
        now.format("%Y-%m-%d %H:%M UTC"),
        identity.to_string().expose_secret()
    );
    (text, public)
}

pub(super) fn encrypt_to(recipient: &age::x25519::Recipient, plaintext: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|err| BackupError::Internal(format!("cannot set up encryption: {err}")))?;
    let mut out = Vec::new();
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|err| BackupError::Internal(err.to_string()))?;
    writer
        .write_all(plaintext)
        .map_err(|err| BackupError::Internal(err.to_string()))?;
    writer
        .finish()
        .map_err(|err| BackupError::Internal(err.to_string()))?;
    Ok(out)
}
