//! The HTTP surface: routes (pages, server functions, health) and the middleware every response
//! passes through (request id, access log, panic guard, hardening headers, error status, timeout,
//! body limit).

use std::time::{Duration, Instant};

use app::{error::ApiError, shell, state::AppState, App};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
};
use tracing::Instrument;

#[derive(Clone, Copy, Debug)]
pub struct HttpSettings {
    pub request_timeout: Duration,
    pub body_limit: usize,
    /// Send Strict-Transport-Security (served over TLS or behind a declared TLS proxy).
    pub hsts: bool,
    pub budgets: crate::budgets::BudgetSettings,
}

/// Content-Security-Policy for everything that is not a page (pages set their own, with a nonce).
const NON_PAGE_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const HSTS: &str = "max-age=63072000; includeSubDomains";
/// The largest server-function error body the status mapper reads; errors are a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub fn router(state: AppState, leptos_options: LeptosOptions, settings: HttpSettings) -> Router {
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let server_fns = {
        let context = context.clone();
        move |req: Request| {
            let context = context.clone();
            async move { leptos_axum::handle_server_fns_with_context(context, req).await }
        }
    };
    let db = state.db.clone();
    let audit_state = state.clone();
    let transport = state.transport;
    let page_shell = {
        let options = leptos_options.clone();
        move || shell(options.clone())
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let db = db.clone();
                async move { readiness(&db).await }
            }),
        )
        .route(
            "/api/{*fn_name}",
            post(server_fns).layer(middleware::from_fn(same_origin_only)),
        )
        .leptos_routes_with_context(
            &leptos_options,
            generate_route_list(App),
            context.clone(),
            page_shell,
        )
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .with_state(leptos_options)
        // Innermost first; `Router::layer` boxes each layer so response bodies line up.
        // The handler runs to completion even when the timeout answers first.
        .layer(middleware::from_fn(run_to_completion))
        .layer(middleware::from_fn_with_state(settings.body_limit, limit_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ))
        // Server functions are also routed by `leptos_routes_with_context` (by exact path), so
        // the audit seam sits on the whole router and picks out `/api/` itself.
        .layer(middleware::from_fn_with_state(audit_state, audit_trail))
        // And the access-log entry is finished even when the client has gone.
        .layer(middleware::from_fn(run_to_completion))
        .layer(middleware::from_fn(server_fn_error_status))
        .layer(middleware::from_fn(same_origin_only))
        // Password checks the hashing queue has no room for: refused before anything costs.
        .layer(middleware::from_fn_with_state(
            crate::budgets::PasswordShedding::new(
                state.hasher.clone(),
                crate::budgets::PasswordShedding::HOLD,
            ),
            crate::budgets::shed_password_checks,
        ))
        // Before anything that costs: the access log's writes, the database, the handlers.
        .layer(middleware::from_fn_with_state(
            (
                transport,
                std::sync::Arc::new(crate::budgets::RequestBudgets::new(settings.budgets)),
            ),
            crate::budgets::enforce,
        ))
        .layer(middleware::from_fn_with_state(settings, hardening_headers))
        .layer(CatchPanicLayer::custom(|_| internal_error_response()))
        .layer(middleware::from_fn(access_log))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Server functions that take a whole people file (up to 1 MiB of CSV, sent form-encoded): the
/// only ones allowed a body larger than the configured limit.
const PEOPLE_FILE_PATHS: [&str; 2] = ["/api/people/preview_import", "/api/people/import"];
/// Their limit, when the configured one is smaller.
const PEOPLE_FILE_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Refuses a body larger than the limit: at once when its length is announced, otherwise when
/// reading it passes the limit (the server function then answers `request.too_large`).
async fn limit_body(State(configured): State<usize>, req: Request, next: Next) -> Response {
    let limit = if PEOPLE_FILE_PATHS.contains(&req.uri().path()) {
        configured.max(PEOPLE_FILE_BODY_LIMIT)
    } else {
        configured
    };
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    next.run(req.map(|body| Body::new(http_body_util::Limited::new(body, limit))))
        .await
}

async fn readiness(db: &domain::Database) -> Response {
    match db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// One log line per request: method, path without the query string (it may carry tokens),
/// status, duration and request id.
async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let span = tracing::info_span!("request", request_id = %request_id);
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(%method, %path, status, elapsed_ms, "request");
        } else {
            tracing::info!(%method, %path, status, elapsed_ms, "request");
        }
    });
    response
}

