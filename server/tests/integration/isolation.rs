//! The isolation suite, Candor's release gate: two workplaces seeded with the same shapes of
//! data; every server function that takes an id is called by people of workplace A with the ids
//! of workplace B, and with ids of A outside the caller's role or grants. Each call must fail as
//! not-found or forbidden and return none of B's data.
//!
//! The server functions are collected from the running registry: one added without an
//! isolation case (or an explicit reason why it takes no id) fails [`every_server_fn_is_covered`].

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use chrono::Utc;
use domain::{
    access::{
        accounts::{self, SignupInput, SignupOutcome},
        auth::{
            context::SignInContext,
            password::{HashCost, PasswordHasher, PasswordPolicy},
        },
        factors, roles,
    },
    organisation::{departments, people},
    platform::{
        ids::{DepartmentId, UserId},
        policy::{Permission, Role, RoleKey},
        tenant::TenantDb,
    },
    testing::TestDb,
    Database,
};
use http::{Request, StatusCode};

use crate::support::TestApp;

/// Server functions that take no id of a workplace's data: they act on the caller's own account
/// or session, or are public steps of signing in. Each is still authenticated where it must be.
const TAKES_NO_WORKPLACE_ID: &[(&str, &str)] = &[
    ("/api/instance/security_facts", "public facts about the instance"),
    (
        "/api/instance/operations",
        "facts about the instance, for an Owner",
    ),
    ("/api/instance/subprocessors", "public list kept by the operator"),
    ("/api/privacy/requests", "the caller's own workplace's register"),
    ("/api/help/topics", "a fixed list"),
    ("/api/help/ask", "a question about the caller's own account"),
    ("/api/account/password_feedback", "public strength check"),
    ("/api/account/sign_up", "creates a new workplace"),
    ("/api/account/verify_email", "the emailed token is the credential"),
    ("/api/account/log_in", "password step"),
    ("/api/account/second_factor", "the caller's own session"),
    ("/api/account/begin_authenticator", "the caller's own account"),
    ("/api/account/confirm_authenticator", "the caller's own account"),
    ("/api/account/log_out", "the caller's own session"),
    ("/api/account/me", "the caller's own account"),
    ("/api/account/sessions", "the caller's own sessions"),
    ("/api/account/end_other_sessions", "the caller's own sessions"),
    ("/api/account/secure_account", "the caller's own account"),
    ("/api/people/correct_own_name", "the caller's own record"),
    (
        "/api/account/request_password_reset",
        "public, same answer for every address",
    ),
    (
        "/api/account/reset_password",
        "the emailed token is the credential",
    ),
    ("/api/factors/begin_passkey_enrolment", "the caller's own account"),
    (
        "/api/factors/finish_passkey_enrolment",
        "ceremony bound to the caller's session",
    ),
    ("/api/factors/second_factor_choices", "the caller's own account"),
    ("/api/factors/begin_passkey_check", "the caller's own account"),
    (
        "/api/factors/finish_passkey_check",
        "ceremony bound to the caller's session",
    ),
    ("/api/factors/begin_passkey_sign_in", "public sign-in step"),
    (
        "/api/factors/finish_passkey_sign_in",
        "the signed assertion is the credential",
    ),
    ("/api/factors/list", "the caller's own factors"),
    ("/api/factors/new_recovery_codes", "the caller's own account"),
    ("/api/factors/change_password", "the caller's own account"),
    (
        "/api/organisation/departments",
        "lists the caller's workplace only",
    ),
    ("/api/people/mine", "the caller's own record"),
    ("/api/audit/overview", "the caller's workplace's log only"),
    (
        "/api/settings/support_access",
        "the caller's workplace's grants only",
    ),
    (
        "/api/settings/grant_support",
        "grants for the caller's workplace only",
    ),
    ("/api/audit/export", "the caller's workplace's log only"),
    (
        "/api/audit/save_settings",
        "the caller's workplace's settings only",
    ),
    (
        "/api/people/preview_import",
        "department names resolved within the caller's workplace",
    ),
    (
        "/api/people/import",
        "department names resolved within the caller's workplace",
    ),
    ("/api/settings/sign_in", "the caller's workplace"),
    ("/api/settings/save_sign_in", "the caller's workplace"),
    ("/api/settings/deletion", "the caller's workplace"),
    ("/api/settings/group_sizes", "the caller's workplace"),
    ("/api/settings/tenure_bands", "the caller's workplace"),
    (
        "/api/settings/save_tenure_bands",
        "the caller's workplace; settings permission, checked below",
    ),
    (
        "/api/settings/save_group_sizes",
        "the caller's workplace; settings permission, checked below",
    ),
    (
        "/api/settings/request_deletion",
        "the caller's own workplace; Owners only, checked below",
    ),
    (
        "/api/settings/cancel_deletion",
        "the caller's own workplace; Owners only, checked below",
    ),
    (
        "/api/settings/retention",
        "the caller's workplace; settings permission, checked below",
    ),
    (
        "/api/settings/save_retention",
        "the caller's workplace; settings permission, checked below",
    ),
    ("/api/people/invitation", "the emailed token is the credential"),
    (
        "/api/people/accept_invitation",
        "the emailed token is the credential",
    ),
    (
        "/api/people/invite",
        "creates in the caller's workplace; departments checked below",
    ),
    ("/api/roles/list", "the caller's workplace only; checked below"),
    ("/api/surveys/list", "the caller's workplace only; checked below"),
    ("/api/check_ins/mine", "the caller's own check-ins"),
    (
        "/api/results/rounds",
        "the caller's workplace only; checked below",
    ),
    ("/api/roles/create", "creates in the caller's workplace"),
    ("/api/settings/benchmarks", "the caller's workplace only"),
    (
        "/api/settings/save_benchmarks",
        "the caller's workplace only; roles checked below",
    ),
    ("/api/test/double", "test-only"),
    ("/api/test/slow", "test-only"),
];

