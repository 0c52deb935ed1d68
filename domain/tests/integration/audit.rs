//! The audit log against a real database: entries written with the change they record, chained,
//! verified, tamper-evident, purged by retention, watched by the monitoring rules.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use domain::{
    compliance::audit_log::{monitor, review},
    organisation::people::{self, NewPerson},
    platform::{
        audit::{self, Trail},
        clock::FixedClock,
        ids::UserId,
        policy::{Role, RoleKey},
    },
    testing::{self, TestDb},
    Clock,
};

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 0).unwrap()
}

fn request(clock: &Arc<FixedClock>, action: &str) -> Trail {
    Trail::for_request(clock.clone() as Arc<dyn Clock>, Some("7f0c8a2e-request"), action)
}

/// One `people/list` request by `who`, through the audit trail as the HTTP layer runs it.
async fn list_people(
    db: &domain::Database,
    clock: &Arc<FixedClock>,
    who: &domain::platform::policy::Identity,
    tenant: &domain::platform::tenant::TenantDb,
) {
    let trail = request(clock, "people/list");
    trail.identify(who.user_id, who.workplace_id);
    people::list(
        &tenant.clone().with_trail(trail.clone()),
        &domain::platform::policy::Scope::Everyone,
        &people::Filter::default(),
    )
    .await
    .unwrap();
    domain::platform::access_log::finish(&trail, db, 200)
        .await
        .unwrap();
}

fn newcomer(name: &str, email: &str) -> NewPerson {
    NewPerson {
        name: name.into(),
        email: email.into(),
        department: None,
        role: RoleKey::BuiltIn(Role::Employee),
        start_date: None,
    }
}

async fn changes_are_logged_with_their_transaction(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    let trail = request(&clock, "people/invite");
    trail.identify(owner.user_id, owner.workplace_id);
    let scoped = tenant.clone().with_trail(trail.clone());
    let invited = people::invite(&scoped, newcomer("Grace Hopper", "grace@northwind.test"), at())
        .await
        .unwrap();
    let committed = testing::audit_rows(db, Some(owner.workplace_id)).await.len();
    domain::platform::access_log::finish(&trail, db, 200)
        .await
        .unwrap();
    let rows = testing::audit_rows(db, Some(owner.workplace_id)).await;
    let entry = rows
        .iter()
        .find(|r| r.action == "people/invite")
        .expect("the invitation is logged");
    assert_eq!(entry.actor, Some(owner.user_id.uuid()));
    assert_eq!(entry.category, "security");
    assert_eq!(entry.request_id.as_deref(), Some("7f0c8a2e-request"));
    // Written by the commits, the invited person named by id: finishing added nothing more.
    assert_eq!(rows.len(), committed);
    let person = invited.person.uuid().to_string();
    assert!(rows
        .iter()
        .any(|r| r.action == "people/invite" && r.entity_ids.as_deref() == Some(person.as_str())));
    // Reading a person names them by id only.
    let trail = request(&clock, "people/get");
    trail.identify(owner.user_id, owner.workplace_id);
    people::get(&tenant.clone().with_trail(trail.clone()), invited.person)
        .await
        .unwrap();
    domain::platform::access_log::finish(&trail, db, 200)
        .await
        .unwrap();
    let rows = testing::audit_rows(db, Some(owner.workplace_id)).await;
    let read = rows.iter().find(|r| r.action == "people/get").unwrap();
    assert_eq!(read.entity_type.as_deref(), Some("person"));
    assert_eq!(
        read.entity_ids.as_deref(),
        Some(invited.person.to_string().as_str())
    );
    let text = testing::audit_log_text(db).await;
    for personal in [
        "Grace",
        "Hopper",
        "grace@northwind.test",
        "Ada",
        "ada@northwind.test",
        "Northwind",
    ] {
        assert!(!text.contains(personal), "the log holds {personal}");
    }
    let reports = domain::platform::access_log::verify(db, None, &[]).await.unwrap();
    assert!(reports.iter().all(|r| r.broken.is_none()), "{reports:?}");
}

