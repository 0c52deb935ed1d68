//! The session cookie and the identity behind a request. Every server function that is not
//! public calls one of the `require_*` functions here: the server, not the UI, decides what a
//! session may reach. A session that has not given a second factor reaches only the sign-in and
//! enrolment steps.

use domain::access::{
    accounts::{SessionInfo, SignedIn},
    auth::session::SecretToken,
};
use leptos::prelude::*;

use crate::{error::ApiError, state::AppState};

/// `__Host-` binds the cookie to this origin: Secure, Path=/, no Domain. Browsers accept Secure
/// cookies on http://localhost, so the same name works locally.
pub const SESSION_COOKIE: &str = "__Host-candor_session";
/// A remembered device's token, when the workplace allows remembering devices.
pub const DEVICE_COOKIE: &str = "__Host-candor_device";

fn cookie(wanted: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    cookie_in(&parts.headers, wanted)
}

/// The value of cookie `wanted` among `headers`.
pub fn cookie_in(headers: &http::HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_owned())
}

fn presented_token() -> Option<String> {
    cookie(SESSION_COOKIE)
}

/// The remembered-device token this browser presents, if any.
pub fn presented_device_token() -> Option<String> {
    cookie(DEVICE_COOKIE)
}

pub fn set_device_cookie(token: &SecretToken, days: i32) {
    set_cookie(format!(
        "{DEVICE_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        token.expose(),
        i64::from(days) * 24 * 3600
    ));
}

/// The address the request came from: the peer, or behind the declared TLS proxy the last hop it
/// recorded in `X-Forwarded-For`. Unknown (in-process tests) is the unspecified address.
pub fn client_address(state: &AppState) -> std::net::IpAddr {
    match use_context::<http::request::Parts>() {
        Some(parts) => address_of(state.transport, &parts.headers, &parts.extensions),
        None => std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

/// [`client_address`] from a request's headers and extensions, for the layers in front of the
/// handlers (request budgets).
pub fn address_of(
    transport: crate::transport::TransportMode,
    headers: &http::HeaderMap,
    extensions: &http::Extensions,
) -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    if transport == crate::transport::TransportMode::BehindTlsProxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok());
        if let Some(address) = forwarded {
            return address;
        }
    }
    extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Where this request comes from, as stored with a new session.
pub fn sign_in_context(state: &AppState) -> domain::access::auth::context::SignInContext {
    use domain::access::auth::context::{device_label, network_prefix};
    let user_agent = use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::USER_AGENT)?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    domain::access::auth::context::SignInContext {
        network_prefix: network_prefix(client_address(state)),
        device: device_label(&user_agent),
    }
}

/// The request's session, if it carries a live one. The audit trail learns who is asking.
pub async fn current_session(state: &AppState) -> Result<Option<SessionInfo>, ApiError> {
    Ok(signed_in(state).await?.map(|signed_in| signed_in.session))
}

/// The request's session with its account, read together and once per page render.
async fn signed_in(state: &AppState) -> Result<Option<SignedIn>, ApiError> {
    let Some(token) = presented_token() else {
        return Ok(None);
    };
    let lookup = domain::access::accounts::resolve_signed_in(
        &state.db,
        &state.session_policy,
        &token,
        state.clock.now(),
    );
    let signed_in = match crate::request::asker_once() {
        Some(once) => once.signed_in(lookup).await?,
        None => lookup.await?,
    };
    if let (Some(signed_in), Some(trail)) = (&signed_in, crate::request::trail()) {
        trail.identify(
            domain::platform::ids::UserId::from_uuid(signed_in.session.user_id),
            domain::platform::ids::WorkplaceId::from_uuid(signed_in.session.workplace_id),
        );
    }
    Ok(signed_in)
}

/// The person `signed_in` is, as the policy sees them (once per page render).
async fn identity_of(
    state: &AppState,
    signed_in: &SignedIn,
) -> Result<domain::platform::policy::Identity, ApiError> {
    let lookup = domain::access::identity::of_signed_in(&state.db, signed_in);
    Ok(match crate::request::asker_once() {
        Some(once) => once.identity(lookup).await?,
        None => lookup.await?,
    })
}

/// The tenant scope of `identity`, recording into this request's audit trail.
fn scope_of(
    state: &AppState,
    identity: &domain::platform::policy::Identity,
) -> domain::platform::tenant::TenantDb {
    let tenant = domain::platform::tenant::TenantDb::for_identity(&state.db, identity);
    match crate::request::trail() {
        Some(trail) => tenant.with_trail(trail),
        None => tenant,
    }
}