/// The audit seam for server functions and server-rendered pages: opens the call's
/// [`domain::platform::audit::Trail`] (the tenant scope writes changes into the log with their
/// transaction), then writes the rest with how the call ended. If that write fails, the answer
/// is withheld: no access goes unlogged, whether by `/api/` or by loading a page.
async fn audit_trail(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let trail = if let Some(action) = path.strip_prefix("/api/") {
        domain::platform::audit::Trail::for_request(state.clock.clone(), request_id.as_deref(), action)
    } else if is_page_load(&req) {
        // The page's data loads run in-process while it renders (to completion before the
        // answer leaves: pages render in `SsrMode::Async`), each through this trail.
        req.extensions_mut().insert(app::request::AskerOnce::default());
        domain::platform::audit::Trail::for_page(state.clock.clone(), request_id.as_deref(), &path)
    } else {
        return next.run(req).await;
    };
    req.extensions_mut().insert(trail.clone());
    let response = next.run(req).await;
    let (response, status) = effective_status(response).await;
    match state.access_log.finish(&trail, status).await {
        Ok(()) => response,
        Err(err) => {
            tracing::error!(code = err.code(), error = %err, "the audit log could not be written; the answer is withheld");
            // The public message only: unavailable, or an internal error without details.
            let error = ApiError::from(err);
            let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(error)).into_response()
        }
    }
}

/// Runs the rest of the request in a task of its own, so that a client who disconnects, or the
/// timeout answering first, never drops it midway: a transaction cut off between two statements
/// would go back to the pool still open (and a change that was made would miss the end of its
/// access-log entry). The answer is simply not delivered to whoever stopped waiting.
async fn run_to_completion(req: Request, next: Next) -> Response {
    match tokio::spawn(next.run(req).in_current_span()).await {
        Ok(response) => response,
        Err(err) => {
            // A panic in the handler: the panic guard outside would have caught it inline.
            tracing::error!(error = %err, "a request's task ended without an answer");
            internal_error_response()
        }
    }
}

/// A page rendered on the server (not a static file, not a probe), whatever the method: a HEAD,
/// or a POST to a page path that falls through to the page renderer, reads the same data.
fn is_page_load(req: &Request) -> bool {
    let path = req.uri().path();
    !path.starts_with("/pkg/")
        && !matches!(path, "/healthz" | "/readyz")
        && !path.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

/// The status a server function's answer stands for: errors travel as 500 with their real
/// status in the body until [`server_fn_error_status`] puts it on the response.
async fn effective_status(response: Response) -> (Response, u16) {
    if !response
        .headers()
        .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        let status = response.status().as_u16();
        return (response, status);
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return (internal_error_response(), 500);
    };
    let status = serde_json::from_slice::<ApiError>(&bytes)
        .map(|error| error.status)
        .unwrap_or(500);
    (Response::from_parts(parts, Body::from(bytes)), status)
}

fn internal_error_response() -> Response {
    tracing::error!("a request handler panicked");
    let body = ApiError::new(
        "internal",
        "Something went wrong on our side. It has been logged.",
        500,
    );
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

async fn hardening_headers(State(settings): State<HttpSettings>, mut req: Request, next: Next) -> Response {
    let is_static_asset = req.uri().path().starts_with("/pkg/") || req.uri().path() == "/favicon.svg";
    let page_nonce = app::state::PageNonce::default();
    req.extensions_mut().insert(page_nonce.clone());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    // A rendered page's own policy, from the nonce its scripts carry; anything else gets none.
    let policy = match page_nonce.0.get() {
        Some(nonce) => HeaderValue::from_str(&app::state::page_content_security_policy(nonce))
            .unwrap_or(HeaderValue::from_static(NON_PAGE_CSP)),
        None => HeaderValue::from_static(NON_PAGE_CSP),
    };
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(policy);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    if settings.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    // Pages and API answers may hold personal data: never cache them. Static assets revalidate.
    let cache = if is_static_asset { "no-cache" } else { "no-store" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// Server functions change state with the session cookie, so a page on another site must not be
/// able to call them (CSRF). Browsers say where a request comes from in `Sec-Fetch-Site`, or at
/// least `Origin`; requests with neither come from non-browser clients, which hold no victim's
/// cookie.
async fn same_origin_only(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let headers = req.headers();
    let cross_site = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
            (Some(origin), Some(host)) => {
                let origin_host = origin
                    .to_str()
                    .ok()
                    .and_then(|o| o.split_once("://"))
                    .map(|(_, h)| h);
                origin_host != host.to_str().ok()
            }
            (Some(_), None) => true,
            (None, _) => false,
        },
    };
    if cross_site {
        let body = ApiError::new(
            "request.cross_site",
            "Requests from other sites are not accepted.",
            403,
        );
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    next.run(req).await
}

/// Server functions answer every error with 500; the status that belongs to the error is in
/// its body ([`ApiError::status`]), and this puts it on the response.
async fn server_fn_error_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if !response
        .headers()
        .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return internal_error_response();
    };
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status) {
            if status.is_client_error() || status.is_server_error() {
                parts.status = status;
            }
        }
        if let Some(seconds) = error.retry_after_secs {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
