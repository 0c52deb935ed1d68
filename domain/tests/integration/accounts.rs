use chrono::{DateTime, Duration, Utc};
use domain::{
    access::{
        accounts::{self, SignupInput, SignupOutcome},
        auth::{
            passkey::RelyingParty,
            password::{HashCost, PasswordHasher, PasswordPolicy},
            session::{SecretToken, SessionPolicy},
        },
        factors::{self, FactorKind},
    },
    testing::TestDb,
};

const PASSWORD: &str = "quietly orbiting marmalade kettles";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn hasher() -> PasswordHasher {
    PasswordHasher::new(
        HashCost {
            memory_kib: 64,
            passes: 1,
            lanes: 1,
        },
        2,
    )
    .unwrap()
}

fn signup(email: &str) -> SignupInput {
    SignupInput {
        workplace_name: "Acme Ltd".into(),
        display_name: "Ada Lovelace".into(),
        email: email.into(),
        password: PASSWORD.into(),
    }
}

fn app_code(secret_base32: &str, at: DateTime<Utc>) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(u64::try_from(at.timestamp()).unwrap()).to_string()
}

/// Signs `email` up and returns the new account and its verification token.
async fn new_account(db: &domain::Database, email: &str) -> (uuid::Uuid, SecretToken) {
    match accounts::sign_up(db, &hasher(), &PasswordPolicy::default(), signup(email), now())
        .await
        .unwrap()
    {
        SignupOutcome::Created {
            user_id,
            verification_token,
            ..
        } => (user_id, verification_token),
        other => panic!("expected a new account, got {other:?}"),
    }
}

async fn signed_up_and_verified(test_db: &TestDb, email: &str) -> uuid::Uuid {
    let (_, verification_token) = new_account(&test_db.db, email).await;
    accounts::verify_email(&test_db.db, verification_token.expose(), now())
        .await
        .unwrap()
}

async fn signup_then_verify_then_password_sign_in(test_db: TestDb) {
    let db = &test_db.db;
    let (user_id, verification_token) = new_account(db, "Ada@Example.com").await;
    // Unverified addresses cannot sign in.
    assert_eq!(
        accounts::check_password(db, &hasher(), "ada@example.com", PASSWORD)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        accounts::verify_email(db, verification_token.expose(), now())
            .await
            .unwrap(),
        user_id
    );
    assert_eq!(
        accounts::check_password(db, &hasher(), " ADA@example.com", PASSWORD)
            .await
            .unwrap(),
        Some(user_id)
    );
    assert_eq!(
        accounts::check_password(db, &hasher(), "ada@example.com", "wrong password")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        accounts::check_password(db, &hasher(), "nobody@example.com", PASSWORD)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        accounts::check_password(db, &hasher(), "not an email", PASSWORD)
            .await
            .unwrap(),
        None
    );
}

async fn signing_up_twice_with_one_address_creates_nothing_new(test_db: TestDb) {
    let db = &test_db.db;
    let first = accounts::sign_up(
        db,
        &hasher(),
        &PasswordPolicy::default(),
        signup("ada@example.com"),
        now(),
    )
    .await
    .unwrap();
    let SignupOutcome::Created { user_id, .. } = first else {
        panic!("expected Created")
    };
    let second = accounts::sign_up(
        db,
        &hasher(),
        &PasswordPolicy::default(),
        signup("ADA@example.com "),
        now(),
    )
    .await
    .unwrap();
    assert!(matches!(second, SignupOutcome::AlreadyRegistered { user_id: existing } if existing == user_id));
}

async fn bad_signup_input_is_refused_and_leaves_nothing(test_db: TestDb) {
    let db = &test_db.db;
    let cases = [
        (
            SignupInput {
                workplace_name: "  ".into(),
                ..signup("ada@example.com")
            },
            "workplace name",
        ),
        (
            SignupInput {
                display_name: "x".repeat(201),
                ..signup("ada@example.com")
            },
            "your name",
        ),
        (
            SignupInput {
                email: "ada@example".into(),
                ..signup("ada@example.com")
            },
            "email",
        ),
        (
            SignupInput {
                password: "Password123!".into(),
                ..signup("ada@example.com")
            },
            "password",
        ),
        (
            SignupInput {
                password: "Ada Lovelace rides again".into(),
                ..signup("ada@example.com")
            },
            "password",
        ),
        (
            SignupInput {
                workplace_name: "Acme\u{0}Ltd".into(),
                ..signup("ada@example.com")
            },
            "workplace name",
        ),
    ];
    for (input, field) in cases {
        let err = accounts::sign_up(db, &hasher(), &PasswordPolicy::default(), input, now())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "input.invalid");
        assert!(
            err.public_message().starts_with(field),
            "{field}: {}",
            err.public_message()
        );
    }
    // Nothing was half-created: the address is still free.
    let outcome = accounts::sign_up(
        db,
        &hasher(),
        &PasswordPolicy::default(),
        signup("ada@example.com"),
        now(),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, SignupOutcome::Created { .. }));
}

