//! Authentication building blocks, as pure functions of their inputs and the current time:
//! passwords, TOTP, recovery codes, session tokens and timeouts, and throttling rules.

pub mod context;
pub mod passkey;
pub mod password;
pub mod recovery;
pub mod session;
pub mod throttle;
pub mod totp;
