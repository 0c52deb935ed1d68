//! Pulse surveys end to end in the domain: a survey is created, the scheduler opens its round,
//! people answer once, and results respect the minimum group size — including the
//! complementary suppression that stops a hidden group being worked out by subtraction.

use chrono::{DateTime, Duration, Utc};
use domain::{
    departments,
    ids::DepartmentId,
    people::NewPerson,
    policy::{Identity, Role, RoleKey},
    surveys::{
        self,
        answering::{self, GivenAnswer},
        library,
        results::{self, GroupResult},
        rounds,
        suppression::Group,
        Cadence, NewQuestion, NewSurvey, QuestionKind,
    },
    tenant::TenantDb,
    testing::TestDb,
};

fn now() -> DateTime<Utc> {
    // Fixed, so tenure bands and schedules do not depend on the day the tests run.
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .to_utc()
}

struct Pulse {
    owner: Identity,
    tenant: TenantDb,
    manager: Identity,
    engineering: DepartmentId,
    platform: DepartmentId,
    mobile: DepartmentId,
    sales: DepartmentId,
    /// Platform 5, Mobile 4, Sales 6.
    platform_people: Vec<Identity>,
    mobile_people: Vec<Identity>,
    sales_people: Vec<Identity>,
    survey: surveys::SurveyId,
}

async fn people(
    db: &domain::Database,
    tenant: &TenantDb,
    team: &str,
    department: DepartmentId,
    n: usize,
) -> Vec<Identity> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(
            domain::testing::active_person(
                db,
                tenant,
                NewPerson {
                    name: format!("{team} Person {i}"),
                    email: format!("{}.{i}@northwind.test", team.to_lowercase()),
                    department: Some(department),
                    role: RoleKey::BuiltIn(Role::Employee),
                    start_date: None,
                },
                now(),
            )
            .await,
        );
    }
    out
}

fn library_question(key: &str) -> NewQuestion {
    let known = library::find(key).unwrap();
    NewQuestion {
        prompt: known.prompt.into(),
        kind: known.kind(),
        library_key: Some(key.into()),
    }
}

async fn seed(db: &domain::Database) -> Pulse {
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let engineering = departments::create(&tenant, "Engineering", None, now())
        .await
        .unwrap();
    let platform = departments::create(&tenant, "Platform", Some(engineering), now())
        .await
        .unwrap();
    let mobile = departments::create(&tenant, "Mobile", Some(engineering), now())
        .await
        .unwrap();
    let sales = departments::create(&tenant, "Sales", None, now()).await.unwrap();
    let platform_people = people(db, &tenant, "Platform", platform, 5).await;
    let mobile_people = people(db, &tenant, "Mobile", mobile, 4).await;
    let sales_people = people(db, &tenant, "Sales", sales, 6).await;
    let manager = domain::testing::active_person(
        db,
        &tenant,
        NewPerson {
            name: "Grace Manager".into(),
            email: "grace@northwind.test".into(),
            department: None,
            role: RoleKey::BuiltIn(Role::Manager),
            start_date: None,
        },
        now(),
    )
    .await;
    domain::people::set_grants(
        &tenant,
        manager.user_id,
        &[engineering].into_iter().collect(),
        now(),
    )
    .await
    .unwrap();
    let manager = domain::identity::load(
        db,
        &domain::accounts::SessionInfo {
            session_id: uuid::Uuid::new_v4(),
            user_id: manager.user_id.uuid(),
            workplace_id: tenant.workplace_id().uuid(),
            second_factor: true,
            second_factor_at: Some(now()),
        },
    )
    .await
    .unwrap();
    let survey = surveys::create(
        &tenant,
        &owner,
        NewSurvey {
            title: "Weekly pulse".into(),
            questions: vec![
                library_question("workload"),
                library_question("enps"),
                library_question("open_feedback"),
            ],
            departments: vec![engineering, sales],
            cadence: Cadence::Weekly,
            first_round_at: now(),
            window_days: 3,
        },
        now(),
    )
    .await
    .unwrap();
    Pulse {
        owner,
        tenant,
        manager,
        engineering,
        platform,
        mobile,
        sales,
        platform_people,
        mobile_people,
        sales_people,
        survey,
    }
}

