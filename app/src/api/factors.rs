//! Second factors: passkeys (enrolment, the second sign-in step, passkey-first sign-in), the
//! sign-in methods page (list, remove, new recovery codes), confirming it is you before a
//! credential change, and changing the password.
//!
//! Credential changes need the second factor given within the last
//! [`domain::access::accounts::REAUTHENTICATION_WINDOW`]; the page asks for it again otherwise.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ids::FactorId;
#[cfg(feature = "ssr")]
use ssr::*;

/// A WebAuthn request for the browser: the JSON options and the id to answer with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRequest {
    pub ceremony: String,
    pub options: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactorType {
    AuthenticatorApp,
    Passkey,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorView {
    pub id: FactorId,
    pub kind: FactorType,
    pub name: String,
    pub added: String,
    pub last_used: Option<String>,
}

/// Everything the sign-in methods page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodsOverview {
    pub factors: Vec<FactorView>,
    pub recovery_codes_left: u64,
    /// The second factor was given recently enough to change credentials now.
    pub recently_confirmed: bool,
    pub passkeys_available: bool,
}

/// Which second factors the person signing in can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorChoices {
    pub passkey: bool,
    pub code: bool,
    /// Days the workplace lets a device be remembered (0: never).
    pub remember_days: i32,
}

/// Starts adding a passkey: the first factor of a new account, or another one later.
#[server(prefix = "/api", endpoint = "factors/begin_passkey_enrolment")]
pub async fn begin_passkey_enrolment() -> Result<PasskeyRequest, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_factor_change(&state).await?;
    let ceremony = domain::access::factors::begin_passkey_enrolment(
        &state.db,
        &state.relying_party,
        session.user_id,
        session.session_id,
        state.clock.now(),
    )
    .await?;
    Ok(request(ceremony))
}

/// Stores the new passkey. Returns recovery codes when it is the account's first factor.
#[server(prefix = "/api", endpoint = "factors/finish_passkey_enrolment")]
pub async fn finish_passkey_enrolment(
    ceremony: String,
    credential: String,
    name: String,
) -> Result<Option<Vec<String>>, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_factor_change(&state).await?;
    bounded_credential(&credential)?;
    let now = state.clock.now();
    // Unnamed passkeys are named after where they were made: "Passkey (Chrome on macOS)".
    let name = if name.trim().is_empty() {
        format!("Passkey ({})", crate::session::sign_in_context(&state).device)
    } else {
        name
    };
    let codes = domain::access::factors::finish_passkey_enrolment(
        &state.db,
        &state.relying_party,
        session.user_id,
        session.session_id,
        ceremony_id(&ceremony)?,
        &credential,
        &name,
        now,
    )
    .await?;
    if !session.second_factor {
        // Enrolling the first factor proves it: the session is now fully signed in.
        let token =
            domain::access::accounts::complete_second_factor(&state.db, session.session_id, now).await?;
        crate::session::set_session_cookie(&token, state.session_policy.absolute.num_seconds());
    }
    Ok(codes)
}

/// What the second sign-in step (or a confirmation) can use for this account.
#[server(prefix = "/api", endpoint = "factors/second_factor_choices")]
pub async fn second_factor_choices() -> Result<FactorChoices, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_session(&state).await?;
    let factors = domain::access::factors::list_factors(&state.db, session.user_id).await?;
    let has = |kind| factors.factors.iter().any(|f| f.kind == kind);
    Ok(FactorChoices {
        passkey: has(domain::access::factors::FactorKind::Passkey) && state.relying_party.available(),
        code: has(domain::access::factors::FactorKind::AuthenticatorApp) || factors.recovery_codes_left > 0,
        remember_days: domain::access::trusted_devices::remember_days_for(&state.db, session.user_id).await?,
    })
}

/// Starts the passkey check: the second sign-in step, or confirming it is you.
#[server(prefix = "/api", endpoint = "factors/begin_passkey_check")]
pub async fn begin_passkey_check() -> Result<PasskeyRequest, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_session(&state).await?;
    let ceremony = domain::access::factors::begin_passkey_check(
        &state.db,
        &state.relying_party,
        session.user_id,
        session.session_id,
        state.clock.now(),
    )
    .await?;
    Ok(request(ceremony))
}

/// Verifies the passkey: finishes signing in, or confirms it is you.
#[server(prefix = "/api", endpoint = "factors/finish_passkey_check")]
pub async fn finish_passkey_check(
    ceremony: String,
    credential: String,
    #[server(default)] remember: bool,
) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_session(&state).await?;
    bounded_credential(&credential)?;
    let now = state.clock.now();
    let admitted = state
        .sign_in_guard
        .admit_code_attempt(&state.db, session.user_id, now)
        .await?;
    domain::access::factors::finish_passkey_check(
        &state.db,
        &state.relying_party,
        session.user_id,
        session.session_id,
        ceremony_id(&ceremony)?,
        &credential,
        now,
    )
    .await?;
    state.sign_in_guard.attempt_succeeded(&state.db, admitted).await?;
    let context = crate::session::sign_in_context(&state);
    let completed = domain::access::sign_in::second_factor_given(
        state.sign_in_services(),
        &session,
        remember,
        &context,
        now,
    )
    .await?;
    crate::api::account::set_completed_cookies(&state, completed).await
}

