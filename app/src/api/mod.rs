//! Server functions, one module per area. Each is a public HTTP endpoint: it validates its input,
//! checks the session through [`crate::session`], calls the domain and maps errors through
//! [`crate::error::ApiError`].

pub mod account;
pub mod audit;
pub mod factors;
pub mod help;
pub mod instance;
pub mod organisation;
pub mod people;
pub mod privacy;
pub mod roles;
pub mod settings;
pub mod surveys;
