use axum::body::Body;
use domain::testing::TestDb;
use http::{Request, StatusCode};

use crate::support::{header, TestApp};

const SIGNUP: &str = "workplace_name=Acme&display_name=Ada+Lovelace&email=ada%40example.com&password=quietly+orbiting+marmalade+kettles";

fn post(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

async fn verification_token(app: &TestApp) -> String {
    app.deliver_mail().await;
    let outbox = app.data_dir.path().join("outbox");
    let mail = std::fs::read_dir(outbox)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            std::fs::read_to_string(entry.path())
                .unwrap()
                .replace("=\r\n", "")
                .replace("=3D", "=")
        })
        .find(|mail| mail.contains("verify-email?token="))
        .expect("a verification mail");
    let start = mail.find("token=").unwrap() + "token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn password_only_sessions_reach_nothing_but_enrolment(db: TestDb) {
    let app = TestApp::new(db);
    let (first, first_body) = app.send(post("/api/account/sign_up", SIGNUP, None)).await;
    assert_eq!(first.status(), StatusCode::OK, "{first_body}");
    // The same address again: the same answer, no hint that it exists.
    let (second, second_body) = app.send(post("/api/account/sign_up", SIGNUP, None)).await;
    assert_eq!((second.status(), second_body), (StatusCode::OK, first_body));

    let (unverified, _) = app
        .send(post(
            "/api/account/log_in",
            "email=ada%40example.com&password=quietly+orbiting+marmalade+kettles",
            None,
        ))
        .await;
    assert_eq!(unverified.status(), StatusCode::UNAUTHORIZED);

    let token = verification_token(&app).await;
    let (verified, body) = app
        .send(post("/api/account/verify_email", &format!("token={token}"), None))
        .await;
    assert_eq!(verified.status(), StatusCode::OK, "{body}");

    let (signed_in, next) = app
        .send(post(
            "/api/account/log_in",
            "email=ada%40example.com&password=quietly+orbiting+marmalade+kettles",
            None,
        ))
        .await;
    assert_eq!(
        (signed_in.status(), next.as_str()),
        (StatusCode::OK, "\"SetUpAuthenticator\"")
    );
    let set_cookie = header(&signed_in, "set-cookie").to_owned();
    assert!(set_cookie.starts_with("__Host-candor_session="), "{set_cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie} lacks {attribute}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let (me, body) = app.send(post("/api/account/me", "", Some(&cookie))).await;
    assert_eq!(me.status(), StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("auth.mfa_required"), "{body}");
    let (setup, body) = app
        .send(post("/api/account/begin_authenticator", "", Some(&cookie)))
        .await;
    assert_eq!(setup.status(), StatusCode::OK, "{body}");
    assert!(body.contains("<svg"), "{body}");
    let (anonymous, body) = app.send(post("/api/account/me", "", None)).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{body}");
    let (forged, _) = app
        .send(post("/api/account/me", "", Some("__Host-candor_session=forged")))
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

async fn cross_site_calls_are_refused(db: TestDb) {
    let app = TestApp::new(db);
    let cross_site = Request::post("/api/account/log_out")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    let (response, body) = app.send(cross_site).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(body.contains("request.cross_site"));
    let foreign_origin = Request::post("/api/account/log_out")
        .header("origin", "https://attacker.example")
        .header("host", "localhost:3000")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(foreign_origin).await.0.status(), StatusCode::FORBIDDEN);
    let same_origin = Request::post("/api/account/log_out")
        .header("origin", "http://localhost:3000")
        .header("host", "localhost:3000")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(same_origin).await.0.status(), StatusCode::OK);
    let same_site_fetch = Request::post("/api/account/log_out")
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(same_site_fetch).await.0.status(), StatusCode::OK);
}

async fn weak_passwords_are_refused_by_the_server_too(db: TestDb) {
    let app = TestApp::new(db);
    let weak = SIGNUP.replace("quietly+orbiting+marmalade+kettles", "Password123!");
    let (response, body) = app.send(post("/api/account/sign_up", &weak, None)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("input.invalid"), "{body}");
    assert_eq!(app.deliver_mail().await.sent, 0, "nothing was queued");
    assert!(!app
        .data_dir
        .path()
        .join("outbox")
        .read_dir()
        .map(|mut d| d.next().is_some())
        .unwrap_or(false));
}

domain::on_both_backends!(
    password_only_sessions_reach_nothing_but_enrolment,
    cross_site_calls_are_refused,
    weak_passwords_are_refused_by_the_server_too,
    repeated_failures_are_answered_429_with_retry_after,
    reset_requests_answer_alike_and_at_once_whether_or_not_the_address_has_an_account,
);

/// Asking for a password reset answers the same, and as fast, for an address with an account as
/// for one without: the lookup and the mail happen after the answer. The mail server here takes
/// the connection and never greets, so an answer that waited on it would take a minute.
async fn reset_requests_answer_alike_and_at_once_whether_or_not_the_address_has_an_account(db: TestDb) {
    domain::testing::workplace(&db.db, "Northwind", "ada@northwind.test", chrono::Utc::now()).await;
    let silent_mail_server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp_url = format!("smtp://{}", silent_mail_server.local_addr().unwrap());
    let app = TestApp::with_settings(db, |raw| raw.smtp_url = Some(smtp_url));
    let mut answers = Vec::new();
    for email in ["ada%40northwind.test", "nobody%40northwind.test"] {
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            app.send(post(
                "/api/account/request_password_reset",
                &format!("email={email}"),
                None,
            )),
        )
        .await
        .expect("the answer waited for the mail server");
        assert_eq!(answer.0.status(), StatusCode::OK, "{}", answer.1);
        answers.push(answer.1);
    }
    assert_eq!(answers[0], answers[1]);
    // A malformed address is a clear mistake, said as such.
    let (malformed, body) = app
        .send(post(
            "/api/account/request_password_reset",
            "email=not-an-address",
            None,
        ))
        .await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("input.invalid"), "{body}");
}

async fn repeated_failures_are_answered_429_with_retry_after(db: TestDb) {
    let app = TestApp::new(db);
    for i in 0..10 {
        let body = format!("email=user{i}%40example.com&password=wrong+password+entirely");
        let (response, _) = app.send(post("/api/account/log_in", &body, None)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let (blocked, body) = app
        .send(post(
            "/api/account/log_in",
            "email=x%40example.com&password=anything+at+all",
            None,
        ))
        .await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry_after: u64 = header(&blocked, "retry-after").parse().unwrap();
    assert!((890..=900).contains(&retry_after), "{retry_after}");
    assert!(
        body.contains("request.rate_limited") && body.contains("15 minutes"),
        "{body}"
    );
}
