//! Running an instance: backups and restores, key rotation, the instance's own state.

pub mod backup;
pub mod instance;
pub mod key_rotation;
