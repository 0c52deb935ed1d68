use axum::{body::Body, Router};
use candor_server::config::{Config, RawSettings};
use http::{Request, Response};
use tower::ServiceExt;

/// A configuration for tests: loopback, a temporary data directory, the given database, and
/// whatever `adjust` changes.
fn config_with(
    data_dir: &std::path::Path,
    database_url: &str,
    request_timeout: Option<u64>,
    adjust: impl FnOnce(&mut RawSettings),
) -> Config {
    let mut raw = RawSettings {
        data_dir: Some(data_dir.display().to_string()),
        database_url: Some(database_url.to_owned()),
        listen: Some("127.0.0.1:0".into()),
        request_timeout: request_timeout.map(|seconds| seconds.to_string()),
        ..RawSettings::default()
    };
    adjust(&mut raw);
    Config::from_raw(&raw, None).unwrap()
}

pub struct TestApp {
    pub router: Router,
    pub data_dir: tempfile::TempDir,
    /// Where the app queues mail; nothing sends it until [`TestApp::deliver_mail`].
    mail: domain::platform::mail_queue::MailQueue,
    mailer: domain::platform::mail::Mailer,
    _db: domain::testing::TestDb,
}

impl TestApp {
    pub fn new(test_db: domain::testing::TestDb) -> Self {
        Self::with_request_timeout(test_db, None)
    }

    pub fn with_request_timeout(test_db: domain::testing::TestDb, seconds: Option<u64>) -> Self {
        Self::build(test_db, seconds, std::sync::Arc::new(domain::SystemClock))
    }

    /// An app whose time stands still until the test moves `clock`.
    pub fn with_clock(test_db: domain::testing::TestDb, clock: std::sync::Arc<dyn domain::Clock>) -> Self {
        Self::build(test_db, None, clock)
    }

    /// An app with some settings changed by `adjust` (an SMTP server, say).
    pub fn with_settings(test_db: domain::testing::TestDb, adjust: impl FnOnce(&mut RawSettings)) -> Self {
        Self::build_with(test_db, None, std::sync::Arc::new(domain::SystemClock), adjust)
    }

    fn build(
        test_db: domain::testing::TestDb,
        seconds: Option<u64>,
        clock: std::sync::Arc<dyn domain::Clock>,
    ) -> Self {
        Self::build_with(test_db, seconds, clock, |_| {})
    }

    fn build_with(
        test_db: domain::testing::TestDb,
        seconds: Option<u64>,
        clock: std::sync::Arc<dyn domain::Clock>,
        adjust: impl FnOnce(&mut RawSettings),
    ) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let config = config_with(data_dir.path(), &test_db.url, seconds, adjust);
        let mail = domain::platform::mail_queue::MailQueue::new(test_db.db.clone());
        let router = candor_server::serve::app_with_clock(
            &config,
            test_db.db.clone(),
            mail.clone(),
            "http://localhost:3000/",
            clock,
        )
        .unwrap();
        Self {
            router,
            data_dir,
            mail,
            mailer: config.mailer().unwrap(),
            _db: test_db,
        }
    }

    /// Sends what the app queued, as the server's mail sender would: into the data directory's
    /// outbox unless the settings name an SMTP server.
    pub async fn deliver_mail(&self) -> domain::platform::mail_queue::Delivered {
        self.mail
            .deliver_due(&self.mailer, chrono::Utc::now() + chrono::Duration::days(3650))
            .await
            .unwrap()
    }

    pub async fn send(&self, request: Request<Body>) -> (Response<()>, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024).await.unwrap();
        (
            Response::from_parts(parts, ()),
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    pub async fn get(&self, path: &str) -> (Response<()>, String) {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub async fn post_form(&self, path: &str, body: &str) -> (Response<()>, String) {
        let request = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(request).await
    }
}

pub fn header<'a>(response: &'a Response<()>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}