fn answers(
    check_in: &answering::CheckIn,
    workload: i32,
    enps: i32,
    comment: Option<&str>,
) -> Vec<GivenAnswer> {
    check_in
        .questions
        .iter()
        .map(|q| GivenAnswer {
            question: q.id,
            value: match q.kind {
                QuestionKind::Enps => Some(enps),
                QuestionKind::Text => None,
                _ => Some(workload),
            },
            comment: matches!(q.kind, QuestionKind::Text)
                .then(|| comment.map(str::to_owned))
                .flatten(),
        })
        .collect()
}

fn group(results: &results::RoundResults, group: Group) -> Option<&GroupResult> {
    results.groups.iter().find(|g| g.group == group)
}

async fn a_weekly_pulse_runs_and_hides_small_groups(test_db: TestDb) {
    let db = &test_db.db;
    let pulse = seed(db).await;
    let tenant = &pulse.tenant;

    // The scheduler opens the round once, asking everyone in Engineering and Sales.
    let opened = rounds::open_due(db, now()).await.unwrap();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].participants.len(), 15);
    assert!(rounds::open_due(db, now() + Duration::minutes(1))
        .await
        .unwrap()
        .is_empty());
    let round = opened[0].round;
    // The owner (no department) was not asked.
    assert!(answering::open_check_ins(tenant, &pulse.owner, now())
        .await
        .unwrap()
        .is_empty());

    // Everyone answers: Platform workload 4, Mobile 2, Sales 5; eNPS Platform 10, Mobile 3, Sales 8.
    for (team, workload, enps) in [
        (&pulse.platform_people, 4, 10),
        (&pulse.mobile_people, 2, 3),
        (&pulse.sales_people, 5, 8),
    ] {
        for person in team {
            let check_ins = answering::open_check_ins(tenant, person, now()).await.unwrap();
            assert_eq!(check_ins.len(), 1);
            answering::submit(
                tenant,
                person,
                round,
                answers(&check_ins[0], workload, enps, Some("More quiet rooms")),
                now(),
            )
            .await
            .unwrap();
        }
    }
    // A second submission (another tab) is refused and counts nothing.
    let first = &pulse.platform_people[0];
    let again = answering::submit(
        tenant,
        first,
        round,
        vec![GivenAnswer {
            question: uuid::Uuid::nil(),
            value: Some(1),
            comment: None,
        }],
        now(),
    )
    .await;
    assert!(again.is_err());
    assert!(answering::open_check_ins(tenant, first, now())
        .await
        .unwrap()
        .is_empty());

    // A team outside the survey's audience has no row at all.
    let legal = departments::create(tenant, "Legal", None, now()).await.unwrap();
    let everything = results::round_results(tenant, &pulse.owner, round).await.unwrap();
    assert!(group(&everything, Group::Department(legal)).is_none());
    assert_eq!(everything.minimum, 5);
    let workplace = group(&everything, Group::Workplace).unwrap();
    assert_eq!((workplace.asked, workplace.respondents), (Some(15), Some(15)));
    let engineering = group(&everything, Group::Department(pulse.engineering)).unwrap();
    assert_eq!(engineering.respondents, Some(9));
    let workload = &engineering.questions[0];
    assert_eq!(
        workload.distribution,
        vec![(1, 0), (2, 4), (3, 0), (4, 5), (5, 0)]
    );
    assert!((workload.mean.unwrap() - 28.0 / 9.0).abs() < 1e-9);
    // eNPS: 5 promoters, 4 detractors of 9 → 11.
    assert_eq!(engineering.questions[1].enps, Some(11));
    assert_eq!(
        group(&everything, Group::Department(pulse.sales))
            .unwrap()
            .respondents,
        Some(6)
    );
    // Mobile has 4 (below 5), and Platform's 5 would give Mobile away as 9 − 5: both hidden.
    for hidden in [pulse.mobile, pulse.platform] {
        let hidden = group(&everything, Group::Department(hidden)).unwrap();
        assert_eq!((hidden.respondents, hidden.asked), (None, None));
        assert!(hidden.questions.is_empty());
    }

    // The manager sees Engineering and below — the same hiding — and not the whole workplace.
    let theirs = results::round_results(tenant, &pulse.manager, round)
        .await
        .unwrap();
    let seen: Vec<Group> = theirs.groups.iter().map(|g| g.group).collect();
    assert_eq!(
        seen,
        vec![
            Group::Department(pulse.engineering),
            Group::Department(pulse.mobile),
            Group::Department(pulse.platform),
        ]
    );
    assert_eq!(theirs.groups[0], *engineering);
    // A workplace that lowers its minimum to 4 sees Mobile (and so Platform) from then on.
    surveys::set_group_sizes(
        tenant,
        &pulse.owner,
        surveys::GroupSizes {
            results: 4,
            comments: 5,
        },
    )
    .await
    .unwrap();
    let lowered = results::round_results(tenant, &pulse.owner, round).await.unwrap();
    assert_eq!(
        group(&lowered, Group::Department(pulse.mobile))
            .unwrap()
            .respondents,
        Some(4)
    );
    assert_eq!(
        group(&lowered, Group::Department(pulse.platform))
            .unwrap()
            .respondents,
        Some(5)
    );
    surveys::set_group_sizes(
        tenant,
        &pulse.owner,
        surveys::GroupSizes {
            results: 5,
            comments: 5,
        },
    )
    .await
    .unwrap();
    // The list of rounds: whole-workplace participation for the owner, none for the manager.
    let listed = results::rounds_with_results(tenant, &pulse.owner).await.unwrap();
    assert_eq!(listed[0].counts, Some((15, 15)));
    let listed = results::rounds_with_results(tenant, &pulse.manager)
        .await
        .unwrap();
    assert_eq!(listed[0].counts, None);
    // An employee sees no results at all.
    let refused = results::round_results(tenant, first, round).await.unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");

    // Comments: sealed in storage, readable by those who may see the group.
    let comments = results::round_comments(tenant, &pulse.manager, round)
        .await
        .unwrap();
    assert_eq!(comments.len(), 9);
    assert!(comments.iter().all(|c| c.text == "More quiet rooms"));

    // After the window, the round closes and nobody can answer any more.
    assert_eq!(rounds::close_due(db, now() + Duration::days(3)).await.unwrap(), 1);
    assert!(
        answering::open_check_ins(tenant, &pulse.owner, now() + Duration::days(3))
            .await
            .unwrap()
            .is_empty()
    );
    // The next round is due a week after the first.
    let next = rounds::open_due(db, now() + Duration::days(7)).await.unwrap();
    assert_eq!(next.len(), 1);
    let listed = rounds::of_survey(tenant, pulse.survey).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.number).collect::<Vec<_>>(), vec![2, 1]);
}

