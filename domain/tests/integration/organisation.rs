use chrono::{DateTime, Utc};
use domain::{
    accounts::{self, SessionInfo, SignupInput, SignupOutcome},
    auth::password::{HashCost, PasswordHasher, PasswordPolicy},
    departments, identity,
    ids::DepartmentId,
    policy::{Identity, Role},
    tenant::TenantDb,
    testing::TestDb,
};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

/// A new workplace; returns its owner as the policy sees them, and the tenant scope.
async fn workplace(db: &domain::Database, email: &str) -> (Identity, TenantDb) {
    let hasher = PasswordHasher::new(
        HashCost {
            memory_kib: 64,
            passes: 1,
            lanes: 1,
        },
        1,
    )
    .unwrap();
    let input = SignupInput {
        workplace_name: "Northwind".into(),
        display_name: "Ada".into(),
        email: email.into(),
        password: "quietly orbiting marmalade kettles".into(),
    };
    let SignupOutcome::Created {
        user_id,
        workplace_id,
        ..
    } = accounts::sign_up(db, &hasher, &PasswordPolicy::default(), input, now())
        .await
        .unwrap()
    else {
        panic!("a new workplace");
    };
    let session = SessionInfo {
        session_id: uuid::Uuid::new_v4(),
        user_id,
        workplace_id,
        second_factor: true,
        second_factor_at: Some(now()),
    };
    let who = identity::load(db, &session).await.unwrap();
    let tenant = TenantDb::for_identity(db, &who);
    (who, tenant)
}

fn names(list: &[departments::Department], parent: Option<DepartmentId>) -> Vec<String> {
    let mut names: Vec<String> = list
        .iter()
        .filter(|d| d.parent == parent && !d.archived)
        .map(|d| d.name.clone())
        .collect();
    names.sort();
    names
}

async fn departments_form_a_tree_without_cycles(test_db: TestDb) {
    let db = &test_db.db;
    let (who, tenant) = workplace(db, "ada@northwind.test").await;
    assert_eq!(who.role, Role::Owner);
    assert!(who.granted_departments.is_empty());

    let sales = departments::create(&tenant, " Sales ", None, now())
        .await
        .unwrap();
    let north = departments::create(&tenant, "North", Some(sales), now())
        .await
        .unwrap();
    let harbour = departments::create(&tenant, "Harbour", Some(north), now())
        .await
        .unwrap();
    // Names are unique among siblings (ignoring case), not across the tree.
    let taken = departments::create(&tenant, "north", Some(sales), now())
        .await
        .unwrap_err();
    assert_eq!(taken.code(), "resource.conflict");
    departments::create(&tenant, "North", None, now()).await.unwrap();
    for bad in ["", "   ", &"x".repeat(121), "line\nbreak"] {
        let err = departments::create(&tenant, bad, None, now()).await.unwrap_err();
        assert_eq!(err.code(), "input.invalid", "{bad:?}");
    }

    // No cycles: not under itself, not under a descendant.
    for (moving, under) in [(sales, sales), (sales, harbour), (north, harbour)] {
        let err = departments::move_to(&tenant, moving, Some(under))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "input.invalid");
        assert!(
            err.public_message().contains("cannot move under itself"),
            "{err:?}"
        );
    }
    departments::move_to(&tenant, harbour, Some(sales)).await.unwrap();
    departments::rename(&tenant, north, "North & East").await.unwrap();
    let list = departments::list(&tenant).await.unwrap();
    assert_eq!(names(&list, Some(sales)), ["Harbour", "North & East"]);
    assert_eq!(names(&list, None), ["North", "Sales"]);

    // Archive only what is empty; nothing goes into an archived department.
    let err = departments::archive(&tenant, sales, now()).await.unwrap_err();
    assert!(err.public_message().contains("sub-departments"), "{err:?}");
    departments::archive(&tenant, north, now()).await.unwrap();
    let err = departments::create(&tenant, "Night shift", Some(north), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "resource.conflict");
    let err = departments::move_to(&tenant, harbour, Some(north))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "resource.conflict");
    departments::restore(&tenant, north).await.unwrap();
    departments::create(&tenant, "Night shift", Some(north), now())
        .await
        .unwrap();
    assert_eq!(departments::list(&tenant).await.unwrap().len(), 5);
}

async fn workplaces_reach_only_their_own_departments(test_db: TestDb) {
    let db = &test_db.db;
    let (_, northwind) = workplace(db, "ada@northwind.test").await;
    let (_, contoso) = workplace(db, "grace@contoso.test").await;
    let ours = departments::create(&northwind, "Sales", None, now())
        .await
        .unwrap();
    let theirs = departments::create(&contoso, "Sales", None, now()).await.unwrap();

    let listed = departments::list(&northwind).await.unwrap();
    assert_eq!(listed.iter().map(|d| d.id).collect::<Vec<_>>(), [ours]);
    let not_found = |result: domain::Result<()>| assert_eq!(result.unwrap_err().code(), "resource.not_found");
    not_found(departments::rename(&northwind, theirs, "Mine now").await);
    not_found(departments::move_to(&northwind, theirs, None).await);
    not_found(departments::move_to(&northwind, ours, Some(theirs)).await);
    not_found(departments::archive(&northwind, theirs, now()).await);
    not_found(departments::restore(&northwind, theirs).await);
    not_found(
        departments::create(&northwind, "Inside theirs", Some(theirs), now())
            .await
            .map(|_| ()),
    );
    // Theirs is untouched.
    let contoso_list = departments::list(&contoso).await.unwrap();
    assert_eq!(contoso_list.len(), 1);
    assert_eq!(contoso_list[0].name, "Sales");
    assert!(!contoso_list[0].archived);
}

domain::on_both_backends!(
    departments_form_a_tree_without_cycles,
    workplaces_reach_only_their_own_departments,
);