/// Many requests ending at once share the access log's transactions; each keeps its own entry,
/// the anonymous ones still wait for the end of their day, and the chains stay whole.
async fn requests_ending_together_are_logged_together(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let (north, _) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    let (south, _) = testing::workplace(db, "Southwind", "sam@southwind.test", at()).await;
    let writer = domain::platform::access_log::AccessLogWriter::start(db.clone());
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (writer, clock) = (writer.clone(), clock.clone());
        let (who, action) = match i % 4 {
            0 => (Some(&south), "people/list"),
            1 => (Some(&north), "check_ins/inbox"),
            2 => (None, "account/log_in"),
            _ => (Some(&north), "people/list"),
        };
        let trail = request(&clock, action);
        if let Some(who) = who {
            trail.identify(who.user_id, who.workplace_id);
        }
        if action == "check_ins/inbox" {
            trail.anonymise();
        }
        requests.spawn(async move { writer.finish(&trail, 200).await });
    }
    while let Some(done) = requests.join_next().await {
        done.unwrap().unwrap();
    }
    let count = |rows: &[testing::AuditRow], action: &str| rows.iter().filter(|r| r.action == action).count();
    let north_rows = testing::audit_rows(db, Some(north.workplace_id)).await;
    let south_rows = testing::audit_rows(db, Some(south.workplace_id)).await;
    let instance_rows = testing::audit_rows(db, None).await;
    assert_eq!(count(&north_rows, "people/list"), 10);
    assert_eq!(count(&south_rows, "people/list"), 10);
    assert_eq!(count(&instance_rows, "account/log_in"), 10);
    // Who read their inbox is not in the log today; tomorrow the day's entries join the chain.
    assert_eq!(count(&north_rows, "check_ins/inbox"), 0);
    let flushed = domain::platform::access_log::flush_pending(db, at() + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(flushed, 10);
    let north_rows = testing::audit_rows(db, Some(north.workplace_id)).await;
    assert_eq!(count(&north_rows, "check_ins/inbox"), 10);
    assert!(north_rows
        .iter()
        .filter(|r| r.action == "check_ins/inbox")
        .all(|r| r.actor.is_none()));
    let reports = domain::platform::access_log::verify(db, None, &[]).await.unwrap();
    assert!(reports.iter().all(|r| r.broken.is_none()), "{reports:?}");
}

async fn a_change_whose_entry_cannot_be_written_is_undone(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    let invited = people::invite(&tenant, newcomer("Grace Hopper", "grace@northwind.test"), at())
        .await
        .unwrap();
    db.execute_admin("ALTER TABLE audit_log RENAME TO audit_log_elsewhere")
        .await
        .unwrap();
    let trail = request(&clock, "people/set_role");
    trail.identify(owner.user_id, owner.workplace_id);
    let refused = people::set_role(
        &tenant.clone().with_trail(trail),
        invited.person,
        RoleKey::BuiltIn(Role::Manager),
    )
    .await;
    assert!(refused.is_err(), "a change went through without its log entry");
    db.execute_admin("ALTER TABLE audit_log_elsewhere RENAME TO audit_log")
        .await
        .unwrap();
    let person = people::get(&tenant, invited.person).await.unwrap();
    assert_eq!(person.role.key, RoleKey::BuiltIn(Role::Employee));
}

