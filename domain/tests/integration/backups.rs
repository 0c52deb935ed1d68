//! Backups against real databases: a backup restores into an empty database with every row
//! equal, damaged or foreign backups restore nothing, a full disk keeps the last good backup,
//! retention prunes by the clock, and a deleted workplace's part of older backups is gone.

use chrono::{DateTime, Duration, Utc};
use domain::{
    operations::backup::{self, BackupError, BackupStore, BackupTarget, RestoreRequest},
    organisation::departments,
    platform::crypto::MasterKey,
    testing::TestDb,
    Backend, Database,
};

use crate::surveys::workplace_with_answers;

fn at(day: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .to_utc()
        + Duration::days(day)
}

struct Keys {
    identity: age::x25519::Identity,
    target: BackupTarget,
    _dir: tempfile::TempDir,
}

fn backup_keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let (text, public) = backup::generate_identity(Utc::now());
    let identity_file = dir.path().join("backup-key.txt");
    std::fs::write(&identity_file, text).unwrap();
    Keys {
        identity: backup::read_identity(&identity_file).unwrap(),
        target: BackupTarget {
            store: BackupStore::new(dir.path().join("store")),
            recipient: backup::parse_recipient(&public).unwrap(),
        },
        _dir: dir,
    }
}

fn backend_of(test_db: &TestDb) -> Backend {
    test_db.db.backend()
}

/// Two workplaces with people, a nested department, a survey, a round and answers.
async fn seed(db: &Database) -> Vec<domain::platform::tenant::TenantDb> {
    let (_, northwind) = workplace_with_answers(db, "Northwind", 6, 4).await;
    let team = departments::list(&northwind).await.unwrap()[0].id;
    let child = departments::create(&northwind, "Harbour", Some(team), at(0))
        .await
        .unwrap();
    departments::create(&northwind, "Pier", Some(child), at(0))
        .await
        .unwrap();
    let (_, contoso) = workplace_with_answers(db, "Contoso", 5, 2).await;
    vec![northwind, contoso]
}

async fn names(db: &Database, tenant: &domain::platform::tenant::TenantDb) -> Vec<String> {
    let tenant = domain::testing::system_scope(db, tenant.workplace_id(), "backup test");
    let page = domain::organisation::people::list(
        &tenant,
        &domain::platform::policy::Scope::Everyone,
        &Default::default(),
    )
    .await
    .unwrap();
    let mut names: Vec<String> = page
        .people
        .iter()
        .map(|p| format!("{} <{}>", p.name, p.email))
        .collect();
    names.sort();
    names
}

async fn reopen(url: &str, master: &str) -> Database {
    Database::connect(url)
        .await
        .unwrap()
        .unlock(MasterKey::from_text(master).unwrap(), Utc::now())
        .await
        .unwrap()
}

async fn every_table_is_covered(test_db: TestDb) {
    let schema = test_db.db.schema_snapshot().await.unwrap();
    let covered = backup::table_names();
    for table in schema.tables.keys() {
        assert!(
            covered.contains(&table.as_str()),
            "{table} is not in any part of a backup"
        );
    }
}

