//! Domain integration tests: one binary, every test on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod anonymity;
mod audit;
mod backups;
mod incidents;
mod keyring;
mod lifecycle;
mod mail_queue;
mod organisation;
mod privacy;
mod schema;
mod sign_in;
mod sign_in_guard;
mod surveys;
mod tenant_scope;
