//! Candor's schema, one migration per change. A migration that has landed is never edited: add a new one.

pub use sea_orm_migration::prelude::*;

/// Tables with row-level security on PostgreSQL: every table that belongs to one workplace.
pub const TENANT_TABLES: [&str; 14] = [
    m20261122_000007_row_level_security::TENANT_TABLES[0],
    m20261122_000007_row_level_security::TENANT_TABLES[1],
    m20261122_000007_row_level_security::TENANT_TABLES[2],
    "workplace_roles",
    "data_keys",
    "key_rotations",
    "security_events",
    "surveys",
    "survey_targets",
    "survey_questions",
    "rounds",
    "round_participants",
    "answers",
    "comments",
];

mod foreign_keys;
mod m20261122_000001_workplaces;
mod m20261122_000002_accounts;
mod m20261122_000003_throttling;
mod m20261122_000004_session_context;
mod m20261122_000005_passkeys;
mod m20261122_000006_organisation;
mod m20261122_000007_row_level_security;
mod m20261122_000008_trusted_devices;
mod m20261122_000009_workplace_roles;
mod m20261122_000010_keyring;
mod m20261122_000011_sealed_user_fields;
mod m20261122_000012_key_rotations;
mod m20261122_000013_security_events;
mod m20261122_000014_job_leases;
mod m20261122_000015_sealed_sign_in_context;
mod m20261122_000016_surveys;
mod m20261122_000017_round_counts;
mod m20261201_000018_comment_replies;
mod m20261201_000019_benchmarks;
mod m20261201_000020_round_tallies;
mod m20261201_000021_audit_log;
mod m20261201_000022_support_grants;
mod m20261202_000023_backups;
mod m20261202_000024_subject_requests;
mod m20261202_000025_incidents;
mod m20261202_000026_data_lifecycle;
mod m20261202_000027_subprocessors;
mod m20261205_000028_release_once;
mod m20261206_000029_tenure_bands;
mod m20261206_000030_open_round_view;
mod m20261206_000031_device_vouched;
mod m20261206_000032_sealed_totp_secrets;
mod m20261206_000033_invitation_mail;
mod m20261206_000034_password_change_required;
mod m20261207_000035_comment_pages;
mod m20261207_000036_mail_queue;
mod m20261207_000037_people_version;
mod m20261207_000038_invitation_allowance;
mod row_level_security;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_workplaces::Migration),
            Box::new(m20261122_000002_accounts::Migration),
            Box::new(m20261122_000003_throttling::Migration),
            Box::new(m20261122_000004_session_context::Migration),
            Box::new(m20261122_000005_passkeys::Migration),
            Box::new(m20261122_000006_organisation::Migration),
            Box::new(m20261122_000007_row_level_security::Migration),
            Box::new(m20261122_000008_trusted_devices::Migration),
            Box::new(m20261122_000009_workplace_roles::Migration),
            Box::new(m20261122_000010_keyring::Migration),
            Box::new(m20261122_000011_sealed_user_fields::Migration),
            Box::new(m20261122_000012_key_rotations::Migration),
            Box::new(m20261122_000013_security_events::Migration),
            Box::new(m20261122_000014_job_leases::Migration),
            Box::new(m20261122_000015_sealed_sign_in_context::Migration),
            Box::new(m20261122_000016_surveys::Migration),
            Box::new(m20261122_000017_round_counts::Migration),
            Box::new(m20261201_000018_comment_replies::Migration),
            Box::new(m20261201_000019_benchmarks::Migration),
            Box::new(m20261201_000020_round_tallies::Migration),
            Box::new(m20261201_000021_audit_log::Migration),
            Box::new(m20261201_000022_support_grants::Migration),
            Box::new(m20261202_000023_backups::Migration),
            Box::new(m20261202_000024_subject_requests::Migration),
            Box::new(m20261202_000025_incidents::Migration),
            Box::new(m20261202_000026_data_lifecycle::Migration),
            Box::new(m20261202_000027_subprocessors::Migration),
            Box::new(m20261205_000028_release_once::Migration),
            Box::new(m20261206_000029_tenure_bands::Migration),
            Box::new(m20261206_000030_open_round_view::Migration),
            Box::new(m20261206_000031_device_vouched::Migration),
            Box::new(m20261206_000032_sealed_totp_secrets::Migration),
            Box::new(m20261206_000033_invitation_mail::Migration),
            Box::new(m20261206_000034_password_change_required::Migration),
            Box::new(m20261207_000035_comment_pages::Migration),
            Box::new(m20261207_000036_mail_queue::Migration),
            Box::new(m20261207_000037_people_version::Migration),
            Box::new(m20261207_000038_invitation_allowance::Migration),
        ]
    }
}
