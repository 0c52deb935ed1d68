use chrono::{DateTime, Utc};
use domain::{
    access::{
        accounts::{self, SessionInfo},
        auth::password::PasswordPolicy,
        identity, roles,
    },
    organisation::{departments, people},
    platform::{
        ids::DepartmentId,
        policy::{self, Action, Identity, Permission, Resource, Role, RoleDefinition, RoleKey, Scope},
        tenant::TenantDb,
    },
    testing::TestDb,
};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

/// A new workplace "Northwind"; returns its owner as the policy sees them, and the tenant scope.
pub(crate) async fn workplace(db: &domain::Database, email: &str) -> (Identity, TenantDb) {
    domain::testing::workplace(db, "Northwind", email, now()).await
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
    assert!(who.role.is(Role::Owner));
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

fn invitee(name: &str, email: &str, department: Option<DepartmentId>, role: Role) -> people::NewPerson {
    people::NewPerson {
        name: name.into(),
        email: email.into(),
        department,
        role: RoleKey::BuiltIn(role),
        start_date: None,
    }
}

async fn invitations_roles_grants_and_suspension(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    let operations = departments::create(&tenant, "Operations", None, now())
        .await
        .unwrap();
    let warehouse = departments::create(&tenant, "Warehouse", Some(operations), now())
        .await
        .unwrap();
    let night = departments::create(&tenant, "Night shift", Some(warehouse), now())
        .await
        .unwrap();
    let sales = departments::create(&tenant, "Sales", None, now()).await.unwrap();

    let mary = people::invite(
        &tenant,
        invitee("Mary", "Mary@Northwind.test", Some(operations), Role::Manager),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(mary.email, "mary@northwind.test");
    assert_eq!(mary.workplace_name, "Northwind");
    let eve = people::invite(
        &tenant,
        invitee("Eve", "eve@northwind.test", Some(night), Role::Employee),
        now(),
    )
    .await
    .unwrap();
    people::invite(
        &tenant,
        invitee("Sam", "sam@northwind.test", Some(sales), Role::Employee),
        now(),
    )
    .await
    .unwrap();
    // One address, one account.
    let again = people::invite(
        &tenant,
        invitee("Ada", "ADA@northwind.test", None, Role::Employee),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(again.code(), "resource.conflict");
    let bad = people::invite(
        &tenant,
        invitee("", "x@northwind.test", None, Role::Employee),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(bad.code(), "input.invalid");

    // An invited person cannot sign in until they accept; the link sets their password.
    let hasher = domain::testing::fast_hasher();
    let policy = PasswordPolicy::default();
    assert_eq!(
        accounts::check_password(db, &hasher, "mary@northwind.test", "")
            .await
            .unwrap(),
        None
    );
    let details = accounts::invitation_details(db, mary.token.expose(), now())
        .await
        .unwrap();
    assert_eq!(
        (details.name.as_str(), details.workplace_name.as_str()),
        ("Mary", "Northwind")
    );
    let weak = accounts::accept_invitation(db, &hasher, &policy, mary.token.expose(), "password123", now())
        .await
        .unwrap_err();
    assert_eq!(weak.code(), "input.invalid");
    let password = "lantern harbour gravel symphony";
    let mary_id = accounts::accept_invitation(db, &hasher, &policy, mary.token.expose(), password, now())
        .await
        .unwrap();
    assert_eq!(mary_id, mary.person.uuid());
    let reused = accounts::accept_invitation(db, &hasher, &policy, mary.token.expose(), password, now())
        .await
        .unwrap_err();
    assert_eq!(reused.code(), "input.invalid");
    assert_eq!(
        accounts::check_password(db, &hasher, "mary@northwind.test", password)
            .await
            .unwrap(),
        Some(mary_id)
    );
    // Eve's link expires after seven days.
    let late = now() + people::INVITATION_LIFETIME + chrono::Duration::seconds(1);
    assert!(accounts::invitation_details(db, eve.token.expose(), late)
        .await
        .is_err());

    // A manager sees the people of their granted subtree only, from the next load on.
    let session = |user_id| SessionInfo {
        session_id: uuid::Uuid::new_v4(),
        user_id,
        workplace_id: tenant.workplace_id().uuid(),
        second_factor: true,
        second_factor_at: Some(now()),
        password_change_required: false,
    };
    people::set_grants(&tenant, mary.person, &[warehouse].into_iter().collect(), now())
        .await
        .unwrap();
    let manager = identity::load(db, &session(mary_id)).await.unwrap();
    assert_eq!(
        manager.granted_departments,
        [warehouse, night].into_iter().collect()
    );
    let seen = people::list(
        &tenant,
        &policy::people_scope(&manager),
        &people::Filter::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        seen.people.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["Eve"]
    );
    let everyone = people::list(&tenant, &policy::people_scope(&owner), &people::Filter::default())
        .await
        .unwrap();
    assert_eq!(everyone.total, 4);
    let searched = people::list(
        &tenant,
        &policy::people_scope(&owner),
        &people::Filter {
            search: "SAM".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(searched.people.len(), 1);
    let within_operations = people::list(
        &tenant,
        &policy::people_scope(&owner),
        &people::Filter {
            department: Some(operations),
            status: Some(people::Status::Invited),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        within_operations
            .people
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["Eve"]
    );

    // Grants must name this workplace's departments.
    let (_, other) = workplace(db, "grace@contoso.test").await;
    // An address with an account in another workplace is refused as a conflict, not an error.
    let elsewhere = people::invite(
        &tenant,
        invitee("Grace", "grace@contoso.test", None, Role::Employee),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(elsewhere.code(), "resource.conflict");
    let foreign = departments::create(&other, "Theirs", None, now()).await.unwrap();
    let err = people::set_grants(&tenant, mary.person, &[foreign].into_iter().collect(), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "resource.not_found");

    // Suspension ends sessions at once and stops identity loading; the last Owner stays.
    let context = domain::access::auth::context::SignInContext::default();
    let token = accounts::start_session(db, mary_id, &context, now())
        .await
        .unwrap();
    people::set_status(&tenant, mary.person, people::Status::Suspended, now())
        .await
        .unwrap();
    let policy_sessions = domain::access::auth::session::SessionPolicy::default();
    assert_eq!(
        accounts::resolve_session(db, &policy_sessions, token.expose(), now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        identity::load(db, &session(mary_id)).await.unwrap_err().code(),
        "auth.required"
    );
    assert_eq!(
        accounts::check_password(db, &hasher, "mary@northwind.test", password)
            .await
            .unwrap(),
        None
    );
    for err in [
        people::set_status(&tenant, owner.user_id, people::Status::Suspended, now())
            .await
            .unwrap_err(),
        people::set_role(&tenant, owner.user_id, RoleKey::BuiltIn(Role::HrAdmin))
            .await
            .unwrap_err(),
    ] {
        assert!(
            err.public_message().contains("at least one active Owner"),
            "{err:?}"
        );
    }
    people::set_status(&tenant, mary.person, people::Status::Active, now())
        .await
        .unwrap();
    people::set_role(&tenant, mary.person, RoleKey::BuiltIn(Role::Owner))
        .await
        .unwrap();
    people::set_role(&tenant, owner.user_id, RoleKey::BuiltIn(Role::HrAdmin))
        .await
        .unwrap();

    // Revoking an invitation removes the record and its link.
    people::revoke_invitation(&tenant, eve.person).await.unwrap();
    assert_eq!(
        people::get(&tenant, eve.person).await.unwrap_err().code(),
        "resource.not_found"
    );
    // Another workplace cannot reach any of it.
    assert_eq!(
        domain::access::factors::reset_for_person(&other, mary.person, now())
            .await
            .unwrap_err()
            .code(),
        "resource.not_found"
    );
    assert_eq!(
        people::get(&other, mary.person).await.unwrap_err().code(),
        "resource.not_found"
    );
    assert_eq!(
        people::set_status(&other, mary.person, people::Status::Suspended, now())
            .await
            .unwrap_err()
            .code(),
        "resource.not_found"
    );
}

fn team_lead() -> roles::RoleDraft {
    roles::RoleDraft {
        name: "Team lead".into(),
        permissions: [Permission::Results].into_iter().collect(),
        results_limited_to_grants: true,
    }
}

async fn workplaces_define_their_own_roles(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    let (_, other) = workplace(db, "grace@contoso.test").await;
    let sales = departments::create(&tenant, "Sales", None, now()).await.unwrap();
    let support = departments::create(&tenant, "Support", None, now())
        .await
        .unwrap();

    let lead = roles::create(&tenant, &team_lead(), now()).await.unwrap();
    let lead_key = RoleKey::Workplace(lead);
    // Names are unique in the workplace, any case, and never a built-in role's.
    for (name, code) in [
        ("team LEAD", "resource.conflict"),
        ("HR admin", "input.invalid"),
        ("owner", "input.invalid"),
        ("", "input.invalid"),
        ("Line\nbreak", "input.invalid"),
    ] {
        let draft = roles::RoleDraft {
            name: name.into(),
            ..team_lead()
        };
        assert_eq!(
            roles::create(&tenant, &draft, now()).await.unwrap_err().code(),
            code,
            "{name:?}"
        );
    }
    // No role of a workplace may give roles, and an empty role is the Employee role.
    for permissions in [vec![Permission::Roles, Permission::People], vec![]] {
        let draft = roles::RoleDraft {
            name: "Odd".into(),
            permissions: permissions.into_iter().collect(),
            results_limited_to_grants: false,
        };
        assert_eq!(
            roles::create(&tenant, &draft, now()).await.unwrap_err().code(),
            "input.invalid"
        );
    }
    // The same name is fine in another workplace.
    roles::create(&other, &team_lead(), now()).await.unwrap();

    let mary = people::invite(
        &tenant,
        people::NewPerson {
            role: lead_key,
            ..invitee("Mary", "mary@northwind.test", Some(support), Role::Employee)
        },
        now(),
    )
    .await
    .unwrap();
    let listed = people::get(&tenant, mary.person).await.unwrap();
    assert_eq!(listed.role.name, "Team lead");
    assert!(listed.role.results_limited_to_grants);

    // Another workplace's role cannot be given here, nor this one there.
    let foreign = roles::list(&other).await.unwrap().pop().unwrap().definition.key;
    assert_eq!(
        people::set_role(&tenant, mary.person, foreign)
            .await
            .unwrap_err()
            .code(),
        "resource.not_found"
    );
    assert_eq!(
        roles::update(&other, lead, &team_lead(), now())
            .await
            .unwrap_err()
            .code(),
        "resource.not_found"
    );
    assert_eq!(
        roles::delete(&other, lead).await.unwrap_err().code(),
        "resource.not_found"
    );

    // The list counts holders; a held role cannot be deleted.
    let summary = roles::list(&tenant).await.unwrap();
    let held = |key: RoleKey| summary.iter().find(|s| s.definition.key == key).unwrap().holders;
    assert_eq!(held(lead_key), 1);
    assert_eq!(held(RoleKey::BuiltIn(Role::Owner)), 1);
    assert_eq!(summary.len(), Role::ALL.len() + 1);
    assert_eq!(
        roles::delete(&tenant, lead).await.unwrap_err().code(),
        "resource.conflict"
    );

    // Mary signs up; her identity carries the role, and edits apply to her next identity.
    let hasher = domain::testing::fast_hasher();
    let mary_id = accounts::accept_invitation(
        db,
        &hasher,
        &PasswordPolicy::default(),
        mary.token.expose(),
        "lantern harbour gravel symphony",
        now(),
    )
    .await
    .unwrap();
    people::set_grants(&tenant, mary.person, &[sales].into_iter().collect(), now())
        .await
        .unwrap();
    let session = SessionInfo {
        session_id: uuid::Uuid::new_v4(),
        user_id: mary_id,
        workplace_id: owner.workplace_id.uuid(),
        second_factor: true,
        second_factor_at: Some(now()),
        password_change_required: false,
    };
    let before = identity::load(db, &session).await.unwrap();
    assert!(policy::allows(
        &before,
        Action::ViewResults,
        Resource::Department(sales)
    ));
    assert!(!policy::allows(
        &before,
        Action::ViewResults,
        Resource::Department(support)
    ));
    assert!(!policy::allows(&before, Action::ViewResults, Resource::Workplace));
    let widened = roles::RoleDraft {
        name: "Insights".into(),
        permissions: [Permission::Results, Permission::Surveys].into_iter().collect(),
        results_limited_to_grants: false,
    };
    roles::update(&tenant, lead, &widened, now()).await.unwrap();
    let after = identity::load(db, &session).await.unwrap();
    assert_eq!(after.role.name, "Insights");
    assert!(policy::allows(&after, Action::ViewResults, Resource::Workplace));
    assert!(after.has(Permission::Surveys));

    // The last Owner cannot take a workplace role instead.
    assert_eq!(
        people::set_role(&tenant, owner.user_id, lead_key)
            .await
            .unwrap_err()
            .code(),
        "resource.conflict"
    );

    // Once nobody holds it, it can go.
    people::set_role(&tenant, mary.person, RoleKey::BuiltIn(Role::Employee))
        .await
        .unwrap();
    roles::delete(&tenant, lead).await.unwrap();
    assert_eq!(
        roles::find(&tenant, lead_key).await.unwrap_err().code(),
        "resource.not_found"
    );
}

/// The right to rectification: an HR admin corrects the name, address and start date of someone
/// they manage (sealed again, the address re-indexed so the person signs in with the new one);
/// each person corrects their own name; an address in use is refused and asking spends
/// invitation allowance; nobody corrects someone whose role they could not give.
async fn people_details_are_corrected_sealed_again_and_reindexed(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    workplace(db, "grace@contoso.test").await;
    let person = |name: &str, email: &str, role: Role| people::NewPerson {
        name: name.into(),
        email: email.into(),
        department: None,
        role: RoleKey::BuiltIn(role),
        start_date: chrono::NaiveDate::from_ymd_opt(2024, 3, 1),
    };
    let hana = domain::testing::active_person(
        db,
        &tenant,
        person("Hana Admin", "hana@northwind.test", Role::HrAdmin),
        now(),
    )
    .await;
    let eve = domain::testing::active_person(
        db,
        &tenant,
        person("Eve Nigth", "eve@nortwind.test", Role::Employee),
        now(),
    )
    .await;
    domain::testing::active_person(
        db,
        &tenant,
        person("Sam Seller", "sam@northwind.test", Role::Employee),
        now(),
    )
    .await;
    let hana_tenant = TenantDb::for_identity(db, &hana);
    let sealed_before = domain::testing::sealed_user_fields(db, tenant.workplace_id()).await;
    let correction = |name: &str, email: &str| people::Correction {
        name: name.into(),
        email: email.into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2024, 4, 1),
    };

    // A reset link mailed to the mistyped address before the correction.
    let (_, early_link) = accounts::request_password_reset(db, "eve@nortwind.test", now())
        .await
        .unwrap()
        .unwrap();
    let corrected = people::correct_details(
        &hana_tenant.as_person(&hana),
        eve.user_id,
        correction(" Eve Night ", "Eve@Northwind.test"),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(corrected.previous_email.as_deref(), Some("eve@nortwind.test"));
    assert_eq!(
        (corrected.name.as_str(), corrected.email.as_str()),
        ("Eve Night", "eve@northwind.test")
    );
    let found = people::get(&tenant, eve.user_id).await.unwrap();
    assert_eq!(
        (found.name.as_str(), found.email.as_str()),
        ("Eve Night", "eve@northwind.test")
    );
    assert_eq!(found.start_date, chrono::NaiveDate::from_ymd_opt(2024, 4, 1));
    // Sealed again, and she signs in with the new address only.
    let sealed_after = domain::testing::sealed_user_fields(db, tenant.workplace_id()).await;
    let of_eve = |fields: &[(uuid::Uuid, &str, Vec<u8>)]| -> Vec<Vec<u8>> {
        fields
            .iter()
            .filter(|(row, _, _)| *row == eve.user_id.uuid())
            .map(|(_, _, b)| b.clone())
            .collect()
    };
    assert!(of_eve(&sealed_after)
        .iter()
        .all(|bytes| !of_eve(&sealed_before).contains(bytes)));
    let hasher = domain::testing::fast_hasher();
    let password = "lantern harbour gravel symphony";
    assert_eq!(
        accounts::check_password(db, &hasher, "eve@northwind.test", password)
            .await
            .unwrap(),
        Some(eve.user_id.uuid())
    );
    assert_eq!(
        accounts::check_password(db, &hasher, "eve@nortwind.test", password)
            .await
            .unwrap(),
        None
    );
    // Links mailed to the old address stop working.
    let stale = accounts::reset_password(
        db,
        &hasher,
        &PasswordPolicy::default(),
        early_link.expose(),
        "another long harbour phrase",
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(stale.code(), "input.invalid", "{stale:?}");

    // A correction that keeps the address asks nothing about other accounts.
    let same = people::correct_details(
        &hana_tenant.as_person(&hana),
        eve.user_id,
        correction("Eve Night", "eve@northwind.test"),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(same.previous_email, None);
    // An address in use, here or elsewhere, is refused, and nothing changes.
    let here = people::correct_details(
        &hana_tenant.as_person(&hana),
        eve.user_id,
        correction("Eve Night", "sam@northwind.test"),
        now(),
    )
    .await
    .unwrap_err();
    assert!(
        here.public_message().contains("someone in your workplace"),
        "{here:?}"
    );
    let elsewhere = people::correct_details(
        &hana_tenant.as_person(&hana),
        eve.user_id,
        correction("Eve Night", "grace@contoso.test"),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(elsewhere.code(), "resource.conflict");
    assert_eq!(
        people::get(&tenant, eve.user_id).await.unwrap().email,
        "eve@northwind.test"
    );
    // Mistakes are named.
    for (name, email, field) in [
        ("", "eve@northwind.test", "name"),
        ("Eve", "not-an-address", "email"),
    ] {
        let refused = people::correct_details(
            &hana_tenant.as_person(&hana),
            eve.user_id,
            correction(name, email),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(refused.code(), "input.invalid");
        assert!(refused.public_message().starts_with(field), "{refused:?}");
    }
    // Nobody corrects someone whose role they could not give, or anyone without the permission.
    let refused = people::correct_details(
        &hana_tenant.as_person(&hana),
        owner.user_id,
        correction("Ada", "ada@northwind.test"),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");
    let eve_tenant = TenantDb::for_identity(db, &eve);
    let refused = people::correct_details(
        &eve_tenant.as_person(&eve),
        hana.user_id,
        correction("Hana", "hana@northwind.test"),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");
    // Each person corrects their own name; their address stays.
    assert_eq!(
        people::correct_own_name(&eve_tenant.as_person(&eve), "  Eve Nightingale ", now())
            .await
            .unwrap(),
        "Eve Nightingale"
    );
    let found = people::get(&tenant, eve.user_id).await.unwrap();
    assert_eq!(
        (found.name.as_str(), found.email.as_str()),
        ("Eve Nightingale", "eve@northwind.test")
    );
    assert_eq!(
        people::correct_own_name(&eve_tenant.as_person(&eve), " ", now())
            .await
            .unwrap_err()
            .code(),
        "input.invalid"
    );
}

/// Changes check the policy in the domain, not only in the server functions: a tenant scope
/// built for someone without the right is refused by the domain call itself.
async fn domain_changes_ask_the_policy_for_whoever_acts(test_db: TestDb) {
    use domain::access::{roles::RoleDraft, trusted_devices};
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    let hana = domain::testing::active_person(
        db,
        &tenant,
        invitee("Hana Admin", "hana@northwind.test", None, Role::HrAdmin),
        now(),
    )
    .await;
    let eve = domain::testing::active_person(
        db,
        &tenant,
        invitee("Eve Employee", "eve@northwind.test", None, Role::Employee),
        now(),
    )
    .await;
    let sales = departments::create(&tenant, "Sales", None, now()).await.unwrap();
    let as_eve = TenantDb::for_identity(db, &eve);
    let as_hana = TenantDb::for_identity(db, &hana);
    let refused = |result: domain::Result<()>| {
        let code = result.expect_err("refused").code();
        assert!(code == "auth.forbidden" || code == "resource.not_found", "{code}");
    };
    // An employee changes nothing of the workplace's shape, roles or sign-in rules.
    refused(
        departments::create(&as_eve, "Mine", None, now())
            .await
            .map(|_| ()),
    );
    refused(departments::rename(&as_eve, sales, "Renamed").await);
    refused(departments::archive(&as_eve, sales, now()).await);
    let draft = RoleDraft {
        name: "Reader".into(),
        permissions: [Permission::Results].into_iter().collect(),
        results_limited_to_grants: true,
    };
    refused(
        domain::access::roles::create(&as_eve, &draft, now())
            .await
            .map(|_| ()),
    );
    refused(
        trusted_devices::save_settings(
            &as_eve,
            trusted_devices::SignInSettings {
                remember_device_days: 30,
            },
        )
        .await,
    );
    // Nor anyone's account.
    refused(people::set_department(&as_eve, hana.user_id, Some(sales)).await);
    refused(people::set_status(&as_eve, hana.user_id, people::Status::Suspended, now()).await);
    // An HR admin manages employees, but neither an Owner nor the Owner role.
    people::set_department(&as_hana, eve.user_id, Some(sales))
        .await
        .unwrap();
    refused(people::set_status(&as_hana, owner.user_id, people::Status::Suspended, now()).await);
    refused(people::set_role(&as_hana, eve.user_id, RoleKey::BuiltIn(Role::Owner)).await);
    let grants = [sales].into_iter().collect();
    refused(people::set_grants(&as_hana, owner.user_id, &grants, now()).await);
    refused(domain::access::factors::reset_for_person(&as_hana, owner.user_id, now()).await);
    refused(domain::access::factors::reset_for_person(&as_eve, hana.user_id, now()).await);
    // Inviting and importing: an employee invites no one; an HR admin invites employees but
    // gives nobody the Owner role, whether one at a time or in a file.
    refused(
        people::invite(
            &as_eve,
            invitee("Ivy", "ivy@northwind.test", None, Role::Employee),
            now(),
        )
        .await
        .map(|_| ()),
    );
    let file = "name,email,department,role,start_date\nIvy,ivy@northwind.test,,Employee,\n";
    refused(
        domain::organisation::people_import::preview(&as_eve, file)
            .await
            .map(|_| ()),
    );
    refused(
        domain::organisation::people_import::import(&as_eve, file, now())
            .await
            .map(|_| ()),
    );
    refused(
        people::invite(
            &as_hana,
            invitee("Olga", "olga@northwind.test", None, Role::Owner),
            now(),
        )
        .await
        .map(|_| ()),
    );
    let owner_file = "name,email,department,role,start_date\nOlga,olga@northwind.test,,Owner,\n";
    assert!(
        !domain::organisation::people_import::preview(&as_hana, owner_file)
            .await
            .unwrap()
            .is_valid()
    );
    assert!(
        domain::organisation::people_import::import(&as_hana, owner_file, now())
            .await
            .is_err()
    );
    // Sign-in settings and the workplace's deletion are read only by those who manage settings.
    refused(trusted_devices::settings(&as_eve).await.map(|_| ()));
    refused(
        domain::compliance::workplace_deletion::target(&as_eve)
            .await
            .map(|_| ()),
    );
    // The roles table is for people and roles managers; the roles offered are those one may give.
    refused(domain::access::roles::list(&as_eve).await.map(|_| ()));
    let offered: Vec<RoleKey> = domain::access::roles::assignable(&as_hana)
        .await
        .unwrap()
        .into_iter()
        .map(|role| role.key)
        .collect();
    assert!(offered.contains(&RoleKey::BuiltIn(Role::Employee)), "{offered:?}");
    assert!(!offered.contains(&RoleKey::BuiltIn(Role::Owner)), "{offered:?}");
    assert!(domain::access::roles::assignable(&as_eve)
        .await
        .unwrap()
        .is_empty());
    // Nothing refused was changed.
    assert_eq!(departments::list(&tenant).await.unwrap().len(), 1);
    let everyone = people::list(&tenant, &policy::people_scope(&owner), &people::Filter::default())
        .await
        .unwrap();
    assert_eq!(everyone.total, 3, "Ada, Hana and Eve: nobody was invited");
    let ada = people::get(&tenant, owner.user_id).await.unwrap();
    assert_eq!(ada.status, people::Status::Active);
    assert_eq!(
        people::get(&tenant, eve.user_id).await.unwrap().role.key,
        RoleKey::BuiltIn(Role::Employee)
    );
}

/// The people list kept in memory is never older than the people: every change — a new
/// invitation, a corrected name, a move, an erasure, a change written by another process's
/// code straight to the table — shows at the next look, and an erased person's name is gone
/// from it. Unchanged people are not opened again.
async fn the_kept_people_list_follows_every_change(test_db: TestDb) {
    use domain::organisation::directory::Directory;
    use std::sync::Arc;
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    let tenant = tenant.as_person(&owner);
    let harbour = departments::create(&tenant, "Harbour", None, now())
        .await
        .unwrap();
    let mary = domain::testing::active_person(
        db,
        &tenant,
        invitee("Mary Jones", "mary@northwind.test", Some(harbour), Role::Employee),
        now(),
    )
    .await;
    let directory = Directory::new();
    let everyone = Scope::Everyone;
    let names = |page: &people::Page| page.people.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    let no_filter = people::Filter::default();
    let list = || directory.list(&tenant, &everyone, &no_filter);
    assert_eq!(names(&list().await.unwrap()), ["Ada", "Mary Jones"]);
    let kept = directory.snapshot(&tenant).await.unwrap();
    assert!(
        Arc::ptr_eq(&kept, &directory.snapshot(&tenant).await.unwrap()),
        "opened again without a change"
    );

    people::invite(
        &tenant,
        invitee("Bob Lee", "bob@northwind.test", None, Role::Employee),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(names(&list().await.unwrap()), ["Ada", "Bob Lee", "Mary Jones"]);

    people::correct_details(
        &tenant,
        mary.user_id,
        people::Correction {
            name: "Mary Quist".into(),
            email: "mary@northwind.test".into(),
            start_date: None,
        },
        now(),
    )
    .await
    .unwrap();
    assert_eq!(names(&list().await.unwrap()), ["Ada", "Bob Lee", "Mary Quist"]);

    let in_harbour = people::Filter {
        department: Some(harbour),
        ..Default::default()
    };
    assert_eq!(
        names(&directory.list(&tenant, &everyone, &in_harbour).await.unwrap()),
        ["Mary Quist"]
    );
    people::set_department(&tenant, mary.user_id, None).await.unwrap();
    assert!(directory
        .list(&tenant, &everyone, &in_harbour)
        .await
        .unwrap()
        .people
        .is_empty());

    // Another process (or anything else writing to the table) changes a person: seen too.
    domain::testing::raw_strings(
        db,
        "UPDATE users SET status = 'suspended' WHERE status = 'active' AND role = 'employee' \
         RETURNING 'changed'",
    )
    .await;
    let suspended = people::Filter {
        status: Some(people::Status::Suspended),
        ..Default::default()
    };
    let found = directory.list(&tenant, &everyone, &suspended).await.unwrap();
    assert_eq!(names(&found), ["Mary Quist"]);

    // A change to nothing the list shows (a password rehashed at sign-in) keeps it.
    let kept = directory.snapshot(&tenant).await.unwrap();
    domain::testing::raw_strings(
        db,
        "UPDATE users SET password_hash = password_hash || '' RETURNING 'changed'",
    )
    .await;
    assert!(Arc::ptr_eq(&kept, &directory.snapshot(&tenant).await.unwrap()));

    // Another workplace's list, kept by the same directory, holds only its own people.
    let (other_owner, other) = domain::testing::workplace(db, "Fabrikam", "fay@fabrikam.test", now()).await;
    let other = other.as_person(&other_owner);
    assert_eq!(
        names(&directory.list(&other, &everyone, &no_filter).await.unwrap()),
        ["Ada"]
    );
    assert_eq!(
        directory
            .list(&tenant, &everyone, &no_filter)
            .await
            .unwrap()
            .total,
        3,
        "Northwind's list is its own"
    );

    domain::compliance::privacy::erase(&tenant, mary.user_id, now())
        .await
        .unwrap();
    let after = list().await.unwrap();
    assert!(
        !names(&after).iter().any(|name| name.contains("Mary")),
        "{:?}",
        names(&after)
    );
}

/// A large invitation runs a few hundred people a transaction (so it never holds the write
/// lock for long) and is still all or nothing: when a later transaction fails, the people of the
/// earlier ones are removed again, and the log names them.
async fn a_large_invitation_is_all_or_nothing_across_its_transactions(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    let clock: std::sync::Arc<dyn domain::Clock> =
        std::sync::Arc::new(domain::platform::clock::FixedClock::at(now()));
    let trail = domain::platform::audit::Trail::for_request(clock, None, "people/import");
    trail.identify(owner.user_id, owner.workplace_id);
    let tenant = tenant.with_trail(trail);
    let person = |n: usize| people::NewPerson {
        name: format!("Person {n}"),
        email: format!("person{n}@northwind.test"),
        department: None,
        role: RoleKey::BuiltIn(Role::Employee),
        start_date: None,
    };
    // The 400th repeats the 10th's address: the second transaction refuses it.
    let mut many: Vec<_> = (0..600).map(person).collect();
    many[399] = person(9);
    let progress = people::InviteProgress::default();
    let refused = people::invite_many(&tenant, many, now()).await.unwrap_err();
    assert_eq!(refused.code(), "resource.conflict");
    let everyone = people::list(&tenant, &policy::people_scope(&owner), &people::Filter::default())
        .await
        .unwrap();
    assert_eq!(everyone.total, 1, "only Ada is left");
    let log = domain::testing::audit_rows(db, Some(owner.workplace_id)).await;
    assert!(
        log.iter()
            .filter(|r| r.entity_type.as_deref() == Some("person"))
            .count()
            >= 2,
        "the invitations and their withdrawal are logged"
    );
    // The same people without the repeat: every one of them, counted as they are invited.
    domain::organisation::invitation_budget::set_allowance(db, owner.workplace_id, Some(1_000), now())
        .await
        .unwrap();
    let mut file = String::from("name,email,department,role,start_date\n");
    for n in 0..600 {
        file.push_str(&format!("Person {n},person{n}@northwind.test,,,\n"));
    }
    let prepared = domain::organisation::people_import::prepare(&tenant, &file, now())
        .await
        .unwrap();
    let invited = prepared.invite(&tenant, now(), &progress).await.unwrap();
    assert_eq!(invited.len(), 600);
    assert_eq!(progress.invited(), 600);
}

domain::on_both_backends!(
    a_large_invitation_is_all_or_nothing_across_its_transactions,
    the_kept_people_list_follows_every_change,
    domain_changes_ask_the_policy_for_whoever_acts,
    people_details_are_corrected_sealed_again_and_reindexed,
    workplaces_define_their_own_roles,
    people_are_imported_from_csv_all_or_nothing,
    invitations_spend_a_daily_allowance_and_previews_hide_other_workplaces,
    remembered_devices_skip_the_second_factor_only_where_they_were_remembered,
    invitations_roles_grants_and_suspension,
    departments_form_a_tree_without_cycles,
    workplaces_reach_only_their_own_departments,
);

async fn remembered_devices_skip_the_second_factor_only_where_they_were_remembered(test_db: TestDb) {
    use domain::access::trusted_devices::{self, SignInSettings};
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    let (other_owner, _) = workplace(db, "grace@contoso.test").await;
    let ada = owner.user_id.uuid();
    let laptop = domain::access::auth::context::SignInContext {
        network_prefix: "192.0.2.0/24".into(),
        device: "Firefox on Linux".into(),
    };
    assert_eq!(
        trusted_devices::settings(&tenant)
            .await
            .unwrap()
            .remember_device_days,
        0
    );
    let token = trusted_devices::remember(db, ada, &laptop, 30, now())
        .await
        .unwrap();
    let later = now() + chrono::Duration::hours(1);
    let may = |user, context: domain::access::auth::context::SignInContext, at| {
        let presented = token.expose().to_owned();
        async move {
            trusted_devices::may_skip_second_factor(db, user, Some(&presented), &context, at)
                .await
                .unwrap()
        }
    };
    // The workplace has not allowed it yet.
    assert!(!may(ada, laptop.clone(), later).await);
    for days in [-1, 31] {
        let err = trusted_devices::save_settings(
            &tenant,
            SignInSettings {
                remember_device_days: days,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "input.invalid");
    }
    trusted_devices::save_settings(
        &tenant,
        SignInSettings {
            remember_device_days: 30,
        },
    )
    .await
    .unwrap();
    assert!(may(ada, laptop.clone(), later).await);
    // Only there, only for Ada, only for 30 days.
    let phone = domain::access::auth::context::SignInContext {
        device: "Safari on iOS".into(),
        ..laptop.clone()
    };
    let elsewhere = domain::access::auth::context::SignInContext {
        network_prefix: "198.51.100.0/24".into(),
        ..laptop.clone()
    };
    assert!(!may(ada, phone, later).await);
    assert!(!may(ada, elsewhere, later).await);
    assert!(!may(other_owner.user_id.uuid(), laptop.clone(), later).await);
    assert!(!may(ada, laptop.clone(), now() + chrono::Duration::days(31)).await);
    assert!(
        !trusted_devices::may_skip_second_factor(db, ada, None, &laptop, later)
            .await
            .unwrap(),
        "no cookie"
    );
    // Signing in more often than usual asks for both factors again.
    for minutes in [10, 20, 30] {
        let at = now() + chrono::Duration::minutes(minutes);
        let pending = accounts::start_session(db, ada, &laptop, at).await.unwrap();
        let session = accounts::resolve_session(db, &Default::default(), pending.expose(), at)
            .await
            .unwrap()
            .unwrap();
        accounts::complete_second_factor(db, session.session_id, at)
            .await
            .unwrap();
    }
    assert!(!may(ada, laptop.clone(), later).await);
    assert!(may(ada, laptop.clone(), now() + chrono::Duration::days(2)).await);
    // Switching the setting off forgets remembered devices for good.
    trusted_devices::save_settings(
        &tenant,
        SignInSettings {
            remember_device_days: 0,
        },
    )
    .await
    .unwrap();
    trusted_devices::save_settings(
        &tenant,
        SignInSettings {
            remember_device_days: 30,
        },
    )
    .await
    .unwrap();
    assert!(!may(ada, laptop.clone(), now() + chrono::Duration::days(2)).await);
}

async fn people_are_imported_from_csv_all_or_nothing(test_db: TestDb) {
    use domain::organisation::people_import;
    let db = &test_db.db;
    let (owner, tenant) = workplace(db, "ada@northwind.test").await;
    workplace(db, "grace@contoso.test").await;
    let operations = departments::create(&tenant, "Operations", None, now())
        .await
        .unwrap();
    departments::create(&tenant, "Support", Some(operations), now())
        .await
        .unwrap();
    let sales = departments::create(&tenant, "Sales", None, now()).await.unwrap();
    departments::create(&tenant, "Support", Some(sales), now())
        .await
        .unwrap();
    // An HR admin imports: they may give the Employee and Manager roles, not Owner.
    let hana = domain::testing::active_person(
        db,
        &tenant,
        invitee("Hana Admin", "hana@northwind.test", None, Role::HrAdmin),
        now(),
    )
    .await;
    let hr = tenant.as_person(&hana);

    let wrong_columns = people_import::preview(&hr, "name,mail\nAda,a@x.test\n")
        .await
        .unwrap_err();
    assert!(
        wrong_columns.public_message().contains("missing “email”"),
        "{wrong_columns:?}"
    );
    let garbled = people_import::preview(&hr, "name,email\u{FFFD}")
        .await
        .unwrap_err();
    assert!(garbled.public_message().contains("not UTF-8"));
    let empty = people_import::preview(&hr, "name,email,department,role,start_date\n")
        .await
        .unwrap_err();
    assert!(empty.public_message().contains("no people"));

    let file = "\u{FEFF}Name,Email,Department,Role,Start date\n\
        Mary Manager,mary@northwind.test,Operations,Manager,2026-03-01\n\
        Eve,eve@northwind.test,Support,employee,\n\
        Sam,sam@northwind.test,Sales / Support,,\n\
        Grace,grace@contoso.test,,,\n\
        Mary Again,MARY@northwind.test,,,\n\
        Nobody,not-an-address,Nowhere,Owner,01/03/2026\n\
        Ada Again,ada@northwind.test,,,\n";
    let preview = people_import::preview(&hr, file).await.unwrap();
    assert!(!preview.is_valid());
    let errors: Vec<(usize, String)> = preview
        .rows
        .iter()
        .map(|row| (row.line, row.errors.join("; ")))
        .collect();
    assert_eq!(errors[0], (2, String::new()));
    assert!(
        errors[1]
            .1
            .contains("more than one department is called “Support”"),
        "{errors:?}"
    );
    assert_eq!(errors[2], (4, String::new()));
    // An address of another workplace is not told apart in a preview; one of this workplace is.
    assert_eq!(errors[3], (5, String::new()));
    assert!(
        errors[6]
            .1
            .contains("already belongs to someone in your workplace"),
        "{errors:?}"
    );
    assert!(errors[4].1.contains("appears twice"), "{errors:?}");
    for expected in [
        "email",
        "no active department “Nowhere”",
        "may not give the role Owner",
        "not a date",
    ] {
        assert!(errors[5].1.contains(expected), "{expected}: {errors:?}");
    }
    let refused = people_import::import(&hr, file, now()).await.unwrap_err();
    assert!(refused.public_message().contains("nothing was imported"));
    let everyone = people::list(&tenant, &policy::people_scope(&owner), &people::Filter::default())
        .await
        .unwrap();
    assert_eq!(everyone.total, 2, "Ada and Hana: nothing half-imported");

    let good = "name,email,department,role,start_date\n\
        Mary Manager,mary@northwind.test,Operations,Manager,2026-03-01\n\
        Eve,eve@northwind.test,Operations / Support,Employee,\n";
    assert!(people_import::preview(&hr, good).await.unwrap().is_valid());
    // In two steps, as the page runs it: the check answers at once, then the invitations are
    // made while the page follows their count.
    let prepared = people_import::prepare(&hr, good, now()).await.unwrap();
    assert_eq!(prepared.len(), 2);
    let progress = people::InviteProgress::default();
    let invitations = prepared.invite(&hr, now(), &progress).await.unwrap();
    assert_eq!(invitations.len(), 2);
    assert_eq!(progress.invited(), 2);
    let everyone = people::list(&tenant, &policy::people_scope(&owner), &people::Filter::default())
        .await
        .unwrap();
    assert_eq!(everyone.total, 4, "Ada, Hana and the two imported");
    let mary = everyone.people.iter().find(|p| p.name == "Mary Manager").unwrap();
    assert_eq!(
        (mary.role.clone(), mary.department),
        (RoleDefinition::built_in(Role::Manager), Some(operations))
    );
    assert_eq!(
        mary.start_date.map(|d| d.to_string()).as_deref(),
        Some("2026-03-01")
    );
    // Importing the same file again changes nothing: every address is taken now.
    assert!(people_import::import(&hr, good, now()).await.is_err());
}

/// A free workplace cannot test address lists against Candor or relay mail through it: a
/// preview says nothing about other workplaces' accounts, and every invitation, resend and
/// imported row spends a daily allowance that starts small, whether or not the address was free.
async fn invitations_spend_a_daily_allowance_and_previews_hide_other_workplaces(test_db: TestDb) {
    use domain::organisation::people_import;
    let db = &test_db.db;
    let (_, tenant) = workplace(db, "ada@northwind.test").await;
    let (_, contoso) = workplace(db, "grace@contoso.test").await;
    let file = |emails: &[&str]| {
        let mut text = String::from("name,email,department,role,start_date\n");
        for (n, email) in emails.iter().enumerate() {
            text.push_str(&format!("Person {n},{email},,,\n"));
        }
        text
    };
    let errors = |preview: people_import::Preview| -> Vec<Vec<String>> {
        preview.rows.into_iter().map(|row| row.errors).collect()
    };
    // Grace has an account at Contoso; nobody has one at the other address: same answer.
    let known = people_import::preview(&tenant, &file(&["grace@contoso.test"]))
        .await
        .unwrap();
    let unknown = people_import::preview(&tenant, &file(&["nobody@contoso.test"]))
        .await
        .unwrap();
    assert_eq!(errors(known), errors(unknown));
    assert_eq!(
        errors(
            people_import::preview(&tenant, &file(&["grace@contoso.test"]))
                .await
                .unwrap()
        ),
        vec![Vec::<String>::new()]
    );

    // The import tells, but only after spending the allowance on every row of the file.
    let refused = people_import::import(
        &tenant,
        &file(&["grace@contoso.test", "new1@northwind.test"]),
        now(),
    )
    .await
    .unwrap_err();
    assert!(refused.public_message().contains("line 2"), "{refused:?}");

    // A new workplace may send 100 a day: 2 spent above, 97 now, then a single invitation and a
    // resend fit, and the next one does not.
    let many: Vec<String> = (0..97).map(|n| format!("person{n}@northwind.test")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let invited = people_import::import(&tenant, &file(&many), now()).await.unwrap();
    domain::organisation::people::resend_invitation(&tenant, invited[0].person, now())
        .await
        .unwrap();
    let over = domain::organisation::people::invite(
        &tenant,
        domain::organisation::people::NewPerson {
            name: "One Too Many".into(),
            email: "one.too.many@northwind.test".into(),
            department: None,
            role: domain::platform::policy::RoleKey::BuiltIn(Role::Employee),
            start_date: None,
        },
        now() + chrono::Duration::hours(1),
    )
    .await
    .unwrap_err();
    assert_eq!((over.code(), over.status()), ("mail.budget_spent", 429));
    // The refused import's two rows leave the window first, a day after they were spent.
    let retry = over.retry_after_secs().unwrap();
    assert!((22 * 3600..=23 * 3600).contains(&retry), "{retry}");
    assert!(
        over.public_message().contains("100 invitations a day"),
        "{over:?}"
    );
    // A mistyped address costs nothing and says what is wrong.
    let typo = domain::organisation::people::invite(
        &tenant,
        domain::organisation::people::NewPerson {
            name: "Typo".into(),
            email: "not-an-address".into(),
            department: None,
            role: domain::platform::policy::RoleKey::BuiltIn(Role::Employee),
            start_date: None,
        },
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(typo.code(), "input.invalid");
    // Another workplace's allowance is its own.
    domain::organisation::people::invite(
        &contoso,
        domain::organisation::people::NewPerson {
            name: "Linus".into(),
            email: "linus@contoso.test".into(),
            department: None,
            role: domain::platform::policy::RoleKey::BuiltIn(Role::Employee),
            start_date: None,
        },
        now(),
    )
    .await
    .unwrap();
    // A day later it is free again.
    domain::organisation::people::invite(
        &tenant,
        domain::organisation::people::NewPerson {
            name: "Next Day".into(),
            email: "next.day@northwind.test".into(),
            department: None,
            role: domain::platform::policy::RoleKey::BuiltIn(Role::Employee),
            start_date: None,
        },
        now() + chrono::Duration::hours(25),
    )
    .await
    .unwrap();
    // The operator raises the allowance of a large employer: its whole staff fits the same day,
    // and the change is in the workplace's log. Back to the default, the next import does not.
    use domain::organisation::invitation_budget::set_allowance;
    let later = now() + chrono::Duration::hours(26);
    assert_eq!(
        set_allowance(db, tenant.workplace_id(), Some(0), later)
            .await
            .unwrap_err()
            .code(),
        "input.invalid"
    );
    set_allowance(db, tenant.workplace_id(), Some(400), later)
        .await
        .unwrap();
    let staff: Vec<String> = (0..300).map(|n| format!("staff{n}@northwind.test")).collect();
    let staff: Vec<&str> = staff.iter().map(String::as_str).collect();
    assert_eq!(
        people_import::import(&tenant, &file(&staff), later)
            .await
            .unwrap()
            .len(),
        300
    );
    let log = domain::testing::audit_rows(db, Some(tenant.workplace_id())).await;
    assert!(log
        .iter()
        .any(|r| r.action == "workplace.invitation_allowance_set"));
    set_allowance(db, tenant.workplace_id(), None, later)
        .await
        .unwrap();
    let refused = people_import::import(&tenant, &file(&["after@northwind.test"]), later)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "mail.budget_spent");
}

/// PostgreSQL only: the policies, not Candor's filters, keep a forgetful query to one workplace.
#[tokio::test]
async fn row_level_security_limits_unfiltered_queries_to_one_workplace() {
    let Some(test_db) = TestDb::migrated(domain::Backend::Postgres).await else {
        return;
    };
    let db = &test_db.db;
    assert_eq!(
        db.row_level_security().await.unwrap(),
        domain::RowLevelSecurity::Enforced,
        "tests connect as an ordinary role, which the policies bind"
    );
    assert_eq!(
        db.workplace_tables_without_row_level_security().await.unwrap(),
        Vec::<String>::new(),
        "every table with a workplace_id has a forced policy"
    );
    let (_, northwind) = workplace(db, "ada@northwind.test").await;
    let (contoso_owner, contoso) = workplace(db, "grace@contoso.test").await;
    departments::create(&northwind, "Sales", None, now())
        .await
        .unwrap();
    departments::create(&contoso, "Sales", None, now()).await.unwrap();
    departments::create(&contoso, "Support", None, now())
        .await
        .unwrap();
    people::invite(
        &northwind,
        invitee("Mary", "mary@northwind.test", None, Role::Employee),
        now(),
    )
    .await
    .unwrap();

    assert_eq!(northwind.count_unfiltered("departments").await.unwrap(), 1);
    assert_eq!(contoso.count_unfiltered("departments").await.unwrap(), 2);
    assert_eq!(northwind.count_unfiltered("users").await.unwrap(), 2);
    assert_eq!(contoso.count_unfiltered("users").await.unwrap(), 1);
    assert_eq!(northwind.count_unfiltered("department_grants").await.unwrap(), 0);
    roles::create(&contoso, &team_lead(), now()).await.unwrap();
    assert_eq!(northwind.count_unfiltered("workplace_roles").await.unwrap(), 0);
    assert_eq!(contoso.count_unfiltered("workplace_roles").await.unwrap(), 1);
    // Writing a row for another workplace through a tenant transaction is refused too.
    let refused = northwind
        .insert_department_for(contoso_owner.workplace_id)
        .await
        .unwrap_err();
    assert!(
        format!("{refused:?}").contains("row-level security"),
        "{refused:?}"
    );
    assert_eq!(contoso.count_unfiltered("departments").await.unwrap(), 2);
}
