//! The sign-in workflow as one domain call, every branch: throttled, wrong password, unknown
//! address (the same work as a wrong password), needs enrolment, needs a code, remembered
//! device, done, and an account secured as possibly compromised.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use domain::{
    access::{
        accounts::{self, SessionInfo},
        auth::{context::SignInContext, session::SessionPolicy},
        factors,
        sign_in::{self, Completed, PasswordAttempt, PasswordStep, Services},
        sign_in_guard::SignInGuard,
        trusted_devices::{self, SignInSettings},
    },
    organisation::people::NewPerson,
    platform::{policy::Role, policy::RoleKey},
    testing::TestDb,
};

const PASSWORD: &str = "lantern harbour gravel symphony";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn laptop() -> SignInContext {
    SignInContext {
        network_prefix: "203.0.113.0/24".into(),
        device: "Firefox on Linux".into(),
    }
}

fn app_code(secret_base32: &str, at: DateTime<Utc>) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(u64::try_from(at.timestamp()).unwrap()).to_string()
}

/// What the tests sign in against: Northwind with Grace, an active employee whose password is
/// [`PASSWORD`], and a mail queue delivering into a temporary outbox.
struct Setup {
    hasher: domain::access::auth::password::PasswordHasher,
    guard: SignInGuard,
    mailer: domain::testing::MailOutbox,
    outbox: tempfile::TempDir,
    tenant: domain::platform::tenant::TenantDb,
    grace: uuid::Uuid,
}

impl Setup {
    async fn new(db: &domain::Database) -> Self {
        let (_, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
        let grace = domain::testing::active_person(
            db,
            &tenant,
            NewPerson {
                name: "Grace Hopper".into(),
                email: "grace@northwind.test".into(),
                department: None,
                role: RoleKey::BuiltIn(Role::Employee),
                start_date: None,
            },
            now(),
        )
        .await;
        let outbox = tempfile::tempdir().unwrap();
        let mailer = domain::testing::MailOutbox::new(db, outbox.path());
        Self {
            hasher: domain::testing::fast_hasher(),
            guard: SignInGuard::default(),
            mailer,
            outbox,
            tenant,
            grace: grace.user_id.uuid(),
        }
    }

    fn services<'a>(&'a self, db: &'a domain::Database) -> Services<'a> {
        Services {
            db,
            hasher: &self.hasher,
            guard: &self.guard,
            mail: &self.mailer,
            public_url: "https://candor.example",
        }
    }

    /// The password step as `email` with `password`, from `context` (with a remembered device
    /// token when given), at `at`.
    async fn password(
        &self,
        db: &domain::Database,
        (email, password): (&str, &str),
        context: &SignInContext,
        device: Option<&str>,
        at: DateTime<Utc>,
    ) -> domain::Result<PasswordStep> {
        sign_in::with_password(self.services(db), attempt(email, password, context, device), at).await
    }

    /// Every email queued so far, delivered into the outbox.
    async fn mails(&self) -> Vec<String> {
        self.mailer.deliver().await;
        std::fs::read_dir(self.outbox.path())
            .unwrap()
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .collect()
    }
}

fn attempt<'a>(
    email: &'a str,
    password: &'a str,
    context: &'a SignInContext,
    device: Option<&'a str>,
) -> PasswordAttempt<'a> {
    PasswordAttempt {
        email,
        password,
        address: "203.0.113.7".parse::<IpAddr>().unwrap(),
        context,
        remembered_device: device,
        trail: None,
    }
}

async fn session_of(db: &domain::Database, step: &PasswordStep, at: DateTime<Utc>) -> SessionInfo {
    accounts::resolve_session(db, &SessionPolicy::default(), step.token().expose(), at)
        .await
        .unwrap()
        .expect("the step's token is a live session")
}

/// Gives Grace an authenticator app; returns its seed.
async fn enrol(db: &domain::Database, grace: uuid::Uuid) -> String {
    let enrolment = factors::begin_totp_enrolment(db, grace, now()).await.unwrap();
    factors::confirm_totp_enrolment(db, grace, &app_code(&enrolment.secret_base32, now()), "", now())
        .await
        .unwrap();
    enrolment.secret_base32
}

