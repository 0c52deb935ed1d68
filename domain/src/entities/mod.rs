//! SeaORM entities, one per table. Private to the domain: other crates see domain types only.

pub mod account_throttles;
pub mod data_keys;
pub mod department_grants;
pub mod departments;
pub mod email_tokens;
pub mod instance_keys;
pub mod job_leases;
pub mod key_rotations;
pub mod master_keys;
pub mod passkeys;
pub mod recovery_codes;
pub mod security_events;
pub mod sessions;
pub mod throttle_events;
pub mod totp_factors;
pub mod trusted_devices;
pub mod users;
pub mod webauthn_ceremonies;
pub mod workplace_roles;
pub mod workplaces;
