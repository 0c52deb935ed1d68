//! The scheduler: a job runs in one process at a time (leases in the database), and a workplace
//! whose data key is older than the configured age gets a new one.

use candor_server::jobs::{tick, Schedule, TENANT_KEY_ROTATION};
use chrono::{Duration, SubsecRound, Utc};
use domain::{tenant::TenantDb, testing::TestDb};

async fn a_lease_is_held_by_one_process_until_it_expires(test_db: TestDb) {
    let db = &test_db.db;
    // PostgreSQL keeps microseconds.
    let now = Utc::now().trunc_subsecs(6);
    let length = Duration::minutes(15);
    let lease = domain::jobs::try_lease(db, "nightly", "process-a", length, now)
        .await
        .unwrap()
        .expect("a free job is leased");
    assert!(
        domain::jobs::try_lease(db, "nightly", "process-b", length, now + Duration::minutes(5))
            .await
            .unwrap()
            .is_none()
    );
    // A holder that died frees the job when its lease runs out.
    let taken_over = domain::jobs::try_lease(db, "nightly", "process-b", length, now + Duration::minutes(16))
        .await
        .unwrap()
        .expect("an expired lease is taken over");
    assert_eq!(taken_over.last_finished_at, None);
    // The old holder's finish no longer counts; the new holder's does.
    domain::jobs::finish(db, lease, now + Duration::minutes(17))
        .await
        .unwrap();
    assert!(
        domain::jobs::try_lease(db, "nightly", "process-a", length, now + Duration::minutes(18))
            .await
            .unwrap()
            .is_none()
    );
    let finished_at = now + Duration::minutes(20);
    domain::jobs::finish(db, taken_over, finished_at).await.unwrap();
    let next = domain::jobs::try_lease(db, "nightly", "process-a", length, now + Duration::minutes(21))
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
    };
    let version = |id| async move {
        TenantDb::for_system(db, id, "test")
            .data_keys()
            .await
            .unwrap()
            .current_version()
    };
    // While another process holds the job, this one does not run it.
    let held = domain::jobs::try_lease(db, TENANT_KEY_ROTATION, "process-a", Duration::minutes(15), now)
        .await
        .unwrap()
        .unwrap();
    let skipped = tick(db, "process-b", schedule, now).await.unwrap();
    assert!(skipped.ran.is_empty(), "{skipped:?}");
    assert_eq!(version(old.workplace_id()).await, Some(1));
    domain::jobs::finish(db, held, now).await.unwrap();

    let ran = tick(db, "process-b", schedule, now).await.unwrap();
    assert_eq!(ran.ran, [TENANT_KEY_ROTATION]);
    assert_eq!(ran.workplaces_rotated, 1);
    assert_eq!(version(old.workplace_id()).await, Some(2));
    assert_eq!(version(fresh.workplace_id()).await, Some(1));
    // The old workplace's people are sealed under the new key and still open.
    let versions = domain::key_rotation::versions_in_use(&old).await.unwrap();
    assert_eq!(versions.keys().copied().collect::<Vec<_>>(), vec![2]);

    // Nothing is due a minute later; with scheduling off, nothing runs at all.
    let later = tick(db, "process-a", schedule, now + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(later.workplaces_rotated, 0);
    let off = tick(
        db,
        "process-a",
        Schedule {
            tenant_key_max_age: None,
        },
        now + Duration::days(800),
    )
    .await
    .unwrap();
    assert!(off.ran.is_empty());
}

domain::on_both_backends!(
    a_lease_is_held_by_one_process_until_it_expires,
    old_data_keys_are_rotated_by_one_process,
);