/// Server functions that take ids, each exercised by the cases below.
const TAKES_IDS: &[&str] = &[
    "/api/account/end_session",
    "/api/factors/remove",
    "/api/organisation/create_department",
    "/api/organisation/rename_department",
    "/api/organisation/move_department",
    "/api/organisation/archive_department",
    "/api/organisation/restore_department",
    "/api/people/list",
    "/api/people/get",
    "/api/people/invite",
    "/api/people/resend_invitation",
    "/api/people/revoke_invitation",
    "/api/people/set_status",
    "/api/people/set_role",
    "/api/people/set_department",
    "/api/people/set_grants",
    "/api/people/reset_factors",
    "/api/people/secure_account",
    "/api/people/correct_details",
    "/api/people/import_progress",
    "/api/roles/update",
    "/api/roles/delete",
    "/api/surveys/create",
    "/api/surveys/set_status",
    "/api/check_ins/submit",
    "/api/check_ins/send",
    "/api/results/round",
    "/api/results/comments",
    "/api/results/trend",
    "/api/results/export",
    "/api/surveys/remind",
    "/api/surveys/close_round",
    "/api/results/reply",
    "/api/check_ins/inbox",
    "/api/check_ins/answer_reply",
    "/api/audit/review",
    "/api/audit/acknowledge",
    "/api/settings/revoke_support",
    "/api/privacy/export",
    "/api/privacy/copy_delivered",
    "/api/privacy/restrict",
    "/api/privacy/erase",
    "/api/privacy/record",
];

#[test]
fn every_server_fn_is_covered() {
    // Registering happens when the app's router is built; the registry is process-wide.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    let covered: BTreeSet<String> = TAKES_NO_WORKPLACE_ID
        .iter()
        .map(|(path, _)| path.to_string())
        .chain(TAKES_IDS.iter().map(|path| path.to_string()))
        .collect();
    let missing: Vec<_> = registered.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "server functions without an isolation case: {missing:?}"
    );
}

#[test]
fn the_password_checks_shed_under_load_are_real_server_fns() {
    // A renamed endpoint must not silently lose its shedding.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    for path in candor_server::budgets::PASSWORD_CHECKING_PATHS {
        assert!(registered.contains(path), "{path} is not a server function");
    }
}

/// One workplace's seeded data, named so that a leak shows in a response body.
struct Workplace {
    owner_cookie: String,
    manager_cookie: String,
    employee_cookie: String,
    /// parent ⊃ child; the manager is granted `child` only.
    parent: DepartmentId,
    child: DepartmentId,
    owner: UserId,
    manager: UserId,
    employee: UserId,
    invited: UserId,
    owner_factor: uuid::Uuid,
    owner_session: uuid::Uuid,
    /// A role the workplace defined (results on granted departments).
    own_role: RoleKey,
    survey: uuid::Uuid,
    /// The survey's open round, and its one question.
    round: uuid::Uuid,
    question: uuid::Uuid,
    /// A comment the employee left in that round, and its author's secret.
    comment: uuid::Uuid,
    comment_secret: String,
    workplace: domain::platform::ids::WorkplaceId,
    /// The first entry of its audit log (filled in once both are seeded).
    first_entry: uuid::Uuid,
    /// A live support grant its Owner gave.
    support_grant: uuid::Uuid,
    /// Strings only this workplace's data contains.
    secrets: Vec<String>,
    /// Names and addresses of its people: none may ever appear in the audit log.
    personal: Vec<String>,
}

pub(crate) async fn full_session(db: &Database, user: uuid::Uuid) -> (String, uuid::Uuid) {
    let now = Utc::now();
    let token = accounts::start_session(db, user, &SignInContext::default(), now)
        .await
        .unwrap();
    let session = accounts::resolve_session(db, &Default::default(), token.expose(), now)
        .await
        .unwrap()
        .unwrap();
    let token = accounts::complete_second_factor(db, session.session_id, now)
        .await
        .unwrap();
    (
        format!("__Host-candor_session={}", token.expose()),
        session.session_id,
    )
}

