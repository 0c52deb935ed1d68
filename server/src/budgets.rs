//! Request budgets, checked before any work is done: per network (an IPv4 address, an IPv6 /64),
//! per session, and a tighter one for `/api/` calls made without a session (the public steps of
//! signing up and in, and anyone probing). Over budget, the answer is 429 with `Retry-After` and
//! the usual error body, before the access log or the database is touched.
//!
//! Next to them, sign-ins the password-hashing queue has no room for are refused the same way
//! ([`shed_password_checks`]).
//!
//! The budgets are generous for people (an office behind one address, a page that loads a few
//! things at once) and keep a single client from flooding the work behind them. They are kept in
//! this process's memory (the `governor` crate's GCRA); several processes each keep their own.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use app::{error::ApiError, transport::TransportMode};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A sustained rate and the burst allowed on top of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub per_second: u32,
    pub burst: u32,
}

impl Budget {
    fn quota(self) -> Quota {
        let per_second = NonZeroU32::new(self.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::per_second(per_second).allow_burst(burst)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetSettings {
    /// Every request from one network, pages and calls alike (not static files or probes).
    pub network: Budget,
    /// Every request carrying one session cookie.
    pub session: Budget,
    /// `/api/` calls without a session cookie, per network.
    pub anonymous_api: Budget,
}

impl BudgetSettings {
    /// Budgets of the given sustained rates per network, per session and for calls without a
    /// session, each with its standard burst (ten, twelve and twenty times the rate).
    pub fn with_rates(network: u32, session: u32, anonymous_api: u32) -> Self {
        let budget = |per_second: u32, burst_factor: u32| Budget {
            per_second,
            burst: per_second.saturating_mul(burst_factor),
        };
        Self {
            network: budget(network, 10),
            session: budget(session, 12),
            anonymous_api: budget(anonymous_api, 20),
        }
    }
}

impl Default for BudgetSettings {
    fn default() -> Self {
        Self::with_rates(50, 10, 2)
    }
}

/// The budgets' state, shared by every request of this process.
pub struct RequestBudgets {
    network: DefaultKeyedRateLimiter<IpAddr>,
    session: DefaultKeyedRateLimiter<String>,
    anonymous_api: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

/// The server functions anyone may call without an account: they take the anonymous budget
/// whatever cookie comes with them, so made-up session cookies buy no extra calls.
const PUBLIC_CALLS: &[&str] = &[
    "/api/account/password_feedback",
    "/api/account/sign_up",
    "/api/account/verify_email",
    "/api/account/log_in",
    "/api/account/request_password_reset",
    "/api/account/reset_password",
    "/api/factors/begin_passkey_sign_in",
    "/api/factors/finish_passkey_sign_in",
    "/api/people/invitation",
    "/api/people/accept_invitation",
    "/api/instance/security_facts",
    "/api/instance/operations",
    "/api/instance/subprocessors",
];

/// How often the budgets forget clients that have been quiet long enough to be full again.
const FORGET_EVERY: u64 = 4096;

impl RequestBudgets {
    pub fn new(settings: BudgetSettings) -> Self {
        Self {
            network: RateLimiter::keyed(settings.network.quota()),
            session: RateLimiter::keyed(settings.session.quota()),
            anonymous_api: RateLimiter::keyed(settings.anonymous_api.quota()),
            checks: AtomicU64::new(0),
        }
    }

    /// `None` when the request is within every budget that applies to it, else how many
    /// seconds until it would be.
    fn over_budget(&self, network: IpAddr, session: Option<String>, path: &str) -> Option<u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.forget_quiet_clients();
        }
        let now = self.network.clock().now();
        let wait = |refused: governor::NotUntil<_>| refused.wait_time_from(now).as_secs().max(1);
        if let Err(refused) = self.network.check_key(&network) {
            return Some(wait(refused));
        }
        let anonymous = PUBLIC_CALLS.contains(&path) || (session.is_none() && path.starts_with("/api/"));
        if anonymous {
            if let Err(refused) = self.anonymous_api.check_key(&network) {
                return Some(wait(refused));
            }
        }
        match session {
            Some(session) => self.session.check_key(&session).err().map(wait),
            None => None,
        }
    }

    fn forget_quiet_clients(&self) {
        self.network.retain_recent();
        self.session.retain_recent();
        self.anonymous_api.retain_recent();
    }
}

/// Refuses a request over its budgets with 429 and `Retry-After`; lets the rest through.
pub async fn enforce(
    State((transport, budgets)): State<(TransportMode, Arc<RequestBudgets>)>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let network = domain::access::auth::throttle::throttled_network(app::session::address_of(
        transport,
        req.headers(),
        req.extensions(),
    ));
    // Keyed by the token's hash: the budgets never hold a usable token.
    let session = app::session::cookie_in(req.headers(), app::session::SESSION_COOKIE)
        .and_then(|presented| domain::access::auth::session::SecretToken::parse(&presented))
        .map(|token| token.hash());
    let Some(retry_after_secs) = budgets.over_budget(network, session, path) else {
        return next.run(req).await;
    };
    refused(domain::Error::RateLimited { retry_after_secs })
}

/// The server functions that check a password (one Argon2 computation on the hashing threads,
/// behind a bounded queue) unless the sign-in guard refuses them first.
pub const PASSWORD_CHECKING_PATHS: [&str; 1] = ["/api/account/log_in"];

/// How password checks are shed while the hashing queue is full.
#[derive(Clone, Debug)]
pub struct PasswordShedding {
    pub hasher: domain::access::auth::password::PasswordHasher,
    /// How long a refusal is held before it is sent. A flood sends its next guess when the last
    /// is answered, so answering at once would only invite more guesses, each costing the
    /// parsing and the answer beside the pages; a held refusal costs a timer and keeps its
    /// connection open meanwhile.
    pub hold: std::time::Duration,
    /// Refusals held at once; past it they are answered at once, so a flood that does not wait
    /// for answers cannot keep an unbounded number of connections open here.
    pub holding: Arc<tokio::sync::Semaphore>,
    /// When shedding was last reported in the process log (seconds since the Unix epoch).
    last_warned: Arc<AtomicU64>,
}

impl PasswordShedding {
    /// What the server uses.
    pub const HOLD: std::time::Duration = std::time::Duration::from_secs(1);
    pub const MAX_HELD: usize = 1024;
    /// Shedding is reported at most this often (the refusals leave no audit row).
    const WARN_EVERY_SECS: u64 = 60;

    pub fn new(hasher: domain::access::auth::password::PasswordHasher, hold: std::time::Duration) -> Self {
        Self {
            hasher,
            hold,
            holding: Arc::new(tokio::sync::Semaphore::new(Self::MAX_HELD)),
            last_warned: Arc::new(AtomicU64::new(0)),
        }
    }

    /// One warning a minute while sign-ins are being shed, so operators see a flood that the
    /// audit log does not show.
    fn report(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let last = self.last_warned.load(Ordering::Relaxed);
        if now >= last.saturating_add(Self::WARN_EVERY_SECS)
            && self
                .last_warned
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!("sign-ins are refused as busy: the password-hashing queue is full");
        }
    }
}

/// While the hashing queue is full, a password check is refused here, like a request over its
/// budget: before the audit trail, the guard or the database, so the part of a flood of guesses
/// that could not be checked anyway costs no write and no CPU beside pages, and is held for
/// [`PasswordShedding::hold`] first. (The sign-in asks the hasher again, for the requests that
/// got past this at the same moment.)
pub async fn shed_password_checks(
    State(shedding): State<PasswordShedding>,
    req: Request,
    next: Next,
) -> Response {
    if PASSWORD_CHECKING_PATHS.contains(&req.uri().path()) {
        if let Err(busy) = shedding.hasher.has_room() {
            shedding.report();
            if let Ok(_held) = shedding.holding.try_acquire() {
                tokio::time::sleep(shedding.hold).await;
            }
            return refused(busy);
        }
    }
    next.run(req).await
}

/// 429 (or the error's own status) with `Retry-After` and the usual error body.
fn refused(error: domain::Error) -> Response {
    let retry_after_secs = error.retry_after_secs().unwrap_or(1);
    let error = ApiError::from(error);
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let mut response = (status, axum::Json(error)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::{body::Body, middleware, routing::post, Router};
    use tower::ServiceExt as _;

    async fn answer(app: &Router, path: &str) -> (StatusCode, Option<HeaderValue>, String) {
        let response = app
            .clone()
            .oneshot(Request::post(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (status, retry_after) = (
            response.status(),
            response.headers().get(header::RETRY_AFTER).cloned(),
        );
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        (status, retry_after, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn password_checks_are_refused_and_held_before_they_run_while_the_hashing_queue_is_full() {
        let hold = std::time::Duration::from_millis(200);
        let app = |hasher| {
            Router::new()
                .route("/api/account/log_in", post(|| async { "checked" }))
                .route("/api/account/password_feedback", post(|| async { "scored" }))
                .layer(middleware::from_fn_with_state(
                    PasswordShedding::new(hasher, hold),
                    shed_password_checks,
                ))
        };
        let room = app(domain::testing::fast_hasher());
        assert_eq!(answer(&room, "/api/account/log_in").await.2, "checked");
        let full =
            app(domain::testing::fast_hasher().with_queue_limits(0, std::time::Duration::from_millis(10)));
        let started = std::time::Instant::now();
        let (status, retry_after, body) = answer(&full, "/api/account/log_in").await;
        assert!(started.elapsed() >= hold, "the refusal is held");
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry_after, Some(HeaderValue::from(2)));
        assert!(body.contains("\"server.busy\""), "{body}");
        // Once as many refusals as allowed are held, the next is answered at once.
        let no_more_held = Router::new()
            .route("/api/account/log_in", post(|| async { "checked" }))
            .layer(middleware::from_fn_with_state(
                PasswordShedding {
                    holding: Arc::new(tokio::sync::Semaphore::new(0)),
                    ..PasswordShedding::new(
                        domain::testing::fast_hasher()
                            .with_queue_limits(0, std::time::Duration::from_millis(10)),
                        hold,
                    )
                },
                shed_password_checks,
            ));
        let started = std::time::Instant::now();
        assert_eq!(
            answer(&no_more_held, "/api/account/log_in").await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert!(started.elapsed() < hold);
        // What checks no password still runs, and at once.
        let started = std::time::Instant::now();
        assert_eq!(answer(&full, "/api/account/password_feedback").await.2, "scored");
        assert!(started.elapsed() < hold);
    }
}