async fn verification_links_work_once_and_expire(test_db: TestDb) {
    let db = &test_db.db;
    let (_, verification_token) = new_account(db, "ada@example.com").await;
    accounts::verify_email(db, verification_token.expose(), now())
        .await
        .unwrap();
    let reused = accounts::verify_email(db, verification_token.expose(), now())
        .await
        .unwrap_err();
    assert_eq!(reused.code(), "input.invalid");

    let (_, verification_token) = new_account(db, "grace@example.com").await;
    let late = now() + accounts::VERIFICATION_LINK_LIFETIME;
    assert_eq!(
        accounts::verify_email(db, verification_token.expose(), late)
            .await
            .unwrap_err()
            .code(),
        "input.invalid"
    );
    for garbage in ["", "short", "../../etc/passwd", &"A".repeat(43)] {
        assert_eq!(
            accounts::verify_email(db, garbage, now())
                .await
                .unwrap_err()
                .code(),
            "input.invalid"
        );
    }
}

async fn sessions_rotate_on_second_factor_and_expire(test_db: TestDb) {
    let db = &test_db.db;
    let policy = SessionPolicy::default();
    let user_id = signed_up_and_verified(&test_db, "ada@example.com").await;
    let token = accounts::start_session(db, user_id, &Default::default(), now())
        .await
        .unwrap();
    let info = accounts::resolve_session(db, &policy, token.expose(), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.user_id, info.second_factor), (user_id, false));

    let upgraded = accounts::complete_second_factor(db, info.session_id, now())
        .await
        .unwrap();
    assert_ne!(upgraded, token);
    assert_eq!(
        accounts::resolve_session(db, &policy, token.expose(), now())
            .await
            .unwrap(),
        None,
        "old token is dead"
    );
    let info = accounts::resolve_session(db, &policy, upgraded.expose(), now() + Duration::minutes(20))
        .await
        .unwrap()
        .unwrap();
    assert!(info.second_factor);
    // Used again within the minute, the session is not written again: still seen at 20.
    accounts::resolve_session(
        db,
        &policy,
        upgraded.expose(),
        now() + Duration::seconds(20 * 60 + 59),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        domain::testing::session_last_seen(db, info.session_id).await,
        now() + Duration::minutes(20)
    );
    accounts::resolve_session(db, &policy, upgraded.expose(), now() + Duration::minutes(21))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        domain::testing::session_last_seen(db, info.session_id).await,
        now() + Duration::minutes(21)
    );
    // Used 21 minutes in, so still alive at 45; idle past 30 minutes after that, it ends.
    assert!(
        accounts::resolve_session(db, &policy, upgraded.expose(), now() + Duration::minutes(45))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        accounts::resolve_session(db, &policy, upgraded.expose(), now() + Duration::minutes(80))
            .await
            .unwrap(),
        None
    );

    let other = accounts::start_session(db, user_id, &Default::default(), now())
        .await
        .unwrap();
    let info = accounts::resolve_session(db, &policy, other.expose(), now())
        .await
        .unwrap()
        .unwrap();
    accounts::end_session(db, info.session_id, now()).await.unwrap();
    assert_eq!(
        accounts::resolve_session(db, &policy, other.expose(), now())
            .await
            .unwrap(),
        None,
        "signed out"
    );
}