async fn a_backup_restores_into_an_empty_database_with_every_row_equal(test_db: TestDb) {
    let db = &test_db.db;
    let workplaces = seed(db).await;
    // Mail waiting when the backup is taken is in no part: a restore must not send it again.
    domain::platform::mail_queue::MailQueue::new(db.clone())
        .enqueue(
            None,
            domain::platform::mail_queue::MailKind::PasswordReset,
            domain::platform::mail::Mail {
                to: "waiting@northwind.test".into(),
                subject: "Reset your Candor password".into(),
                body: "a link".into(),
            },
            at(1),
        )
        .await
        .unwrap();
    let keys = backup_keys();
    let mut seen = Vec::new();
    let manifest = backup::create(db, &keys.target, at(1), &mut |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(manifest.parts.len(), 3, "the instance and two workplaces");
    assert!(seen
        .last()
        .is_some_and(|p| p.done == p.total && p.total == manifest.rows));
    let source = backup::fingerprint(db).await.unwrap();
    // Answers of open rounds wait, sealed, in the ballot box until the round closes.
    assert!(
        source["answers"].0 + source["ballots"].0 > 0
            && source["users"].0 >= 13
            && source["departments"].0 == 4
    );

    // Nothing personal is readable in the store without the key.
    let store_bytes = read_all(keys.target.store.root());
    for needle in ["Northwind Person", "northwind.test", "Harbour"] {
        assert!(
            !contains(&store_bytes, needle.as_bytes()),
            "{needle} is readable in the store"
        );
    }

    let target = TestDb::empty(backend_of(&test_db)).await.unwrap();
    let info = keys.target.store.find("latest").unwrap();
    let report = backup::restore(
        &target.db,
        RestoreRequest {
            backup: &info,
            identity: &keys.identity,
            master_key_id: &MasterKey::from_text(&test_db.master_key).unwrap().id(),
            replace: false,
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.workplaces, 2);
    assert!(report.shredded.is_empty());
    assert_eq!(report.rows, manifest.rows);
    // Every row equal, table by table...
    assert_eq!(backup::fingerprint(&target.db).await.unwrap(), source);
    assert!(
        domain::platform::mail_queue::MailQueue::new(target.db.clone())
            .overview(at(1))
            .await
            .unwrap()
            .waiting
            .is_empty(),
        "mail waiting at backup time was restored"
    );
    // ...and usable: the master key opens the restored keys, and names read as before.
    let restored = reopen(&target.url, &test_db.master_key).await;
    for tenant in &workplaces {
        assert_eq!(names(&restored, tenant).await, names(db, tenant).await);
    }
    assert!(domain::platform::access_log::verify(&restored, None, &[])
        .await
        .unwrap()
        .iter()
        .all(|r| r.broken.is_none()));

    // A database with data is refused unless told to replace it.
    let again = || RestoreRequest {
        backup: &info,
        identity: &keys.identity,
        master_key_id: &manifest.master_key_id,
        replace: false,
    };
    let refused = backup::restore(&target.db, again(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(refused, BackupError::NotEmpty { .. }), "{refused}");
    assert!(refused.to_string().contains("--replace"));
    let replaced = backup::restore(
        &target.db,
        RestoreRequest {
            replace: true,
            ..again()
        },
        &mut |_| {},
    )
    .await;
    assert!(replaced.is_ok(), "{replaced:?}");
    assert_eq!(backup::fingerprint(&target.db).await.unwrap(), source);

    // Recorded runs and the weekly drill, which restores the newest backup into a scratch
    // database.
    backup::run_backup(db, &keys.target, at(1) + Duration::seconds(1), &mut |_| {})
        .await
        .unwrap();
    let drill = backup::run_drill(db, &keys.target.store, &keys.identity, None, at(2), &mut |_| {})
        .await
        .unwrap();
    assert!(drill.restore.rows >= manifest.rows);
    let facts = backup::facts(db).await.unwrap();
    assert_eq!(facts.last_backup_at.map(|t| t >= at(1)), Some(true));
    assert!(facts.last_drill_passed_at.is_some() && facts.last_drill_failed_at.is_none());
}

fn read_all(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(read_all(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn assert_target_untouched(target: &TestDb) {
    let schema = target.db.schema_snapshot().await.unwrap();
    if !schema.tables.is_empty() {
        let fingerprint = backup::fingerprint(&target.db).await.unwrap();
        assert!(
            fingerprint.values().all(|(rows, _)| *rows == 0),
            "{fingerprint:?}"
        );
    }
}

async fn damaged_or_foreign_backups_restore_nothing(test_db: TestDb) {
    let db = &test_db.db;
    seed(db).await;
    let keys = backup_keys();
    let manifest = backup::create(db, &keys.target, at(1), &mut |_| {})
        .await
        .unwrap();
    let master = manifest.master_key_id.clone();
    let target = TestDb::empty(backend_of(&test_db)).await.unwrap();
    let try_restore = |identity: age::x25519::Identity, master: String| {
        let store = keys.target.store.clone();
        let target_db = target.db.clone();
        async move {
            let info = store.find("latest").unwrap();
            backup::restore(
                &target_db,
                RestoreRequest {
                    backup: &info,
                    identity: &identity,
                    master_key_id: &master,
                    replace: false,
                },
                &mut |_| {},
            )
            .await
            .unwrap_err()
        }
    };

    // Another operator key, another installation's master key.
    let (other, _) = backup::generate_identity(Utc::now());
    let other: age::x25519::Identity = other.lines().last().unwrap().parse().unwrap();
    let err = try_restore(other, master.clone()).await;
    assert!(matches!(err, BackupError::WrongIdentity { .. }), "{err}");
    let err = try_restore(keys.identity.clone(), MasterKey::generate().id()).await;
    assert!(matches!(err, BackupError::OtherInstallation { .. }), "{err}");
    assert!(err.to_string().contains(&master));

    let dir = keys.target.store.find("latest").unwrap().dir;
    let part = dir.join(&manifest.parts[1].file);
    let original = std::fs::read(&part).unwrap();

    // One flipped byte: the manifest's checksum catches it.
    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    std::fs::write(&part, &flipped).unwrap();
    let err = try_restore(keys.identity.clone(), master.clone()).await;
    assert!(
        matches!(err, BackupError::Corrupt { .. }) && err.to_string().contains("checksum"),
        "{err}"
    );

    // Damage with a manifest rewritten to match: the encryption's own authentication catches it.
    for (damaged, expect) in [
        (flipped, "decrypt"),
        (original[..original.len() - 100].to_vec(), ""),
    ] {
        std::fs::write(&part, &damaged).unwrap();
        let mut rewritten = manifest.clone();
        rewritten.parts[1].bytes = damaged.len() as u64;
        rewritten.parts[1].sha256 = sha256_hex(&damaged);
        std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&rewritten).unwrap()).unwrap();
        let err = try_restore(keys.identity.clone(), master.clone()).await;
        assert!(matches!(err, BackupError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains(expect), "{err}");
        assert!(err.to_string().contains("nothing was restored"), "{err}");
    }
    assert_target_untouched(&target).await;
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn a_full_disk_abandons_the_backup_and_keeps_the_last_good_one(test_db: TestDb) {
    let db = &test_db.db;
    seed(db).await;
    let keys = backup_keys();
    let good = backup::run_backup(db, &keys.target, at(1), &mut |_| {})
        .await
        .unwrap();
    // The next backup's first file lands on a device that is always full (ENOSPC).
    let incoming = keys
        .target
        .store
        .root()
        .join(".incoming")
        .join(backup::backup_name(at(2)));
    std::fs::create_dir_all(&incoming).unwrap();
    std::os::unix::fs::symlink("/dev/full", incoming.join("instance.age")).unwrap();
    let err = backup::run_backup(db, &keys.target, at(2), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::DiskFull { .. }), "{err}");
    assert!(err.to_string().contains("last good backup is untouched"));
    assert!(!incoming.exists(), "the half-written backup is cleared away");
    let listed: Vec<_> = keys
        .target
        .store
        .list()
        .unwrap()
        .into_iter()
        .map(|b| b.manifest.name)
        .collect();
    assert_eq!(listed, vec![good.name.clone()]);
    let facts = backup::facts(db).await.unwrap();
    assert!(facts.last_backup_failed_at.is_some() && facts.last_backup_at.is_some());
    let events = domain::platform::access_log::recent_instance_security_events(db, 20)
        .await
        .unwrap();
    assert!(
        events.iter().any(|e| e.kind == "backup.failed"
            && e.severity == "critical"
            && e.subject.as_deref() == Some("backup.disk_full")),
        "{events:?}"
    );
}

async fn retention_deletes_old_backups_but_never_the_newest(test_db: TestDb) {
    let db = &test_db.db;
    seed(db).await;
    let keys = backup_keys();
    for day in [0, 10, 35] {
        backup::create(db, &keys.target, at(day), &mut |_| {})
            .await
            .unwrap();
    }
    let store = &keys.target.store;
    let names = || {
        store
            .list()
            .unwrap()
            .into_iter()
            .map(|b| b.manifest.created_at)
            .collect::<Vec<_>>()
    };
    assert!(
        backup::prune(db, store, Duration::days(30), at(35))
            .await
            .unwrap()
            .len()
            == 1
    );
    assert_eq!(names(), vec![at(10), at(35)]);
    // Long after the schedule stopped, the newest backup still stays.
    assert_eq!(
        backup::prune(db, store, Duration::days(30), at(400))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(names(), vec![at(35)]);
    let events = domain::platform::access_log::recent_instance_security_events(db, 50)
        .await
        .unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "backup.deleted").count(), 2);
}

async fn a_deleted_workplace_cannot_be_read_from_older_backups(test_db: TestDb) {
    let keys = backup_keys();
    let db = test_db.db.clone();
    let (owner, northwind) =
        domain::testing::workplace(&db, "Northwind", "ada@northwind.test", Utc::now()).await;
    let contoso = seed(&db).await.remove(1);
    let older = backup::create(&db, &keys.target, at(1), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(older.parts.len(), 4);

    let outbox = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(&db, outbox.path());
    domain::compliance::workplace_deletion::request_termination(
        &northwind.as_person(&owner),
        "Northwind",
        7,
        &mailer,
        "",
        Utc::now(),
    )
    .await
    .unwrap();
    let deleted = domain::compliance::workplace_deletion::terminate_due(
        &db,
        &mailer,
        Some(domain::compliance::workplace_deletion::KeptBackups {
            store: &keys.target.store,
            retention: chrono::Duration::days(30),
        }),
        Utc::now() + chrono::Duration::days(8),
    )
    .await
    .unwrap();
    assert!(deleted[0].backups_expire_by.is_some());
    let key_dir = keys
        .target
        .store
        .root()
        .join("keys")
        .join(northwind.workplace_id().to_string());
    assert!(
        !key_dir.exists(),
        "the deleted workplace's backup key is shredded at once"
    );
    let events = domain::platform::access_log::recent_instance_security_events(&db, 20)
        .await
        .unwrap();
    assert!(
        events.iter().any(|e| e.kind == "backup.key_shredded"),
        "{events:?}"
    );

    // The older backup still restores, without the deleted workplace.
    let target = TestDb::empty(backend_of(&test_db)).await.unwrap();
    let info = keys.target.store.find(&older.name).unwrap();
    let mut last = None;
    let report = backup::restore(
        &target.db,
        RestoreRequest {
            backup: &info,
            identity: &keys.identity,
            master_key_id: &older.master_key_id,
            replace: false,
        },
        &mut |progress| last = Some(progress),
    )
    .await
    .unwrap();
    assert_eq!(report.shredded, vec![northwind.workplace_id().uuid()]);
    // Its rows are not counted in what the restore shows as its total: the line ends at 100 %.
    let last = last.unwrap();
    assert_eq!((last.done, last.total), (report.rows, report.rows));
    assert_eq!(report.workplaces, 2);
    let restored = reopen(&target.url, &test_db.master_key).await;
    assert_eq!(names(&restored, &contoso).await, names(&db, &contoso).await);
    // Everyone else is back, nobody of the deleted workplace.
    let (now_there, restored_rows) = (
        backup::fingerprint(&db).await.unwrap(),
        backup::fingerprint(&restored).await.unwrap(),
    );
    for table in ["workplaces", "users", "answers", "data_keys"] {
        assert_eq!(restored_rows[table], now_there[table], "{table}");
    }
    // Its part is still in the old backup, and the operator's key alone does not open it.
    let part = info.dir.join(format!("{}.age", northwind.workplace_id()));
    let bytes = std::fs::read(&part).unwrap();
    let decryptor = age::Decryptor::new(&bytes[..]).unwrap();
    assert!(decryptor
        .decrypt(std::iter::once(&keys.identity as &dyn age::Identity))
        .is_err());
}

domain::on_both_backends!(
    every_table_is_covered,
    a_backup_restores_into_an_empty_database_with_every_row_equal,
    damaged_or_foreign_backups_restore_nothing,
    a_full_disk_abandons_the_backup_and_keeps_the_last_good_one,
    retention_deletes_old_backups_but_never_the_newest,
    a_deleted_workplace_cannot_be_read_from_older_backups,
);
