//! Account server functions: signup, email verification, sign-in with two factors, authenticator
//! enrolment, sign-out and the signed-in person's own profile.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ids::SessionId;
#[cfg(feature = "ssr")]
use ssr::*;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrengthFeedback {
    /// 0 (guessable) to 4 (very hard to guess).
    pub score: u8,
    pub acceptable: bool,
    pub problems: Vec<String>,
    pub suggestions: Vec<String>,
}

/// What the person does after the password step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextStep {
    EnterCode,
    SetUpAuthenticator,
    /// A remembered device on its usual network: signed in with the password alone.
    Done,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorSetup {
    pub qr_svg: String,
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccount {
    pub display_name: String,
    pub email: String,
    pub workplace_name: String,
    /// The role's name, e.g. "HR admin".
    pub role: String,
    /// Permission keys ("people", "results", …), so the UI offers what the server will allow.
    pub permissions: Vec<crate::model::Permission>,
    /// For those who review the access log: alerts nobody has acknowledged yet.
    #[serde(default)]
    pub open_alerts: u64,
    /// For Owners: personal-data breach notices from Candor's operators about this workplace.
    #[serde(default)]
    pub breach_notices: Vec<BreachNoticeView>,
    /// For Owners: the workplace's pending deletion.
    #[serde(default)]
    pub termination: Option<crate::api::settings::TerminationView>,
    /// For Owners: changes to the subprocessor list announced in the last 30 days.
    #[serde(default)]
    pub subprocessor_changes: Vec<SubprocessorChangeView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubprocessorChangeView {
    /// "added" or "removed".
    pub kind: String,
    pub summary: String,
    pub effective_on: String,
    pub announced: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachNoticeView {
    pub title: String,
    pub nature: String,
    pub likely_impact: String,
    pub mitigation: String,
    pub contact: String,
    pub notified: String,
}

/// A live session, as listed on the sessions page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: SessionId,
    pub device: String,
    pub network: String,
    pub started: String,
    pub last_active: String,
    pub current: bool,
}

/// Public: live feedback while a password is typed. The same rules run again on signup.
#[server(prefix = "/api", endpoint = "account/password_feedback")]
pub async fn password_feedback(
    password: String,
    display_name: String,
    email: String,
    workplace_name: String,
) -> Result<StrengthFeedback, ApiError> {
    let state = crate::state::app_state()?;
    if [&password, &display_name, &email, &workplace_name]
        .iter()
        .any(|v| v.len() > MAX_FEEDBACK_INPUT)
    {
        return Err(domain::Error::Invalid {
            field: "input",
            reason: "is too long".into(),
        }
        .into());
    }
    let report = state
        .password_policy
        .evaluate(&password, &[&display_name, &email, &workplace_name]);
    Ok(StrengthFeedback {
        score: report.score,
        acceptable: report.acceptable,
        problems: report.problems,
        suggestions: report.suggestions,
    })
}

/// Public: creates a workplace and its first account, and emails a verification link. The
/// answer is the same whether or not the address already has an account.
#[server(prefix = "/api", endpoint = "account/sign_up")]
pub async fn sign_up(
    workplace_name: String,
    display_name: String,
    email: String,
    password: String,
) -> Result<(), ApiError> {
    use domain::access::{accounts, messages};
    let state = crate::state::app_state()?;
    let address = crate::session::client_address(&state);
    state
        .sign_in_guard
        .admit_mail_request(&state.db, address, state.clock.now())
        .await?;
    let input = accounts::SignupInput {
        workplace_name,
        display_name: display_name.clone(),
        email,
        password,
    };
    let outcome = accounts::sign_up(
        &state.db,
        &state.hasher,
        &state.password_policy,
        input.clone(),
        state.clock.now(),
    )
    .await?;
    let to = accounts::normalise_email(&input.email)?;
    let mail = match outcome {
        accounts::SignupOutcome::Created {
            verification_token, ..
        } => messages::verify_email(
            &to,
            display_name.trim(),
            &format!(
                "{}/verify-email?token={}",
                state.public_url,
                verification_token.expose()
            ),
        ),
        accounts::SignupOutcome::AlreadyRegistered { .. } => {
            messages::already_registered(&to, &format!("{}/login", state.public_url))
        }
    };
    state
        .mail
        .enqueue(
            None,
            domain::platform::mail_queue::MailKind::AddressVerification,
            mail,
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// Public: confirms an address with the single-use token from the emailed link.
#[server(prefix = "/api", endpoint = "account/verify_email")]
pub async fn verify_email(token: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    domain::access::accounts::verify_email(&state.db, &token, state.clock.now()).await?;
    Ok(())
}

/// Public: the password step. Starts a session that can only finish signing in.
#[server(prefix = "/api", endpoint = "account/log_in")]
pub async fn log_in(email: String, password: String) -> Result<NextStep, ApiError> {
    use domain::access::sign_in::{self, PasswordAttempt, PasswordStep};
    let state = crate::state::app_state()?;
    let trail = crate::request::trail();
    let context = crate::session::sign_in_context(&state);
    let remembered = crate::session::presented_device_token();
    let attempt = PasswordAttempt {
        email: &email,
        password: &password,
        address: crate::session::client_address(&state),
        context: &context,
        remembered_device: remembered.as_deref(),
        trail: trail.as_ref(),
    };
    let step = sign_in::with_password(state.sign_in_services(), attempt, state.clock.now()).await?;
    crate::session::set_session_cookie(step.token(), state.session_policy.absolute.num_seconds());
    Ok(match step {
        PasswordStep::EnterCode(_) => NextStep::EnterCode,
        PasswordStep::SetUpAuthenticator(_) => NextStep::SetUpAuthenticator,
        PasswordStep::Done(_) => NextStep::Done,
    })
}

/// The second factor as a code from the authenticator app, or a recovery code: finishes signing
/// in, or confirms it is you before a credential change.
#[server(prefix = "/api", endpoint = "account/second_factor")]
pub async fn second_factor(
    code: String,
    /// Remember this device, when the workplace allows it (an unticked box sends nothing).
    #[server(default)]
    remember: bool,
) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_session(&state).await?;
    let context = crate::session::sign_in_context(&state);
    let completed = domain::access::sign_in::with_code(
        state.sign_in_services(),
        &session,
        &code,
        remember,
        &context,
        state.clock.now(),
    )
    .await?;
    set_completed_cookies(&state, completed).await
}

/// Hands the browser what a finished second step gave — the upgraded session's token and, when
/// remembered, the device's — and then queues the "new sign-in" mail, if any.
#[cfg(feature = "ssr")]
pub(crate) async fn set_completed_cookies(
    state: &crate::state::AppState,
    completed: domain::access::sign_in::Completed,
) -> Result<(), ApiError> {
    crate::session::set_session_cookie(&completed.session, state.session_policy.absolute.num_seconds());
    if let Some((device, days)) = completed.device {
        crate::session::set_device_cookie(&device, days);
    }
    if let Some(notice) = completed.notice {
        state
            .mail
            .enqueue(
                None,
                domain::platform::mail_queue::MailKind::SignInNotice,
                notice,
                state.clock.now(),
            )
            .await?;
    }
    Ok(())
}

/// Starts authenticator-app enrolment: the first factor, or another one later (which needs the
/// second factor given recently).
#[server(prefix = "/api", endpoint = "account/begin_authenticator")]
pub async fn begin_authenticator() -> Result<AuthenticatorSetup, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_factor_change(&state).await?;
    let enrolment =
        domain::access::factors::begin_totp_enrolment(&state.db, session.user_id, state.clock.now()).await?;
    Ok(AuthenticatorSetup {
        qr_svg: domain::access::auth::totp::qr_svg(&enrolment.otpauth_url)?,
        secret: enrolment.secret_base32,
    })
}

/// Confirms enrolment with a code from the app. Returns the recovery codes (shown once) when
/// this is the account's first factor.
#[server(prefix = "/api", endpoint = "account/confirm_authenticator")]
pub async fn confirm_authenticator(code: String, name: String) -> Result<Option<Vec<String>>, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_factor_change(&state).await?;
    let now = state.clock.now();
    let admitted = state
        .sign_in_guard
        .admit_code_attempt(&state.db, session.user_id, now)
        .await?;
    let codes =
        domain::access::factors::confirm_totp_enrolment(&state.db, session.user_id, &code, &name, now)
            .await?;
    state.sign_in_guard.attempt_succeeded(&state.db, admitted).await?;
    if !session.second_factor {
        let token =
            domain::access::accounts::complete_second_factor(&state.db, session.session_id, now).await?;
        crate::session::set_session_cookie(&token, state.session_policy.absolute.num_seconds());
    }
    Ok(codes)
}

/// Ends the session on the server and clears the cookie.
#[server(prefix = "/api", endpoint = "account/log_out")]
pub async fn log_out() -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    if let Some(session) = crate::session::current_session(&state).await? {
        domain::access::accounts::end_session(&state.db, session.session_id, state.clock.now()).await?;
    }
    crate::session::clear_session_cookie();
    Ok(())
}

