//! Signing in, as the domain's own workflow: the password step (throttle → password → failure
//! or success → a secured account's reset mail → session → which second step) and the code
//! step (throttle → code → session upgraded → remembered device → "new sign-in" mail). Each is
//! one call that returns the next step and the tokens to hand the browser; the HTTP layer only
//! reads the request and sets cookies.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    access::{
        accounts::{self, SessionInfo},
        auth::{context::SignInContext, password::PasswordHasher, session::SecretToken},
        factors,
        sign_in_guard::SignInGuard,
        trusted_devices,
    },
    platform::{audit::Trail, mail::Mail, mail_queue::MailQueue},
    Database, Error, Result,
};

/// What signing in needs from the running instance.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub db: &'a Database,
    pub hasher: &'a PasswordHasher,
    pub guard: &'a SignInGuard,
    pub mail: &'a MailQueue,
    /// The address links in mail point to.
    pub public_url: &'a str,
}

/// One password attempt, as the request brought it.
#[derive(Clone, Copy)]
pub struct PasswordAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// Where the request came from (throttled by network, never stored in clear).
    pub address: IpAddr,
    /// The browser family and network prefix the session starts from.
    pub context: &'a SignInContext,
    /// The remembered-device token this browser presented, if any.
    pub remembered_device: Option<&'a str>,
    /// The request's access-log trail: tagged with the network and typed name, and told the
    /// account once the password proved it.
    pub trail: Option<&'a Trail>,
}

/// What the person does after the password step. Each step carries the token of the session it
/// started, for the session cookie.
#[derive(Debug)]
pub enum PasswordStep {
    /// Enter a code from the authenticator app, or a recovery code.
    EnterCode(SecretToken),
    /// The account has no second factor yet: set up an authenticator app first.
    SetUpAuthenticator(SecretToken),
    /// A remembered device on its usual network: signed in with the password alone.
    Done(SecretToken),
}

impl PasswordStep {
    /// The session token to set as the cookie.
    pub fn token(&self) -> &SecretToken {
        match self {
            PasswordStep::EnterCode(token)
            | PasswordStep::SetUpAuthenticator(token)
            | PasswordStep::Done(token) => token,
        }
    }
}

/// The password step. Fails with `auth.bad_credentials` for a wrong password and for an address
/// without a usable account alike (the same work is spent on both), `auth.throttled` while the
/// network or the account is throttled, `server.busy` when passwords cannot be checked now
/// (the attempt is then not counted), and `auth.password_change_required` for an account
/// secured as possibly compromised (a reset link is mailed to it).
pub async fn with_password(
    services: Services<'_>,
    attempt: PasswordAttempt<'_>,
    now: DateTime<Utc>,
) -> Result<PasswordStep> {
    let Services {
        db, hasher, guard, ..
    } = services;
    let named = match attempt.trail {
        Some(trail) => {
            crate::access::auth::context::note_sign_in(db, trail, attempt.address, attempt.email).await?
        }
        None => None,
    };
    // What cannot be hashed now is refused before the guard writes anything.
    hasher.has_room()?;
    // Counted as a failure from here until the password proves right.
    let admitted = guard
        .admit_password_attempt(db, attempt.address, attempt.email, now)
        .await?;
    let user_id = match accounts::check_password(db, hasher, attempt.email, attempt.password).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => return Err(Error::BadCredentials),
        Err(unjudged) => {
            guard.attempt_abandoned(db, admitted).await?;
            return Err(unjudged);
        }
    };
    guard.attempt_succeeded(db, admitted).await?;
    refuse_secured_account(services, user_id, attempt.address, now).await?;
    if let (Some(trail), Some((account, workplace))) = (attempt.trail, named) {
        if account.uuid() == user_id {
            trail.identify(account, workplace);
        }
    }
    let (session, token) = accounts::start_session_with_id(db, user_id, attempt.context, now).await?;
    if !factors::has_second_factor(db, user_id).await? {
        return Ok(PasswordStep::SetUpAuthenticator(token));
    }
    if trusted_devices::may_skip_second_factor(db, user_id, attempt.remembered_device, attempt.context, now)
        .await?
    {
        let token = accounts::complete_with_remembered_device(db, session, now).await?;
        return Ok(PasswordStep::Done(token));
    }
    Ok(PasswordStep::EnterCode(token))
}

