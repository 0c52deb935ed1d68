//! The credential lane: the endpoints that anyone may call without a session and that cost a
//! password hash or a strength estimate (sign-in, sign-up, password resets, the strength
//! meter, passkey sign-in) run on a runtime of their own whose threads have the lowest CPU
//! priority. A flood of guesses then waits for idle CPU — its parsing, its budget and guard
//! checks, its access-log entry and its hash — instead of taking cores from the pages that
//! people who are already signed in load. Real sign-ins go through the same lane: on an idle
//! server they are as fast as before; under a flood they are slower, and the sign-in guard and
//! the hashing queue refuse the excess.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The server functions that run on the lane.
pub const CREDENTIAL_PATHS: [&str; 8] = [
    "/api/account/log_in",
    "/api/account/sign_up",
    "/api/account/password_feedback",
    "/api/account/request_password_reset",
    "/api/account/reset_password",
    "/api/account/second_factor",
    "/api/factors/begin_passkey_sign_in",
    "/api/factors/finish_passkey_sign_in",
];

/// The lane's runtime. Dropping it (with the router) stops its threads without waiting, which
/// is also allowed from inside another runtime.
#[derive(Debug)]
pub struct CredentialLane {
    runtime: Option<tokio::runtime::Runtime>,
    /// Requests on the lane, running or waiting for CPU. Past [`Self::MAX_ON_LANE`] a request
    /// is answered "busy" at once: a flood must not pile up requests (and their bodies) behind
    /// threads that get no CPU while pages are busy.
    on_lane: Arc<tokio::sync::Semaphore>,
}

impl CredentialLane {
    /// A lane of `threads` low-priority threads.
    pub fn start(threads: usize) -> std::io::Result<Arc<Self>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("candor-credentials")
            .on_thread_start(|| domain::platform::priority::lower_current_thread("credential endpoints"))
            .enable_all()
            .build()?;
        Ok(Arc::new(Self {
            runtime: Some(runtime),
            on_lane: Arc::new(tokio::sync::Semaphore::new(Self::MAX_ON_LANE)),
        }))
    }

    /// The most requests on the lane at once. Each is small (bodies are capped), and 256 are
    /// far more than the hashing queue takes, so it only ever refuses what a flood sends.
    pub const MAX_ON_LANE: usize = 256;
}

impl Drop for CredentialLane {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Middleware: a credential endpoint's request runs to its end on the lane (a client who goes
/// away does not cut it short, as everywhere else); every other request passes through.
pub async fn on_lane(State(lane): State<Arc<CredentialLane>>, req: Request, next: Next) -> Response {
    let Some(runtime) = lane.runtime.as_ref() else {
        return next.run(req).await;
    };
    if !CREDENTIAL_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let Ok(place) = Arc::clone(&lane.on_lane).try_acquire_owned() else {
        return busy();
    };
    let request = async move {
        let response = next.run(req).await;
        drop(place);
        response
    };
    match runtime.spawn(request).await {
        Ok(response) => response,
        Err(err) => {
            // Panics are caught inside (the panic guard runs on the lane too); this is the lane
            // stopping while the process shuts down.
            tracing::warn!(error = %err, "a credential request ended without an answer");
            let error = app::error::ApiError::from(domain::Error::Unavailable("shutting down".into()));
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(error)).into_response()
        }
    }
}

/// 429 `server.busy` with `Retry-After`, as the hashing queue answers when it is full.
fn busy() -> Response {
    let retry_after_secs = 2;
    let error = app::error::ApiError::from(domain::Error::Busy { retry_after_secs });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(error)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::{body::Body, middleware, routing::post, Router};
    use tower::ServiceExt as _;

    /// Where a request ran: its thread's name and nice value.
    async fn where_it_ran() -> String {
        let thread = std::thread::current();
        format!(
            "{} {:?}",
            thread.name().unwrap_or("unnamed"),
            domain::platform::priority::current_thread_niceness()
        )
    }

    async fn call(app: &Router, path: &str) -> String {
        let response = app
            .clone()
            .oneshot(Request::post(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn credential_endpoints_run_on_low_priority_threads_and_nothing_else_does() {
        let lane = CredentialLane::start(1).unwrap();
        let app = Router::new()
            .route("/api/account/log_in", post(where_it_ran))
            .route("/api/account/password_feedback", post(where_it_ran))
            .route("/api/surveys/my_check_ins", post(where_it_ran))
            .layer(middleware::from_fn_with_state(lane, on_lane));
        assert_eq!(
            call(&app, "/api/account/log_in").await,
            "candor-credentials Some(19)"
        );
        assert_eq!(
            call(&app, "/api/account/password_feedback").await,
            "candor-credentials Some(19)"
        );
        let elsewhere = call(&app, "/api/surveys/my_check_ins").await;
        assert!(
            !elsewhere.starts_with("candor-credentials") && elsewhere.ends_with("Some(0)"),
            "{elsewhere}"
        );
        // Dropping the router stops the lane from inside this runtime without a panic.
        drop(app);
    }

    #[tokio::test]
    async fn a_full_lane_answers_busy_at_once() {
        let lane = CredentialLane::start(1).unwrap();
        let _taken = Arc::clone(&lane.on_lane)
            .acquire_many_owned(CredentialLane::MAX_ON_LANE as u32)
            .await
            .unwrap();
        let app = Router::new()
            .route("/api/account/log_in", post(where_it_ran))
            .layer(middleware::from_fn_with_state(lane, on_lane));
        let response = app
            .oneshot(Request::post("/api/account/log_in").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("\"server.busy\""));
    }
}
