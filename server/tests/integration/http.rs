use app::error::ApiError;
use axum::body::Body;
use domain::testing::TestDb;
use http::{Request, StatusCode};
use leptos::prelude::*;

use crate::support::{header, TestApp};

/// A server function that exists only in this test binary, to exercise argument decoding.
#[server(prefix = "/api", endpoint = "test/double")]
pub async fn double(number: u32) -> Result<u32, ApiError> {
    Ok(number * 2)
}

async fn landing_page_is_rendered_with_hardening_headers(db: TestDb) {
    let app = TestApp::new(db);
    let (response, body) = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("Hear how your teams are doing"));
    let csp = header(&response, "content-security-policy");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("page CSP carries a nonce");
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "hydration script carries the CSP nonce"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "referrer-policy"), "no-referrer");
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert!(!header(&response, "x-request-id").is_empty());
    // Plain HTTP on loopback: no HSTS.
    assert_eq!(header(&response, "strict-transport-security"), "");
}

async fn unknown_route_is_a_styled_404(db: TestDb) {
    let app = TestApp::new(db);
    let (response, body) = app.get("/definitely/not/here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"));
    assert!(
        body.contains("/pkg/candor.css"),
        "the 404 page uses the app's stylesheet"
    );
}

async fn security_facts_come_from_the_instance(db: TestDb) {
    let backend = db.db.backend().label();
    let app = TestApp::new(db);
    let (response, body) = app.post_form("/api/instance/security_facts", "").await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    let facts: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(facts["database_backend"], backend);
    assert_eq!(facts["transport"], "LoopbackHttp");
    // What an attacker would plan with stays off the public page.
    for operational in [
        "version",
        "schema",
        "bypass",
        "Master key in use",
        "last backup",
        "migrations",
    ] {
        assert!(
            !body.contains(operational),
            "the public facts say {operational}: {body}"
        );
    }
    let separation = facts["tenant_separation"].as_str().unwrap();
    if backend == "PostgreSQL" {
        assert!(
            separation.contains("row-level security policies check it"),
            "{separation}"
        );
    } else {
        assert!(
            separation.contains("SQLite has no row-level security"),
            "{separation}"
        );
    }
    // When backups last ran is for a workplace's Owner; anyone else gets nothing, not an error.
    let (response, body) = app.post_form("/api/instance/operations", "").await;
    assert_eq!((response.status(), body.as_str()), (StatusCode::OK, "null"));
}

async fn malformed_server_fn_arguments_are_a_400_with_a_code(db: TestDb) {
    let app = TestApp::new(db);
    let (response, body) = app.post_form("/api/test/double", "number=21").await;
    assert_eq!((response.status(), body.as_str()), (StatusCode::OK, "42"));
    for bad in ["number=twenty", "", "number=%ZZ", "number=99999999999"] {
        let (response, body) = app.post_form("/api/test/double", bad).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}: {body}");
        let error: ApiError = serde_json::from_str(&body).unwrap();
        assert_eq!(error.code, "request.malformed");
    }
}

async fn server_fns_answer_only_post(db: TestDb) {
    let app = TestApp::new(db);
    let (response, _) = app.get("/api/instance/security_facts").await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn oversized_bodies_are_refused(db: TestDb) {
    let app = TestApp::new(db);
    let huge = "number=1&".repeat(1_200_000 / 9);
    // Announced with Content-Length: refused before the body is read.
    let announced = Request::post("/api/test/double")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", huge.len())
        .body(Body::from(huge.clone()))
        .unwrap();
    let (response, _) = app.send(announced).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Streamed without a length: cut off at the limit, answered with a coded error.
    let (response, body) = app.post_form("/api/test/double", &huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let error: ApiError = serde_json::from_str(&body).unwrap();
    assert_eq!(error.code, "request.too_large");
    // A people file may be larger: its limit is 4 MiB, and past that it is refused too.
    let (response, body) = app
        .post_form(
            "/api/people/preview_import",
            &format!("csv={}", "a".repeat(2_000_000)),
        )
        .await;
    assert_ne!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (response, _) = app
        .post_form("/api/people/import", &format!("csv={}", "a".repeat(4_300_000)))
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn health_and_readiness(db: TestDb) {
    let app = TestApp::new(db);
    let (response, body) = app.get("/healthz").await;
    assert_eq!((response.status(), body.as_str()), (StatusCode::OK, "ok"));
    assert!(header(&response, "content-security-policy").contains("default-src 'none'"));
    let (response, body) = app.get("/readyz").await;
    assert_eq!((response.status(), body.as_str()), (StatusCode::OK, "ready"));
}

/// A server function that takes longer than the configured request timeout.
#[server(prefix = "/api", endpoint = "test/slow")]
pub async fn slow() -> Result<(), ApiError> {
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    Ok(())
}

#[tokio::test]
async fn requests_beyond_the_timeout_are_answered_408() {
    let test_db = TestDb::migrated(domain::Backend::Sqlite).await.unwrap();
    let app = TestApp::with_request_timeout(test_db, Some(1));
    let started = std::time::Instant::now();
    let (response, _) = app.post_form("/api/test/slow", "").await;
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "answered when the timeout hit"
    );
    let (fast, _) = app.post_form("/api/test/double", "number=2").await;
    assert_eq!(fast.status(), StatusCode::OK);
}

/// The session cookie of a new workplace's Owner, signed in with both factors.
async fn owner_signed_in(db: &domain::Database) -> String {
    let now = chrono::Utc::now();
    let (owner, _) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now).await;
    let token = domain::access::accounts::start_session(db, owner.user_id.uuid(), &Default::default(), now)
        .await
        .unwrap();
    let session = domain::access::accounts::resolve_session(db, &Default::default(), token.expose(), now)
        .await
        .unwrap()
        .unwrap();
    let token = domain::access::accounts::complete_second_factor(db, session.session_id, now)
        .await
        .unwrap();
    format!("__Host-candor_session={}", token.expose())
}

/// A client that gives up midway (or the timeout answering first) never leaves a pooled
/// connection inside a transaction or holding a lock: requests cancelled at many points of a
/// write, then every connection is idle outside a transaction, and the next requests run as
/// usual, each with its access-log entry.
async fn cancelled_requests_leave_no_connection_in_a_transaction(test_db: TestDb) {
    let db = test_db.db.clone();
    let cookie = owner_signed_in(&db).await;
    let app = TestApp::new(test_db);
    let create = |name: String| {
        Request::post("/api/organisation/create_department")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .body(Body::from(format!("name={name}&parent=")))
            .unwrap()
    };
    // Cut off after 0 to 12 ms: before, during and after the transaction.
    for attempt in 0..120_u64 {
        let cut_after = std::time::Duration::from_micros((attempt * 7_919) % 12_000);
        let _ = tokio::time::timeout(cut_after, app.send(create(format!("Cut{attempt}")))).await;
    }
    // What was started finishes on its own; then nothing is left open.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    if db.backend() == domain::Backend::Postgres {
        let open = domain::testing::raw_strings(
            &db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM pg_stat_activity \
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        )
        .await;
        assert_eq!(open, ["0"], "connections left inside a transaction");
    }
    for attempt in 0..20 {
        let (response, body) = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.send(create(format!("After{attempt}"))),
        )
        .await
        .expect("a request after the cancelled ones stalled");
        assert_eq!(response.status(), StatusCode::OK, "{body}");
    }
    // Every department a request created has its access-log entry, cancelled or not.
    let created = domain::testing::raw_strings(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM departments").await;
    let logged = domain::testing::raw_strings(
        &db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log \
         WHERE action = 'organisation/create_department' AND outcome = 'ok'",
    )
    .await;
    assert_eq!(created, logged, "every change that happened is logged as done");
}

