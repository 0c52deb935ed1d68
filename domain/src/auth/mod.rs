//! Authentication building blocks. Passwords first; factors, sessions and throttling build on them.

pub mod password;
