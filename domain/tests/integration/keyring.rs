//! The keyring against a real database: the master key is checked at start, each workplace
//! gets its own data key (stored wrapped), and sealed values are bound to their workplace.

use chrono::Utc;
use domain::{
    crypto::{KeyringError, MasterKey, OpenError},
    testing::TestDb,
    Database,
};

use crate::organisation::workplace;

async fn reopen(test_db: &TestDb, key: MasterKey) -> Result<Database, KeyringError> {
    Database::connect(&test_db.url)
        .await
        .unwrap()
        .unlock(key, Utc::now())
        .await
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
    let again = domain::tenant::TenantDb::for_system(&restarted, northwind.workplace_id(), "keyring test")
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

domain::on_both_backends!(
    the_master_key_is_checked_at_start,
    sealed_values_are_bound_to_their_workplace,
);
