use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use domain::{access::sign_in_guard::SignInGuard, testing::TestDb};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn address(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Ten failed sign-ins ten seconds apart, attempt `i` from `from(i)`, each for another account
/// (so only the address rule can trigger), each admitted before it fails.
async fn ten_failures(db: &domain::Database, guard: &SignInGuard, from: impl Fn(i64) -> IpAddr) {
    for i in 0..10 {
        let at = now() + Duration::seconds(i * 10);
        let email = format!("user{i}@example.com");
        // Admitted, then wrong: the admission stays counted.
        let _wrong = guard
            .admit_password_attempt(db, from(i), &email, at)
            .await
            .unwrap();
    }
}

async fn an_address_with_ten_failures_is_blocked_for_fifteen_minutes(test_db: TestDb) {
    let (db, guard) = (&test_db.db, SignInGuard::default());
    let attacker = address("203.0.113.7");
    ten_failures(db, &guard, |_| attacker).await;
    let last = now() + Duration::seconds(90);
    let err = guard
        .check_password_attempt(db, attacker, "someone@example.com", last)
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("request.rate_limited", 429));
    assert_eq!(err.retry_after_secs(), Some(900));
    assert!(
        err.public_message().contains("15 minutes"),
        "{}",
        err.public_message()
    );
    // Other addresses are unaffected; the block ends on time.
    guard
        .check_password_attempt(db, address("198.51.100.1"), "someone@example.com", last)
        .await
        .unwrap();
    guard
        .check_password_attempt(db, attacker, "someone@example.com", last + Duration::minutes(15))
        .await
        .unwrap();
}

async fn an_account_gets_growing_delays_that_a_success_clears(test_db: TestDb) {
    let (db, guard) = (&test_db.db, SignInGuard::default());
    let email = "ada@example.com";
    for i in 0..3 {
        // From different addresses: only the account rule applies.
        let from = address(&format!("192.0.2.{}", i + 1));
        let _wrong = guard
            .admit_password_attempt(db, from, email, now())
            .await
            .unwrap();
    }
    let _wrong = guard
        .admit_password_attempt(db, address("192.0.2.50"), "ADA@example.com ", now())
        .await
        .unwrap();
    let err = guard
        .check_password_attempt(db, address("192.0.2.51"), email, now())
        .await
        .unwrap_err();
    assert_eq!(err.retry_after_secs(), Some(30));
    let right = guard
        .admit_password_attempt(db, address("192.0.2.51"), email, now() + Duration::seconds(30))
        .await
        .unwrap();
    guard.attempt_succeeded(db, right).await.unwrap();
    guard
        .check_password_attempt(db, address("192.0.2.51"), email, now() + Duration::seconds(31))
        .await
        .unwrap();
}

async fn second_factor_codes_have_their_own_tight_limit(test_db: TestDb) {
    let (db, guard) = (&test_db.db, SignInGuard::default());
    let user = uuid::Uuid::new_v4();
    // A right code gives its admission back: it never counts.
    let right = guard.admit_code_attempt(db, user, now()).await.unwrap();
    guard.attempt_succeeded(db, right).await.unwrap();
    for i in 0..5 {
        // Wrong: each admission stays counted.
        let _wrong = guard
            .admit_code_attempt(db, user, now() + Duration::seconds(i))
            .await
            .unwrap();
    }
    let err = guard
        .admit_code_attempt(db, user, now() + Duration::seconds(5))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "request.rate_limited");
    let _other = guard
        .admit_code_attempt(db, uuid::Uuid::new_v4(), now())
        .await
        .unwrap();
    let _later = guard
        .admit_code_attempt(db, user, now() + Duration::minutes(10))
        .await
        .unwrap();
}

/// An attempt that could not be judged (the password check was busy) is given back: however
/// many there are, neither the account nor the address is held up by them.
async fn attempts_that_could_not_be_judged_are_given_back(test_db: TestDb) {
    let (db, guard) = (&test_db.db, SignInGuard::default());
    let from = address("203.0.113.9");
    for i in 0..15 {
        let admitted = guard
            .admit_password_attempt(db, from, "ada@example.com", now() + Duration::seconds(i))
            .await
            .unwrap();
        guard.attempt_abandoned(db, admitted).await.unwrap();
    }
    let _judged = guard
        .admit_password_attempt(db, from, "ada@example.com", now() + Duration::seconds(16))
        .await
        .unwrap();
}

