//! Incidents and breach notices: the 24-hour clock from verification, the notice emailed to the
//! affected workplaces' Owners only and shown to them, every step in the audit chains.

use chrono::{DateTime, Duration, Utc};
use domain::{
    compliance::incidents::{self, Notice},
    organisation::people::NewPerson,
    platform::policy::{Role, RoleKey},
    testing::TestDb,
};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn notice() -> Notice {
    Notice {
        likely_impact: "Names and work addresses of people invited last week may have been read.".into(),
        mitigation: "The exposed log was deleted and the logging fixed; keys were rotated.".into(),
        contact: "dpo@candor.example".into(),
    }
}

async fn a_breach_notice_reaches_the_affected_owners_within_24_hours(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, northwind) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", t0()).await;
    let hr = domain::testing::active_person(
        db,
        &northwind,
        NewPerson {
            name: "Hana Admin".into(),
            email: "hana@northwind.test".into(),
            department: None,
            role: RoleKey::BuiltIn(Role::HrAdmin),
            start_date: None,
        },
        t0(),
    )
    .await;
    let (other_owner, contoso) = domain::testing::workplace(db, "Contoso", "grace@contoso.test", t0()).await;
    let outbox = tempfile::tempdir().unwrap();
    let mailer = domain::testing::MailOutbox::new(db, outbox.path());

    let bad = incidents::open(db, " ", "x", t0()).await.unwrap_err();
    assert_eq!(bad.code(), "input.invalid");
    let id = incidents::open(
        db,
        "Debug log exposed",
        "A debug log with invitation data was readable.",
        t0(),
    )
    .await
    .unwrap();
    let early = incidents::notify(db, id, notice(), &mailer, "https://candor.test/home", t0())
        .await
        .unwrap_err();
    assert_eq!(early.code(), "resource.conflict");
    let future = incidents::mark_breach(db, id, t0() + Duration::hours(5), t0() + Duration::hours(1))
        .await
        .unwrap_err();
    assert_eq!(future.code(), "input.invalid");
    let deadline = incidents::mark_breach(db, id, t0() + Duration::hours(1), t0() + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(deadline, t0() + Duration::hours(25));
    let none_chosen = incidents::notify(db, id, notice(), &mailer, "https://candor.test/home", t0())
        .await
        .unwrap_err();
    assert_eq!(none_chosen.code(), "resource.conflict");
    assert_eq!(
        incidents::affect(db, id, &[northwind.workplace_id()])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        incidents::affect(db, id, &[northwind.workplace_id()])
            .await
            .unwrap(),
        0
    );

    let sent = incidents::notify(
        db,
        id,
        notice(),
        &mailer,
        "https://candor.test/home",
        t0() + Duration::hours(3),
    )
    .await
    .unwrap();
    assert_eq!((sent.workplaces, sent.emails, sent.late_by), (1, 1, None));
    mailer.deliver().await;
    let mails: Vec<String> = std::fs::read_dir(outbox.path())
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: ada@northwind.test"), "{}", mails[0]);
    for part in [
        "Debug log exposed",
        "may have been read",
        "keys were rotated",
        "dpo@candor.example",
    ] {
        assert!(mails[0].contains(part), "{part} missing: {}", mails[0]);
    }

    // The banner: Northwind's Owner sees it; its HR admin and Contoso's Owner do not.
    let now = t0() + Duration::hours(4);
    let shown = incidents::notices_for(&northwind.as_person(&owner), now)
        .await
        .unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].contact, "dpo@candor.example");
    assert!(incidents::notices_for(&northwind.as_person(&hr), now)
        .await
        .unwrap()
        .is_empty());
    assert!(incidents::notices_for(&contoso.as_person(&other_owner), now)
        .await
        .unwrap()
        .is_empty());

    // Logged in the instance's chain and in the workplace's.
    let instance = domain::platform::access_log::recent_instance_security_events(db, 20)
        .await
        .unwrap();
    for kind in [
        "incident.opened",
        "incident.breach_verified",
        "incident.breach_notified",
    ] {
        assert!(instance.iter().any(|e| e.kind == kind), "{kind}: {instance:?}");
    }
    let theirs = domain::platform::access_log::recent_security_events(&northwind, 20)
        .await
        .unwrap();
    assert!(
        theirs.iter().any(|e| e.kind == "incident.breach_notified"),
        "{theirs:?}"
    );

    // A notice sent after the 24 hours says how late it is; closing takes the banners away.
    let late = incidents::open(db, "Lost laptop", "An operator's laptop was stolen.", t0())
        .await
        .unwrap();
    incidents::mark_breach(db, late, t0(), t0()).await.unwrap();
    incidents::affect(db, late, &[contoso.workplace_id()])
        .await
        .unwrap();
    let sent = incidents::notify(
        db,
        late,
        notice(),
        &mailer,
        "https://candor.test/home",
        t0() + Duration::hours(30),
    )
    .await
    .unwrap();
    assert_eq!(sent.late_by, Some(Duration::hours(6)));
    incidents::add_analysis(db, id, "Root cause: a debug flag left on in one release.", now)
        .await
        .unwrap();
    incidents::close(db, id, now).await.unwrap();
    assert!(incidents::notices_for(&northwind.as_person(&owner), now)
        .await
        .unwrap()
        .is_empty());
    let listed = incidents::list(db).await.unwrap();
    let first = listed.iter().find(|i| i.id == id).unwrap();
    assert!(first.analysis.as_deref().unwrap().contains("Root cause"));
    assert!(first.closed_at.is_some());
}

domain::on_both_backends!(a_breach_notice_reaches_the_affected_owners_within_24_hours);
