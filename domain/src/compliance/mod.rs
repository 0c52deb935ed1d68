//! What a data-protection officer relies on: data-subject rights, retention, workplace deletion,
//! incidents, subprocessors, support access and help requests.

pub mod audit_log;
pub mod help;
pub mod incidents;
pub mod privacy;
pub mod retention;
pub mod subprocessors;
pub mod support;
pub mod workplace_deletion;