async fn tampering_is_found_and_named(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    for n in 0..6 {
        list_people(db, &clock, &owner, &tenant).await;
        clock.advance(Duration::seconds(n + 1));
    }
    let rows = testing::audit_rows(db, Some(owner.workplace_id)).await;
    let head = rows.last().unwrap().clone();
    let intact = domain::platform::access_log::verify(db, Some(owner.workplace_id), &[])
        .await
        .unwrap();
    assert_eq!(intact[0].broken, None);
    assert_eq!(intact[0].last_seq, head.seq);
    // An anchor taken now holds while nothing changes.
    let anchor: audit::Anchor = format!("{}:{}:{}", owner.workplace_id, head.seq, intact[0].head_hash)
        .parse()
        .unwrap();
    assert_eq!(
        domain::platform::access_log::verify(db, Some(owner.workplace_id), std::slice::from_ref(&anchor))
            .await
            .unwrap()[0]
            .broken,
        None
    );

    let victim = &rows[2];
    testing::tamper_audit_entry(db, victim.id, "people/harmless").await;
    let found = domain::platform::access_log::verify(db, Some(owner.workplace_id), &[])
        .await
        .unwrap();
    let broken = found[0].broken.clone().expect("the change is found");
    assert_eq!((broken.seq, broken.entry_id), (victim.seq, Some(victim.id)));
    testing::tamper_audit_entry(db, victim.id, &victim.action).await;
    assert_eq!(
        domain::platform::access_log::verify(db, Some(owner.workplace_id), &[])
            .await
            .unwrap()[0]
            .broken,
        None
    );

    // Cutting the tail: the head still counts the missing entries.
    testing::cut_audit_tail(db, owner.workplace_id, head.seq - 2).await;
    let cut = domain::platform::access_log::verify(db, Some(owner.workplace_id), &[])
        .await
        .unwrap();
    let broken = cut[0].broken.clone().expect("the cut is found");
    assert_eq!(broken.seq, head.seq - 1);
    assert!(broken.reason.contains("cut short"), "{}", broken.reason);
    // And an anchor from the server log still points past the cut.
    let with_anchor = domain::platform::access_log::verify(db, Some(owner.workplace_id), &[anchor])
        .await
        .unwrap();
    assert!(with_anchor[0].broken.is_some());
}

async fn log_fields_cannot_be_injected(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let trail = request(&clock, "people/list\n2026-11-02 INFO forged entry\u{1b}[2J");
    domain::platform::access_log::finish(&trail, db, 404)
        .await
        .unwrap();
    let rows = testing::audit_rows(db, None).await;
    let action = &rows.last().unwrap().action;
    assert!(action.chars().all(|c| !c.is_control() && c != ' '), "{action:?}");
    assert!(action.len() <= 64);
    assert_eq!(rows.last().unwrap().outcome, "denied");
}

async fn retention_deletes_old_entries_and_keeps_the_chain_verifiable(test_db: TestDb) {
    let db = &test_db.db;
    let long_ago = at() - Duration::days(400);
    let clock = Arc::new(FixedClock::at(long_ago));
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", long_ago).await;
    for _ in 0..3 {
        list_people(db, &clock, &owner, &tenant).await;
    }
    clock.advance(Duration::days(390));
    let trail = request(&clock, "people/list");
    trail.identify(owner.user_id, owner.workplace_id);
    domain::platform::access_log::finish(&trail, db, 200)
        .await
        .unwrap();
    let before = testing::audit_rows(db, Some(owner.workplace_id)).await.len();
    let purged = monitor::purge_expired(db, at()).await.unwrap();
    let ours = purged
        .iter()
        .find(|(w, _)| *w == Some(owner.workplace_id))
        .map(|(_, n)| *n);
    assert!(ours.unwrap_or(0) >= 3, "{purged:?}");
    let after = testing::audit_rows(db, Some(owner.workplace_id)).await;
    assert_eq!(after.len() as u64, before as u64 - ours.unwrap() + 1);
    assert_eq!(after.last().unwrap().action, "audit.purged");
    let reports = domain::platform::access_log::verify(db, Some(owner.workplace_id), &[])
        .await
        .unwrap();
    assert_eq!(reports[0].broken, None, "{reports:?}");
    // Nothing left to purge: nothing happens, nothing is logged.
    assert!(monitor::purge_expired(db, at())
        .await
        .unwrap()
        .iter()
        .all(|(w, _)| *w != Some(owner.workplace_id)));
}

