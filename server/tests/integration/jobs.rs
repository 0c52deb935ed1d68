//! The scheduler: a job runs in one process at a time (leases in the database), and a workplace
//! whose data key is older than the configured age gets a new one.

use candor_server::jobs::{
    tick, Notifier, Schedule, AUDIT_MONITOR, BENCHMARKS, DATA_RETENTION, SURVEY_ROUNDS, TENANT_KEY_ROTATION,
    WORKPLACE_TERMINATION,
};
use chrono::{Duration, SubsecRound, Utc};
use domain::testing::TestDb;

async fn a_lease_is_held_by_one_process_until_it_expires(test_db: TestDb) {
    let db = &test_db.db;
    // PostgreSQL keeps microseconds.
    let now = Utc::now().trunc_subsecs(6);
    let length = Duration::minutes(15);
    let lease = domain::platform::jobs::try_lease(db, "nightly", "process-a", length, now)
        .await
        .unwrap()
        .expect("a free job is leased");
    assert!(domain::platform::jobs::try_lease(
        db,
        "nightly",
        "process-b",
        length,
        now + Duration::minutes(5)
    )
    .await
    .unwrap()
    .is_none());
    // A holder that died frees the job when its lease runs out.
    let taken_over =
        domain::platform::jobs::try_lease(db, "nightly", "process-b", length, now + Duration::minutes(16))
            .await
            .unwrap()
            .expect("an expired lease is taken over");
    assert_eq!(taken_over.last_finished_at, None);
    // The old holder's finish no longer counts; the new holder's does.
    domain::platform::jobs::finish(db, lease, now + Duration::minutes(17))
        .await
        .unwrap();
    assert!(domain::platform::jobs::try_lease(
        db,
        "nightly",
        "process-a",
        length,
        now + Duration::minutes(18)
    )
    .await
    .unwrap()
    .is_none());
    let finished_at = now + Duration::minutes(20);
    domain::platform::jobs::finish(db, taken_over, finished_at)
        .await
        .unwrap();
    let next =
        domain::platform::jobs::try_lease(db, "nightly", "process-a", length, now + Duration::minutes(21))
            .await
            .unwrap()
            .expect("a finished job is free");
    assert_eq!(next.last_finished_at, Some(finished_at));
}

async fn old_data_keys_are_rotated_by_one_process(test_db: TestDb) {
    let db = &test_db.db;
    let now = Utc::now();
    let (_, old) =
        domain::testing::workplace(db, "Old Mill", "ada@oldmill.test", now - Duration::days(400)).await;
    let (_, fresh) = domain::testing::workplace(db, "Fresh Start", "grace@fresh.test", now).await;
    let schedule = Schedule {
        tenant_key_max_age: Some(Duration::days(365)),
        ..Default::default()
    };
    let (notifier, _outbox) = notifier(db);
    let version = |id| async move {
        domain::testing::system_scope(db, id, "test")
            .data_keys()
            .await
            .unwrap()
            .current_version()
    };
    // While another process holds the job, this one does not run it.
    let held =
        domain::platform::jobs::try_lease(db, TENANT_KEY_ROTATION, "process-a", Duration::minutes(15), now)
            .await
            .unwrap()
            .unwrap();
    let skipped = tick(db, "process-b", &schedule, &notifier, now).await;
    assert!(!skipped.ran.contains(&TENANT_KEY_ROTATION), "{skipped:?}");
    assert_eq!(version(old.workplace_id()).await, Some(1));
    domain::platform::jobs::finish(db, held, now).await.unwrap();

    let ran = tick(db, "process-b", &schedule, &notifier, now).await;
    assert!(ran.ran.contains(&TENANT_KEY_ROTATION), "{ran:?}");
    assert_eq!(ran.workplaces_rotated, 1);
    assert_eq!(version(old.workplace_id()).await, Some(2));
    assert_eq!(version(fresh.workplace_id()).await, Some(1));
    // The old workplace's people are sealed under the new key and still open.
    let versions = domain::operations::key_rotation::versions_in_use(&old)
        .await
        .unwrap();
    assert_eq!(versions.keys().copied().collect::<Vec<_>>(), vec![2]);

    // Nothing is due a minute later; with scheduling off, nothing runs at all.
    let later = tick(db, "process-a", &schedule, &notifier, now + Duration::minutes(1)).await;
    assert_eq!(later.workplaces_rotated, 0);
    let off = tick(
        db,
        "process-a",
        &Schedule {
            tenant_key_max_age: None,
            ..Default::default()
        },
        &notifier,
        now + Duration::days(800),
    )
    .await;
    assert!(!off.ran.contains(&TENANT_KEY_ROTATION));
}