async fn seed(db: &Database, tag: &str) -> Workplace {
    let now = Utc::now();
    let hasher = PasswordHasher::new(
        HashCost {
            memory_kib: 64,
            passes: 1,
            lanes: 1,
        },
        1,
    )
    .unwrap();
    let policy = PasswordPolicy::default();
    let SignupOutcome::Created {
        user_id,
        workplace_id,
        verification_token,
        ..
    } = accounts::sign_up(
        db,
        &hasher,
        &policy,
        SignupInput {
            workplace_name: format!("{tag} Workplace"),
            display_name: format!("{tag} Owner"),
            email: format!("owner@{tag}.test"),
            password: "quietly orbiting marmalade kettles".into(),
        },
        now,
    )
    .await
    .unwrap()
    else {
        panic!("a new workplace");
    };
    accounts::verify_email(db, verification_token.expose(), now)
        .await
        .unwrap();
    let (owner_cookie, owner_session) = full_session(db, user_id).await;
    let owner = UserId::from_uuid(user_id);
    let identity = domain::access::identity::load(
        db,
        &accounts::SessionInfo {
            session_id: owner_session,
            user_id,
            workplace_id: uuid::Uuid::nil(),
            second_factor: true,
            second_factor_at: Some(now),
            password_change_required: false,
        },
    )
    .await
    .unwrap();
    let tenant = TenantDb::for_identity(db, &identity);
    let parent = departments::create(&tenant, &format!("{tag} Parent"), None, now)
        .await
        .unwrap();
    let child = departments::create(&tenant, &format!("{tag} Child"), Some(parent), now)
        .await
        .unwrap();
    let member = |name: &'static str, role: Role, department: DepartmentId| {
        let tenant = tenant.clone();
        let tag = tag.to_owned();
        async move {
            people::invite(
                &tenant,
                people::NewPerson {
                    name: format!("{tag} {name}"),
                    email: format!("{name}@{tag}.test").to_lowercase(),
                    department: Some(department),
                    role: RoleKey::BuiltIn(role),
                    start_date: None,
                },
                now,
            )
            .await
            .unwrap()
        }
    };
    let manager = member("Manager", Role::Manager, parent).await;
    let employee = member("Employee", Role::Employee, parent).await;
    let invited = member("Invited", Role::Employee, child).await;
    for invitation in [&manager, &employee] {
        accounts::accept_invitation(
            db,
            &hasher,
            &policy,
            invitation.token.expose(),
            "lantern harbour gravel symphony",
            now,
        )
        .await
        .unwrap();
    }
    people::set_grants(&tenant, manager.person, &[child].into_iter().collect(), now)
        .await
        .unwrap();
    let (manager_cookie, _) = full_session(db, manager.person.uuid()).await;
    let (employee_cookie, _) = full_session(db, employee.person.uuid()).await;
    let enrolment = factors::begin_totp_enrolment(db, user_id, now).await.unwrap();
    let secret = totp_rs::Secret::try_from_base32(&enrolment.secret_base32).unwrap();
    let code = totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(u64::try_from(now.timestamp()).unwrap());
    factors::confirm_totp_enrolment(db, user_id, &code.to_string(), "", now)
        .await
        .unwrap();
    let owner_factor = factors::list_factors(db, user_id).await.unwrap().factors[0].id;
    let own_role = RoleKey::Workplace(
        roles::create(
            &tenant,
            &roles::RoleDraft {
                name: format!("{tag} Team lead"),
                permissions: [Permission::Results].into_iter().collect(),
                results_limited_to_grants: true,
            },
            now,
        )
        .await
        .unwrap(),
    );
    // A weekly pulse for everyone, its first round open.
    let owner_identity = domain::access::identity::load(
        db,
        &accounts::SessionInfo {
            session_id: owner_session,
            user_id,
            workplace_id,
            second_factor: true,
            second_factor_at: Some(now),
            password_change_required: false,
        },
    )
    .await
    .unwrap();
    let owner_tenant = TenantDb::for_identity(db, &owner_identity);
    let wellbeing = domain::surveys::library::find("wellbeing").unwrap();
    let survey = domain::surveys::create(
        &owner_tenant.as_person(&owner_identity),
        domain::surveys::NewSurvey {
            title: format!("{tag} Pulse"),
            questions: vec![domain::surveys::NewQuestion {
                prompt: wellbeing.prompt.into(),
                kind: wellbeing.kind(),
                library_key: Some("wellbeing".into()),
            }],
            departments: vec![],
            cadence: domain::surveys::Cadence::Weekly,
            first_round_at: now,
            window_days: 3,
        },
        now,
    )
    .await
    .unwrap();
    domain::surveys::rounds::open_due(db, now).await.unwrap();
    let round = domain::surveys::rounds::of_survey(&owner_tenant, survey)
        .await
        .unwrap()[0]
        .id;
    let employee_identity = domain::access::identity::load(
        db,
        &accounts::SessionInfo {
            session_id: uuid::Uuid::new_v4(),
            user_id: employee.person.uuid(),
            workplace_id,
            second_factor: true,
            second_factor_at: Some(now),
            password_change_required: false,
        },
    )
    .await
    .unwrap();
    let check_in =
        domain::surveys::answering::open_check_ins(&owner_tenant.as_person(&employee_identity), now)
            .await
            .unwrap()
            .remove(0);
    let comment_secret = domain::surveys::answering::submit(
        &owner_tenant.as_person(&employee_identity),
        round,
        vec![domain::surveys::answering::GivenAnswer {
            question: check_in.questions[0].id,
            value: Some(4),
            comment: Some(format!("{tag} Comment")),
        }],
        now,
    )
    .await
    .unwrap()
    .remove(0)
    .secret;
    // One answer is below every minimum, so no results page lists the comment: its id comes
    // from the database, once the ballot box has been mixed (the round stays open).
    domain::testing::mix_ballots(&owner_tenant, round).await;
    let comment = domain::testing::comment_ids(&owner_tenant).await[0];
    Workplace {
        workplace: domain::platform::ids::WorkplaceId::from_uuid(workplace_id),
        first_entry: uuid::Uuid::nil(),
        support_grant: domain::compliance::support::grant(&owner_tenant.as_person(&owner_identity), 4, now)
            .await
            .unwrap()
            .id,
        personal: ["Owner", "Manager", "Employee", "Invited", "Comment"]
            .iter()
            .map(|who| format!("{tag} {who}"))
            .chain([format!("@{tag}.test"), format!("{tag} Workplace")])
            .collect(),
        survey,
        round,
        question: check_in.questions[0].id,
        comment,
        comment_secret,
        own_role,
        owner_cookie,
        manager_cookie,
        employee_cookie,
        parent,
        child,
        owner,
        manager: manager.person,
        employee: employee.person,
        invited: invited.person,
        owner_factor,
        owner_session,
        secrets: vec![
            format!("{tag} Parent"),
            format!("{tag} Child"),
            format!("{tag} Manager"),
            format!("{tag} Employee"),
            format!("{tag} Invited"),
            format!("@{tag}.test").to_lowercase(),
            parent.to_string(),
            child.to_string(),
            manager.person.to_string(),
            employee.person.to_string(),
            invited.person.to_string(),
            format!("{tag} Team lead"),
            own_role.to_string(),
            format!("{tag} Pulse"),
            survey.to_string(),
            round.to_string(),
            format!("{tag} Comment"),
            comment.to_string(),
        ],
    }
}

