//! SeaORM entities, one per table. Private to the domain: other crates see domain types only.

pub mod account_throttles;
pub mod answers;
pub mod audit_alerts;
pub mod audit_chains;
pub mod audit_log;
pub mod audit_pending;
pub mod audit_reviews;
pub mod audit_settings;
pub mod backup_keys;
pub mod backup_runs;
pub mod backup_shreds;
pub mod ballots;
pub mod benchmark_publications;
pub mod benchmarks;
pub mod comment_replies;
pub mod comments;
pub mod data_keys;
pub mod department_grants;
pub mod departments;
pub mod email_tokens;
pub mod incident_workplaces;
pub mod incidents;
pub mod instance_keys;
pub mod invitation_mail;
pub mod job_leases;
pub mod key_rotations;
pub mod master_keys;
pub mod passkeys;
pub mod recovery_codes;
pub mod retention_policies;
pub mod round_participants;
pub mod round_releases;
pub mod round_tallies;
pub mod rounds;
pub mod security_events;
pub mod sessions;
pub mod subject_requests;
pub mod subprocessor_changes;
pub mod subprocessors;
pub mod support_grants;
pub mod survey_questions;
pub mod survey_targets;
pub mod surveys;
pub mod throttle_events;
pub mod totp_factors;
pub mod trusted_devices;
pub mod users;
pub mod webauthn_ceremonies;
pub mod workplace_roles;
pub mod workplace_terminations;
pub mod workplaces;

/// An entity that belongs to one workplace: the tenant scope filters it by this column.
pub(crate) trait TenantScoped: sea_orm::EntityTrait {
    fn workplace_column() -> Self::Column;
}
