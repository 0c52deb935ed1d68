//! Who someone is and how they prove it: accounts, passwords and second factors, sign-in and
//! its throttle, sessions, remembered devices, roles and the identity a request acts as.

pub mod accounts;
pub mod auth;
pub(crate) mod context_fields;
pub mod factors;
pub mod identity;
pub mod messages;
pub mod roles;
pub mod sign_in;
pub mod sign_in_guard;
pub mod trusted_devices;
