//! Encryption of personal data at rest: the master key, each workplace's data keys, sealed
//! fields and blind indexes. Sealing and opening happen in the data layer, never in pages.

pub(crate) mod field;
mod keyring;
mod master_key;
mod personal;

pub use field::{key_version, FieldPlace, OpenError};
pub use keyring::{Keyring, KeyringError, MasterRotation, TenantKeys};
pub use master_key::{MasterKey, MasterKeyError};
pub use personal::Personal;

/// The cipher, as the Security page names it.
pub const CIPHER: &str = "AES-256-GCM-SIV";
