//! Server integration tests: one binary. Router-level tests run on SQLite and PostgreSQL; TLS and
//! CLI tests use real sockets and the real `candor` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod cli;
mod durability;
mod factors;
mod http;
mod isolation;
mod jobs;
mod support;
mod tls;