async fn monitoring_raises_alerts_once_and_emails_watchers(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    let outbox = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(db, outbox.path());
    // Ten wrong passwords for the Owner's account from one network.
    for _ in 0..10 {
        let trail = request(&clock, "account/log_in");
        domain::access::auth::context::note_sign_in(
            db,
            &trail,
            "203.0.113.7".parse().unwrap(),
            "ada@northwind.test",
        )
        .await
        .unwrap();
        domain::platform::access_log::finish(&trail, db, 401)
            .await
            .unwrap();
        clock.advance(Duration::seconds(20));
    }
    // An employee probing 20 things they may not see.
    let employee = testing::active_person(
        db,
        &tenant,
        newcomer("Grace Hopper", "grace@northwind.test"),
        at(),
    )
    .await;
    for _ in 0..20 {
        let trail = request(&clock, "people/get");
        trail.identify(employee.user_id, employee.workplace_id);
        domain::platform::access_log::finish(&trail, db, 404)
            .await
            .unwrap();
    }
    let run = monitor::run(db, &mailer, "https://candor.example", clock.now())
        .await
        .unwrap();
    let rules: Vec<_> = run.alerts.iter().map(|(_, rule)| rule.code()).collect();
    for wanted in [
        "sign_in.failures_for_account",
        "sign_in.failures_from_network",
        "access.denial_burst",
    ] {
        assert!(rules.contains(&wanted), "{rules:?}");
    }
    let alerts = monitor::alerts(&tenant.as_person(&owner), 50).await.unwrap();
    let burst = alerts.iter().find(|a| a.rule == "access.denial_burst").unwrap();
    assert_eq!(burst.actor, Some(employee.user_id));
    assert!(burst.count >= 20);
    assert_eq!(
        monitor::open_alert_count(&tenant.as_person(&owner))
            .await
            .unwrap(),
        alerts.len() as u64
    );
    mailer.deliver().await;
    let mails = std::fs::read_dir(outbox.path()).unwrap().count();
    assert!(mails >= 3, "alerts are emailed to the Owner ({mails} mails)");
    // Nothing new: no new alert.
    let again = monitor::run(db, &mailer, "https://candor.example", clock.now())
        .await
        .unwrap();
    assert!(again.alerts.is_empty(), "{:?}", again.alerts);
    // One more failure within the window does not raise the same alert twice.
    let trail = request(&clock, "account/log_in");
    domain::access::auth::context::note_sign_in(
        db,
        &trail,
        "203.0.113.7".parse().unwrap(),
        "ada@northwind.test",
    )
    .await
    .unwrap();
    domain::platform::access_log::finish(&trail, db, 401)
        .await
        .unwrap();
    assert!(monitor::run(db, &mailer, "https://candor.example", clock.now())
        .await
        .unwrap()
        .alerts
        .is_empty());
    // Acknowledged alerts leave the banner count.
    monitor::acknowledge(&tenant.as_person(&owner), burst.id, clock.now())
        .await
        .unwrap();
    assert_eq!(
        monitor::open_alert_count(&tenant.as_person(&owner))
            .await
            .unwrap(),
        alerts.len() as u64 - 1
    );
    // Employees see no alerts.
    assert!(monitor::alerts(&tenant.as_person(&employee), 10).await.is_err());
    // The stored alerts and log carry no address.
    assert!(!testing::audit_log_text(db).await.contains("ada@northwind.test"));
}