/// Where the jobs' mail is delivered when a test asks for it.
struct Outbox {
    dir: tempfile::TempDir,
    mail: domain::testing::MailOutbox,
}

impl Outbox {
    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Delivers what the jobs queued into the outbox.
    async fn deliver(&self) {
        self.mail.deliver().await;
    }
}

fn notifier(db: &domain::Database) -> (Notifier, Outbox) {
    let dir = tempfile::tempdir().unwrap();
    let mail = domain::testing::MailOutbox::new(db, dir.path());
    (
        Notifier {
            mail: (*mail).clone(),
            public_url: "https://candor.test".into(),
            operator_email: Some("ops@candor.test".into()),
        },
        Outbox { dir, mail },
    )
}

/// The survey job opens a due round, emails everyone it asks with a link to the form, and
/// closes the round when its window ends.
async fn due_rounds_open_and_people_are_emailed(test_db: TestDb) {
    use domain::surveys::{library, Cadence, NewQuestion, NewSurvey};
    let db = &test_db.db;
    let now = Utc::now().trunc_subsecs(6);
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now).await;
    let sales = domain::organisation::departments::create(&tenant, "Sales", None, now)
        .await
        .unwrap();
    let mut people = Vec::new();
    for name in ["Philippa", "Kestrel"] {
        let person = domain::testing::active_person(
            db,
            &tenant,
            domain::organisation::people::NewPerson {
                name: format!("{name} Sales"),
                email: format!("{}@northwind.test", name.to_lowercase()),
                department: Some(sales),
                role: domain::platform::policy::RoleKey::BuiltIn(domain::platform::policy::Role::Employee),
                start_date: None,
            },
            now,
        )
        .await;
        people.push(person);
    }
    let wellbeing = library::find("wellbeing").unwrap();
    domain::surveys::create(
        &tenant.as_person(&owner),
        NewSurvey {
            title: "Sales pulse".into(),
            questions: vec![NewQuestion {
                prompt: wellbeing.prompt.into(),
                kind: wellbeing.kind(),
                library_key: Some("wellbeing".into()),
            }],
            departments: vec![sales],
            cadence: Cadence::Weekly,
            first_round_at: now,
            window_days: 2,
        },
        now,
    )
    .await
    .unwrap();
    let (notifier, outbox) = notifier(db);
    let schedule = Schedule {
        tenant_key_max_age: None,
        ..Default::default()
    };
    let report = tick(db, "process-a", &schedule, &notifier, now).await;
    // Benchmarks are computed on the first tick, then once a day.
    assert_eq!(report.ran[..2], [SURVEY_ROUNDS, BENCHMARKS]);
    // The audit jobs run on the first tick too: monitoring every tick, retention daily, anchors hourly.
    for job in [
        candor_server::jobs::AUDIT_MONITOR,
        candor_server::jobs::AUDIT_RETENTION,
        candor_server::jobs::AUDIT_ANCHOR,
    ] {
        assert!(report.ran.contains(&job), "{job}: {:?}", report.ran);
    }
    assert_eq!(report.benchmarks_published, Some(0), "no workplace opted in");
    assert_eq!((report.rounds_opened, report.emails_queued), (1, 2));
    outbox.deliver().await;
    let mails: Vec<String> = std::fs::read_dir(outbox.path())
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 2);
    let to_philippa = mails
        .iter()
        .find(|m| m.contains("To: philippa@northwind.test"))
        .unwrap();
    assert!(
        to_philippa.contains("Subject: New check-in: Sales pulse"),
        "{to_philippa}"
    );
    assert!(
        to_philippa.contains("https://candor.test/check-ins/"),
        "{to_philippa}"
    );

    // Philippa answers; a day before the round closes, only Kestrel is reminded, once.
    let check_in = domain::surveys::answering::open_check_ins(&tenant.as_person(&people[0]), now)
        .await
        .unwrap()
        .remove(0);
    let given = check_in
        .questions
        .iter()
        .map(|q| domain::surveys::answering::GivenAnswer {
            question: q.id,
            value: Some(4),
            comment: None,
        })
        .collect();
    domain::surveys::answering::submit(&tenant.as_person(&people[0]), check_in.round, given, now)
        .await
        .unwrap();
    let early = tick(db, "process-a", &schedule, &notifier, now + Duration::hours(23)).await;
    assert_eq!((early.rounds_reminded, early.emails_queued), (0, 0));
    assert!(!early.ran.contains(&BENCHMARKS), "not again within a day");
    let reminded = tick(db, "process-a", &schedule, &notifier, now + Duration::hours(25)).await;
    assert_eq!((reminded.rounds_reminded, reminded.emails_queued), (1, 1));
    let again = tick(db, "process-a", &schedule, &notifier, now + Duration::hours(26)).await;
    assert_eq!(again.rounds_reminded, 0);
    outbox.deliver().await;
    let reminders: Vec<String> = std::fs::read_dir(outbox.path())
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .filter(|mail| mail.contains("Subject: Reminder: Sales pulse closes soon"))
        .collect();
    assert_eq!(reminders.len(), 1);
    assert!(
        reminders[0].contains("To: kestrel@northwind.test"),
        "{}",
        reminders[0]
    );
    assert!(reminders[0].contains(&format!("https://candor.test/check-ins/{}", check_in.round)));
    // By hand, HR may remind again only after a gap.
    let by_hand = domain::surveys::rounds::remind_now(
        &tenant.as_person(&owner),
        check_in.round,
        now + Duration::hours(27),
    )
    .await
    .unwrap_err();
    assert_eq!(by_hand.code(), "resource.conflict");
    let by_hand = domain::surveys::rounds::remind_now(
        &tenant.as_person(&owner),
        check_in.round,
        now + Duration::hours(38),
    )
    .await
    .unwrap();
    assert_eq!(by_hand.participants(), [people[1].user_id.uuid()]);
    let refused = domain::surveys::rounds::remind_now(
        &tenant.as_person(&people[1]),
        check_in.round,
        now + Duration::hours(47),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");

    let closed = tick(db, "process-a", &schedule, &notifier, now + Duration::days(2)).await;
    assert_eq!((closed.rounds_closed, closed.rounds_opened), (1, 0));
}

