//! The `candor` binary: command line, configuration, TLS, HTTP middleware and wiring.

pub mod backup_cli;
pub mod budgets;
pub mod cli;
pub mod config;
pub mod files;
pub mod http;
pub mod incident_cli;
pub mod jobs;
pub mod mail_cli;
pub mod mail_sender;
pub mod serve;
pub mod subprocessor_cli;
pub mod telemetry;
pub mod tls;
