//! Candor's domain: the business rules and data layer behind every page, CLI command and job.
//!
//! Server-only. Nothing here knows about HTTP or the UI; callers get typed results and a
//! [`Error`] with a stable code.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod clock;
mod context_fields;
pub mod crypto;
pub mod db;
pub mod departments;
mod entities;
pub mod error;
pub mod factors;
pub mod help;
pub mod identity;
pub mod ids;
pub mod incidents;
pub mod instance;
pub mod invitation_budget;
pub mod jobs;
pub mod key_rotation;
pub mod mail;
pub mod people;
pub mod people_import;
pub mod policy;
pub mod privacy;
pub mod retention;
pub mod roles;
pub mod security_events;
pub mod sign_in_guard;
pub mod subprocessors;
pub mod support;
pub mod surveys;
pub mod tenant;
#[cfg(feature = "testing")]
pub mod testing;
mod text;
pub mod trusted_devices;
mod user_fields;
pub mod workplace_deletion;

pub use clock::{Clock, SystemClock};
pub use db::{Backend, Database, RowLevelSecurity, SchemaSnapshot, SchemaVersion};
pub use error::{Error, Result};