/// "My account may be compromised": ends every session of the account, this one too, forgets
/// remembered devices and requires a new password at the next sign-in. Returns how many
/// sessions ended.
#[server(prefix = "/api", endpoint = "account/secure_account")]
pub async fn secure_own_account() -> Result<u64, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_full_session(&state).await?;
    let ended = domain::access::accounts::secure_own_account(&state.db, &session, state.clock.now()).await?;
    crate::session::clear_session_cookie();
    Ok(ended)
}

/// The signed-in person's own account and role. Requires both factors.
#[server(prefix = "/api", endpoint = "account/me")]
pub async fn me() -> Result<MyAccount, ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let profile = domain::access::accounts::profile(&state.db, who.user_id.uuid()).await?;
    let open_alerts = domain::compliance::audit_log::monitor::open_alert_count(&tenant).await?;
    let breach_notices = domain::compliance::incidents::notices_for(&tenant, state.clock.now())
        .await?
        .into_iter()
        .map(|n| BreachNoticeView {
            title: n.title,
            nature: n.nature,
            likely_impact: n.likely_impact,
            mitigation: n.mitigation,
            contact: n.contact,
            notified: n.notified_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect();
    let now = state.clock.now();
    let termination = domain::compliance::workplace_deletion::notice_for(&tenant)
        .await?
        .map(|t| crate::api::settings::TerminationView::from_domain(t, now));
    let subprocessor_changes = domain::compliance::subprocessors::notices_for(&state.db, &who, now)
        .await?
        .into_iter()
        .map(SubprocessorChangeView::from_domain)
        .collect();
    Ok(MyAccount {
        open_alerts,
        breach_notices,
        termination,
        subprocessor_changes,
        display_name: profile.display_name,
        email: profile.email,
        workplace_name: profile.workplace_name,
        role: who.role.name.clone(),
        permissions: who
            .role
            .permissions
            .iter()
            .map(crate::api::roles::permission)
            .collect(),
    })
}

/// The signed-in person's live sessions, this one marked.
#[server(prefix = "/api", endpoint = "account/sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_full_session(&state).await?;
    let sessions = domain::access::accounts::list_sessions(
        &state.db,
        &state.session_policy,
        session.user_id,
        state.clock.now(),
    )
    .await?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionView {
            id: s.id.into(),
            device: s.device,
            network: s.network_prefix,
            started: utc_minute(s.started_at),
            last_active: utc_minute(s.last_seen_at),
            current: s.id == session.session_id,
        })
        .collect())
}

