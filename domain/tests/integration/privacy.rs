//! Data-subject requests: a copy holds every personal field of the person and nothing of anyone
//! else; restriction keeps them out of new rounds; erasure is refused while a round asks them,
//! then leaves no personal trace (not even the sealed bytes) while the anonymous answers stay.

use chrono::{DateTime, Duration, Utc};
use domain::{
    compliance::privacy::{self, RequestKind},
    organisation::{departments, people::NewPerson},
    platform::{
        ids::UserId,
        policy::{Role, RoleKey},
    },
    surveys::{self, rounds},
    testing::TestDb,
};

use crate::keyring::stored_bytes;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn person(name: &str, email: &str, department: Option<domain::platform::ids::DepartmentId>) -> NewPerson {
    NewPerson {
        name: name.into(),
        email: email.into(),
        department,
        role: RoleKey::BuiltIn(Role::Employee),
        start_date: chrono::NaiveDate::from_ymd_opt(2024, 3, 1),
    }
}

async fn pulse(
    tenant: &domain::platform::tenant::TenantDb,
    owner: &domain::platform::policy::Identity,
    at: DateTime<Utc>,
) {
    domain::testing::workload_survey(tenant, owner, &format!("Pulse {}", at.format("%d")), at).await;
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn a_copy_holds_their_data_and_nobody_elses(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let harbour = departments::create(&tenant, "Harbour", None, now())
        .await
        .unwrap();
    let philippa = domain::testing::active_person(
        db,
        &tenant,
        person("Philippa Ostrander", "philippa@northwind.test", Some(harbour)),
        now(),
    )
    .await;
    domain::testing::active_person(
        db,
        &tenant,
        person("Kestrel Abernathy", "kestrel@northwind.test", None),
        now(),
    )
    .await;
    pulse(&tenant, &owner, now()).await;
    rounds::open_due(db, now()).await.unwrap();
    let received = now() - Duration::days(3);
    privacy::record(
        &tenant.as_person(&owner),
        philippa.user_id,
        RequestKind::Access,
        received,
        now(),
    )
    .await
    .unwrap();

    let copy = privacy::export(&tenant.as_person(&owner), philippa.user_id, now())
        .await
        .unwrap();
    let json = privacy::to_json(&copy).unwrap();
    for field in [
        "Philippa Ostrander",
        "philippa@northwind.test",
        "Harbour",
        "2024-03-01",
        "Northwind",
        "Pulse 23",
        "Employee",
    ] {
        assert!(json.contains(field), "{field} is missing from the copy:\n{json}");
    }
    assert_eq!(copy.participation.len(), 1);
    assert!(!copy.participation[0].answered);
    for other in ["Kestrel", "kestrel@", "Ada", "ada@northwind.test"] {
        assert!(!json.contains(other), "{other} is in Philippa's copy");
    }
    // Reading the copy changes nothing (the page that shows it is a plain GET): the request
    // stays open until the copy is recorded as handed over.
    let register = privacy::requests(&tenant.as_person(&owner)).await.unwrap();
    assert_eq!(register.len(), 1);
    assert_eq!(
        register[0].done_at, None,
        "reading the copy carried the request out"
    );
    let refused = privacy::copy_delivered(&tenant.as_person(&philippa), philippa.user_id, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");
    privacy::copy_delivered(&tenant.as_person(&owner), philippa.user_id, now())
        .await
        .unwrap();
    // The access request is carried out, within its month.
    let register = privacy::requests(&tenant.as_person(&owner)).await.unwrap();
    assert_eq!(register.len(), 1);
    assert_eq!(register[0].kind, RequestKind::Access);
    assert_eq!(register[0].done_at, Some(now()));
    assert_eq!(register[0].due_at, privacy::due_for(received));
    assert!(!register[0].overdue(now() + Duration::days(60)));

    // Only those who manage people handle requests.
    let refused = privacy::export(&tenant.as_person(&philippa), philippa.user_id, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");
    let future = privacy::record(
        &tenant.as_person(&owner),
        philippa.user_id,
        RequestKind::Erasure,
        now() + Duration::days(1),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(future.code(), "input.invalid");
    // An open request past its month is overdue.
    privacy::record(
        &tenant.as_person(&owner),
        philippa.user_id,
        RequestKind::Erasure,
        now(),
        now(),
    )
    .await
    .unwrap();
    let open = privacy::requests(&tenant.as_person(&owner)).await.unwrap();
    let erasure = open.iter().find(|r| r.kind == RequestKind::Erasure).unwrap();
    assert!(erasure.done_at.is_none() && erasure.overdue(now() + Duration::days(32)));
}

async fn restricted_people_are_asked_in_no_new_round(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let philippa = domain::testing::active_person(
        db,
        &tenant,
        person("Philippa Ostrander", "philippa@northwind.test", None),
        now(),
    )
    .await;
    privacy::set_restricted(&tenant.as_person(&owner), philippa.user_id, true, now())
        .await
        .unwrap();
    let again = privacy::set_restricted(&tenant.as_person(&owner), philippa.user_id, true, now())
        .await
        .unwrap_err();
    assert_eq!(again.code(), "resource.conflict");
    pulse(&tenant, &owner, now()).await;
    let opened = rounds::open_due(db, now()).await.unwrap();
    assert!(
        !opened[0].participants().contains(&philippa.user_id.uuid()),
        "{opened:?}"
    );
    assert!(opened[0].participants().contains(&owner.user_id.uuid()));
    let copy = privacy::export(&tenant.as_person(&owner), philippa.user_id, now())
        .await
        .unwrap();
    assert_eq!(copy.person.processing_restricted_since, Some(now()));

    let later = now() + Duration::days(5);
    privacy::set_restricted(&tenant.as_person(&owner), philippa.user_id, false, later)
        .await
        .unwrap();
    pulse(&tenant, &owner, later).await;
    let opened = rounds::open_due(db, later).await.unwrap();
    assert!(opened
        .iter()
        .any(|m| m.participants().contains(&philippa.user_id.uuid())));
    let kinds: Vec<RequestKind> = privacy::requests(&tenant.as_person(&owner))
        .await
        .unwrap()
        .iter()
        .map(|r| r.kind)
        .collect();
    assert!(kinds.contains(&RequestKind::Restriction) && kinds.contains(&RequestKind::LiftRestriction));
}

async fn erasure_waits_for_open_rounds_then_leaves_no_trace(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let philippa = domain::testing::active_person(
        db,
        &tenant,
        person("Philippa Ostrander", "philippa@northwind.test", None),
        now(),
    )
    .await;
    let token = domain::access::accounts::start_session(
        db,
        philippa.user_id.uuid(),
        &domain::access::auth::context::SignInContext {
            network_prefix: "198.51.100.0/24".into(),
            device: "Vivaldi on Haiku".into(),
        },
        now(),
    )
    .await
    .unwrap();
    drop(token);
    pulse(&tenant, &owner, now()).await;
    let round = rounds::open_due(db, now()).await.unwrap().remove(0).round();
    let check_in = surveys::answering::open_check_ins(&tenant.as_person(&philippa), now())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.round == round)
        .unwrap();
    surveys::answering::submit(
        &tenant.as_person(&philippa),
        round,
        vec![surveys::answering::GivenAnswer {
            question: check_in.questions[0].id,
            value: Some(4),
            comment: None,
        }],
        now(),
    )
    .await
    .unwrap();

    let sealed: Vec<Vec<u8>> = domain::testing::sealed_user_fields(db, tenant.workplace_id())
        .await
        .into_iter()
        .filter(|(row, _, _)| *row == philippa.user_id.uuid())
        .map(|(_, _, bytes)| bytes)
        .collect();
    assert_eq!(sealed.len(), 2);

    // While the round is open: refused, with the reason and what to do instead.
    let refused = privacy::erase(&tenant.as_person(&owner), philippa.user_id, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "resource.conflict");
    assert!(
        refused.public_message().contains("restrict processing"),
        "{}",
        refused.public_message()
    );
    let wrong = privacy::erase_confirmed(&tenant.as_person(&owner), philippa.user_id, "Philippa", now())
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "input.invalid");
    let own = privacy::erase(&tenant.as_person(&owner), owner.user_id, now())
        .await
        .unwrap_err();
    assert_eq!(own.code(), "resource.conflict");

    let after = now() + Duration::days(4);
    domain::surveys::closing::close_due(db, after).await.unwrap();
    let answers_before = domain::operations::backup::fingerprint(db).await.unwrap()["answers"].0;
    let erased = privacy::erase_confirmed(
        &tenant.as_person(&owner),
        philippa.user_id,
        "Philippa Ostrander",
        after,
    )
    .await
    .unwrap();
    assert_eq!(erased.participations, 1);

    let rows = domain::operations::backup::fingerprint(db).await.unwrap();
    assert_eq!(rows["answers"].0, answers_before, "anonymous answers stay");
    assert_eq!(rows["users"].0, 1);
    assert_eq!(rows["sessions"].0, 0);
    let gone = domain::organisation::people::get(&tenant, philippa.user_id)
        .await
        .unwrap_err();
    assert_eq!(gone.code(), "resource.not_found");
    let register = privacy::requests(&tenant.as_person(&owner)).await.unwrap();
    assert_eq!(register[0].kind, RequestKind::Erasure);
    assert_eq!(register[0].subject_name, None);
    assert_eq!(register[0].subject, UserId::from_uuid(philippa.user_id.uuid()));

    // Not her name, address or place in clear, nor even the sealed bytes of them.
    let stored = stored_bytes(&test_db);
    let text = String::from_utf8_lossy(&stored).to_lowercase();
    for bytes in &sealed {
        assert!(
            !contains(&stored, bytes),
            "a sealed field of the erased person remains"
        );
        assert!(
            !text.contains(&hex(bytes)),
            "a sealed field of the erased person remains (hex)"
        );
    }
    for clear in ["philippa", "ostrander", "vivaldi", "198.51.100"] {
        assert!(!text.contains(clear), "{clear} remains");
    }
}

/// Requests about a person are changes to that person, under the same rule as the rest: an HR
/// admin handles employees and managers, never another HR admin, an Auditor or the Owner —
/// not their copy, not a restriction, not an erasure; the Owner may.
async fn hr_admins_handle_only_people_whose_role_they_could_give(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let with_role = |name: &str, email: &str, role: Role| NewPerson {
        role: RoleKey::BuiltIn(role),
        ..person(name, email, None)
    };
    let hana = domain::testing::active_person(
        db,
        &tenant,
        with_role("Hana Admin", "hana@northwind.test", Role::HrAdmin),
        now(),
    )
    .await;
    let other_hr = domain::testing::active_person(
        db,
        &tenant,
        with_role("Omar Admin", "omar@northwind.test", Role::HrAdmin),
        now(),
    )
    .await;
    let auditor = domain::testing::active_person(
        db,
        &tenant,
        with_role("Aud Itor", "audit@northwind.test", Role::Auditor),
        now(),
    )
    .await;
    let employee = domain::testing::active_person(
        db,
        &tenant,
        person("Philippa Ostrander", "philippa@northwind.test", None),
        now(),
    )
    .await;
    for target in [&other_hr, &auditor] {
        let forbidden = |result: domain::Result<()>| {
            assert_eq!(result.unwrap_err().code(), "auth.forbidden");
        };
        forbidden(
            privacy::export(&tenant.as_person(&hana), target.user_id, now())
                .await
                .map(|_| ()),
        );
        forbidden(privacy::copy_delivered(&tenant.as_person(&hana), target.user_id, now()).await);
        forbidden(privacy::set_restricted(&tenant.as_person(&hana), target.user_id, true, now()).await);
        forbidden(
            privacy::erase(&tenant.as_person(&hana), target.user_id, now())
                .await
                .map(|_| ()),
        );
        forbidden(
            privacy::record(
                &tenant.as_person(&hana),
                target.user_id,
                RequestKind::Erasure,
                now(),
                now(),
            )
            .await
            .map(|_| ()),
        );
    }
    // An employee is hers to handle; another HR admin is the Owner's.
    privacy::export(&tenant.as_person(&hana), employee.user_id, now())
        .await
        .unwrap();
    privacy::erase(&tenant.as_person(&hana), employee.user_id, now())
        .await
        .unwrap();
    privacy::erase(&tenant.as_person(&owner), other_hr.user_id, now())
        .await
        .unwrap();
    assert!(privacy::requests(&tenant.as_person(&owner)).await.unwrap().len() >= 2);
}

/// An erasure takes no lock that other workplaces wait on: while a long read of the people table
/// is open (another workplace's sign-in, a results load), erasing someone completes at once. A
/// table rewrite (`VACUUM FULL users` on PostgreSQL) would queue behind that read and every
/// sign-in of every workplace behind it. PostgreSQL only: a SQLite file serves one process, and
/// its checkpoint after an erasure waits at most the busy timeout for readers.
async fn erasure_does_not_lock_the_people_table_for_other_workplaces(test_db: TestDb) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let philippa = domain::testing::active_person(
        db,
        &tenant,
        person("Philippa Ostrander", "philippa@northwind.test", None),
        now(),
    )
    .await;

    // Another connection reads the people table and keeps its transaction open.
    let reader = sea_orm::Database::connect(test_db.url.as_str()).await.unwrap();
    let reading = reader.begin().await.unwrap();
    reading
        .execute_unprepared("SELECT count(*) FROM users")
        .await
        .unwrap();

    let erased = tokio::time::timeout(
        std::time::Duration::from_secs(4),
        privacy::erase(&tenant.as_person(&owner), philippa.user_id, now()),
    )
    .await
    .expect("the erasure waited on another transaction's read of the people table")
    .unwrap();
    assert_eq!(erased.participations, 0);
    reading.rollback().await.unwrap();
    let gone = domain::organisation::people::get(&tenant, philippa.user_id)
        .await
        .unwrap_err();
    assert_eq!(gone.code(), "resource.not_found");
}

#[tokio::test]
async fn postgres_erasure_does_not_lock_the_people_table_for_other_workplaces() {
    if let Some(db) = TestDb::migrated(domain::Backend::Postgres).await {
        erasure_does_not_lock_the_people_table_for_other_workplaces(db).await;
    }
}

domain::on_both_backends!(
    a_copy_holds_their_data_and_nobody_elses,
    restricted_people_are_asked_in_no_new_round,
    erasure_waits_for_open_rounds_then_leaves_no_trace,
    hr_admins_handle_only_people_whose_role_they_could_give,
);
