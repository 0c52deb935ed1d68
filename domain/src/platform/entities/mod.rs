//! SeaORM entities, one per table. Private to the domain: other crates see domain types only.

/// Serialises a stored enum as its stored text, exactly as the `String` column it replaced:
/// backups encode rows with postcard, where a derived enum would become a variant number and
/// every backup written before would no longer decode.
macro_rules! serialised_as_stored_text {
    ($name:ty) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&sea_orm::ActiveEnum::to_value(self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                <$name as sea_orm::ActiveEnum>::try_from_value(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

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
pub mod mail_queue;
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

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    /// Each stored enum encodes in a backup exactly as the text column it replaced did, so
    /// rows of backups written before still decode, and an unknown text is refused.
    fn encodes_as_its_text<E>()
    where
        E: ActiveEnum<Value = String>
            + Iterable
            + serde::Serialize
            + serde::de::DeserializeOwned
            + PartialEq
            + std::fmt::Debug,
    {
        for value in E::iter() {
            let text = value.to_value();
            let as_text = postcard::to_allocvec(&text).unwrap();
            assert_eq!(postcard::to_allocvec(&value).unwrap(), as_text, "{text}");
            assert_eq!(postcard::from_bytes::<E>(&as_text).unwrap(), value);
        }
        let unknown = postcard::to_allocvec(&"archived-or-unknown".to_owned()).unwrap();
        assert!(postcard::from_bytes::<E>(&unknown).is_err());
    }

    #[test]
    fn stored_enums_keep_the_backup_encoding_of_their_text() {
        encodes_as_its_text::<super::users::Status>();
        encodes_as_its_text::<super::surveys::Status>();
        encodes_as_its_text::<super::surveys::Cadence>();
        encodes_as_its_text::<super::survey_questions::Kind>();
    }
}
