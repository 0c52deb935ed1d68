//! Server functions, one module per area. Each is a public HTTP endpoint: it validates its input,
//! asks the policy, calls the domain and maps errors through [`crate::error::ApiError`].

pub mod instance;
