//! The keyring against a real database: the master key is checked at start, each workplace
//! gets its own data key (stored wrapped), and sealed values are bound to their workplace.

use chrono::Utc;
use domain::{
    platform::crypto::{KeyringError, MasterKey, OpenError},
    testing::TestDb,
    Database,
};

use crate::organisation::workplace;

async fn reopen(test_db: &TestDb, key: MasterKey) -> Result<Database, KeyringError> {
    // As `candor serve` starts: the keyring opened, then what was stored in plain text sealed.
    let db = Database::connect(&test_db.url).await.unwrap();
    domain::operations::instance::unlock(db, key, Utc::now()).await
}

async fn the_master_key_is_checked_at_start(test_db: TestDb) {
    let same = MasterKey::from_text(&test_db.master_key).unwrap();
    let id = same.id();
    assert!(reopen(&test_db, same).await.is_ok());
    let wrong = MasterKey::generate();
    let wrong_id = wrong.id();
    let refused = reopen(&test_db, wrong).await.unwrap_err();
    assert!(
        matches!(refused, KeyringError::WrongMasterKey { .. }),
        "{refused:?}"
    );
    let message = refused.to_string();
    assert!(message.contains(&id) && message.contains(&wrong_id), "{message}");
    // The refusal is on record for whoever reviews the instance.
    let events = domain::platform::access_log::recent_instance_security_events(&test_db.db, 10)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "crypto.master_key_rejected" && e.severity == "critical"),
        "{events:?}"
    );
}

async fn sealed_values_are_bound_to_their_workplace(test_db: TestDb) {
    let db = &test_db.db;
    let (_, northwind) = workplace(db, "ada@northwind.test").await;
    let (_, contoso) = workplace(db, "grace@contoso.test").await;
    let row = uuid::Uuid::new_v4();
    let keys = northwind.data_keys().await.unwrap();
    assert_eq!(keys.current_version(), Some(1));
    let sealed = keys.seal("users", "display_name", row, b"Ada Lovelace").unwrap();
    assert!(!sealed.windows(3).any(|w| w == b"Ada"));
    assert_eq!(
        keys.open("users", "display_name", row, &sealed).unwrap(),
        b"Ada Lovelace"
    );
    // Another workplace's key does not open it, nor does the same key for another column.
    let theirs = contoso.data_keys().await.unwrap();
    assert_eq!(
        theirs.open("users", "display_name", row, &sealed),
        Err(OpenError::Tampered)
    );
    assert_eq!(
        keys.open("users", "email", row, &sealed),
        Err(OpenError::Tampered)
    );

    // After a restart the stored (wrapped) key opens what was sealed before.
    let restarted = reopen(&test_db, MasterKey::from_text(&test_db.master_key).unwrap())
        .await
        .unwrap();
    let again = domain::testing::system_scope(&restarted, northwind.workplace_id(), "keyring test")
        .data_keys()
        .await
        .unwrap();
    assert_eq!(
        again.open("users", "display_name", row, &sealed).unwrap(),
        b"Ada Lovelace"
    );
    // The blind index is stable across restarts and differs between addresses.
    let index = db.keyring().unwrap().email_index("ada@northwind.test");
    assert_eq!(
        restarted.keyring().unwrap().email_index("ada@northwind.test"),
        index
    );
    assert_ne!(db.keyring().unwrap().email_index("eve@northwind.test"), index);
}