/// Ends one of the person's own sessions (another device, or this one).
#[server(prefix = "/api", endpoint = "account/end_session")]
pub async fn end_session(id: SessionId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_full_session(&state).await?;
    let id = id.parse().map_err(|_| domain::Error::NotFound)?;
    domain::access::accounts::end_own_session(&state.db, session.user_id, id, state.clock.now()).await?;
    if id == session.session_id {
        crate::session::clear_session_cookie();
    }
    Ok(())
}

/// Ends every session of the person except this one; returns how many ended.
#[server(prefix = "/api", endpoint = "account/end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, ApiError> {
    let state = crate::state::app_state()?;
    let session = crate::session::require_full_session(&state).await?;
    Ok(domain::access::accounts::end_other_sessions(
        &state.db,
        session.user_id,
        session.session_id,
        state.clock.now(),
    )
    .await?)
}

/// Public: emails a password-reset link if the address has an account. The answer is the same,
/// and takes the same time, either way (the lookup and the mail happen after it); the attempt
/// counts against the address throttle.
#[server(prefix = "/api", endpoint = "account/request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (address, now) = (crate::session::client_address(&state), state.clock.now());
    state
        .sign_in_guard
        .check_password_attempt(&state.db, address, &email, now)
        .await?;
    state
        .sign_in_guard
        .admit_mail_request(&state.db, address, now)
        .await?;
    Ok(domain::access::accounts::request_password_reset_in_background(
        &state.db,
        &state.mail,
        &state.public_url,
        &email,
        now,
    )?)
}

/// Public (the emailed token is the credential): sets a new password and ends every session.
#[server(prefix = "/api", endpoint = "account/reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    domain::access::accounts::reset_password(
        &state.db,
        &state.hasher,
        &state.password_policy,
        &token,
        &password,
        state.clock.now(),
    )
    .await?;
    crate::session::clear_session_cookie();
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    //! What this file's server functions share on the server only.

    use super::*;

    /// The longest input the strength check reads: bounds the work of an anonymous caller.
    pub(super) const MAX_FEEDBACK_INPUT: usize = 1024;

    pub(super) fn utc_minute(time: chrono::DateTime<chrono::Utc>) -> String {
        time.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    impl SubprocessorChangeView {
        pub(crate) fn from_domain(change: domain::compliance::subprocessors::Change) -> Self {
            SubprocessorChangeView {
                kind: change.kind.key().to_owned(),
                summary: change.summary,
                effective_on: change.effective_on.format("%Y-%m-%d").to_string(),
                announced: change.announced_at.format("%Y-%m-%d").to_string(),
            }
        }
    }
}