/// A sign-in that proved the password (or a passkey) of an account secured as possibly
/// compromised goes no further: a reset link goes to the account's address (within the
/// address's mail allowance) and the error says so. Ok for every other account.
pub async fn refuse_secured_account(
    services: Services<'_>,
    user_id: Uuid,
    address: IpAddr,
    now: DateTime<Utc>,
) -> Result<()> {
    let secured = match accounts::refuse_if_secured(services.db, user_id).await {
        Ok(()) => return Ok(()),
        Err(secured @ Error::PasswordChangeRequired) => secured,
        Err(other) => return Err(other),
    };
    if services
        .guard
        .admit_mail_request(services.db, address, now)
        .await
        .is_ok()
    {
        accounts::mail_reset_link_to_account_in_background(
            services.db,
            services.mail,
            services.public_url,
            user_id,
            now,
        );
    }
    Err(secured)
}

/// What the second step gave: the session's new token, a remembered device's token with the
/// days it lasts (when the person asked and the workplace allows it), and the "new sign-in"
/// mail for a context the account has not used before. The caller hands the tokens over first
/// and sends the mail after, so a failing mail server never costs anyone their session.
#[derive(Debug)]
pub struct Completed {
    pub session: SecretToken,
    pub device: Option<(SecretToken, i32)>,
    pub notice: Option<Mail>,
}

/// The code step: a code from the authenticator app or a recovery code, through the account's
/// code throttle. Finishes signing in, or confirms the person before a credential change.
pub async fn with_code(
    services: Services<'_>,
    session: &SessionInfo,
    code: &str,
    remember: bool,
    context: &SignInContext,
    now: DateTime<Utc>,
) -> Result<Completed> {
    let Services { db, guard, .. } = services;
    let admitted = guard.admit_code_attempt(db, session.user_id, now).await?;
    let checked = async {
        Ok::<_, Error>(
            factors::check_totp(db, session.user_id, code, now).await?
                || factors::use_recovery_code(db, session.user_id, code, now).await?,
        )
    }
    .await;
    let accepted = match checked {
        Ok(accepted) => accepted,
        Err(unjudged) => {
            guard.attempt_abandoned(db, admitted).await?;
            return Err(unjudged);
        }
    };
    if !accepted {
        return Err(Error::Invalid {
            field: "code",
            reason: "That code is not valid. Enter the current code from your app, or a recovery code."
                .into(),
        });
    }
    guard.attempt_succeeded(db, admitted).await?;
    second_factor_given(services, session, remember, context, now).await
}

/// After a verified second factor (a code or a passkey): a remembered device when asked for
/// and allowed, the "new sign-in" mail when the context is new, and — last, so that nothing
/// after it can fail — a new token for the more privileged session.
pub async fn second_factor_given(
    services: Services<'_>,
    session: &SessionInfo,
    remember: bool,
    context: &SignInContext,
    now: DateTime<Utc>,
) -> Result<Completed> {
    let db = services.db;
    if session.password_change_required {
        return Err(Error::PasswordChangeRequired);
    }
    if session.second_factor {
        // A confirmation within a session, not a sign-in.
        return Ok(Completed {
            session: accounts::complete_second_factor(db, session.session_id, now).await?,
            device: None,
            notice: None,
        });
    }
    let days = trusted_devices::remember_days_for(db, session.user_id).await?;
    let device = if remember && days > 0 {
        Some((
            trusted_devices::remember(db, session.user_id, context, days, now).await?,
            days,
        ))
    } else {
        None
    };
    let notice = accounts::new_sign_in_context(db, session.session_id)
        .await?
        .map(|new| {
            crate::access::messages::new_sign_in(
                &new.email,
                &new.device,
                &new.network_prefix,
                &now.format("%Y-%m-%d %H:%M UTC").to_string(),
                &format!("{}/sessions", services.public_url),
            )
        });
    Ok(Completed {
        session: accounts::complete_second_factor(db, session.session_id, now).await?,
        device,
        notice,
    })
}