async fn totp_enrolment_recovery_codes_and_replay_guard(test_db: TestDb) {
    let db = &test_db.db;
    let user_id = signed_up_and_verified(&test_db, "ada@example.com").await;
    assert!(!factors::has_second_factor(db, user_id).await.unwrap());
    let enrolment = factors::begin_totp_enrolment(db, user_id, now()).await.unwrap();
    assert!(enrolment.otpauth_url.contains("ada%40example.com"));
    let wrong = factors::confirm_totp_enrolment(db, user_id, "000000", "", now()).await;
    if app_code(&enrolment.secret_base32, now()) != "000000" {
        assert_eq!(wrong.unwrap_err().code(), "input.invalid");
    }
    let code = app_code(&enrolment.secret_base32, now());
    let recovery_codes = factors::confirm_totp_enrolment(db, user_id, &code, "", now())
        .await
        .unwrap()
        .expect("the first factor comes with recovery codes");
    assert_eq!(recovery_codes.len(), 10);
    assert!(factors::has_second_factor(db, user_id).await.unwrap());

    // The code used to confirm cannot sign in again; the next step's code can, once.
    assert!(
        !factors::check_totp(db, user_id, &code, now() + Duration::seconds(5))
            .await
            .unwrap()
    );
    let later = now() + Duration::seconds(30);
    let next = app_code(&enrolment.secret_base32, later);
    assert!(factors::check_totp(db, user_id, &next, later).await.unwrap());
    assert!(
        !factors::check_totp(db, user_id, &next, later).await.unwrap(),
        "replay"
    );

    assert!(
        factors::use_recovery_code(db, user_id, &recovery_codes[0].to_uppercase(), later)
            .await
            .unwrap()
    );
    assert!(
        !factors::use_recovery_code(db, user_id, &recovery_codes[0], later)
            .await
            .unwrap(),
        "single use"
    );
    assert!(!factors::use_recovery_code(db, user_id, "nope", later)
        .await
        .unwrap());
    // Another account cannot use Ada's codes.
    let grace = signed_up_and_verified(&test_db, "grace@example.com").await;
    assert!(!factors::use_recovery_code(db, grace, &recovery_codes[1], later)
        .await
        .unwrap());
}

