//! Server-side state shared with every server function and page render through Leptos context.

use std::sync::Arc;

use leptos::prelude::*;

use crate::{error::ApiError, transport::TransportMode};

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: domain::Database,
    pub clock: Arc<dyn domain::Clock>,
    pub transport: TransportMode,
    /// Every email goes through the queue; requests never wait on the mail server.
    pub mail: domain::platform::mail_queue::MailQueue,
    /// Check-ins are stored through one writer that commits concurrent ones together.
    pub submissions: domain::surveys::submissions::SubmissionWriter,
    /// What each request leaves in the access log, written together with other requests'.
    pub access_log: domain::platform::access_log::AccessLogWriter,
    /// People imports this process is running, for their pages to follow.
    pub imports: crate::imports::Imports,
    /// Each workplace's people opened once, until they change.
    pub directory: domain::organisation::directory::Directory,
    pub hasher: domain::access::auth::password::PasswordHasher,
    pub password_policy: domain::access::auth::password::PasswordPolicy,
    pub session_policy: domain::access::auth::session::SessionPolicy,
    pub sign_in_guard: domain::access::sign_in_guard::SignInGuard,
    /// Base of links in emails, without a trailing slash.
    pub public_url: String,
    /// Candor as a WebAuthn relying party, for passkeys.
    pub relying_party: Arc<domain::access::auth::passkey::RelyingParty>,
    /// Where the help form sends questions (the operator's address), when configured.
    pub support_inbox: Option<String>,
    /// The backup schedule, when backups are configured (for the Security page).
    pub backups: Option<BackupPolicy>,
}

impl AppState {
    /// What the sign-in workflow needs from this instance.
    pub fn sign_in_services(&self) -> domain::access::sign_in::Services<'_> {
        domain::access::sign_in::Services {
            db: &self.db,
            hasher: &self.hasher,
            guard: &self.sign_in_guard,
            mail: &self.mail,
            public_url: &self.public_url,
        }
    }
}

/// How often backups and restore drills run and how long backups are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupPolicy {
    pub interval_hours: i64,
    pub retention_days: i64,
    pub drill_days: i64,
    /// Whether this process drills itself (holds the private key) or expects `candor backup
    /// verify` to run where the key is kept.
    pub drills_here: bool,
}

/// The state, or an internal error if the server was wired without it (a bug, never user input).
pub fn app_state() -> Result<AppState, ApiError> {
    use_context::<AppState>()
        .ok_or_else(|| domain::Error::Internal("AppState missing from context".into()).into())
}

/// Where a page being rendered leaves its script nonce for the layer that writes the response's
/// headers (put into the request's extensions by that layer). The header the page sets through
/// `ResponseOptions` does not always reach the response, so the layer writes the policy itself.
#[derive(Clone, Debug, Default)]
pub struct PageNonce(pub std::sync::Arc<std::sync::OnceLock<String>>);

/// The Content-Security-Policy of a page whose scripts carry `nonce`: only those scripts run,
/// plus the WebAssembly they load. No inline script without the nonce, no `unsafe-inline`.
pub fn page_content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Pages may run only scripts carrying this response's nonce (Leptos adds it to the hydration
/// scripts): the policy is set on the response and the nonce left for the header layer.
pub fn set_page_content_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    if let Some(slot) =
        use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<PageNonce>().cloned())
    {
        let _ = slot.0.set(nonce.to_string());
    }
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&page_content_security_policy(&nonce)),
    ) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Sends a browser's plain form post on to `path` with 303 See Other (it then loads `path`).
pub fn see_other(path: &str) {
    if let (Some(response), Ok(location)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(path),
    ) {
        response.set_status(http::StatusCode::SEE_OTHER);
        response.insert_header(http::header::LOCATION, location);
    } else {
        tracing::error!("a form post could not be sent on");
    }
}

/// Sets the status of the page being rendered (used by the not-found page).
pub fn set_page_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}