/// One client cannot flood the work behind the public endpoints: calls without a session are
/// budgeted per network (an IPv6 /64 counts as one, whichever addresses inside it are used) and
/// answered 429 with Retry-After before anything is logged or stored; another network, and a
/// signed-in person on the same network, are served as usual.
async fn anonymous_floods_are_refused_per_network_before_any_work(test_db: TestDb) {
    let db = test_db.db.clone();
    let cookie = owner_signed_in(&db).await;
    let app = TestApp::new(test_db);
    let from = |address: &str, cookie: Option<&str>| {
        let mut request = Request::post("/api/account/password_feedback")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let mut request = request
            .body(Body::from(
                "password=quietly+orbiting+marmalade&display_name=&email=&workplace_name=",
            ))
            .unwrap();
        let peer: std::net::SocketAddr = format!("[{address}]:40000").parse().unwrap();
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        request
    };
    let logged = || async {
        domain::testing::raw_strings(
            &db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'account/password_feedback'",
        )
        .await
        .remove(0)
        .parse::<usize>()
        .unwrap()
    };
    let before = logged().await;
    // A new address inside one /64 for every call.
    let (mut served, mut refused) = (0, None);
    for i in 0..100 {
        let (response, body) = app.send(from(&format!("2001:db8:7:1::{i:x}"), None)).await;
        match response.status() {
            StatusCode::OK => served += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                refused = Some((header(&response, "retry-after").to_owned(), body))
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let (retry_after, body) = refused.expect("the flood is refused");
    assert!(retry_after.parse::<u64>().unwrap() >= 1, "{retry_after}");
    assert!(body.contains("request.rate_limited"), "{body}");
    assert!((40..100).contains(&served), "{served}");
    assert_eq!(
        logged().await - before,
        served,
        "refused calls cost nothing, not even a log row"
    );
    // Another network, and the signed-in Owner on this one, are served.
    let (other, _) = app.send(from("2001:db8:7:2::1", None)).await;
    assert_eq!(other.status(), StatusCode::OK);
    // A made-up session cookie buys a public call nothing.
    let made_up = format!("__Host-candor_session={}", "x".repeat(43));
    let (forged, _) = app.send(from("2001:db8:7:1::1", Some(&made_up))).await;
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
    let mut own_account = from("2001:db8:7:1::1", Some(&cookie));
    *own_account.uri_mut() = "/api/account/me".parse().unwrap();
    *own_account.body_mut() = Body::empty();
    let (signed_in, body) = app.send(own_account).await;
    assert_eq!(signed_in.status(), StatusCode::OK, "{body}");
}

domain::on_both_backends!(
    anonymous_floods_are_refused_per_network_before_any_work,
    cancelled_requests_leave_no_connection_in_a_transaction,
    landing_page_is_rendered_with_hardening_headers,
    unknown_route_is_a_styled_404,
    security_facts_come_from_the_instance,
    malformed_server_fn_arguments_are_a_400_with_a_code,
    server_fns_answer_only_post,
    oversized_bodies_are_refused,
    health_and_readiness,
);

#[tokio::test]
async fn readiness_fails_when_the_database_goes_away() {
    let test_db = TestDb::migrated(domain::Backend::Sqlite).await.unwrap();
    let db = test_db.db.clone();
    let app = TestApp::new(test_db);
    db.close().await.unwrap();
    let (response, _) = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}