/// Attempts that arrive together cannot all pass the check before any is counted: forty
/// password guesses for one account at the same moment (each from its own address, so only
/// the account rule applies) let through exactly as many as one after another would — three
/// free failures and the fourth before the first delay — and twenty simultaneous codes exactly
/// the five the code limit allows.
async fn simultaneous_attempts_are_counted_before_they_are_judged(test_db: TestDb) {
    let (db, guard) = (&test_db.db, SignInGuard::default());
    let guesses = (0..40).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            guard
                .admit_password_attempt(
                    &db,
                    address(&format!("198.51.100.{}", i + 1)),
                    "ada@example.com",
                    now(),
                )
                .await
        })
    });
    let mut admitted = 0;
    for guess in guesses.collect::<Vec<_>>() {
        match guess.await.unwrap() {
            Ok(_counted) => admitted += 1,
            Err(err) => assert_eq!(err.code(), "request.rate_limited"),
        }
    }
    assert_eq!(admitted, 4);
    let user = uuid::Uuid::new_v4();
    let codes = (0..20).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { guard.admit_code_attempt(&db, user, now()).await })
    });
    let mut admitted = 0;
    for code in codes.collect::<Vec<_>>() {
        if code.await.unwrap().is_ok() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 5);
}

async fn one_address_cannot_make_candor_flood_inboxes(test_db: TestDb) {
    let (db, guard) = (&test_db.db, SignInGuard::default());
    let sender = address("203.0.113.9");
    for i in 0..10 {
        guard
            .admit_mail_request(db, sender, now() + Duration::minutes(i))
            .await
            .unwrap();
    }
    let err = guard
        .admit_mail_request(db, sender, now() + Duration::minutes(10))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "request.rate_limited");
    guard
        .admit_mail_request(db, address("203.0.113.10"), now())
        .await
        .unwrap();
    guard
        .admit_mail_request(db, sender, now() + Duration::hours(2))
        .await
        .unwrap();
}

async fn one_account_cannot_flood_the_support_inbox(test_db: TestDb) {
    let (db, guard) = (&test_db.db, SignInGuard::default());
    let asker = uuid::Uuid::new_v4();
    for i in 0..5 {
        guard
            .admit_help_question(db, asker, now() + Duration::minutes(i))
            .await
            .unwrap();
    }
    let err = guard
        .admit_help_question(db, asker, now() + Duration::minutes(5))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "request.rate_limited");
    guard
        .admit_help_question(db, uuid::Uuid::new_v4(), now())
        .await
        .unwrap();
    guard
        .admit_help_question(db, asker, now() + Duration::hours(2))
        .await
        .unwrap();
}

/// An IPv6 customer holds a whole /64 and can take a new address for every attempt: the address
/// rule counts the /64, so rotating inside it is blocked like one address; the next /64 is not.
async fn rotating_ipv6_addresses_inside_one_network_is_blocked(test_db: TestDb) {
    let (db, guard) = (&test_db.db, SignInGuard::default());
    ten_failures(db, &guard, |i| {
        address(&format!("2001:db8:7:1:{:x}::{:x}", i + 1, i * 7 + 3))
    })
    .await;
    let last = now() + Duration::seconds(90);
    let err = guard
        .check_password_attempt(db, address("2001:db8:7:1:ffff::1"), "someone@example.com", last)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "request.rate_limited");
    guard
        .check_password_attempt(db, address("2001:db8:7:2::1"), "someone@example.com", last)
        .await
        .unwrap();
    // An IPv4 client seen through an IPv6 socket is the same IPv4 address.
    for i in 0..10 {
        let at = now() + Duration::seconds(i * 10);
        let email = format!("other{i}@example.com");
        let _wrong = guard
            .admit_password_attempt(db, address("198.51.100.77"), &email, at)
            .await
            .unwrap();
    }
    let mapped = guard
        .check_password_attempt(db, address("::ffff:198.51.100.77"), "someone@example.com", last)
        .await
        .unwrap_err();
    assert_eq!(mapped.code(), "request.rate_limited");
}

domain::on_both_backends!(
    one_account_cannot_flood_the_support_inbox,
    one_address_cannot_make_candor_flood_inboxes,
    an_address_with_ten_failures_is_blocked_for_fifteen_minutes,
    an_account_gets_growing_delays_that_a_success_clears,
    second_factor_codes_have_their_own_tight_limit,
    simultaneous_attempts_are_counted_before_they_are_judged,
    attempts_that_could_not_be_judged_are_given_back,
    rotating_ipv6_addresses_inside_one_network_is_blocked,
);
