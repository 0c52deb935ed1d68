use domain::{testing::TestDb, Backend};

async fn migrations_bring_an_empty_database_up_to_date(test_db: TestDb) {
    let version = test_db.db.schema_version().await.unwrap();
    assert!(version.is_current(), "{version:?}");
    assert!(version.known > 0);
    // Running them again is a no-op.
    assert_eq!(test_db.db.migrate().await.unwrap(), 0);
    test_db.db.ping().await.unwrap();
}

async fn instance_facts_come_from_the_live_database(test_db: TestDb) {
    let facts = domain::operations::instance::database_facts(&test_db.db)
        .await
        .unwrap();
    assert_eq!(facts.backend, test_db.db.backend().label());
    assert_eq!(facts.schema_applied, facts.schema_known);
    assert!(facts.schema_latest.is_some());
}

domain::on_both_backends!(
    migrations_bring_an_empty_database_up_to_date,
    instance_facts_come_from_the_live_database,
);

/// Both backends, migrated from empty, end with the same tables, columns, types and nullability.
#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let Some(pg) = TestDb::empty(Backend::Postgres).await else {
        return;
    };
    let lite = TestDb::empty(Backend::Sqlite).await.unwrap();
    assert!(lite.db.schema_snapshot().await.unwrap().tables.is_empty());
    assert!(lite.db.migrate().await.unwrap() > 0);
    assert!(pg.db.migrate().await.unwrap() > 0);
    let lite_schema = lite.db.schema_snapshot().await.unwrap();
    let pg_schema = pg.db.schema_snapshot().await.unwrap();
    assert!(!lite_schema.tables.is_empty());
    assert_eq!(lite_schema, pg_schema);
}

/// An unreachable database is reported with its host and without its password.
#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let err = domain::Database::connect("postgres://candor:s3cret@127.0.0.1:1/candor")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "service.unavailable");
    let text = err.to_string();
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}