async fn people_see_and_end_only_their_own_sessions(test_db: TestDb) {
    let db = &test_db.db;
    let policy = SessionPolicy::default();
    let ada = signed_up_and_verified(&test_db, "ada@example.com").await;
    let grace = signed_up_and_verified(&test_db, "grace@example.com").await;
    let laptop = domain::access::auth::context::SignInContext {
        network_prefix: "203.0.113.0/24".into(),
        device: "Firefox on Linux".into(),
    };
    let phone = domain::access::auth::context::SignInContext {
        network_prefix: "198.51.100.0/24".into(),
        device: "Safari on iOS".into(),
    };
    let laptop_token = accounts::start_session(db, ada, &laptop, now()).await.unwrap();
    let phone_token = accounts::start_session(db, ada, &phone, now() + Duration::minutes(1))
        .await
        .unwrap();
    let grace_token = accounts::start_session(db, grace, &laptop, now()).await.unwrap();
    let sessions = accounts::list_sessions(db, &policy, ada, now() + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(
        sessions.iter().map(|s| s.device.as_str()).collect::<Vec<_>>(),
        ["Safari on iOS", "Firefox on Linux"]
    );
    assert_eq!(sessions[1].network_prefix, "203.0.113.0/24");

    let grace_session = accounts::resolve_session(db, &policy, grace_token.expose(), now())
        .await
        .unwrap()
        .unwrap();
    let err = accounts::end_own_session(db, ada, grace_session.session_id, now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "resource.not_found", "Ada cannot end Grace's session");
    assert!(
        accounts::resolve_session(db, &policy, grace_token.expose(), now())
            .await
            .unwrap()
            .is_some()
    );

    let laptop_session = accounts::resolve_session(db, &policy, laptop_token.expose(), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        accounts::end_other_sessions(db, ada, laptop_session.session_id, now())
            .await
            .unwrap(),
        1
    );
    assert!(
        accounts::resolve_session(db, &policy, phone_token.expose(), now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        accounts::resolve_session(db, &policy, laptop_token.expose(), now())
            .await
            .unwrap()
            .is_some()
    );
}

async fn sign_ins_from_new_contexts_are_noticed(test_db: TestDb) {
    let db = &test_db.db;
    let ada = signed_up_and_verified(&test_db, "ada@example.com").await;
    let office = domain::access::auth::context::SignInContext {
        network_prefix: "203.0.113.0/24".into(),
        device: "Firefox on Linux".into(),
    };
    let abroad = domain::access::auth::context::SignInContext {
        network_prefix: "198.51.100.0/24".into(),
        device: "Firefox on Linux".into(),
    };
    let policy = SessionPolicy::default();
    let sign_in = |context: domain::access::auth::context::SignInContext| async move {
        let token = accounts::start_session(db, ada, &context, now()).await.unwrap();
        let session = accounts::resolve_session(db, &policy, token.expose(), now())
            .await
            .unwrap()
            .unwrap();
        accounts::complete_second_factor(db, session.session_id, now())
            .await
            .unwrap();
        accounts::new_sign_in_context(db, session.session_id)
            .await
            .unwrap()
    };
    assert_eq!(
        sign_in(office.clone()).await,
        None,
        "the first sign-in is not news"
    );
    assert_eq!(sign_in(office.clone()).await, None, "a known context");
    let news = sign_in(abroad).await.expect("a new network is noticed");
    assert_eq!(
        (news.email.as_str(), news.network_prefix.as_str()),
        ("ada@example.com", "198.51.100.0/24")
    );
}

async fn password_reset_links_replace_the_password_and_end_sessions(test_db: TestDb) {
    let db = &test_db.db;
    let policy = PasswordPolicy::default();
    let ada = signed_up_and_verified(&test_db, "ada@example.com").await;
    let session = accounts::start_session(db, ada, &Default::default(), now())
        .await
        .unwrap();
    assert_eq!(
        accounts::request_password_reset(db, "nobody@example.com", now())
            .await
            .unwrap()
            .map(|r| r.0),
        None
    );
    let (email, token) = accounts::request_password_reset(db, " ADA@example.com", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(email, "ada@example.com");

    let weak = accounts::reset_password(db, &hasher(), &policy, token.expose(), "Password123!", now()).await;
    assert_eq!(weak.unwrap_err().code(), "input.invalid");
    let new_password = "lantern harbour gravel symphony";
    let late = now() + accounts::RESET_LINK_LIFETIME;
    let expired = accounts::reset_password(db, &hasher(), &policy, token.expose(), new_password, late).await;
    assert_eq!(expired.unwrap_err().code(), "input.invalid");

    assert_eq!(
        accounts::reset_password(db, &hasher(), &policy, token.expose(), new_password, now())
            .await
            .unwrap(),
        ada
    );
    let reused = accounts::reset_password(db, &hasher(), &policy, token.expose(), new_password, now()).await;
    assert_eq!(reused.unwrap_err().code(), "input.invalid", "single use");
    assert_eq!(
        accounts::check_password(db, &hasher(), "ada@example.com", PASSWORD)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        accounts::check_password(db, &hasher(), "ada@example.com", new_password)
            .await
            .unwrap(),
        Some(ada)
    );
    assert!(
        accounts::resolve_session(db, &SessionPolicy::default(), session.expose(), now())
            .await
            .unwrap()
            .is_none(),
        "every session ended"
    );
}

async fn factors_are_added_and_removed_but_never_the_last(test_db: TestDb) {
    let db = &test_db.db;
    let ada = signed_up_and_verified(&test_db, "ada@example.com").await;
    let phone = factors::begin_totp_enrolment(db, ada, now()).await.unwrap();
    let codes = factors::confirm_totp_enrolment(db, ada, &app_code(&phone.secret_base32, now()), "", now())
        .await
        .unwrap();
    assert_eq!(codes.map(|c| c.len()), Some(10));
    let only = factors::list_factors(db, ada).await.unwrap();
    assert_eq!(only.recovery_codes_left, 10);
    assert_eq!(only.factors.len(), 1);
    assert_eq!(only.factors[0].kind, FactorKind::AuthenticatorApp);
    assert_eq!(only.factors[0].name, "Authenticator app");
    let (ada_here, _) = live_session(db, ada).await;
    let refused = factors::remove_factor(db, &ada_here, only.factors[0].id, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "resource.conflict");

    // A second app: named, no new recovery codes (the first set stays valid).
    let later = now() + Duration::minutes(1);
    let tablet = factors::begin_totp_enrolment(db, ada, later).await.unwrap();
    let named = "x".repeat(61);
    let too_long =
        factors::confirm_totp_enrolment(db, ada, &app_code(&tablet.secret_base32, later), &named, later)
            .await
            .unwrap_err();
    assert_eq!(too_long.code(), "input.invalid");
    let codes = factors::confirm_totp_enrolment(
        db,
        ada,
        &app_code(&tablet.secret_base32, later),
        " Tablet ",
        later,
    )
    .await
    .unwrap();
    assert_eq!(codes, None);
    let both = factors::list_factors(db, ada).await.unwrap();
    assert_eq!(
        both.factors.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["Authenticator app", "Tablet"]
    );

    // Grace cannot remove Ada's factor; Ada can remove one, then not the other.
    let grace = signed_up_and_verified(&test_db, "grace@example.com").await;
    let (grace_here, _) = live_session(db, grace).await;
    assert_eq!(
        factors::remove_factor(db, &grace_here, both.factors[0].id, now())
            .await
            .unwrap_err()
            .code(),
        "resource.not_found"
    );
    factors::remove_factor(db, &ada_here, both.factors[0].id, now())
        .await
        .unwrap();
    let left = factors::list_factors(db, ada).await.unwrap();
    assert_eq!(left.factors.len(), 1);
    assert_eq!(
        factors::remove_factor(db, &ada_here, left.factors[0].id, now())
            .await
            .unwrap_err()
            .code(),
        "resource.conflict"
    );
    // Codes from the removed app no longer sign in; the remaining one does.
    let at = later + Duration::minutes(2);
    assert!(
        !factors::check_totp(db, ada, &app_code(&phone.secret_base32, at), at)
            .await
            .unwrap()
    );
    assert!(
        factors::check_totp(db, ada, &app_code(&tablet.secret_base32, at), at)
            .await
            .unwrap()
    );

    let fresh = factors::regenerate_recovery_codes(db, ada).await.unwrap();
    assert_eq!(fresh.len(), 10);
    assert_eq!(
        factors::list_factors(db, ada).await.unwrap().recovery_codes_left,
        10
    );
}

async fn passkey_ceremonies_are_single_use_bound_and_short_lived(test_db: TestDb) {
    let db = &test_db.db;
    let rp = RelyingParty::new(&url::Url::parse("https://candor.example").unwrap());
    let ada = signed_up_and_verified(&test_db, "ada@example.com").await;
    let context = domain::access::auth::context::SignInContext::default();
    accounts::start_session(db, ada, &context, now()).await.unwrap();
    let session = uuid::Uuid::new_v4();
    let other_session = uuid::Uuid::new_v4();

    let ceremony = factors::begin_passkey_enrolment(db, &rp, ada, session, now())
        .await
        .unwrap();
    let options: serde_json::Value = serde_json::from_str(&ceremony.options_json).unwrap();
    assert_eq!(options["rp"]["id"], "candor.example");
    assert_eq!(options["user"]["name"], "ada@example.com");
    // Another session cannot finish it.
    let err = factors::finish_passkey_enrolment(db, &rp, ada, other_session, ceremony.id, "{}", "", now())
        .await
        .unwrap_err();
    assert!(
        err.public_message().contains("expired or was already used"),
        "{err:?}"
    );
    // A tampered response is refused, and uses the ceremony up.
    let err = factors::finish_passkey_enrolment(db, &rp, ada, session, ceremony.id, "{}", "", now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "input.invalid");
    assert!(err.public_message().contains("could not be verified"), "{err:?}");
    let again = factors::finish_passkey_enrolment(db, &rp, ada, session, ceremony.id, "{}", "", now())
        .await
        .unwrap_err();
    assert!(again.public_message().contains("expired or was already used"));
    // Expired after five minutes.
    let ceremony = factors::begin_passkey_enrolment(db, &rp, ada, session, now())
        .await
        .unwrap();
    let late = now() + factors::CEREMONY_LIFETIME + Duration::seconds(1);
    let err = factors::finish_passkey_enrolment(db, &rp, ada, session, ceremony.id, "{}", "", late)
        .await
        .unwrap_err();
    assert!(err.public_message().contains("expired"));
    assert!(!factors::has_second_factor(db, ada).await.unwrap());

    // No passkey yet: a passkey check says so; a discoverable sign-in with junk is refused.
    let err = factors::begin_passkey_check(db, &rp, ada, session, now())
        .await
        .unwrap_err();
    assert!(err.public_message().contains("no passkey"));
    let sign_in = factors::begin_passkey_sign_in(db, &rp, now()).await.unwrap();
    let err = factors::finish_passkey_sign_in(db, &rp, sign_in.id, "not json", now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "input.invalid");
    // An IP-address public URL cannot offer passkeys at all, with a clear message.
    let by_ip = RelyingParty::new(&url::Url::parse("http://127.0.0.1:3000").unwrap());
    let err = factors::begin_passkey_sign_in(db, &by_ip, now())
        .await
        .unwrap_err();
    assert!(err.public_message().contains("domain name"));
}

/// A signed-in session of `user` (both factors given now) and its token.
async fn live_session(db: &domain::Database, user: uuid::Uuid) -> (accounts::SessionInfo, SecretToken) {
    let token = accounts::start_session(db, user, &Default::default(), now())
        .await
        .unwrap();
    let info = accounts::resolve_session(db, &SessionPolicy::default(), token.expose(), now())
        .await
        .unwrap()
        .unwrap();
    let token = accounts::complete_second_factor(db, info.session_id, now())
        .await
        .unwrap();
    let info = accounts::resolve_session(db, &SessionPolicy::default(), token.expose(), now())
        .await
        .unwrap()
        .unwrap();
    (info, token)
}

async fn alive(db: &domain::Database, token: &SecretToken) -> bool {
    accounts::resolve_session(db, &SessionPolicy::default(), token.expose(), now())
        .await
        .unwrap()
        .is_some()
}

/// Whoever knew the old password, or held a removed factor, is signed out: changing the
/// password or removing a factor ends every other session of the account (not someone
/// else's), and keeps the one that made the change.
async fn credential_changes_end_every_other_session(test_db: TestDb) {
    let db = &test_db.db;
    let ada = signed_up_and_verified(&test_db, "ada@example.com").await;
    let grace = signed_up_and_verified(&test_db, "grace@example.com").await;
    let (here, here_token) = live_session(db, ada).await;
    let (_, laptop) = live_session(db, ada).await;
    let (_, half_signed_in) = {
        let token = accounts::start_session(db, ada, &Default::default(), now())
            .await
            .unwrap();
        ((), token)
    };
    let (_, grace_token) = live_session(db, grace).await;
    let ended = accounts::change_password(
        db,
        &hasher(),
        &PasswordPolicy::default(),
        &here,
        PASSWORD,
        "lantern harbour gravel symphony",
        now(),
    )
    .await
    .unwrap();
    assert_eq!(ended, 2);
    assert!(alive(db, &here_token).await, "the session that changed it stays");
    assert!(!alive(db, &laptop).await, "another signed-in session ended");
    assert!(
        !alive(db, &half_signed_in).await,
        "a session waiting for its code ended"
    );
    assert!(alive(db, &grace_token).await, "another account is untouched");

    // Two authenticator apps; removing one ends the sessions started since.
    let phone = factors::begin_totp_enrolment(db, ada, now()).await.unwrap();
    factors::confirm_totp_enrolment(db, ada, &app_code(&phone.secret_base32, now()), "", now())
        .await
        .unwrap();
    let later = now() + Duration::minutes(1);
    let tablet = factors::begin_totp_enrolment(db, ada, later).await.unwrap();
    factors::confirm_totp_enrolment(db, ada, &app_code(&tablet.secret_base32, later), "Tablet", later)
        .await
        .unwrap();
    let (_, stolen_phone) = live_session(db, ada).await;
    let listed = factors::list_factors(db, ada).await.unwrap();
    let ended = factors::remove_factor(db, &here, listed.factors[0].id, now())
        .await
        .unwrap();
    assert_eq!(ended, 1);
    assert!(!alive(db, &stolen_phone).await);
    assert!(alive(db, &here_token).await);
}

/// A remembered device stands in for the second factor at sign-in only: the session is signed
/// in, but a credential change still needs a factor given in person.
async fn a_remembered_device_is_not_a_recent_factor(test_db: TestDb) {
    let db = &test_db.db;
    let policy = SessionPolicy::default();
    let ada = signed_up_and_verified(&test_db, "ada@example.com").await;
    let token = accounts::start_session(db, ada, &Default::default(), now())
        .await
        .unwrap();
    let info = accounts::resolve_session(db, &policy, token.expose(), now())
        .await
        .unwrap()
        .unwrap();
    let token = accounts::complete_with_remembered_device(db, info.session_id, now())
        .await
        .unwrap();
    let info = accounts::resolve_session(db, &policy, token.expose(), now())
        .await
        .unwrap()
        .unwrap();
    assert!(info.second_factor, "signed in");
    assert!(!info.recently_confirmed(now()), "but not confirmed for changes");
    let token = accounts::complete_second_factor(db, info.session_id, now())
        .await
        .unwrap();
    let info = accounts::resolve_session(db, &policy, token.expose(), now())
        .await
        .unwrap()
        .unwrap();
    assert!(info.recently_confirmed(now()), "a code given in person confirms");
}

/// Rows of ended sessions (each with its sealed sign-in place) do not pile up: 90 days after a
/// session ended — signed out, or left idle or past its lifetime — its row is deleted.
async fn ended_sessions_are_purged_after_ninety_days(test_db: TestDb) {
    let db = &test_db.db;
    let policy = SessionPolicy::default();
    let ada = signed_up_and_verified(&test_db, "ada@example.com").await;
    let start = |at: DateTime<Utc>| async move {
        let token = accounts::start_session(db, ada, &Default::default(), at)
            .await
            .unwrap();
        let info = accounts::resolve_session(db, &policy, token.expose(), at)
            .await
            .unwrap()
            .unwrap();
        (token, info.session_id)
    };
    let (_, long_ago) = start(now() - Duration::days(120)).await;
    accounts::end_session(db, long_ago, now() - Duration::days(91))
        .await
        .unwrap();
    let (_, recently) = start(now() - Duration::days(20)).await;
    accounts::end_session(db, recently, now() - Duration::days(10))
        .await
        .unwrap();
    // Never signed out: it simply stopped being used 200 days ago.
    let (_, abandoned) = start(now() - Duration::days(200)).await;
    let (live, _) = start(now()).await;
    let count = || async {
        domain::testing::raw_strings(db, "SELECT CAST(COUNT(*) AS TEXT) FROM sessions")
            .await
            .remove(0)
    };
    assert_eq!(count().await, "4");
    let purged = accounts::purge_ended_sessions(db, &policy, now()).await.unwrap();
    assert_eq!(purged, 2, "the one ended 91 days ago and the abandoned one");
    assert_eq!(count().await, "2");
    assert!(alive(db, &live).await);
    let _ = abandoned;
}

/// "This account may be compromised": said by an HR admin about someone they manage, or by the
/// person themself, every session ends, remembered devices are forgotten, and no sign-in goes
/// through until a new password (not the old one) is chosen with an emailed reset link, so a
/// stolen password, factor or device alone gets nowhere; with the factor reset, the factors go
/// too. Nobody secures an account they could not otherwise change.
async fn a_possibly_compromised_account_is_secured_until_a_new_password_is_chosen(test_db: TestDb) {
    use domain::{
        organisation::people::{self, NewPerson},
        platform::policy::{Role, RoleKey},
    };
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let invite = |name: &str, email: &str, role: Role| NewPerson {
        name: name.into(),
        email: email.into(),
        department: None,
        role: RoleKey::BuiltIn(role),
        start_date: None,
    };
    let hana = domain::testing::active_person(
        db,
        &tenant,
        invite("Hana Admin", "hana@northwind.test", Role::HrAdmin),
        now(),
    )
    .await;
    let eve = domain::testing::active_person(
        db,
        &tenant,
        invite("Eve Employee", "eve@northwind.test", Role::Employee),
        now(),
    )
    .await;
    let old_password = "lantern harbour gravel symphony";
    let eve_id = eve.user_id.uuid();
    let phone = factors::begin_totp_enrolment(db, eve_id, now()).await.unwrap();
    factors::confirm_totp_enrolment(db, eve_id, &app_code(&phone.secret_base32, now()), "", now())
        .await
        .unwrap();
    let (_, laptop) = live_session(db, eve_id).await;
    let (_, tablet) = live_session(db, eve_id).await;
    let device = domain::access::trusted_devices::remember(db, eve_id, &Default::default(), 30, now())
        .await
        .unwrap();

    // Nobody secures an account they could not otherwise change.
    let hana_tenant = domain::platform::tenant::TenantDb::for_identity(db, &hana);
    let eve_tenant = domain::platform::tenant::TenantDb::for_identity(db, &eve);
    let refused = people::secure_account(&eve_tenant.as_person(&eve), owner.user_id, false, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");
    let refused = people::secure_account(&hana_tenant.as_person(&hana), owner.user_id, false, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");
    let own = people::secure_account(&hana_tenant.as_person(&hana), hana.user_id, false, now())
        .await
        .unwrap_err();
    assert_eq!(own.code(), "input.invalid");
    assert!(alive(db, &laptop).await, "a refusal changes nothing");

    // Whoever has her password asked for a reset link beforehand.
    let (_, earlier_link) = accounts::request_password_reset(db, "eve@northwind.test", now())
        .await
        .unwrap()
        .unwrap();

    // The HR admin secures Eve's account: every session ends and her device is forgotten.
    let ended = people::secure_account(&hana_tenant.as_person(&hana), eve.user_id, false, now())
        .await
        .unwrap();
    assert_eq!(ended, 2);
    // The earlier link is dead, and nothing starts a session now.
    let dead = accounts::reset_password(
        db,
        &hasher(),
        &PasswordPolicy::default(),
        earlier_link.expose(),
        "attacker chosen long phrase",
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(dead.code(), "input.invalid");
    let no_session = accounts::start_session(db, eve_id, &Default::default(), now())
        .await
        .unwrap_err();
    assert_eq!(no_session.code(), "auth.password_change_required");
    assert!(!alive(db, &laptop).await && !alive(db, &tablet).await);
    assert!(!domain::access::trusted_devices::may_skip_second_factor(
        db,
        eve_id,
        Some(device.expose()),
        &Default::default(),
        now()
    )
    .await
    .unwrap());
    assert!(
        factors::has_second_factor(db, eve_id).await.unwrap(),
        "her factors stay unless asked"
    );

    // Her password still proves itself, but no sign-in goes further until she has chosen a new
    // one through the emailed link: not the old one, and then only the new one works.
    assert!(
        accounts::check_password(db, &hasher(), "eve@northwind.test", old_password)
            .await
            .unwrap()
            .is_some()
    );
    let refused = accounts::refuse_if_secured(db, eve_id).await.unwrap_err();
    assert_eq!(
        (refused.code(), refused.status()),
        ("auth.password_change_required", 403)
    );
    let (_, link) = accounts::request_password_reset(db, "eve@northwind.test", now())
        .await
        .unwrap()
        .unwrap();
    let fresh = "fresh tidal compass meadow";
    let same = accounts::reset_password(
        db,
        &hasher(),
        &PasswordPolicy::default(),
        link.expose(),
        old_password,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(same.code(), "input.invalid");
    accounts::reset_password(
        db,
        &hasher(),
        &PasswordPolicy::default(),
        link.expose(),
        fresh,
        now(),
    )
    .await
    .unwrap();
    accounts::refuse_if_secured(db, eve_id).await.unwrap();
    assert!(
        accounts::check_password(db, &hasher(), "eve@northwind.test", old_password)
            .await
            .unwrap()
            .is_none()
    );
    let (_, token) = live_session(db, eve_id).await;

    // With the factor reset, her factors go too: she sets up a new one after the new password.
    let ended = people::secure_account(&hana_tenant.as_person(&hana), eve.user_id, true, now())
        .await
        .unwrap();
    assert_eq!(ended, 1, "the session she signed in with");
    assert!(!factors::has_second_factor(db, eve_id).await.unwrap());
    assert!(!alive(db, &token).await);
    assert_eq!(
        accounts::refuse_if_secured(db, eve_id).await.unwrap_err().code(),
        "auth.password_change_required"
    );

    // Hana about her own account: her own session ends with the rest.
    let (mine, mine_token) = live_session(db, hana.user_id.uuid()).await;
    let (_, elsewhere) = live_session(db, hana.user_id.uuid()).await;
    assert_eq!(accounts::secure_own_account(db, &mine, now()).await.unwrap(), 2);
    assert!(!alive(db, &mine_token).await && !alive(db, &elsewhere).await);
    assert!(accounts::refuse_if_secured(db, hana.user_id.uuid())
        .await
        .is_err());

    // An invitation not yet accepted has no password to replace.
    let invited = people::invite(
        &tenant,
        invite("Ivo Invited", "ivo@northwind.test", Role::Employee),
        now(),
    )
    .await
    .unwrap();
    let conflict = people::secure_account(&tenant.as_person(&owner), invited.person, false, now())
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), "resource.conflict");
}

domain::on_both_backends!(
    a_possibly_compromised_account_is_secured_until_a_new_password_is_chosen,
    factors_are_added_and_removed_but_never_the_last,
    credential_changes_end_every_other_session,
    a_remembered_device_is_not_a_recent_factor,
    ended_sessions_are_purged_after_ninety_days,
    passkey_ceremonies_are_single_use_bound_and_short_lived,
    password_reset_links_replace_the_password_and_end_sessions,
    sign_ins_from_new_contexts_are_noticed,
    people_see_and_end_only_their_own_sessions,
    signup_then_verify_then_password_sign_in,
    signing_up_twice_with_one_address_creates_nothing_new,
    bad_signup_input_is_refused_and_leaves_nothing,
    verification_links_work_once_and_expire,
    sessions_rotate_on_second_factor_and_expire,
    totp_enrolment_recovery_codes_and_replay_guard,
);