async fn wrong_passwords_and_unknown_addresses_fail_alike(test_db: TestDb) {
    let db = &test_db.db;
    let setup = Setup::new(db).await;
    let context = laptop();
    let before = setup.hasher.computations();
    let wrong = setup
        .password(
            db,
            ("grace@northwind.test", "not her password at all"),
            &context,
            None,
            now(),
        )
        .await
        .unwrap_err();
    let for_wrong = setup.hasher.computations() - before;
    let before = setup.hasher.computations();
    let unknown = setup
        .password(
            db,
            ("nobody@northwind.test", "not her password at all"),
            &context,
            None,
            now(),
        )
        .await
        .unwrap_err();
    let for_unknown = setup.hasher.computations() - before;
    assert_eq!(wrong.code(), "auth.invalid_credentials");
    assert_eq!(unknown.code(), wrong.code());
    assert_eq!(unknown.public_message(), wrong.public_message());
    // The same work on both paths: one Argon2 computation each, so the answer takes as long.
    assert_eq!((for_wrong, for_unknown), (1, 1));
    assert!(
        accounts::list_sessions(db, &SessionPolicy::default(), setup.grace, now())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn repeated_failures_are_throttled_even_for_the_right_password(test_db: TestDb) {
    let db = &test_db.db;
    let setup = Setup::new(db).await;
    let context = laptop();
    let mut codes = Vec::new();
    for _ in 0..12 {
        let err = setup
            .password(
                db,
                ("grace@northwind.test", "a wrong guess entirely"),
                &context,
                None,
                now(),
            )
            .await
            .unwrap_err();
        codes.push(err.code());
    }
    assert!(codes.contains(&"request.rate_limited"), "{codes:?}");
    let refused = setup
        .password(db, ("grace@northwind.test", PASSWORD), &context, None, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "request.rate_limited");
    // Once the wait is over, the right password gets through.
    let step = setup
        .password(
            db,
            ("grace@northwind.test", PASSWORD),
            &context,
            None,
            now() + Duration::hours(1),
        )
        .await
        .unwrap();
    assert!(matches!(step, PasswordStep::SetUpAuthenticator(_)), "{step:?}");
}

async fn an_account_without_a_second_factor_is_sent_to_enrol(test_db: TestDb) {
    let db = &test_db.db;
    let setup = Setup::new(db).await;
    let context = laptop();
    let step = setup
        .password(db, (" Grace@Northwind.test", PASSWORD), &context, None, now())
        .await
        .unwrap();
    assert!(matches!(step, PasswordStep::SetUpAuthenticator(_)), "{step:?}");
    let session = session_of(db, &step, now()).await;
    assert_eq!(session.user_id, setup.grace);
    assert!(!session.second_factor, "the password alone signs nobody in");
}

async fn a_code_finishes_signing_in_and_may_remember_the_device(test_db: TestDb) {
    let db = &test_db.db;
    let setup = Setup::new(db).await;
    let seed = enrol(db, setup.grace).await;
    trusted_devices::save_settings(
        &setup.tenant,
        SignInSettings {
            remember_device_days: 30,
        },
    )
    .await
    .unwrap();
    let context = laptop();
    let at = now() + Duration::minutes(5);
    let step = setup
        .password(db, ("grace@northwind.test", PASSWORD), &context, None, at)
        .await
        .unwrap();
    assert!(matches!(step, PasswordStep::EnterCode(_)), "{step:?}");
    let pending = session_of(db, &step, at).await;
    assert!(!pending.second_factor);

    let wrong = sign_in::with_code(setup.services(db), &pending, "000000", true, &context, at).await;
    if app_code(&seed, at) != "000000" {
        assert_eq!(wrong.unwrap_err().code(), "input.invalid");
    }
    let Completed {
        session,
        device,
        notice,
    } = sign_in::with_code(
        setup.services(db),
        &pending,
        &app_code(&seed, at),
        true,
        &context,
        at,
    )
    .await
    .unwrap();
    let signed_in = accounts::resolve_session(db, &SessionPolicy::default(), session.expose(), at)
        .await
        .unwrap()
        .unwrap();
    assert!(signed_in.second_factor && signed_in.second_factor_at == Some(at));
    let (device, days) = device.expect("asked for, and the workplace allows 30 days");
    assert_eq!(days, 30);
    // Grace's first sign-in is nobody's news.
    assert!(notice.is_none(), "{notice:?}");
    // Next time, from the same browser and network, the remembered device is the second step.
    let later = at + Duration::days(1);
    let step = setup
        .password(
            db,
            ("grace@northwind.test", PASSWORD),
            &context,
            Some(device.expose()),
            later,
        )
        .await
        .unwrap();
    assert!(matches!(step, PasswordStep::Done(_)), "{step:?}");
    let done = session_of(db, &step, later).await;
    assert!(done.second_factor);
    assert_eq!(
        done.second_factor_at, None,
        "a remembered device is no recent factor"
    );
    // From another network it is not; and signing in there is news, mailed to Grace by the
    // caller once the tokens are handed over.
    let elsewhere = SignInContext {
        network_prefix: "198.51.100.0/24".into(),
        ..laptop()
    };
    let step = setup
        .password(
            db,
            ("grace@northwind.test", PASSWORD),
            &elsewhere,
            Some(device.expose()),
            later,
        )
        .await
        .unwrap();
    assert!(matches!(step, PasswordStep::EnterCode(_)), "{step:?}");
    let pending = session_of(db, &step, later).await;
    let completed = sign_in::with_code(
        setup.services(db),
        &pending,
        &app_code(&seed, later),
        false,
        &elsewhere,
        later,
    )
    .await
    .unwrap();
    assert!(completed.device.is_none(), "not asked for");
    let notice = completed.notice.expect("a network Grace has not signed in from");
    assert_eq!(notice.to, "grace@northwind.test");
    assert!(notice.body.contains("198.51.100.0/24"), "{}", notice.body);
    assert!(
        setup.mails().await.is_empty(),
        "the workflow itself sends nothing"
    );
}

async fn wrong_codes_are_throttled(test_db: TestDb) {
    let db = &test_db.db;
    let setup = Setup::new(db).await;
    let seed = enrol(db, setup.grace).await;
    let context = laptop();
    let at = now() + Duration::minutes(5);
    let step = setup
        .password(db, ("grace@northwind.test", PASSWORD), &context, None, at)
        .await
        .unwrap();
    let pending = session_of(db, &step, at).await;
    let right = app_code(&seed, at);
    let wrong = if right == "123456" { "654321" } else { "123456" };
    let mut codes = Vec::new();
    for _ in 0..6 {
        let err = sign_in::with_code(setup.services(db), &pending, wrong, false, &context, at)
            .await
            .unwrap_err();
        codes.push(err.code());
    }
    assert_eq!(codes.last(), Some(&"request.rate_limited"), "{codes:?}");
    let refused = sign_in::with_code(setup.services(db), &pending, &right, false, &context, at)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "request.rate_limited");
}

async fn a_secured_account_gets_a_reset_link_instead_of_a_session(test_db: TestDb) {
    let db = &test_db.db;
    let setup = Setup::new(db).await;
    let context = laptop();
    let step = setup
        .password(db, ("grace@northwind.test", PASSWORD), &context, None, now())
        .await
        .unwrap();
    let mine = session_of(db, &step, now()).await;
    accounts::secure_own_account(db, &mine, now()).await.unwrap();
    let refused = setup
        .password(db, ("grace@northwind.test", PASSWORD), &context, None, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "auth.password_change_required");
    assert!(
        accounts::list_sessions(db, &SessionPolicy::default(), setup.grace, now())
            .await
            .unwrap()
            .is_empty()
    );
    // The reset link goes out in the background.
    for _ in 0..100 {
        if !setup.mails().await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mails = setup.mails().await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("reset-password?token="), "{}", mails[0]);
}

/// A flood of guesses fills the hashing queue. What it cannot hash is refused before anything
/// is written: a refused guess must cost no database write (the writes run at normal priority,
/// beside the pages), and it is not counted against the address or the account either.
async fn a_full_hashing_queue_refuses_before_writing_anything(test_db: TestDb) {
    let db = &test_db.db;
    let mut setup = Setup::new(db).await;
    setup.hasher = setup
        .hasher
        .clone()
        .with_queue_limits(0, std::time::Duration::from_millis(10));
    let rows = || async {
        domain::testing::raw_strings(
            db,
            "SELECT CAST((SELECT count(*) FROM account_throttles) + (SELECT count(*) FROM throttle_events) AS TEXT)",
        )
        .await
        .remove(0)
    };
    let before = rows().await;
    let computations = setup.hasher.computations();
    for email in ["grace@northwind.test", "nobody@northwind.test"] {
        let refused = setup
            .password(db, (email, "a guess of the flood"), &laptop(), None, now())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "server.busy");
    }
    assert_eq!(rows().await, before);
    assert_eq!(setup.hasher.computations(), computations);
}

domain::on_both_backends!(
    wrong_passwords_and_unknown_addresses_fail_alike,
    repeated_failures_are_throttled_even_for_the_right_password,
    an_account_without_a_second_factor_is_sent_to_enrol,
    a_code_finishes_signing_in_and_may_remember_the_device,
    wrong_codes_are_throttled,
    a_secured_account_gets_a_reset_link_instead_of_a_session,
    a_full_hashing_queue_refuses_before_writing_anything,
);