/// Backups run on their interval with retention, the drill restores the newest one on its own
/// interval, and a drill that fails emails the operator.
async fn backups_and_restore_drills_run_on_schedule(test_db: TestDb) {
    use candor_server::{
        config::BackupSettings,
        jobs::{BACKUP, BACKUP_DRILL},
    };
    let db = &test_db.db;
    let now = Utc::now().trunc_subsecs(0);
    domain::testing::workplace(db, "Northwind", "ada@northwind.test", now).await;
    let keys = tempfile::tempdir().unwrap();
    let (identity, public) = domain::operations::backup::generate_identity(now);
    let identity_file = keys.path().join("backup.key");
    std::fs::write(&identity_file, identity).unwrap();
    let store = domain::operations::backup::BackupStore::new(keys.path().join("store"));
    let schedule = Schedule {
        backups: Some(BackupSettings {
            target: domain::operations::backup::BackupTarget {
                store: store.clone(),
                recipient: domain::operations::backup::parse_recipient(&public).unwrap(),
            },
            interval: Duration::days(7),
            retention: Duration::days(30),
            drill_every: Duration::days(1),
            identity_file: Some(identity_file),
            scratch_url: None,
        }),
        ..Default::default()
    };
    let (notifier, outbox) = notifier(db);
    let first = tick(db, "process-a", &schedule, &notifier, now).await;
    assert!(
        first.ran.contains(&BACKUP) && first.ran.contains(&BACKUP_DRILL),
        "{first:?}"
    );
    assert_eq!((first.backups_taken, first.drill_passed), (1, Some(true)));
    let quiet = tick(db, "process-a", &schedule, &notifier, now + Duration::hours(1)).await;
    assert!(
        !quiet.ran.contains(&BACKUP) && !quiet.ran.contains(&BACKUP_DRILL),
        "{quiet:?}"
    );

    // Damage the only backup: the next day's drill fails and the operator is told.
    let latest = store.find("latest").unwrap();
    let part = latest.dir.join(&latest.manifest.parts[1].file);
    let mut bytes = std::fs::read(&part).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&part, bytes).unwrap();
    let failed = tick(
        db,
        "process-a",
        &schedule,
        &notifier,
        now + Duration::days(1) + Duration::minutes(1),
    )
    .await;
    assert_eq!(failed.drill_passed, Some(false), "{failed:?}");
    outbox.deliver().await;
    let mails = mails_in(outbox.path());
    assert!(
        mails.iter().any(|m| m.contains("To: ops@candor.test")
            && m.contains("a restore drill failed")
            && m.contains("damaged")),
        "{mails:?}"
    );
    let facts = domain::operations::backup::facts(db).await.unwrap();
    assert!(facts.last_drill_failed_at.is_some() && facts.last_drill_passed_at.is_some());

    // A week on, a new backup is taken and the drill passes again.
    let week = tick(
        db,
        "process-a",
        &schedule,
        &notifier,
        now + Duration::days(7) + Duration::minutes(2),
    )
    .await;
    assert_eq!(
        (week.backups_taken, week.drill_passed),
        (1, Some(true)),
        "{week:?}"
    );
    assert_eq!(store.list().unwrap().len(), 2);
}