async fn call(app: &TestApp, cookie: &str, path: &str, body: &str) -> (StatusCode, String) {
    let content_type = if body.starts_with('{') {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let request = Request::post(path)
        .header("content-type", content_type)
        .header("cookie", cookie)
        .body(Body::from(body.to_owned()))
        .unwrap();
    let (response, body) = app.send(request).await;
    (response.status(), body)
}

/// The check-in form as a browser posts it without its script.
async fn post_check_in_form(app: &TestApp, cookie: &str, body: String) -> (http::Response<()>, String) {
    let request = Request::post("/api/check_ins/send")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("cookie", cookie)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// Every case: (caller cookie, path, form body) → must be 403 or 404 and leak nothing of `b`.
fn cases(a: &Workplace, b: &Workplace) -> Vec<(&'static str, String, String, String)> {
    let owner = a.owner_cookie.clone();
    let mut cases: Vec<(&'static str, String, String, String)> = Vec::new();
    let mut add = |who: &'static str, cookie: &str, path: &str, body: String| {
        cases.push((who, cookie.to_owned(), path.to_owned(), body));
    };
    // A's owner with B's ids.
    add(
        "A owner",
        &owner,
        "/api/account/end_session",
        format!("id={}", b.owner_session),
    );
    add(
        "A owner",
        &owner,
        "/api/factors/remove",
        format!("id={}", b.owner_factor),
    );
    add(
        "A owner",
        &owner,
        "/api/organisation/create_department",
        format!("name=X&parent={}", b.parent),
    );
    for path in ["rename_department", "archive_department", "restore_department"] {
        add(
            "A owner",
            &owner,
            &format!("/api/organisation/{path}"),
            format!("id={}&name=X", b.child),
        );
    }
    add(
        "A owner",
        &owner,
        "/api/organisation/move_department",
        format!("id={}&parent=", b.child),
    );
    add(
        "A owner",
        &owner,
        "/api/organisation/move_department",
        format!("id={}&parent={}", a.child, b.parent),
    );
    for person in [b.owner, b.manager, b.employee, b.invited] {
        add("A owner", &owner, "/api/people/get", format!("id={person}"));
        add(
            "A owner",
            &owner,
            "/api/people/set_status",
            format!("id={person}&status=suspended"),
        );
        add(
            "A owner",
            &owner,
            "/api/people/set_role",
            format!("id={person}&role=employee"),
        );
        add(
            "A owner",
            &owner,
            "/api/people/set_department",
            format!("id={person}&department="),
        );
        add(
            "A owner",
            &owner,
            "/api/people/set_grants",
            format!("id={person}"),
        );
        add(
            "A owner",
            &owner,
            "/api/people/reset_factors",
            format!("id={person}"),
        );
        add(
            "A owner",
            &owner,
            "/api/people/secure_account",
            format!("id={person}&reset_factors=true"),
        );
        add(
            "A owner",
            &owner,
            "/api/people/correct_details",
            format!("id={person}&name=Renamed&email=renamed%40b.test&start_date="),
        );
        add(
            "A owner",
            &owner,
            "/api/people/resend_invitation",
            format!("id={person}"),
        );
        add(
            "A owner",
            &owner,
            "/api/people/revoke_invitation",
            format!("id={person}"),
        );
        add("A owner", &owner, "/api/privacy/export", format!("id={person}"));
        add(
            "A owner",
            &owner,
            "/api/privacy/copy_delivered",
            format!("id={person}"),
        );
        add(
            "A owner",
            &owner,
            "/api/privacy/restrict",
            format!("id={person}&restricted=true"),
        );
        add(
            "A owner",
            &owner,
            "/api/privacy/erase",
            format!("id={person}&confirmation=X"),
        );
        add(
            "A owner",
            &owner,
            "/api/privacy/record",
            format!(
                "id={person}&kind=erasure&received={}",
                chrono::Utc::now().format("%Y-%m-%d")
            ),
        );
    }
    for path in [
        "/api/privacy/export",
        "/api/privacy/copy_delivered",
        "/api/privacy/restrict",
    ] {
        add(
            "A manager",
            &a.manager_cookie,
            path,
            format!("id={}&restricted=true", a.employee),
        );
        add(
            "A employee",
            &a.employee_cookie,
            path,
            format!("id={}&restricted=true", a.manager),
        );
    }
    add(
        "A owner",
        &owner,
        "/api/people/set_department",
        format!("id={}&department={}", a.employee, b.parent),
    );
    add(
        "A owner",
        &owner,
        "/api/people/set_grants",
        format!("id={}&departments[0]={}", a.manager, b.child),
    );
    add(
        "A owner",
        &owner,
        "/api/people/invite",
        format!(
            "name=X&email=x%40a-new.test&department={}&role=employee&start_date=",
            b.parent
        ),
    );
    // B's own role: not to be changed, deleted or given in A.
    add(
        "A owner",
        &owner,
        "/api/roles/update",
        format!(
            "key={}&name=X&permissions[0]=audit&results_limited_to_grants=false",
            b.own_role
        ),
    );
    add(
        "A owner",
        &owner,
        "/api/roles/delete",
        format!("key={}", b.own_role),
    );
    add(
        "A owner",
        &owner,
        "/api/people/set_role",
        format!("id={}&role={}", a.employee, b.own_role),
    );
    add(
        "A owner",
        &owner,
        "/api/people/invite",
        format!(
            "name=X&email=x%40a-new.test&department=&role={}&start_date=",
            b.own_role
        ),
    );
    // Inside A, outside the caller's role or grants.
    let (manager, employee) = (a.manager_cookie.clone(), a.employee_cookie.clone());
    add(
        "A manager",
        &manager,
        "/api/people/get",
        format!("id={}", a.employee),
    ); // parent, not granted
    add(
        "A manager",
        &manager,
        "/api/people/get",
        format!("id={}", a.owner),
    );
    add(
        "A manager",
        &manager,
        "/api/people/set_status",
        format!("id={}&status=suspended", a.invited),
    );
    add(
        "A manager",
        &manager,
        "/api/organisation/rename_department",
        format!("id={}&name=X", a.child),
    );
    add(
        "A manager",
        &manager,
        "/api/people/set_grants",
        format!("id={}&departments[0]={}", a.manager, a.parent),
    );
    for path in ["/api/roles/list", "/api/roles/delete"] {
        add("A manager", &manager, path, format!("key={}", a.own_role));
    }
    add(
        "A manager",
        &manager,
        "/api/roles/update",
        format!(
            "key={}&name=X&permissions[0]=audit&results_limited_to_grants=false",
            a.own_role
        ),
    );
    add(
        "A manager",
        &manager,
        "/api/roles/create",
        "name=X&permissions[0]=audit&results_limited_to_grants=false".into(),
    );
    add(
        "A employee",
        &employee,
        "/api/people/get",
        format!("id={}", a.manager),
    );
    add(
        "A employee",
        &employee,
        "/api/people/set_role",
        format!("id={}&role={}", a.employee, a.own_role),
    );
    add(
        "A employee",
        &employee,
        "/api/people/reset_factors",
        format!("id={}", a.owner),
    );
    add(
        "A employee",
        &employee,
        "/api/people/secure_account",
        format!("id={}", a.owner),
    );
    add(
        "A employee",
        &employee,
        "/api/people/correct_details",
        format!("id={}&name=Renamed&email=renamed%40a.test&start_date=", a.owner),
    );
    add(
        "A employee",
        &employee,
        "/api/people/set_role",
        format!("id={}&role=owner", a.employee),
    );
    add(
        "A employee",
        &employee,
        "/api/organisation/create_department",
        "name=X&parent=".into(),
    );
    add(
        "A employee",
        &employee,
        "/api/people/invite",
        "name=X&email=x%40a-new.test&department=&role=employee&start_date=".into(),
    );
    // Surveys, check-ins and results of B, from A.
    add(
        "A owner",
        &owner,
        "/api/surveys/create",
        format!(
            r#"{{"title":"X","questions":["wellbeing"],"departments":["{}"],"cadence":"weekly","start":"now","window_days":3}}"#,
            b.parent
        ),
    );
    add(
        "A owner",
        &owner,
        "/api/surveys/set_status",
        format!("id={}&status=closed", b.survey),
    );
    for path in [
        "/api/results/round",
        "/api/results/comments",
        "/api/results/trend",
        "/api/results/export",
        "/api/surveys/remind",
        "/api/surveys/close_round",
    ] {
        add("A owner", &owner, path, format!("round={}", b.round));
    }
    add(
        "A owner",
        &owner,
        "/api/results/reply",
        format!("comment={}&text=Hello", b.comment),
    );
    // B's comment secret presented in A finds nothing: answering it is not found, and the
    // inbox (checked for leaks like every case) comes back empty with 200, so it is checked in
    // the workplace test below instead.
    add(
        "A employee",
        &employee,
        "/api/check_ins/answer_reply",
        format!(r#"{{"secret":"{}","text":"Hello"}}"#, b.comment_secret),
    );
    add(
        "A employee",
        &employee,
        "/api/check_ins/submit",
        format!(r#"{{"round":"{}","answers":[]}}"#, b.round),
    );
    // Within A, beyond the caller's role.
    for path in [
        "/api/results/round",
        "/api/results/comments",
        "/api/results/trend",
        "/api/results/export",
    ] {
        add("A employee", &employee, path, format!("round={}", a.round));
    }
    add(
        "A manager",
        &manager,
        "/api/surveys/remind",
        format!("round={}", a.round),
    );
    add(
        "A manager",
        &manager,
        "/api/surveys/close_round",
        format!("round={}", a.round),
    );
    add(
        "A manager",
        &manager,
        "/api/surveys/set_status",
        format!("id={}&status=closed", a.survey),
    );
    add(
        "A manager",
        &manager,
        "/api/surveys/create",
        r#"{"title":"X","questions":["wellbeing"],"cadence":"weekly","start":"now","window_days":3}"#.into(),
    );
    for (who, cookie) in [("A manager", &manager), ("A employee", &employee)] {
        add(
            who,
            cookie,
            "/api/settings/save_group_sizes",
            "results=3&comments=3".into(),
        );
        add(
            who,
            cookie,
            "/api/settings/save_tenure_bands",
            "bounds=1%2C3".into(),
        );
        add(who, cookie, "/api/settings/tenure_bands", String::new());
        add(
            who,
            cookie,
            "/api/settings/save_benchmarks",
            "take_part=true".into(),
        );
        add(who, cookie, "/api/settings/benchmarks", String::new());
    }
    // B's log entries and alerts, from A's auditor (the Owner).
    add(
        "A owner",
        &owner,
        "/api/audit/review",
        format!("entry={}&note=seen", b.first_entry),
    );
    add(
        "A owner",
        &owner,
        "/api/audit/acknowledge",
        format!("alert={}", b.first_entry),
    );
    add(
        "A employee",
        &employee,
        "/api/audit/review",
        format!("entry={}&note=seen", a.first_entry),
    );
    add(
        "A manager",
        &manager,
        "/api/audit/acknowledge",
        format!("alert={}", a.first_entry),
    );
    for (who, cookie) in [("A manager", &manager), ("A employee", &employee)] {
        add(who, cookie, "/api/audit/overview", "query[actor]=&query[action]=&query[entity]=&query[entity_id]=&query[from]=&query[until]=&query[security_only]=false&query[unreviewed_only]=false".into());
        add(
            who,
            cookie,
            "/api/audit/save_settings",
            "retention_days=30&review_interval_days=1&failed_sign_in_limit=3&denial_limit=3&export_limit=1"
                .into(),
        );
    }
    // Support access: B's grant cannot be revoked from A; only an Owner grants.
    add(
        "A owner",
        &owner,
        "/api/settings/revoke_support",
        format!("id={}", b.support_grant),
    );
    for (who, cookie) in [("A manager", &manager), ("A employee", &employee)] {
        add(who, cookie, "/api/settings/grant_support", "hours=4".into());
        add(
            who,
            cookie,
            "/api/settings/revoke_support",
            format!("id={}", a.support_grant),
        );
        add(who, cookie, "/api/settings/support_access", String::new());
    }
    // Only an Owner asks for a workplace's deletion (even with its name typed correctly) or
    // cancels it; only those with the settings permission see or change retention.
    for (who, cookie) in [("A manager", &manager), ("A employee", &employee)] {
        add(
            who,
            cookie,
            "/api/settings/request_deletion",
            "confirmation=alpha+Workplace&grace_days=30".into(),
        );
        add(who, cookie, "/api/settings/cancel_deletion", String::new());
        add(who, cookie, "/api/settings/retention", String::new());
        add(
            who,
            cookie,
            "/api/settings/save_retention",
            "people_left_months=1&comments_months=1".into(),
        );
    }
    cases
}

async fn workplace_b_is_unreachable_from_workplace_a(test_db: TestDb) {
    let db = test_db.db.clone();
    let mut a = seed(&db, "alpha").await;
    let mut b = seed(&db, "bravo").await;
    for w in [&mut a, &mut b] {
        let trail = domain::platform::audit::Trail::for_request(
            std::sync::Arc::new(domain::SystemClock),
            None,
            "people/list",
        );
        trail.identify(w.owner, w.workplace);
        domain::platform::access_log::finish(&trail, &db, 200)
            .await
            .unwrap();
        w.first_entry = domain::testing::audit_rows(&db, Some(w.workplace)).await[0].id;
    }
    let app = TestApp::new(test_db);
    let mut exercised: BTreeMap<String, usize> = BTreeMap::new();
    for (who, cookie, path, body) in cases(&a, &b) {
        let (status, answer) = call(&app, &cookie, &path, &body).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
            "{who} {path} {body}: {status} {answer}"
        );
        for secret in &b.secrets {
            assert!(
                !answer.contains(secret.as_str()),
                "{who} {path} leaked {secret}: {answer}"
            );
        }
        *exercised.entry(path).or_default() += 1;
    }
    // Listing people with B's department as the filter finds nothing of B.
    let (status, answer) = call(
        &app,
        &a.owner_cookie,
        "/api/people/list",
        &format!("search=&department={}&status=&page=1", b.parent),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains("\"total\":0"), "{answer}");
    for secret in &b.secrets {
        assert!(!answer.contains(secret.as_str()), "people/list leaked {secret}");
    }
    // A manager's list is their granted subtree: the invited person in `child`, nobody else.
    let (_, answer) = call(
        &app,
        &a.manager_cookie,
        "/api/people/list",
        "search=&department=&status=&page=1",
    )
    .await;
    assert!(
        answer.contains("\"total\":1") && answer.contains("alpha Invited"),
        "{answer}"
    );
    exercised.insert("/api/people/list".into(), 2);
    // A's surveys and rounds hold nothing of B's.
    for path in ["/api/surveys/list", "/api/results/rounds"] {
        let (status, answer) = call(&app, &a.owner_cookie, path, "").await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        assert!(answer.contains("alpha Pulse"), "{answer}");
        for secret in &b.secrets {
            assert!(!answer.contains(secret.as_str()), "{path} leaked {secret}");
        }
    }
    // A's roles page shows A's own role and nothing of B's.
    let (status, answer) = call(&app, &a.owner_cookie, "/api/roles/list", "").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains("alpha Team lead"), "{answer}");
    for secret in &b.secrets {
        assert!(!answer.contains(secret.as_str()), "roles/list leaked {secret}");
    }
    // B's comment secret, presented by someone in A, opens nothing.
    let (status, answer) = call(
        &app,
        &a.employee_cookie,
        "/api/check_ins/inbox",
        &format!(r#"{{"secrets":["{}"]}}"#, b.comment_secret),
    )
    .await;
    assert_eq!((status, answer.as_str()), (StatusCode::OK, "[]"));
    exercised.insert("/api/check_ins/inbox".into(), 1);
    // The check-in form posted without its script, naming B's round from A: the browser is sent
    // back with the refusal's code only, nothing of B's is in the answer, and the log says no
    // (as a submission: the log does not tell the form's post from the script's).
    let refused_submissions = || {
        domain::testing::raw_strings(
            &db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log \
             WHERE action = 'check_ins/submit' AND outcome = 'denied'",
        )
    };
    let before = refused_submissions().await;
    let (response, answer) = post_check_in_form(
        &app,
        &a.employee_cookie,
        format!("round={}&answers%5Bq{}%5D=3", b.round, uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{answer}");
    assert_eq!(
        crate::support::header(&response, "location"),
        format!("/check-ins/{}?problem=resource.not_found", b.round)
    );
    for secret in &b.secrets {
        assert!(
            !answer.contains(secret.as_str()),
            "check_ins/send leaked {secret}"
        );
    }
    let after = refused_submissions().await;
    assert_eq!(
        after[0].parse::<u32>().unwrap(),
        before[0].parse::<u32>().unwrap() + 1,
        "the refusal is logged as one"
    );
    // A's Owner, asked in A's round, answers by the form: saved, thanked, and logged as a
    // submission at the day, without the request's id.
    let coarse_submissions = || {
        domain::testing::raw_strings(
            &db,
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log \
             WHERE action = 'check_ins/submit' AND outcome = 'ok' AND request_id IS NULL",
        )
    };
    let before = coarse_submissions().await;
    let (response, answer) = post_check_in_form(
        &app,
        &a.owner_cookie,
        format!(
            "round={}&answers%5Bq{q}%5D=4&comments%5Bq{q}%5D=Two%0D%0Alines",
            a.round,
            q = a.question
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{answer}");
    assert_eq!(crate::support::header(&response, "location"), "/check-ins?sent=1");
    assert_eq!(
        coarse_submissions().await[0].parse::<u32>().unwrap(),
        before[0].parse::<u32>().unwrap() + 1
    );
    exercised.insert("/api/check_ins/send".into(), 1);
    // An import's progress belongs to its workplace and to those who may import: A's Owner
    // starts one; B's Owner and A's employee asking by its id learn nothing; A's Owner follows
    // it to the end.
    let (status, started) = call(
        &app,
        &a.owner_cookie,
        "/api/people/import",
        "csv=name%2Cemail%2Cdepartment%2Crole%2Cstart_date%0Aalpha+Imported%2Cimported%40alpha.test%2C%2C%2C%0A",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let started: serde_json::Value = serde_json::from_str(&started).unwrap();
    let progress_of = format!("id={}", started["id"].as_str().unwrap());
    for (who, cookie) in [("B owner", &b.owner_cookie), ("A employee", &a.employee_cookie)] {
        let (status, answer) = call(&app, cookie, "/api/people/import_progress", &progress_of).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
            "{who}: {status} {answer}"
        );
        assert!(!answer.contains("invited"), "{who}: {answer}");
    }
    let mut outcome = serde_json::Value::Null;
    for _ in 0..100 {
        let (status, answer) = call(&app, &a.owner_cookie, "/api/people/import_progress", &progress_of).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        outcome = serde_json::from_str::<serde_json::Value>(&answer).unwrap()["outcome"].clone();
        if !outcome.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(outcome, serde_json::json!({ "Ok": 1 }));
    exercised.insert("/api/people/import_progress".into(), 3);
    for path in TAKES_IDS {
        assert!(
            exercised.contains_key(*path),
            "no isolation case exercised {path}"
        );
    }
    // And B is untouched: its owner still sees everything as it was.
    let (_, answer) = call(
        &app,
        &b.owner_cookie,
        "/api/people/list",
        "search=&department=&status=&page=1",
    )
    .await;
    assert!(answer.contains("\"total\":4"), "{answer}");
    let (_, answer) = call(&app, &b.owner_cookie, "/api/roles/list", "").await;
    assert!(answer.contains("bravo Team lead"), "{answer}");
    let (_, answer) = call(&app, &b.owner_cookie, "/api/organisation/departments", "").await;
    assert!(
        answer.contains("bravo Child") && !answer.contains("\"name\":\"X\""),
        "{answer}"
    );
    // Every one of those calls was logged, and the log holds no name or address of anyone.
    let log = domain::testing::audit_log_text(&db).await;
    for personal in a.personal.iter().chain(&b.personal) {
        assert!(!log.contains(personal.as_str()), "the audit log holds {personal}");
    }
}

/// Every registered server function, called once by a signed-in Owner (most with arguments
/// missing or wrong), leaves at least one audit entry; none holds a seeded personal string.
async fn every_server_fn_call_leaves_an_audit_entry(test_db: TestDb) {
    let db = test_db.db.clone();
    let a = seed(&db, "alpha").await;
    let app = TestApp::new(test_db);
    let mut paths: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    paths.sort();
    // Signing out ends the session: call it last.
    paths.sort_by_key(|p| p.ends_with("log_out"));
    for path in &paths {
        let before = domain::testing::audit_entry_count(&db).await;
        let (status, _) = call(&app, &a.owner_cookie, path, "").await;
        let after = domain::testing::audit_entry_count(&db).await;
        assert!(after > before, "{path} ({status}) left no audit entry");
    }
    let log = domain::testing::audit_log_text(&db).await;
    for personal in &a.personal {
        assert!(!log.contains(personal.as_str()), "the audit log holds {personal}");
    }
    // And the chains it built verify.
    let reports = domain::platform::access_log::verify(&db, None, &[])
        .await
        .unwrap();
    assert!(reports.iter().all(|r| r.broken.is_none()), "{reports:?}");
}

/// Page routes that read no workplace data when loaded, and why. Every other page must leave an
/// entry naming who loaded it.
const PAGES_READING_NOTHING: &[(&str, &str)] = &[];

/// The entity a page's path names, as the log records it: (entity code, the id in the path).
fn page_entity(route: &str, a: &Workplace) -> Option<(&'static str, String)> {
    match route {
        "/people/:id" | "/people/:id/data" => Some(("person", a.employee.to_string())),
        "/results/:round" => Some(("round", a.round.to_string())),
        // A check-in page names no round: `check_ins/mine` is logged at the day only, so the
        // moment someone opened a round's form points at no answer.
        _ => None,
    }
}

/// Loading a page reads its data on the server while rendering, not over `/api/`: a direct
/// load, a reload or an emailed link must leave the same kind of entry — who, which page, which
/// person or round — as the server function would. The routes come from the router, so a new
/// page without a case fails here.
async fn every_page_load_is_logged_like_its_server_fns(test_db: TestDb) {
    let db = test_db.db.clone();
    let a = seed(&db, "alpha").await;
    let app = TestApp::new(test_db);
    let routes: BTreeSet<String> = leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|route| route.path().replace('{', ":").replace('}', ""))
        .collect();
    assert!(routes.contains("/people/:id/data"), "{routes:?}");
    // Each entry of `action`, as its stored row reads.
    let entries = |action: String| {
        let db = db.clone();
        async move {
            domain::testing::audit_log_text(&db)
                .await
                .lines()
                .filter(|row| row.contains(&format!("action: \"{action}\"")))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    for route in &routes {
        if PAGES_READING_NOTHING.iter().any(|(page, _)| page == route) {
            continue;
        }
        let path = route
            .replace(":id", &a.employee.to_string())
            .replace(":round", &a.round.to_string());
        // The entry names the route with its ids as `:id`, whatever the parameter is called.
        let action = format!("page:{}", route.replace(":round", ":id"));
        let before = entries(action.clone()).await.len();
        let request = Request::get(path.as_str())
            .header("cookie", &a.owner_cookie)
            .body(Body::empty())
            .unwrap();
        let (response, _) = app.send(request).await;
        assert!(response.status().is_success(), "{path}: {}", response.status());
        let logged = entries(action.clone()).await;
        assert!(logged.len() > before, "loading {path} left no entry");
        let by_owner = format!("actor_id: Some({})", a.owner);
        assert!(logged.iter().all(|e| e.contains(&by_owner)), "{path}: {logged:?}");
        if let Some((entity, id)) = page_entity(route, &a) {
            assert!(
                logged
                    .iter()
                    .any(|e| e.contains(&format!("entity_type: Some(\"{entity}\")")) && e.contains(&id)),
                "loading {path} did not name the {entity} it read: {logged:?}"
            );
        }
    }
    // The same page by another spelling or method is the same read, logged the same way.
    let data_page = format!("/people/{}/data", a.employee);
    for (method, path) in [
        ("GET", format!("{data_page}/")),
        ("HEAD", data_page.clone()),
        ("POST", format!("{data_page}/")),
    ] {
        let before = entries("page:/people/:id/data".to_owned()).await.len();
        let request = Request::builder()
            .method(method)
            .uri(path.as_str())
            .header("cookie", &a.owner_cookie)
            .body(Body::empty())
            .unwrap();
        app.send(request).await;
        let logged = entries("page:/people/:id/data".to_owned()).await;
        assert!(logged.len() > before, "{method} {path} left no entry");
    }
    // An anonymous visitor of a public page leaves nothing (no row to flood the log with).
    let before = domain::testing::audit_entry_count(&db).await;
    let (response, _) = app.get("/security").await;
    assert!(response.status().is_success(), "/security: {}", response.status());
    assert_eq!(domain::testing::audit_entry_count(&db).await, before);
    let log = domain::testing::audit_log_text(&db).await;
    for personal in &a.personal {
        assert!(!log.contains(personal.as_str()), "the audit log holds {personal}");
    }
}

domain::on_both_backends!(
    workplace_b_is_unreachable_from_workplace_a,
    every_server_fn_call_leaves_an_audit_entry,
    every_page_load_is_logged_like_its_server_fns,
);