/// Every byte the database keeps: the SQLite file and its write-ahead log, or a `pg_dump`.
pub(crate) fn stored_bytes(test_db: &TestDb) -> Vec<u8> {
    if let Some(path) = test_db.url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap();
        let mut bytes = std::fs::read(path).unwrap();
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        return bytes;
    }
    let pg_dump = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("pg_dump"))
        .chain(
            std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path().join("bin/pg_dump")),
        )
        .find(|path| path.exists())
        .expect("pg_dump is installed with PostgreSQL");
    // As Candor's own role, which row-level security binds; outside a workplace transaction the
    // policies let every row through.
    let output = std::process::Command::new(pg_dump)
        .arg("--enable-row-security")
        .arg("--dbname")
        .arg(&test_db.url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

async fn no_name_or_address_is_stored_in_clear(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "zebulon.quattlebaum@northwind.test").await;
    // A session from a recognisable place: its browser family and network are personal too.
    let context = domain::access::auth::context::SignInContext {
        network_prefix: "198.51.100.0/24".into(),
        device: "Vivaldi on Haiku".into(),
    };
    let token = domain::access::accounts::start_session(db, owner.user_id.uuid(), &context, Utc::now())
        .await
        .unwrap();
    let session =
        domain::access::accounts::resolve_session(db, &Default::default(), token.expose(), Utc::now())
            .await
            .unwrap()
            .unwrap();
    let shown =
        domain::access::accounts::list_sessions(db, &Default::default(), owner.user_id.uuid(), Utc::now())
            .await
            .unwrap();
    let listed = shown.iter().find(|s| s.id == session.session_id).unwrap();
    assert_eq!(
        (listed.device.as_str(), listed.network_prefix.as_str()),
        ("Vivaldi on Haiku", "198.51.100.0/24")
    );
    domain::organisation::people::invite(
        &tenant,
        domain::organisation::people::NewPerson {
            name: "Philippa Ostrander".into(),
            email: "philippa.ostrander@northwind.test".into(),
            department: None,
            role: domain::platform::policy::RoleKey::BuiltIn(domain::platform::policy::Role::Employee),
            start_date: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    let listed = domain::organisation::people::list(
        &tenant,
        &domain::platform::policy::Scope::Everyone,
        &domain::organisation::people::Filter {
            search: "ostrander".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(listed.people[0].name, "Philippa Ostrander");

    let stored = stored_bytes(&test_db);
    // The scan sees plaintext where there is some: the workplace's name is not personal.
    assert!(contains(&stored, "Northwind"));
    for personal in [
        "Philippa",
        "Ostrander",
        "philippa.ostrander@northwind.test",
        "zebulon.quattlebaum",
        "198.51.100",
        "Vivaldi",
    ] {
        assert!(!contains(&stored, personal), "{personal} is stored in clear");
    }
}

/// Throttling keeps failed sign-ins per network address and per email, but only as keyed
/// hashes: a plain SHA-256 of an IPv4 address or a known email could be reversed by trying them.
async fn throttling_stores_no_reversible_hash(test_db: TestDb) {
    use sha2::{Digest, Sha256};
    let guard = domain::access::sign_in_guard::SignInGuard::default();
    let address: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    let email = "zebulon.quattlebaum@northwind.test";
    let _wrong = guard
        .admit_password_attempt(&test_db.db, address, email, Utc::now())
        .await
        .unwrap();
    assert!(guard
        .check_password_attempt(&test_db.db, address, email, Utc::now())
        .await
        .is_ok());
    let stored = stored_bytes(&test_db);
    for value in ["203.0.113.7", email] {
        let plain: String = Sha256::digest(value.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!contains(&stored, value), "{value} stored in clear");
        assert!(!contains(&stored, &plain), "{value} stored as a plain hash");
    }
}

/// A database written before encryption: its rows are sealed when Candor starts with its key,
/// and the plaintext is gone from the storage afterwards.
async fn rows_stored_before_encryption_are_sealed_at_start(test_db: TestDb) {
    let db = &test_db.db;
    let (_, tenant) = workplace(db, "ada@northwind.test").await;
    // Put the owner's row back in the shape an older Candor left it.
    db.execute_admin(
        "UPDATE users SET legacy_email = 'bartholomew.old@northwind.test', \
         legacy_display_name = 'Bartholomew Oldrow', email_index = NULL, email_sealed = NULL, \
         name_sealed = NULL",
    )
    .await
    .unwrap();
    assert!(contains(&stored_bytes(&test_db), "Bartholomew Oldrow"));

    let restarted = reopen(&test_db, MasterKey::from_text(&test_db.master_key).unwrap())
        .await
        .unwrap();
    let (address, _) = domain::access::accounts::request_password_reset(
        &restarted,
        "Bartholomew.Old@northwind.test",
        Utc::now(),
    )
    .await
    .unwrap()
    .expect("the account is found by its address");
    assert_eq!(address, "bartholomew.old@northwind.test");
    let tenant = domain::testing::system_scope(&restarted, tenant.workplace_id(), "upgrade test");
    let everyone = domain::organisation::people::list(
        &tenant,
        &domain::platform::policy::Scope::Everyone,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(everyone.people[0].name, "Bartholomew Oldrow");
    let stored = stored_bytes(&test_db);
    for personal in ["Bartholomew", "bartholomew.old@northwind.test"] {
        assert!(
            !contains(&stored, personal),
            "{personal} is still stored in clear"
        );
    }
}

async fn a_data_key_rotates_while_people_are_read_and_written(test_db: TestDb) {
    use domain::operations::key_rotation::{rotate_workplace, versions_in_use, Options};
    let db = &test_db.db;
    let (_, tenant) = workplace(db, "ada@northwind.test").await;
    let (_, other) = workplace(db, "grace@contoso.test").await;
    let invitee = |n: usize| domain::organisation::people::NewPerson {
        name: format!("Person {n:02}"),
        email: format!("person{n}@northwind.test"),
        department: None,
        role: domain::platform::policy::RoleKey::BuiltIn(domain::platform::policy::Role::Employee),
        start_date: None,
    };
    domain::organisation::people::invite_many(&tenant, (0..40).map(invitee).collect(), Utc::now())
        .await
        .unwrap();
    let everyone = |tenant: domain::platform::tenant::TenantDb| async move {
        domain::organisation::people::list(
            &tenant,
            &domain::platform::policy::Scope::Everyone,
            &Default::default(),
        )
        .await
        .unwrap()
    };

    // Interrupted after two batches: the fields are under two versions, and reads and writes
    // still work.
    let first = rotate_workplace(
        db,
        tenant.workplace_id(),
        Options {
            batch: 7,
            max_batches: Some(2),
        },
        Utc::now(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((first.to_version, first.finished), (2, false));
    let versions = versions_in_use(&tenant).await.unwrap();
    assert_eq!(versions.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(everyone(tenant.clone()).await.total, 41);
    domain::organisation::people::invite(&tenant, invitee(40), Utc::now())
        .await
        .unwrap();

    // The rest runs while another task keeps reading.
    let reader = tokio::spawn({
        let tenant = tenant.clone();
        async move {
            for _ in 0..20 {
                let page = everyone(tenant.clone()).await;
                assert_eq!(page.total, 42);
                assert!(page
                    .people
                    .iter()
                    .all(|p| p.name.starts_with("Person") || p.name == "Ada"));
                tokio::task::yield_now().await;
            }
        }
    });
    let mut seen = Vec::new();
    let second = rotate_workplace(
        db,
        tenant.workplace_id(),
        Options {
            batch: 7,
            max_batches: None,
        },
        Utc::now(),
        |progress| seen.push(progress),
    )
    .await
    .unwrap();
    reader.await.unwrap();
    assert!(second.resumed && second.finished, "{second:?}");
    assert_eq!(
        versions_in_use(&tenant)
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![(2, 42)]
    );
    let last = seen.last().unwrap();
    assert_eq!(last.done, last.total);

    // The next rotation starts afresh; the other workplace never moved.
    let third = rotate_workplace(db, tenant.workplace_id(), Options::default(), Utc::now(), |_| {})
        .await
        .unwrap();
    assert_eq!((third.to_version, third.resumed, third.resealed), (3, false, 42));
    assert_eq!(
        versions_in_use(&other)
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![(1, 1)]
    );
    assert_eq!(everyone(tenant.clone()).await.total, 42);
}

async fn the_master_key_rotates_and_the_old_one_stops_working(test_db: TestDb) {
    let db = &test_db.db;
    let (_, tenant) = workplace(db, "ada@northwind.test").await;
    let old = MasterKey::from_text(&test_db.master_key).unwrap();
    let keyring = db.keyring().unwrap();
    assert_eq!(
        keyring
            .rotate_master(db, &old, Utc::now())
            .await
            .unwrap_err()
            .code(),
        "input.invalid"
    );
    let new = MasterKey::generate();
    let new_text = new.to_text().to_string();
    let rotated = keyring.rotate_master(db, &new, Utc::now()).await.unwrap();
    assert_eq!((rotated.new.clone(), rotated.data_keys), (new.id(), 1));

    // The old key is refused at start; the new one opens everything, blind index included.
    let refused = reopen(&test_db, old).await.unwrap_err();
    assert!(refused.to_string().contains(&new.id()), "{refused}");
    let restarted = reopen(&test_db, MasterKey::from_text(&new_text).unwrap())
        .await
        .unwrap();
    let tenant = domain::testing::system_scope(&restarted, tenant.workplace_id(), "test");
    let everyone = domain::organisation::people::list(
        &tenant,
        &domain::platform::policy::Scope::Everyone,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(everyone.people[0].name, "Ada");
    assert!(
        domain::access::accounts::request_password_reset(&restarted, "ada@northwind.test", Utc::now())
            .await
            .unwrap()
            .is_some()
    );
}

async fn invite(
    tenant: &domain::platform::tenant::TenantDb,
    name: &str,
    email: &str,
) -> domain::platform::ids::UserId {
    domain::organisation::people::invite(
        tenant,
        domain::organisation::people::NewPerson {
            name: name.into(),
            email: email.into(),
            department: None,
            role: domain::platform::policy::RoleKey::BuiltIn(domain::platform::policy::Role::Employee),
            start_date: None,
        },
        Utc::now(),
    )
    .await
    .unwrap()
    .person
}

/// Crypto-shredding: once a workplace is deleted, nothing sealed for it opens with any key the
/// database still holds, even for someone with the master key and a copy of the old rows.
async fn a_deleted_workplace_cannot_be_opened_with_any_key(test_db: TestDb) {
    use domain::testing::{opens_with_any_stored_key, sealed_user_fields, wrapped_data_keys};
    let db = &test_db.db;
    let (owner, northwind) = workplace(db, "zebulon.quattlebaum@northwind.test").await;
    let (_, contoso) = workplace(db, "grace@contoso.test").await;
    invite(
        &northwind,
        "Philippa Ostrander",
        "philippa.ostrander@northwind.test",
    )
    .await;
    invite(&contoso, "Kestrel Abernathy", "kestrel@contoso.test").await;
    // Two key versions, so shredding covers older versions too.
    domain::operations::key_rotation::rotate_workplace(
        db,
        northwind.workplace_id(),
        Default::default(),
        Utc::now(),
        |_| {},
    )
    .await
    .unwrap();
    let id = northwind.workplace_id();
    let sealed = sealed_user_fields(db, id).await;
    let wrapped = wrapped_data_keys(db, id).await;
    assert_eq!((sealed.len(), wrapped.len()), (4, 2));
    for (row, column, bytes) in &sealed {
        assert!(opens_with_any_stored_key(db, id, column, *row, bytes).await);
    }

    let outbox = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(db, outbox.path());
    let refused = domain::compliance::workplace_deletion::request_termination(
        &northwind.as_person(&owner),
        "Contoso",
        30,
        &mailer,
        "https://candor.test/settings",
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "input.invalid");
    domain::compliance::workplace_deletion::request_termination(
        &northwind.as_person(&owner),
        " Northwind ",
        30,
        &mailer,
        "https://candor.test/settings",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        wrapped_data_keys(db, id).await.len(),
        2,
        "nothing is deleted during the grace period"
    );
    let certificates = domain::compliance::workplace_deletion::terminate_due(
        db,
        &mailer,
        None,
        Utc::now() + chrono::Duration::days(31),
    )
    .await
    .unwrap();
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0].data_keys_destroyed, 2);
    assert!(wrapped_data_keys(db, id).await.is_empty());
    assert!(sealed_user_fields(db, id).await.is_empty());
    for (row, column, bytes) in &sealed {
        assert!(
            !opens_with_any_stored_key(db, id, column, *row, bytes).await,
            "users.{column} of {row} still opens"
        );
    }
    // Not even the wrapped form of a deleted key remains in the stored bytes.
    let stored = stored_bytes(&test_db);
    for key in &wrapped {
        assert!(
            !stored.windows(key.len()).any(|window| window == key.as_slice()),
            "a deleted wrapped key is still in the database's storage"
        );
    }
    // The other workplace is untouched.
    let theirs = domain::organisation::people::list(
        &contoso,
        &domain::platform::policy::Scope::Everyone,
        &domain::organisation::people::Filter::default(),
    )
    .await
    .unwrap();
    assert!(theirs.people.iter().any(|p| p.name == "Kestrel Abernathy"));
    // The deletion is on the instance's record (the workplace's own log is gone with it); the
    // record names no one.
    db.security_events().flush().await;
    let events = domain::platform::access_log::recent_instance_security_events(db, 10)
        .await
        .unwrap();
    let deletion = events.iter().find(|e| e.kind == "workplace.deleted").unwrap();
    assert_eq!(deletion.actor, Some(owner.user_id));
}

/// A sealed value moved to another row or truncated is refused, never shown, and recorded.
async fn a_field_that_does_not_open_is_a_security_event(test_db: TestDb) {
    let db = &test_db.db;
    let (_, northwind) = workplace(db, "ada@northwind.test").await;
    let philippa = invite(&northwind, "Philippa Ostrander", "philippa@northwind.test").await;
    let kestrel = invite(&northwind, "Kestrel Abernathy", "kestrel@northwind.test").await;
    let fields = domain::testing::sealed_user_fields(db, northwind.workplace_id()).await;
    let philippas_name = fields
        .iter()
        .find(|(row, column, _)| *row == philippa.uuid() && *column == "name")
        .map(|(_, _, bytes)| bytes.clone())
        .unwrap();
    // Philippa's sealed name copied into Kestrel's row.
    domain::testing::overwrite_sealed_name(db, kestrel.uuid(), philippas_name.clone()).await;
    let all = domain::platform::policy::Scope::Everyone;
    let refused = domain::organisation::people::list(&northwind, &all, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "internal");
    assert!(!refused.public_message().contains("Philippa"));
    // Truncated: also refused.
    domain::testing::overwrite_sealed_name(db, kestrel.uuid(), philippas_name[..20].to_vec()).await;
    assert!(
        domain::organisation::people::list(&northwind, &all, &Default::default())
            .await
            .is_err()
    );

    db.security_events().flush().await;
    let events = domain::platform::access_log::recent_security_events(&northwind, 10)
        .await
        .unwrap();
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "crypto.field_open_failed")
        .collect();
    assert_eq!(failures.len(), 2, "{events:?}");
    for failure in failures {
        assert_eq!(failure.severity, "critical");
        assert_eq!(failure.subject.as_deref(), Some("users.name"));
        assert_eq!(failure.subject_id, Some(kestrel.uuid()));
    }
}

/// Whether `stored` holds `secret` as raw bytes (a SQLite file) or as the hex text a PostgreSQL
/// dump writes for `bytea`.
fn holds_bytes(stored: &[u8], secret: &[u8]) -> bool {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    stored.windows(secret.len()).any(|window| window == secret) || contains(stored, &hex)
}

fn app_code(secret_base32: &str, at: chrono::DateTime<Utc>) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(u64::try_from(at.timestamp()).unwrap()).to_string()
}

/// An authenticator app's seed is sealed under the workplace key like names and addresses: the
/// storage never holds it, a key rotation reseals it, and a seed stored in clear by an older
/// Candor is sealed when it next starts.
async fn authenticator_seeds_are_sealed_with_the_workplace_key(test_db: TestDb) {
    use domain::access::factors;
    use domain::operations::key_rotation::{rotate_workplace, Options};
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    let ada = owner.user_id.uuid();
    let start = Utc::now();
    let enrolment = factors::begin_totp_enrolment(db, ada, start).await.unwrap();
    let seed = totp_rs::Secret::try_from_base32(&enrolment.secret_base32)
        .unwrap()
        .as_bytes()
        .to_vec();
    factors::confirm_totp_enrolment(db, ada, &app_code(&enrolment.secret_base32, start), "", start)
        .await
        .unwrap();
    assert!(
        !holds_bytes(&stored_bytes(&test_db), &seed),
        "the seed is stored in clear"
    );

    // A rotation reseals Ada's name, address and seed; her app's codes still sign in.
    let rotated = rotate_workplace(db, tenant.workplace_id(), Options::default(), start, |_| {})
        .await
        .unwrap();
    assert_eq!((rotated.to_version, rotated.resealed), (2, 2), "{rotated:?}");
    let later = start + chrono::Duration::seconds(30);
    assert!(
        factors::check_totp(db, ada, &app_code(&enrolment.secret_base32, later), later)
            .await
            .unwrap()
    );

    // The shape an older Candor left: the seed in clear, nothing sealed.
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let literal = if test_db.url.starts_with("sqlite:") {
        format!("X'{hex}'")
    } else {
        format!("decode('{hex}', 'hex')")
    };
    db.execute_admin(&format!(
        "UPDATE totp_factors SET legacy_secret = {literal}, secret_sealed = NULL"
    ))
    .await
    .unwrap();
    assert!(holds_bytes(&stored_bytes(&test_db), &seed));
    let restarted = reopen(&test_db, MasterKey::from_text(&test_db.master_key).unwrap())
        .await
        .unwrap();
    let after = later + chrono::Duration::seconds(30);
    assert!(
        factors::check_totp(&restarted, ada, &app_code(&enrolment.secret_base32, after), after)
            .await
            .unwrap()
    );
    assert!(
        !holds_bytes(&stored_bytes(&test_db), &seed),
        "the seed is still stored in clear"
    );
}

domain::on_both_backends!(
    authenticator_seeds_are_sealed_with_the_workplace_key,
    a_deleted_workplace_cannot_be_opened_with_any_key,
    a_field_that_does_not_open_is_a_security_event,
    throttling_stores_no_reversible_hash,
    the_master_key_rotates_and_the_old_one_stops_working,
    a_data_key_rotates_while_people_are_read_and_written,
    the_master_key_is_checked_at_start,
    sealed_values_are_bound_to_their_workplace,
    no_name_or_address_is_stored_in_clear,
    rows_stored_before_encryption_are_sealed_at_start,
);