async fn an_admin_signing_in_from_a_new_network_raises_an_alert(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    let outbox = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(db, outbox.path());
    let sign_in = |network: &'static str| {
        let clock = clock.clone();
        async move {
            let trail = request(&clock, "account/log_in");
            let (account, workplace) = domain::access::auth::context::note_sign_in(
                db,
                &trail,
                network.parse().unwrap(),
                "Ada@Northwind.test",
            )
            .await
            .unwrap()
            .unwrap();
            trail.identify(account, workplace);
            domain::platform::access_log::finish(&trail, db, 200)
                .await
                .unwrap();
        }
    };
    // The first sign-in and a second from the same network are not news.
    sign_in("198.51.100.20").await;
    sign_in("198.51.100.99").await;
    let quiet = monitor::run(db, &mailer, "https://candor.example", clock.now())
        .await
        .unwrap();
    assert!(quiet.alerts.is_empty(), "{:?}", quiet.alerts);
    sign_in("203.0.113.5").await;
    let run = monitor::run(db, &mailer, "https://candor.example", clock.now())
        .await
        .unwrap();
    assert_eq!(
        run.alerts.iter().map(|(_, r)| r.code()).collect::<Vec<_>>(),
        ["sign_in.admin_new_network"]
    );
    let alerts = monitor::alerts(&tenant.as_person(&owner), 10).await.unwrap();
    assert_eq!(alerts[0].actor, Some(owner.user_id));
    // The network is kept as a keyed hash, never the address.
    let text = testing::audit_log_text(db).await;
    assert!(!text.contains("203.0.113") && !text.contains("198.51.100"));
}

async fn auditors_review_filter_and_export(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    let auditor_role = RoleKey::BuiltIn(Role::Auditor);
    let auditor = testing::active_person(
        db,
        &tenant,
        NewPerson {
            role: auditor_role,
            ..newcomer("Mary Jackson", "mary@northwind.test")
        },
        at(),
    )
    .await;
    for action in ["people/list", "results/export", "people/list"] {
        let trail = request(&clock, action);
        trail.identify(owner.user_id, owner.workplace_id);
        domain::platform::access_log::finish(&trail, db, 200)
            .await
            .unwrap();
    }
    let exports = review::Filter {
        action: Some("results/export".into()),
        ..Default::default()
    };
    let found = review::search(&tenant.as_person(&auditor), &exports)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].actor, Some(owner.user_id));
    let names = review::names(&tenant.as_person(&auditor), &[owner.user_id])
        .await
        .unwrap();
    assert_eq!(names.get(&owner.user_id).map(String::as_str), Some("Ada"));
    review::mark_reviewed(
        &tenant.as_person(&auditor),
        found[0].id,
        "Quarterly board pack, agreed.",
        clock.now(),
    )
    .await
    .unwrap();
    let again = review::mark_reviewed(&tenant.as_person(&auditor), found[0].id, "", clock.now()).await;
    assert!(matches!(again, Err(domain::Error::Conflict(_))));
    let too_long = review::mark_reviewed(
        &tenant.as_person(&auditor),
        found[1.min(found.len() - 1)].id,
        &"x".repeat(1001),
        clock.now(),
    )
    .await;
    assert!(matches!(too_long, Err(domain::Error::Invalid { .. })));
    let reviewed = review::search(&tenant.as_person(&auditor), &exports)
        .await
        .unwrap();
    assert_eq!(
        reviewed[0]
            .review
            .as_ref()
            .and_then(|r| r.note.as_ref())
            .map(|n| n.expose().to_owned()),
        Some("Quarterly board pack, agreed.".to_owned())
    );
    let unreviewed = review::search(
        &tenant.as_person(&auditor),
        &review::Filter {
            unreviewed_only: true,
            ..exports.clone()
        },
    )
    .await
    .unwrap();
    assert!(unreviewed.is_empty());
    // The note is sealed: it is nowhere in the log, nor readable in the stored row.
    assert!(!testing::audit_log_text(db).await.contains("board pack"));
    let csv = review::export(
        &tenant.as_person(&auditor),
        &review::Filter::default(),
        review::ExportFormat::Csv,
        clock.now(),
    )
    .await
    .unwrap();
    assert!(csv.starts_with("seq,occurred_at"));
    assert!(csv.contains("results/export"));
    let json = review::export(
        &tenant.as_person(&auditor),
        &exports,
        review::ExportFormat::Json,
        clock.now(),
    )
    .await
    .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed.as_array().map(Vec::len), Some(1));
    let rows = testing::audit_rows(db, Some(owner.workplace_id)).await;
    assert_eq!(
        rows.iter().filter(|r| r.action == "audit.exported").count(),
        2,
        "each export is itself logged"
    );
    // Managers and employees may not read the log; bad filters are clear errors.
    let employee = testing::active_person(
        db,
        &tenant,
        newcomer("Grace Hopper", "grace@northwind.test"),
        at(),
    )
    .await;
    assert!(matches!(
        review::search(&tenant.as_person(&employee), &exports).await,
        Err(domain::Error::Forbidden)
    ));
    let bad = review::Filter::from_form("", "", "", "not-an-id", "", "", false, false);
    assert!(matches!(
        bad,
        Err(domain::Error::Invalid {
            field: "entity_id",
            ..
        })
    ));
    let backwards = review::Filter::from_form("", "", "", "", "2026-11-03", "2026-11-01", false, false);
    assert!(matches!(
        backwards,
        Err(domain::Error::Invalid { field: "until", .. })
    ));
    // Settings: Owners change them, within bounds; the review falls due after the interval.
    let mut settings = review::settings(&tenant.as_person(&auditor)).await.unwrap();
    assert_eq!(settings.retention_days, 365);
    settings.review_interval_days = 0;
    assert!(review::save_settings(&tenant.as_person(&owner), settings)
        .await
        .is_err());
    settings.review_interval_days = 7;
    assert!(matches!(
        review::save_settings(&tenant.as_person(&auditor), settings).await,
        Err(domain::Error::Forbidden)
    ));
    review::save_settings(&tenant.as_person(&owner), settings)
        .await
        .unwrap();
    let status = review::review_status(&tenant.as_person(&auditor), clock.now() + Duration::days(8))
        .await
        .unwrap();
    assert!(status.overdue);
    // The monitor emails the Owner and the Auditor once that the review is due, not again.
    let outbox = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(db, outbox.path());
    let later = clock.now() + Duration::days(8);
    let first = monitor::run(db, &mailer, "https://candor.example", later)
        .await
        .unwrap();
    assert_eq!(first.reminders, 2);
    let second = monitor::run(db, &mailer, "https://candor.example", later + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(second.reminders, 0);
    let _ = UserId::from_uuid(uuid::Uuid::nil());
}

