//! How long a workplace's data lives: retention policies erase people who left and delete old
//! comments on schedule; a workplace's termination waits out its grace period (cancellable),
//! then deletes everything it owns and certifies it; the subprocessor list announces changes
//! to every Owner.

use chrono::{DateTime, Duration, Utc};
use domain::{
    compliance::{
        retention::{self, Policy},
        subprocessors::{self, NewSubprocessor},
        workplace_deletion as termination,
    },
    organisation::people::{NewPerson, Status},
    platform::policy::{Role, RoleKey},
    surveys::{self, rounds},
    testing::TestDb,
};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn outbox(db: &domain::Database) -> (tempfile::TempDir, domain::testing::MailOutbox) {
    let dir = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(db, dir.path());
    (dir, mailer)
}

/// Every email queued so far, delivered into the outbox, as text.
async fn mails(dir: &tempfile::TempDir, mailer: &domain::testing::MailOutbox) -> Vec<String> {
    mailer.deliver().await;
    let mut all: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    all.sort();
    all
}

/// A new employee of `tenant`, signed in.
async fn employee_of(
    db: &domain::Database,
    tenant: &domain::platform::tenant::TenantDb,
    name: &str,
    email: &str,
) -> domain::platform::policy::Identity {
    let person = NewPerson {
        name: name.into(),
        email: email.into(),
        department: None,
        role: RoleKey::BuiltIn(Role::Employee),
        start_date: None,
    };
    domain::testing::active_person(db, tenant, person, now()).await
}

/// `person` answers the workload question of `round`, with `comment` if given.
async fn answer_workload(
    tenant: &domain::platform::tenant::TenantDb,
    person: &domain::platform::policy::Identity,
    round: uuid::Uuid,
    value: i32,
    comment: Option<&str>,
    at: DateTime<Utc>,
) {
    let check_in = surveys::answering::open_check_ins(&tenant.as_person(person), at)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.round == round)
        .unwrap();
    surveys::answering::submit(
        &tenant.as_person(person),
        round,
        vec![surveys::answering::GivenAnswer {
            question: check_in.questions[0].id,
            value: Some(value),
            comment: comment.map(str::to_owned),
        }],
        at,
    )
    .await
    .unwrap();
}

/// One survey round opened at `at`, answered by `who` with a comment; closed four days later
/// when `close`.
async fn answered_round(
    db: &domain::Database,
    tenant: &domain::platform::tenant::TenantDb,
    owner: &domain::platform::policy::Identity,
    who: &[&domain::platform::policy::Identity],
    at: DateTime<Utc>,
    close: bool,
) {
    // Four colleagues answer too, without a comment: a round's answers and comments are kept
    // only when its release could show them.
    let mut colleagues = Vec::new();
    for i in 0..4 {
        let tag = format!("{}-{}-{i}", tenant.workplace_id().uuid().simple(), at.timestamp());
        colleagues.push(
            employee_of(
                db,
                tenant,
                &format!("Colleague {i}"),
                &format!("colleague.{tag}@example.test"),
            )
            .await,
        );
    }
    domain::testing::workload_survey(tenant, owner, &format!("Pulse {}", at.format("%Y-%m-%d")), at).await;
    let round = rounds::open_due(db, at).await.unwrap().remove(0).round();
    for person in &colleagues {
        answer_workload(tenant, person, round, 3, None, at).await;
    }
    for person in who {
        answer_workload(tenant, person, round, 4, Some("The rota helps"), at).await;
    }
    if close {
        domain::surveys::closing::close_due(db, at + Duration::days(4))
            .await
            .unwrap();
    }
}