/// The scheduler applies retention policies once a day and deletes a workplace whose grace
/// period is over, emailing its certificate.
async fn retention_and_termination_run_on_schedule(test_db: TestDb) {
    use candor_server::jobs::{DATA_RETENTION, WORKPLACE_TERMINATION};
    let db = &test_db.db;
    let now = Utc::now().trunc_subsecs(0);
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now).await;
    let philippa = domain::testing::active_person(
        db,
        &tenant,
        domain::organisation::people::NewPerson {
            name: "Philippa Ostrander".into(),
            email: "philippa@northwind.test".into(),
            department: None,
            role: domain::platform::policy::RoleKey::BuiltIn(domain::platform::policy::Role::Employee),
            start_date: None,
        },
        now,
    )
    .await;
    domain::organisation::people::set_status(
        &tenant,
        philippa.user_id,
        domain::organisation::people::Status::Left,
        now,
    )
    .await
    .unwrap();
    let (notifier, outbox) = notifier(db);
    let schedule = Schedule::default();
    let first = tick(db, "process-a", &schedule, &notifier, now).await;
    assert!(first.ran.contains(&DATA_RETENTION) && first.ran.contains(&WORKPLACE_TERMINATION));
    assert_eq!(first.people_erased, 0);
    // A year and a day later (the default policy), once a day.
    let year = now + Duration::days(366);
    let erased = tick(db, "process-a", &schedule, &notifier, year).await;
    assert_eq!(erased.people_erased, 1, "{erased:?}");
    let same_day = tick(db, "process-a", &schedule, &notifier, year + Duration::hours(1)).await;
    assert!(!same_day.ran.contains(&DATA_RETENTION));

    domain::compliance::workplace_deletion::request_termination(
        &tenant.as_person(&owner),
        "Northwind",
        30,
        &notifier.mail,
        "https://candor.test/settings",
        year,
    )
    .await
    .unwrap();
    let waiting = tick(db, "process-a", &schedule, &notifier, year + Duration::days(29)).await;
    assert_eq!(waiting.workplaces_deleted, 0);
    let deleted = tick(db, "process-a", &schedule, &notifier, year + Duration::days(30)).await;
    assert_eq!(deleted.workplaces_deleted, 1);
    outbox.deliver().await;
    let mails = mails_in(outbox.path());
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Candor deletion certificate: Northwind")
                && m.contains("To: ada@northwind.test")),
        "{mails:?}"
    );
    assert!(
        domain::operations::backup::rows_of_workplace(db, tenant.workplace_id().uuid())
            .await
            .unwrap()
            .is_empty()
    );
}

fn mails_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
        .collect()
}

/// One failing job does not silence the others: with the access-log monitor unable to read its
/// table, the survey rounds, benchmarks, termination and retention jobs still run on the same
/// tick, the failure is named, and its lease is free at once for the next try (here, another
/// process).
async fn one_failing_job_does_not_silence_the_others(test_db: TestDb) {
    let db = &test_db.db;
    let (notifier, _outbox) = notifier(db);
    let schedule = Schedule {
        tenant_key_max_age: None,
        backups: None,
    };
    let now = Utc::now().trunc_subsecs(0);
    db.execute_admin("ALTER TABLE audit_pending RENAME TO audit_pending_away")
        .await
        .unwrap();
    let report = tick(db, "process-a", &schedule, &notifier, now).await;
    assert_eq!(report.failed, [AUDIT_MONITOR], "{report:?}");
    for job in [SURVEY_ROUNDS, BENCHMARKS, WORKPLACE_TERMINATION, DATA_RETENTION] {
        assert!(report.ran.contains(&job), "{job} did not run: {report:?}");
    }
    // The operator learns of it from the instance's security events, which name the job.
    db.security_events().flush().await;
    let events = domain::platform::access_log::recent_instance_security_events(db, 20)
        .await
        .unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "instance.job_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0].subject.as_deref(), Some(AUDIT_MONITOR), "{events:?}");
    db.execute_admin("ALTER TABLE audit_pending_away RENAME TO audit_pending")
        .await
        .unwrap();
    let retried = tick(db, "process-b", &schedule, &notifier, now + Duration::seconds(1)).await;
    assert!(retried.failed.is_empty(), "{retried:?}");
    assert!(retried.ran.contains(&AUDIT_MONITOR), "{retried:?}");
}

domain::on_both_backends!(
    one_failing_job_does_not_silence_the_others,
    retention_and_termination_run_on_schedule,
    backups_and_restore_drills_run_on_schedule,
    due_rounds_open_and_people_are_emailed,
    a_lease_is_held_by_one_process_until_it_expires,
    old_data_keys_are_rotated_by_one_process,
);