async fn support_access_is_granted_by_the_owner_for_a_while_and_logged_on_both_sides(test_db: TestDb) {
    use domain::compliance::support;
    let db = &test_db.db;
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    let hr = testing::active_person(
        db,
        &tenant,
        NewPerson {
            role: RoleKey::BuiltIn(Role::HrAdmin),
            ..newcomer("Hana Admin", "hana@northwind.test")
        },
        at(),
    )
    .await;
    assert!(matches!(
        support::inspect(db, owner.workplace_id, at()).await,
        Err(domain::Error::Forbidden)
    ));
    assert!(matches!(
        support::grant(&tenant.as_person(&hr), 4, at()).await,
        Err(domain::Error::Forbidden)
    ));
    for hours in [0, 73] {
        assert!(matches!(
            support::grant(&tenant.as_person(&owner), hours, at()).await,
            Err(domain::Error::Invalid { .. })
        ));
    }
    let grant = support::grant(&tenant.as_person(&owner), 4, at()).await.unwrap();
    assert!(matches!(
        support::grant(&tenant.as_person(&owner), 4, at()).await,
        Err(domain::Error::Conflict(_))
    ));
    let seen = support::inspect(db, owner.workplace_id, at() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(seen.people, [("active".to_owned(), 2)]);
    assert_eq!(seen.expires_at, grant.expires_at);
    // HR admins see the grant and who gave it.
    let listed = support::grants(&tenant.as_person(&hr)).await.unwrap();
    assert_eq!((listed[0].0.id, listed[0].1.as_str()), (grant.id, "Ada"));
    // Past its end the grant opens nothing.
    assert!(
        support::inspect(db, owner.workplace_id, at() + Duration::hours(5))
            .await
            .is_err()
    );
    // A new grant, revoked early, opens nothing either.
    let later = at() + Duration::hours(6);
    let second = support::grant(&tenant.as_person(&owner), 2, later).await.unwrap();
    support::revoke(&tenant.as_person(&owner), second.id, later)
        .await
        .unwrap();
    assert!(matches!(
        support::revoke(&tenant.as_person(&owner), second.id, later).await,
        Err(domain::Error::Conflict(_))
    ));
    assert!(support::inspect(db, owner.workplace_id, later).await.is_err());
    // Both sides keep the record: the workplace's chain and the instance's, naming the workplace.
    let ours: Vec<String> = testing::audit_rows(db, Some(owner.workplace_id))
        .await
        .into_iter()
        .map(|r| r.action)
        .collect();
    let instance = testing::audit_rows(db, None).await;
    for kind in [
        "support.access_granted",
        "support.access_used",
        "support.access_revoked",
    ] {
        assert!(ours.iter().any(|a| a == kind), "{kind} in {ours:?}");
        assert!(
            instance.iter().any(|r| r.action == kind
                && r.entity_ids.as_deref() == Some(owner.workplace_id.to_string().as_str())),
            "{kind} on the instance's side"
        );
    }
    assert_eq!(
        domain::platform::access_log::verify(db, None, &[])
            .await
            .unwrap()
            .iter()
            .filter(|r| r.broken.is_some())
            .count(),
        0
    );
}

/// Securing an account as possibly compromised — by its owner or by an HR admin — raises a
/// warning for the workplace's watchers at once, each time, mailed to them; a refused attempt
/// raises nothing.
async fn securing_an_account_alerts_the_watchers(test_db: TestDb) {
    let db = &test_db.db;
    let clock = Arc::new(FixedClock::at(at()));
    let (owner, tenant) = testing::workplace(db, "Northwind", "ada@northwind.test", at()).await;
    let outbox = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(db, outbox.path());
    let employee = testing::active_person(
        db,
        &tenant,
        newcomer("Grace Hopper", "grace@northwind.test"),
        at(),
    )
    .await;
    for (action, who, status) in [
        ("account/secure_account", &employee, 200),
        ("people/secure_account", &owner, 200),
        ("people/secure_account", &employee, 403),
    ] {
        let trail = request(&clock, action);
        trail.identify(who.user_id, who.workplace_id);
        domain::platform::access_log::finish(&trail, db, status)
            .await
            .unwrap();
        clock.advance(Duration::seconds(5));
    }
    let run = monitor::run(db, &mailer, "https://candor.example", clock.now())
        .await
        .unwrap();
    let secured: Vec<_> = run
        .alerts
        .iter()
        .filter(|(_, rule)| rule.code() == "account.secured_as_compromised")
        .collect();
    assert_eq!(secured.len(), 2, "{:?}", run.alerts);
    let alerts = monitor::alerts(&tenant.as_person(&owner), 10).await.unwrap();
    let mut actors: Vec<_> = alerts
        .iter()
        .filter(|a| a.rule == "account.secured_as_compromised")
        .map(|a| (a.actor, a.severity.code().to_owned()))
        .collect();
    actors.sort();
    let mut expected = vec![
        (Some(employee.user_id), "warning".to_owned()),
        (Some(owner.user_id), "warning".to_owned()),
    ];
    expected.sort();
    assert_eq!(actors, expected);
    mailer.deliver().await;
    assert!(
        std::fs::read_dir(outbox.path()).unwrap().count() >= 2,
        "the watchers are mailed"
    );
}

domain::on_both_backends!(
    securing_an_account_alerts_the_watchers,
    support_access_is_granted_by_the_owner_for_a_while_and_logged_on_both_sides,
    changes_are_logged_with_their_transaction,
    requests_ending_together_are_logged_together,
    a_change_whose_entry_cannot_be_written_is_undone,
    tampering_is_found_and_named,
    log_fields_cannot_be_injected,
    retention_deletes_old_entries_and_keeps_the_chain_verifiable,
    monitoring_raises_alerts_once_and_emails_watchers,
    an_admin_signing_in_from_a_new_network_raises_an_alert,
    auditors_review_filter_and_export,
);
