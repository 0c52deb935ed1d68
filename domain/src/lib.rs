//! Candor's domain: the business rules and data layer behind every page, CLI command and job.
//!
//! Server-only. Nothing here knows about HTTP or the UI; callers get typed results and a
//! [`Error`] with a stable code.
//!
//! The modules stand in layers, lowest first; a module uses its own layer and the ones below it,
//! never one above (`scripts/module-graph --check` holds the line, `docs/architecture.md` says
//! why):
//! - [`platform`]: errors, ids, clock, database, tenant scope, entities, crypto, the policy
//!   table, access log, security events, mail sending, job leases;
//! - [`access`]: accounts, sign-in, factors, sessions, devices, roles, identities;
//! - [`organisation`]: departments, people, imports, invitations;
//! - [`surveys`]: surveys, rounds, answering, release and results;
//! - [`operations`]: backups, key rotation, the instance's state;
//! - [`compliance`]: data-subject rights, retention, deletion, incidents, subprocessors,
//!   support access, the access-log review and monitoring.

pub mod access;
pub mod compliance;
pub mod operations;
pub mod organisation;
pub mod platform;
pub mod surveys;
#[cfg(feature = "testing")]
pub mod testing;

pub use platform::{
    clock::{Clock, SystemClock},
    db::{Backend, Database, RowLevelSecurity, SchemaSnapshot, SchemaVersion},
    error::{Error, Result},
};