async fn retention_erases_people_who_left_and_old_comments(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let philippa = employee_of(db, &tenant, "Philippa Ostrander", "philippa@northwind.test").await;
    let kestrel = employee_of(db, &tenant, "Kestrel Abernathy", "kestrel@northwind.test").await;
    let (grace, contoso) = domain::testing::workplace(db, "Contoso", "grace@contoso.test", now()).await;
    let corwin = employee_of(db, &contoso, "Corwin Hale", "corwin@contoso.test").await;

    // The defaults until a workplace chooses; bad periods are refused.
    let overview = retention::overview(&tenant.as_person(&owner), now())
        .await
        .unwrap();
    assert_eq!(overview.policy, Policy::default());
    assert!(!overview.chosen);
    assert_eq!(overview.audit_log_days, 365);
    let refused = retention::set_policy(
        &tenant.as_person(&owner),
        Policy {
            people_left_months: Some(0),
            comments_months: Some(6),
        },
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "input.invalid");
    let employee_refused = retention::overview(&tenant.as_person(&philippa), now())
        .await
        .unwrap_err();
    assert_eq!(employee_refused.code(), "auth.forbidden");
    retention::set_policy(
        &tenant.as_person(&owner),
        Policy {
            people_left_months: Some(3),
            comments_months: Some(6),
        },
        now(),
    )
    .await
    .unwrap();

    // Corwin answers at Contoso; Philippa and Kestrel answer a round that stays open for now.
    answered_round(db, &contoso, &grace, &[&corwin], now(), true).await;
    answered_round(db, &tenant, &owner, &[&philippa, &kestrel], now(), false).await;
    domain::organisation::people::set_status(&tenant, philippa.user_id, Status::Left, now())
        .await
        .unwrap();
    domain::organisation::people::set_status(&tenant, kestrel.user_id, Status::Left, now())
        .await
        .unwrap();
    // Kestrel comes back: the clock stops.
    domain::organisation::people::set_status(&tenant, kestrel.user_id, Status::Active, now())
        .await
        .unwrap();
    domain::organisation::people::set_status(&contoso, corwin.user_id, Status::Left, now())
        .await
        .unwrap();

    // Two months on, nothing is due.
    let early = retention::apply_all(db, now() + Duration::days(60))
        .await
        .unwrap();
    assert!(
        early
            .iter()
            .all(|(_, applied)| *applied == retention::Applied::default()),
        "{early:?}"
    );

    // Past three months Philippa is due, but the round asking her is still open: she waits.
    let later = now() + Duration::days(95);
    let waiting = retention::apply(&tenant, later).await.unwrap();
    assert_eq!((waiting.people_erased, waiting.people_waiting), (0, 1));
    assert_eq!(
        retention::overview(&tenant.as_person(&owner), later)
            .await
            .unwrap()
            .past_period,
        1
    );
    domain::surveys::closing::close_due(db, later).await.unwrap();
    let applied = retention::apply(&tenant, later).await.unwrap();
    assert_eq!((applied.people_erased, applied.people_waiting), (1, 0));
    assert_eq!(
        applied.comments_deleted, 0,
        "comments are kept six months after their round"
    );
    assert_eq!(
        domain::organisation::people::get(&tenant, philippa.user_id)
            .await
            .unwrap_err()
            .code(),
        "resource.not_found"
    );
    assert!(
        domain::organisation::people::get(&tenant, kestrel.user_id)
            .await
            .is_ok(),
        "Kestrel came back"
    );
    // Contoso keeps the defaults (a year): Corwin stays.
    let contoso_applied = retention::apply(&contoso, later).await.unwrap();
    assert_eq!(contoso_applied, retention::Applied::default());
    assert!(domain::organisation::people::get(&contoso, corwin.user_id)
        .await
        .is_ok());

    // Six months after the round closed, its comments go; Contoso's stay (two years).
    let rows = domain::operations::backup::fingerprint(db).await.unwrap();
    assert_eq!(rows["comments"].0, 3);
    let answers_before = rows["answers"].0;
    let much_later = later + Duration::days(190);
    let applied = retention::apply(&tenant, much_later).await.unwrap();
    assert_eq!(applied.comments_deleted, 2);
    let rows = domain::operations::backup::fingerprint(db).await.unwrap();
    assert_eq!(rows["comments"].0, 1, "Contoso's comment stays");
    assert_eq!(
        rows["answers"].0, answers_before,
        "answers stay as anonymous figures"
    );

    // The counts are on record, in the workplace's audit log and on the settings page.
    let overview = retention::overview(&tenant.as_person(&owner), much_later)
        .await
        .unwrap();
    assert!(overview.chosen);
    assert_eq!(overview.last_applied_at, Some(much_later));
    assert_eq!(overview.last_comments_deleted, 2);
    let entries = domain::testing::audit_rows(db, Some(tenant.workplace_id())).await;
    let applied: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "retention.applied")
        .collect();
    assert_eq!(applied.len(), 2, "{applied:?}");
    assert!(applied
        .iter()
        .any(|e| e.entity_type.as_deref() == Some("person") && e.entity_count == 1));
    assert!(applied
        .iter()
        .any(|e| e.entity_type.as_deref() == Some("comment") && e.entity_count == 2));
    assert!(
        applied
            .iter()
            .all(|e| e.entity_ids.as_deref().is_none_or(str::is_empty)),
        "no ids, only counts"
    );

    // "Keep" means keep.
    retention::set_policy(
        &tenant.as_person(&owner),
        Policy {
            people_left_months: None,
            comments_months: None,
        },
        later,
    )
    .await
    .unwrap();
    domain::organisation::people::set_status(&tenant, kestrel.user_id, Status::Left, later)
        .await
        .unwrap();
    let applied = retention::apply(&tenant, later + Duration::days(3650))
        .await
        .unwrap();
    assert_eq!(applied, retention::Applied::default());
}