async fn bad_answers_are_refused_and_nothing_is_saved(test_db: TestDb) {
    let db = &test_db.db;
    let pulse = seed(db).await;
    let tenant = &pulse.tenant;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round;
    let person = &pulse.sales_people[0];
    let check_in = answering::open_check_ins(tenant, person, now())
        .await
        .unwrap()
        .remove(0);
    let long = "x".repeat(100 * 1024);
    for (name, given) in [
        ("out of range", answers(&check_in, 6, 8, None)),
        ("eNPS out of range", answers(&check_in, 3, 11, None)),
        ("a 100 KB comment", answers(&check_in, 3, 8, Some(&long))),
        ("nothing", Vec::new()),
    ] {
        let err = answering::submit(tenant, person, round, given, now())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "input.invalid", "{name}");
    }
    // Still waiting, and nothing was counted.
    assert_eq!(
        answering::open_check_ins(tenant, person, now())
            .await
            .unwrap()
            .len(),
        1
    );
    let figures = results::round_results(tenant, &pulse.owner, round).await.unwrap();
    assert_eq!(group(&figures, Group::Workplace).unwrap().respondents, None);

    // Someone not asked (the owner) finds no such check-in; a closed round cannot be answered.
    let err = answering::submit(tenant, &pulse.owner, round, answers(&check_in, 3, 8, None), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "resource.not_found");
    let err = answering::submit(
        tenant,
        person,
        round,
        answers(&check_in, 3, 8, None),
        now() + Duration::days(4),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "resource.conflict");

    // Surveys themselves: no questions, a start in the past, a window longer than the cadence.
    let base = NewSurvey {
        title: "Pulse".into(),
        questions: vec![library_question("wellbeing")],
        departments: vec![],
        cadence: Cadence::Weekly,
        first_round_at: now(),
        window_days: 3,
    };
    for (name, survey) in [
        (
            "no questions",
            NewSurvey {
                questions: vec![],
                ..base.clone()
            },
        ),
        (
            "start in the past",
            NewSurvey {
                first_round_at: now() - Duration::days(1),
                ..base.clone()
            },
        ),
        (
            "window longer than a week",
            NewSurvey {
                window_days: 7,
                ..base.clone()
            },
        ),
        (
            "one choice only",
            NewSurvey {
                questions: vec![NewQuestion {
                    prompt: "Pick".into(),
                    kind: QuestionKind::Choice {
                        options: vec!["Only".into()],
                    },
                    library_key: None,
                }],
                ..base.clone()
            },
        ),
    ] {
        let err = surveys::create(tenant, &pulse.owner, survey, now())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "input.invalid", "{name}");
    }
    // The minimum group size: 3 to 10, comments never below figures; HR and Owners only.
    use surveys::GroupSizes;
    for bad in [(2, 5), (11, 11), (6, 5)] {
        let err = surveys::set_group_sizes(
            tenant,
            &pulse.owner,
            GroupSizes {
                results: bad.0,
                comments: bad.1,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "input.invalid", "{bad:?}");
    }
    let err = surveys::set_group_sizes(
        tenant,
        person,
        GroupSizes {
            results: 3,
            comments: 3,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "auth.forbidden");
    surveys::set_group_sizes(
        tenant,
        &pulse.owner,
        GroupSizes {
            results: 3,
            comments: 4,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        surveys::group_sizes(tenant, &pulse.owner).await.unwrap(),
        GroupSizes {
            results: 3,
            comments: 4
        }
    );
    // Employees and managers cannot create surveys.
    let err = surveys::create(tenant, person, base.clone(), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "auth.forbidden");
    assert_eq!(surveys::list(tenant, &pulse.owner).await.unwrap().len(), 1);
}

async fn comments_are_sealed_and_another_workplace_sees_nothing(test_db: TestDb) {
    let db = &test_db.db;
    let pulse = seed(db).await;
    let tenant = &pulse.tenant;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round;
    for person in &pulse.sales_people {
        let check_in = answering::open_check_ins(tenant, person, now())
            .await
            .unwrap()
            .remove(0);
        answering::submit(
            tenant,
            person,
            round,
            answers(
                &check_in,
                4,
                9,
                Some("The quarterly offsite in Tromsø was exhausting"),
            ),
            now(),
        )
        .await
        .unwrap();
    }
    let stored = crate::keyring::stored_bytes(&test_db);
    assert!(!crate::keyring::contains(&stored, "offsite in Troms"));

    let (contoso_owner, contoso) =
        domain::testing::workplace(db, "Contoso", "grace@contoso.test", now()).await;
    for err in [
        results::round_results(&contoso, &contoso_owner, round)
            .await
            .unwrap_err(),
        results::round_comments(&contoso, &contoso_owner, round)
            .await
            .unwrap_err(),
        answering::submit(&contoso, &contoso_owner, round, Vec::new(), now())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), "resource.not_found");
    }
    assert!(surveys::list(&contoso, &contoso_owner).await.unwrap().is_empty());
}

domain::on_both_backends!(
    a_weekly_pulse_runs_and_hides_small_groups,
    bad_answers_are_refused_and_nothing_is_saved,
    comments_are_sealed_and_another_workplace_sees_nothing,
);
