//! The ground every feature stands on: errors, ids, the clock, the database and its tenant
//! scope, entities, crypto, the policy table, the access log, security events, mail sending and
//! job leases. Nothing here knows a feature.

pub mod access_log;
pub mod audit;
pub mod clock;
pub mod crypto;
pub mod db;
pub(crate) mod entities;
pub mod error;
pub mod group_commit;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod mail_queue;
pub mod policy;
pub(crate) mod priority;
pub mod security_events;
pub mod tenant;
pub(crate) mod text;
pub(crate) mod transactions;
pub mod tree;
pub(crate) mod user_fields;