async fn a_terminated_workplace_is_deleted_after_its_grace_period_and_certified(test_db: TestDb) {
    let db = &test_db.db;
    let (dir, mailer) = outbox(db);
    let link = "https://candor.test/settings";
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let philippa = employee_of(db, &tenant, "Philippa Ostrander", "philippa@northwind.test").await;
    let (_, contoso) = domain::testing::workplace(db, "Contoso", "grace@contoso.test", now()).await;
    answered_round(db, &tenant, &owner, &[&philippa], now(), true).await;

    // Only an Owner asks; the name must match; the grace period has bounds.
    let forbidden = termination::request_termination(
        &tenant.as_person(&philippa),
        "Northwind",
        30,
        &mailer,
        link,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(forbidden.code(), "auth.forbidden");
    let wrong =
        termination::request_termination(&tenant.as_person(&owner), "Contoso", 30, &mailer, link, now())
            .await
            .unwrap_err();
    assert_eq!(wrong.code(), "input.invalid");
    for days in [0, 6, 91] {
        let short = termination::request_termination(
            &tenant.as_person(&owner),
            "Northwind",
            days,
            &mailer,
            link,
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(short.code(), "input.invalid");
    }
    let pending =
        termination::request_termination(&tenant.as_person(&owner), "Northwind", 30, &mailer, link, now())
            .await
            .unwrap();
    assert_eq!(pending.delete_at, now() + Duration::days(30));
    assert_eq!(pending.requested_by.as_deref(), Some("Ada"));
    let twice =
        termination::request_termination(&tenant.as_person(&owner), "Northwind", 30, &mailer, link, now())
            .await
            .unwrap_err();
    assert_eq!(twice.code(), "resource.conflict");
    // The Owner sees it; the employee does not.
    assert!(termination::notice_for(&tenant.as_person(&owner))
        .await
        .unwrap()
        .is_some());
    assert!(termination::notice_for(&tenant.as_person(&philippa))
        .await
        .unwrap()
        .is_none());
    let sent = mails(&dir, &mailer).await;
    assert_eq!(sent.len(), 1, "the Owner is told");
    assert!(
        sent[0].contains("To: ada@northwind.test") && sent[0].contains("2026-12-23"),
        "{}",
        sent[0]
    );

    // Cancelled, nothing happens even long after.
    termination::cancel_termination(
        &tenant.as_person(&owner),
        &mailer,
        link,
        now() + Duration::days(2),
    )
    .await
    .unwrap();
    assert!(
        termination::terminate_due(db, &mailer, None, now() + Duration::days(40))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(domain::organisation::people::get(&tenant, philippa.user_id)
        .await
        .is_ok());
    assert_eq!(
        termination::cancel_termination(&tenant.as_person(&owner), &mailer, link, now())
            .await
            .unwrap_err()
            .code(),
        "resource.conflict"
    );
    assert!(mails(&dir, &mailer)
        .await
        .iter()
        .any(|m| m.contains("deletion of Northwind cancelled")));

    // Asked again: kept during the grace period, deleted after it.
    termination::request_termination(&tenant.as_person(&owner), "Northwind", 7, &mailer, link, now())
        .await
        .unwrap();
    assert!(
        termination::terminate_due(db, &mailer, None, now() + Duration::days(6))
            .await
            .unwrap()
            .is_empty()
    );
    let before = mails(&dir, &mailer).await.len();
    let deleted_at = now() + Duration::days(7);
    let certificates = termination::terminate_due(db, &mailer, None, deleted_at)
        .await
        .unwrap();
    assert_eq!(certificates.len(), 1);
    let certificate = &certificates[0];
    assert_eq!(certificate.workplace_name, "Northwind");
    assert_eq!(certificate.deleted_at, deleted_at);
    let count = |what: &str| {
        certificate
            .deleted
            .iter()
            .find(|(w, _)| *w == what)
            .map(|(_, n)| *n)
    };
    // Ada, Philippa and the four colleagues who answered with her.
    assert_eq!(count("people"), Some(6));
    assert_eq!(count("answers"), Some(5));
    assert_eq!(count("comments"), Some(1));
    assert!(count("audit log entries").unwrap() > 0);
    assert_eq!(
        certificate.backups_expire_by, None,
        "this database keeps no backups"
    );

    // Nothing of Northwind is left in any table, and Contoso is untouched.
    let id = tenant.workplace_id().uuid();
    let left = domain::operations::backup::rows_of_workplace(db, id)
        .await
        .unwrap();
    assert!(left.is_empty(), "rows of the deleted workplace remain: {left:?}");
    assert!(domain::organisation::people::list(
        &contoso,
        &domain::platform::policy::Scope::Everyone,
        &Default::default()
    )
    .await
    .is_ok());
    // The certificate went to the Owner, and the deletion is in the instance's log.
    let sent = mails(&dir, &mailer).await;
    assert_eq!(sent.len(), before + 1);
    let mail = sent
        .iter()
        .find(|m| m.contains("Subject: Candor deletion certificate: Northwind"))
        .unwrap();
    assert!(mail.contains("To: ada@northwind.test"));
    assert!(
        mail.contains(&certificate.id.to_string()) && mail.contains("answers: 5"),
        "{mail}"
    );
    db.security_events().flush().await;
    let events = domain::platform::access_log::recent_instance_security_events(db, 20)
        .await
        .unwrap();
    let deletion = events.iter().find(|e| e.kind == "workplace.deleted").unwrap();
    assert_eq!(deletion.subject_id, Some(certificate.id));
    assert_eq!(deletion.actor, Some(owner.user_id));
}

async fn subprocessor_changes_are_announced_to_every_owner(test_db: TestDb) {
    let db = &test_db.db;
    let (dir, mailer) = outbox(db);
    let link = "https://candor.test/subprocessors";
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let philippa = employee_of(db, &tenant, "Philippa Ostrander", "philippa@northwind.test").await;
    let (contoso_owner, _) = domain::testing::workplace(db, "Contoso", "grace@contoso.test", now()).await;
    let mail_host = NewSubprocessor {
        name: "Postmark".into(),
        purpose: "Sending email".into(),
        location: "United States".into(),
        data_categories: "Email addresses and names".into(),
    };
    let blank = subprocessors::add(
        db,
        NewSubprocessor {
            name: " ".into(),
            ..mail_host.clone()
        },
        now().date_naive(),
        &mailer,
        link,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(blank.code(), "input.invalid");
    let past = subprocessors::add(
        db,
        mail_host.clone(),
        now().date_naive() - Duration::days(1),
        &mailer,
        link,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(past.code(), "input.invalid");

    let hosting = subprocessors::add(
        db,
        NewSubprocessor {
            name: "Hetzner Online".into(),
            purpose: "Hosting".into(),
            location: "Germany".into(),
            data_categories: "All workplace data, encrypted".into(),
        },
        now().date_naive(),
        &mailer,
        link,
        now(),
    )
    .await
    .unwrap();
    assert_eq!((hosting.workplaces, hosting.emails), (2, 2));
    let planned = subprocessors::add(
        db,
        mail_host,
        subprocessors::default_effective_on(now()),
        &mailer,
        link,
        now(),
    )
    .await
    .unwrap();
    let listing = subprocessors::list(db, now().date_naive()).await.unwrap();
    assert_eq!(listing.current.len(), 1);
    assert_eq!(listing.planned.len(), 1);
    assert_eq!(
        listing.planned[0].from_date,
        now().date_naive() + Duration::days(30)
    );
    assert_eq!(listing.changes.len(), 2);

    // Ending one: announced too; it stays listed until its last day.
    let last_day = now().date_naive() + Duration::days(30);
    subprocessors::remove(db, hosting.id, last_day, &mailer, link, now())
        .await
        .unwrap();
    let again = subprocessors::remove(db, hosting.id, last_day, &mailer, link, now())
        .await
        .unwrap_err();
    assert_eq!(again.code(), "resource.conflict");
    let early = subprocessors::remove(db, planned.id, now().date_naive(), &mailer, link, now())
        .await
        .unwrap_err();
    assert_eq!(early.code(), "input.invalid");
    assert_eq!(subprocessors::list(db, last_day).await.unwrap().current.len(), 2);
    let after = subprocessors::list(db, last_day + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        after.current.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["Postmark"]
    );

    let sent = mails(&dir, &mailer).await;
    assert_eq!(sent.len(), 6, "three changes, two Owners");
    assert!(sent.iter().all(|m| !m.contains("philippa@")));
    assert!(sent
        .iter()
        .any(|m| m.contains("To: grace@contoso.test") && m.contains("Postmark")));
    // Owners see recent changes on their home page; employees do not.
    assert_eq!(
        subprocessors::notices_for(db, &owner, now()).await.unwrap().len(),
        3
    );
    assert_eq!(
        subprocessors::notices_for(db, &contoso_owner, now())
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(subprocessors::notices_for(db, &philippa, now())
        .await
        .unwrap()
        .is_empty());
    assert!(subprocessors::notices_for(db, &owner, now() + Duration::days(31))
        .await
        .unwrap()
        .is_empty());
}

domain::on_both_backends!(
    retention_erases_people_who_left_and_old_comments,
    a_terminated_workplace_is_deleted_after_its_grace_period_and_certified,
    subprocessor_changes_are_announced_to_every_owner,
);