/// Signed in with both factors, no new password owed: what everything beyond sign-in requires.
pub async fn require_full_session(state: &AppState) -> Result<SessionInfo, ApiError> {
    Ok(require_fully_signed_in(state).await?.session)
}

/// [`require_full_session`] with the account read alongside, for the identity.
async fn require_fully_signed_in(state: &AppState) -> Result<SignedIn, ApiError> {
    let signed_in = signed_in(state).await?.ok_or(domain::Error::Unauthenticated)?;
    if !signed_in.session.second_factor {
        return Err(domain::Error::SecondFactorRequired.into());
    }
    // An account secured as possibly compromised does nothing else before its new password.
    if signed_in.session.password_change_required {
        return Err(domain::Error::PasswordChangeRequired.into());
    }
    Ok(signed_in)
}

/// Signed in, with or without the second factor: the second-factor and enrolment steps.
pub async fn require_session(state: &AppState) -> Result<SessionInfo, ApiError> {
    current_session(state)
        .await?
        .ok_or_else(|| domain::Error::Unauthenticated.into())
}

/// Signed in with both factors, the second given within the last few minutes: credential
/// changes (password, factors, recovery codes).
pub async fn require_recent_second_factor(state: &AppState) -> Result<SessionInfo, ApiError> {
    let session = require_full_session(state).await?;
    if !session.recently_confirmed(state.clock.now()) {
        return Err(domain::Error::ReauthenticationRequired.into());
    }
    Ok(session)
}

/// Adding a factor: an account without any may enrol its first one straight after the password
/// step; an account that has one must have given it recently in this session.
pub async fn require_factor_change(state: &AppState) -> Result<SessionInfo, ApiError> {
    let session = require_session(state).await?;
    // A secured account adds no factor before its new password (a stolen password must not
    // be able to plant one).
    if session.password_change_required {
        return Err(domain::Error::PasswordChangeRequired.into());
    }
    if !domain::access::factors::has_second_factor(&state.db, session.user_id).await? {
        return Ok(session);
    }
    if !session.second_factor {
        return Err(domain::Error::SecondFactorRequired.into());
    }
    if !session.recently_confirmed(state.clock.now()) {
        return Err(domain::Error::ReauthenticationRequired.into());
    }
    Ok(session)
}

/// Signed in with both factors, as the policy sees them, with the tenant scope of their
/// workplace. Server functions on workplace data start here, then ask `domain::platform::policy`.
pub async fn require_identity(
    state: &AppState,
) -> Result<
    (
        domain::platform::policy::Identity,
        domain::platform::tenant::TenantDb,
    ),
    ApiError,
> {
    let signed_in = require_fully_signed_in(state).await?;
    let identity = identity_of(state, &signed_in).await?;
    let tenant = scope_of(state, &identity);
    Ok((identity, tenant))
}

/// The workplace scope of a request signed in with both factors; the person acts through it and
/// the domain asks the policy about them before every read and change.
pub async fn require_tenant(state: &AppState) -> Result<domain::platform::tenant::TenantDb, ApiError> {
    Ok(require_identity(state).await?.1)
}

/// The identity of a request signed in with both factors, or None (never an error): for public
/// pages that show a signed-in person something more, where asking must not count as a refusal.
pub async fn signed_in_identity(
    state: &AppState,
) -> Result<Option<domain::platform::policy::Identity>, ApiError> {
    match signed_in(state).await? {
        Some(signed_in) if signed_in.session.second_factor && !signed_in.session.password_change_required => {
            Ok(Some(identity_of(state, &signed_in).await?))
        }
        _ => Ok(None),
    }
}

/// [`require_identity`] with the second factor given in the last few minutes: changes to
/// other people's credentials.
pub async fn require_recent_identity(
    state: &AppState,
) -> Result<
    (
        domain::platform::policy::Identity,
        domain::platform::tenant::TenantDb,
    ),
    ApiError,
> {
    let signed_in = require_fully_signed_in(state).await?;
    if !signed_in.session.recently_confirmed(state.clock.now()) {
        return Err(domain::Error::ReauthenticationRequired.into());
    }
    let identity = identity_of(state, &signed_in).await?;
    let tenant = scope_of(state, &identity);
    Ok((identity, tenant))
}

fn set_cookie(value: String) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&value),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

pub fn set_session_cookie(token: &SecretToken, max_age_secs: i64) {
    set_cookie(format!(
        "{SESSION_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}",
        token.expose()
    ));
}

pub fn clear_session_cookie() {
    set_cookie(format!(
        "{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    ));
}
