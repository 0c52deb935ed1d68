//! Factor changes over HTTP with a clock the test moves: the re-authentication window, the last
//! factor, and malformed passkey input answered with codes (never a 500).

use std::sync::Arc;

use axum::body::Body;
use chrono::{DateTime, Duration, Utc};
use domain::{platform::clock::FixedClock, testing::TestDb, Clock};
use http::{Request, Response, StatusCode};

use crate::support::{header, TestApp};

const PASSWORD: &str = "quietly+orbiting+marmalade+kettles";

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn post(path: &str, body: &str, cookie: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn app_code(secret: &str, at: DateTime<Utc>) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(u64::try_from(at.timestamp()).unwrap()).to_string()
}

/// The session cookie a response sets, as a request header value.
fn cookie_of(response: &Response<()>) -> String {
    header(response, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn token_in_outbox(app: &TestApp) -> String {
    app.deliver_mail().await;
    let outbox = app.data_dir.path().join("outbox");
    let mail = std::fs::read_dir(outbox)
        .unwrap()
        .map(|entry| {
            std::fs::read_to_string(entry.unwrap().path())
                .unwrap()
                .replace("=\r\n", "")
                .replace("=3D", "=")
        })
        .find(|mail| mail.contains("verify-email?token="))
        .unwrap();
    let start = mail.find("token=").unwrap() + "token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// A verified account with an authenticator app; returns the full session's cookie and the
/// app's secret.
async fn enrolled(app: &TestApp, clock: &FixedClock) -> (String, String) {
    let signup = format!("workplace_name=Acme&display_name=Ada&email=ada%40example.com&password={PASSWORD}");
    let (done, body) = app.send(post("/api/account/sign_up", &signup, "")).await;
    assert_eq!(done.status(), StatusCode::OK, "{body}");
    let token = token_in_outbox(app).await;
    app.send(post("/api/account/verify_email", &format!("token={token}"), ""))
        .await;
    let (signed_in, _) = app
        .send(post(
            "/api/account/log_in",
            &format!("email=ada%40example.com&password={PASSWORD}"),
            "",
        ))
        .await;
    let cookie = cookie_of(&signed_in);
    let (_, setup) = app
        .send(post("/api/account/begin_authenticator", "", &cookie))
        .await;
    let setup: serde_json::Value = serde_json::from_str(&setup).unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let code = app_code(&secret, clock.now());
    let (confirmed, body) = app
        .send(post(
            "/api/account/confirm_authenticator",
            &format!("code={code}&name=Phone"),
            &cookie,
        ))
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK, "{body}");
    (cookie_of(&confirmed), secret)
}

async fn credential_changes_need_a_recent_second_factor(db: TestDb) {
    let clock = Arc::new(FixedClock::at(start()));
    let app = TestApp::with_clock(db, clock.clone());
    let (cookie, secret) = enrolled(&app, &clock).await;

    let (listed, body) = app.send(post("/api/factors/list", "", &cookie)).await;
    assert_eq!(listed.status(), StatusCode::OK, "{body}");
    let methods: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(methods["recently_confirmed"], true);
    assert_eq!(methods["recovery_codes_left"], 10);
    let factor_id = methods["factors"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(methods["factors"][0]["name"], "Phone");

    // The only factor cannot go, even right after confirming.
    let (last, body) = app
        .send(post("/api/factors/remove", &format!("id={factor_id}"), &cookie))
        .await;
    assert_eq!(last.status(), StatusCode::CONFLICT, "{body}");

    // Eleven minutes later every credential change asks for the second factor again.
    clock.advance(Duration::minutes(11));
    for (path, form) in [
        ("/api/factors/remove", format!("id={factor_id}")),
        ("/api/factors/new_recovery_codes", String::new()),
        (
            "/api/factors/change_password",
            format!("current_password={PASSWORD}&new_password=lantern+harbour+gravel+symphony"),
        ),
        ("/api/account/begin_authenticator", String::new()),
        ("/api/factors/begin_passkey_enrolment", String::new()),
    ] {
        let (refused, body) = app.send(post(path, &form, &cookie)).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(body.contains("auth.reauthentication_required"), "{path}: {body}");
    }
    // Reading is still fine.
    let (listed, body) = app.send(post("/api/factors/list", "", &cookie)).await;
    assert_eq!(listed.status(), StatusCode::OK, "{body}");
    assert!(body.contains("\"recently_confirmed\":false"), "{body}");

    // Confirming with the app's current code rotates the session token and opens the window.
    let code = app_code(&secret, clock.now());
    let (confirmed, body) = app
        .send(post(
            "/api/account/second_factor",
            &format!("code={code}"),
            &cookie,
        ))
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK, "{body}");
    let fresh = cookie_of(&confirmed);
    assert_ne!(fresh, cookie);
    let (old, _) = app.send(post("/api/factors/list", "", &cookie)).await;
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the old token stops working"
    );
    let (codes, body) = app
        .send(post("/api/factors/new_recovery_codes", "", &fresh))
        .await;
    assert_eq!(codes.status(), StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Vec<String>>(&body).unwrap().len(), 10);
    let (wrong, body) = app
        .send(post(
            "/api/factors/change_password",
            "current_password=wrong+password+entirely&new_password=lantern+harbour+gravel+symphony",
            &fresh,
        ))
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (changed, body) = app
        .send(post(
            "/api/factors/change_password",
            &format!("current_password={PASSWORD}&new_password=lantern+harbour+gravel+symphony"),
            &fresh,
        ))
        .await;
    assert_eq!(changed.status(), StatusCode::OK, "{body}");
}

async fn malformed_passkey_input_gets_clear_errors(db: TestDb) {
    let clock = Arc::new(FixedClock::at(start()));
    let app = TestApp::with_clock(db, clock.clone());
    let (cookie, _) = enrolled(&app, &clock).await;

    let (begun, body) = app
        .send(post("/api/factors/begin_passkey_enrolment", "", &cookie))
        .await;
    assert_eq!(begun.status(), StatusCode::OK, "{body}");
    let request: serde_json::Value = serde_json::from_str(&body).unwrap();
    let options: serde_json::Value = serde_json::from_str(request["options"].as_str().unwrap()).unwrap();
    assert_eq!(options["rp"]["id"], "localhost");
    let ceremony = request["ceremony"].as_str().unwrap();

    let oversized = "x".repeat(70 * 1024);
    for (path, form) in [
        (
            "/api/factors/finish_passkey_enrolment",
            format!("ceremony={ceremony}&credential=%7B%7D&name="),
        ),
        (
            "/api/factors/finish_passkey_enrolment",
            "ceremony=not-a-uuid&credential=%7B%7D&name=".to_owned(),
        ),
        (
            "/api/factors/finish_passkey_enrolment",
            format!("ceremony={ceremony}&credential={oversized}&name="),
        ),
        (
            "/api/factors/finish_passkey_sign_in",
            "ceremony=x&credential=%7B%7D".into(),
        ),
        (
            "/api/factors/finish_passkey_check",
            "ceremony=x&credential=%7B%7D".into(),
        ),
    ] {
        let (refused, body) = app.send(post(path, &form, &cookie)).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {body}"
        );
        assert!(body.contains("input.invalid"), "{path}: {body}");
    }
    // Missing fields are a malformed request, not a server error.
    let (missing, body) = app
        .send(post("/api/factors/finish_passkey_sign_in", "ceremony=x", ""))
        .await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST, "{body}");
}

domain::on_both_backends!(
    credential_changes_need_a_recent_second_factor,
    malformed_passkey_input_gets_clear_errors,
);