/// Public: starts a sign-in with a passkey alone (the authenticator names the account).
#[server(prefix = "/api", endpoint = "factors/begin_passkey_sign_in")]
pub async fn begin_passkey_sign_in() -> Result<PasskeyRequest, ApiError> {
    let state = crate::state::app_state()?;
    let (address, now) = (crate::session::client_address(&state), state.clock.now());
    state.sign_in_guard.check_address(&state.db, address, now).await?;
    let ceremony =
        domain::access::factors::begin_passkey_sign_in(&state.db, &state.relying_party, now).await?;
    Ok(request(ceremony))
}

/// Public: verifies a passkey sign-in and starts a fully signed-in session. A passkey that
/// verified its user (PIN or biometrics) is both factors.
#[server(prefix = "/api", endpoint = "factors/finish_passkey_sign_in")]
pub async fn finish_passkey_sign_in(ceremony: String, credential: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (address, now) = (crate::session::client_address(&state), state.clock.now());
    state.sign_in_guard.check_address(&state.db, address, now).await?;
    bounded_credential(&credential)?;
    let verified = domain::access::factors::finish_passkey_sign_in(
        &state.db,
        &state.relying_party,
        ceremony_id(&ceremony)?,
        &credential,
        now,
    )
    .await;
    let user_id = match verified {
        Ok(user_id) => user_id,
        Err(err) => {
            state
                .sign_in_guard
                .record_address_failure(&state.db, address, now)
                .await?;
            return Err(err.into());
        }
    };
    domain::access::sign_in::refuse_secured_account(state.sign_in_services(), user_id, address, now).await?;
    let context = crate::session::sign_in_context(&state);
    let pending = domain::access::accounts::start_session(&state.db, user_id, &context, now).await?;
    let session =
        domain::access::accounts::resolve_session(&state.db, &state.session_policy, pending.expose(), now)
            .await?
            .ok_or(domain::Error::Unauthenticated)?;
    let completed = domain::access::sign_in::second_factor_given(
        state.sign_in_services(),
        &session,
        false,
        &context,
        now,
    )
    .await?;
    crate::api::account::set_completed_cookies(&state, completed).await
}

/// The signed-in person's factors and recovery-code count.
#[server(prefix = "/api", endpoint = "factors/list")]
pub async fn sign_in_methods() -> Result<MethodsOverview, ApiError> {
    use domain::access::factors::FactorKind;
    let state = crate::state::app_state()?;
    let session = crate::session::require_full_session(&state).await?;
    let listed = domain::access::factors::list_factors(&state.db, session.user_id).await?;
    Ok(MethodsOverview {
        factors: listed
            .factors
            .into_iter()
            .map(|f| FactorView {
                id: f.id.into(),
                kind: match f.kind {
                    FactorKind::AuthenticatorApp => FactorType::AuthenticatorApp,
                    FactorKind::Passkey => FactorType::Passkey,
                },
                name: f.name,
                added: utc_minute(f.added_at),
                last_used: f.last_used_at.map(utc_minute),
            })
            .collect(),
        recovery_codes_left: listed.recovery_codes_left,
        recently_confirmed: session.recently_confirmed(state.clock.now()),
        passkeys_available: state.relying_party.available(),
    })
}

/// Removes one of the person's factors (never the last) and ends every other session; returns
/// how many ended. Needs a recent second factor.
#[server(prefix = "/api", endpoint = "factors/remove")]
pub async fn remove_factor(id: FactorId) -> Result<u64, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_recent_second_factor(&state).await?;
    let id = id.parse().map_err(|_| domain::Error::NotFound)?;
    Ok(domain::access::factors::remove_factor(&state.db, &session, id, state.clock.now()).await?)
}

/// Replaces the recovery codes; returns the new set, shown once. Needs a recent second factor.
#[server(prefix = "/api", endpoint = "factors/new_recovery_codes")]
pub async fn new_recovery_codes() -> Result<Vec<String>, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_recent_second_factor(&state).await?;
    Ok(domain::access::factors::regenerate_recovery_codes(&state.db, session.user_id).await?)
}

/// Changes the password after checking the current one and ends every other session; returns
/// how many ended. Needs a recent second factor.
#[server(prefix = "/api", endpoint = "factors/change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<u64, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_recent_second_factor(&state).await?;
    Ok(domain::access::accounts::change_password(
        &state.db,
        &state.hasher,
        &state.password_policy,
        &session,
        &current_password,
        &new_password,
        state.clock.now(),
    )
    .await?)
}

#[cfg(feature = "ssr")]
mod ssr {
    //! What this file's server functions share on the server only.

    use super::*;

    pub(super) fn ceremony_id<Id: std::str::FromStr>(text: &str) -> Result<Id, ApiError> {
        text.parse().map_err(|_| {
            domain::Error::Invalid {
                field: "passkey",
                reason: "That passkey request has expired or was already used. Try again.".into(),
            }
            .into()
        })
    }

    /// Bounds what an anonymous caller can make the server parse.
    pub(super) fn bounded_credential(credential: &str) -> Result<(), ApiError> {
        const MAX_CREDENTIAL_JSON: usize = 64 * 1024;
        if credential.len() > MAX_CREDENTIAL_JSON {
            return Err(domain::Error::Invalid {
                field: "passkey",
                reason: "The passkey response is too large.".into(),
            }
            .into());
        }
        Ok(())
    }

    pub(super) fn request(ceremony: domain::access::factors::Ceremony) -> PasskeyRequest {
        PasskeyRequest {
            ceremony: ceremony.id.to_string(),
            options: ceremony.options_json,
        }
    }

    pub(super) fn utc_minute(time: chrono::DateTime<chrono::Utc>) -> String {
        time.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}
