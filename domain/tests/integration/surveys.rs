//! Pulse surveys end to end in the domain: a survey is created, the scheduler opens its round,
//! people answer once, and results respect the minimum group size — including the
//! complementary suppression that stops a hidden group being worked out by subtraction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use domain::{
    organisation::{departments, people::NewPerson},
    platform::{
        ids::DepartmentId,
        policy::{Identity, Role, RoleKey},
        tenant::TenantDb,
    },
    surveys::{
        self,
        answering::{self, GivenAnswer},
        comments, library,
        results::{self, GroupResult},
        rounds,
        suppression::Group,
        Cadence, NewQuestion, NewSurvey, QuestionKind,
    },
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
    domain::organisation::people::set_grants(
        &tenant,
        manager.user_id,
        &[engineering].into_iter().collect(),
        now(),
    )
    .await
    .unwrap();
    let manager = reload(db, &tenant, &manager).await;
    let survey = surveys::create(
        &tenant.as_person(&owner),
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
    assert_eq!(opened[0].participants().len(), 15);
    assert!(rounds::open_due(db, now() + Duration::minutes(1))
        .await
        .unwrap()
        .is_empty());
    let round = opened[0].round();
    // The owner (no department) was not asked.
    assert!(answering::open_check_ins(&tenant.as_person(&pulse.owner), now())
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
            let check_ins = answering::open_check_ins(&tenant.as_person(person), now())
                .await
                .unwrap();
            assert_eq!(check_ins.len(), 1);
            answering::submit(
                &tenant.as_person(person),
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
        &tenant.as_person(first),
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
    assert!(answering::open_check_ins(&tenant.as_person(first), now())
        .await
        .unwrap()
        .is_empty());

    // While the round is open nobody sees a figure or a comment: participation only, in steps
    // of the minimum.
    let open = results::round_report(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap();
    assert_eq!(open.results.released_at, None);
    assert!(comments::all(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap()
        .is_empty());
    assert!(open
        .results
        .groups
        .iter()
        .all(|g| g.respondents.is_none() && g.questions.is_empty()));
    assert_eq!(
        group(&open.results, Group::Workplace).unwrap().progress,
        Some(results::Answered::AtLeast(15))
    );
    assert_eq!(
        group(&open.results, Group::Department(pulse.mobile))
            .unwrap()
            .progress,
        Some(results::Answered::FewerThan(5))
    );
    assert_eq!(
        results::export_csv(&tenant.as_person(&pulse.owner), round, now())
            .await
            .unwrap_err()
            .code(),
        "resource.conflict"
    );
    let listed = results::rounds_with_results(&tenant.as_person(&pulse.owner))
        .await
        .unwrap();
    assert_eq!(listed[0].counts, Some((15, results::Answered::AtLeast(15))));

    // A team outside the survey's audience has no row at all.
    let legal = departments::create(tenant, "Legal", None, now()).await.unwrap();
    // After the window, the round closes, nobody can answer any more, and its results are
    // released.
    assert_eq!(
        domain::surveys::closing::close_due(db, now() + Duration::days(3))
            .await
            .unwrap(),
        1
    );
    assert!(
        answering::open_check_ins(&tenant.as_person(&pulse.owner), now() + Duration::days(3))
            .await
            .unwrap()
            .is_empty()
    );
    let everything = results::round_results(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap();
    assert_eq!(everything.released_at, Some(now() + Duration::days(3)));
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
    let theirs = results::round_results(&tenant.as_person(&pulse.manager), round)
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
    // A workplace that lowers its minimum to 4 does so for rounds that close afterwards: this
    // one keeps what it released (else Engineering − Platform before and after would differ).
    surveys::set_group_sizes(
        &tenant.as_person(&pulse.owner),
        surveys::GroupSizes {
            results: 4,
            comments: 5,
        },
    )
    .await
    .unwrap();
    let lowered = results::round_results(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap();
    assert_eq!(lowered, everything);
    surveys::set_group_sizes(
        &tenant.as_person(&pulse.owner),
        surveys::GroupSizes {
            results: 5,
            comments: 5,
        },
    )
    .await
    .unwrap();
    // The list of rounds: whole-workplace participation for the owner, none for the manager.
    let listed = results::rounds_with_results(&tenant.as_person(&pulse.owner))
        .await
        .unwrap();
    assert_eq!(listed[0].counts, Some((15, results::Answered::Exactly(15))));
    let listed = results::rounds_with_results(&tenant.as_person(&pulse.manager))
        .await
        .unwrap();
    assert_eq!(listed[0].counts, None);
    // An employee sees no results at all.
    let refused = results::round_results(&tenant.as_person(first), round)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");

    // Comments: sealed in storage, readable by those who may see the group.
    let comments = comments::all(&tenant.as_person(&pulse.manager), round)
        .await
        .unwrap();
    assert_eq!(comments.len(), 9);
    assert!(comments.iter().all(|c| c.text == "More quiet rooms"));

    assert_eq!(
        domain::surveys::closing::close_due(db, now() + Duration::days(3))
            .await
            .unwrap(),
        0
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
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    let person = &pulse.sales_people[0];
    let check_in = answering::open_check_ins(&tenant.as_person(person), now())
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
        let err = answering::submit(&tenant.as_person(person), round, given, now())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "input.invalid", "{name}");
    }
    // Still waiting, and nothing was counted.
    assert_eq!(
        answering::open_check_ins(&tenant.as_person(person), now())
            .await
            .unwrap()
            .len(),
        1
    );
    let figures = results::round_results(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap();
    assert_eq!(group(&figures, Group::Workplace).unwrap().respondents, None);

    // Someone not asked (the owner) finds no such check-in; a closed round cannot be answered.
    let err = answering::submit(
        &tenant.as_person(&pulse.owner),
        round,
        answers(&check_in, 3, 8, None),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "resource.not_found");
    let err = answering::submit(
        &tenant.as_person(person),
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
        let err = surveys::create(&tenant.as_person(&pulse.owner), survey, now())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "input.invalid", "{name}");
    }
    // The minimum group size: 3 to 10, comments never below figures; HR and Owners only.
    use surveys::GroupSizes;
    for bad in [(2, 5), (11, 11), (6, 5)] {
        let err = surveys::set_group_sizes(
            &tenant.as_person(&pulse.owner),
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
        &tenant.as_person(person),
        GroupSizes {
            results: 3,
            comments: 3,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "auth.forbidden");
    surveys::set_group_sizes(
        &tenant.as_person(&pulse.owner),
        GroupSizes {
            results: 3,
            comments: 4,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        surveys::group_sizes(&tenant.as_person(&pulse.owner))
            .await
            .unwrap(),
        GroupSizes {
            results: 3,
            comments: 4
        }
    );
    // Employees and managers cannot create surveys.
    let err = surveys::create(&tenant.as_person(person), base.clone(), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "auth.forbidden");
    assert_eq!(
        surveys::list(&tenant.as_person(&pulse.owner))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn comments_are_sealed_and_another_workplace_sees_nothing(test_db: TestDb) {
    let db = &test_db.db;
    let pulse = seed(db).await;
    let tenant = &pulse.tenant;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    for person in &pulse.sales_people {
        let check_in = answering::open_check_ins(&tenant.as_person(person), now())
            .await
            .unwrap()
            .remove(0);
        answering::submit(
            &tenant.as_person(person),
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
        results::round_results(&contoso.as_person(&contoso_owner), round)
            .await
            .unwrap_err(),
        comments::all(&contoso.as_person(&contoso_owner), round)
            .await
            .unwrap_err(),
        answering::submit(&contoso.as_person(&contoso_owner), round, Vec::new(), now())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), "resource.not_found");
    }
    assert!(surveys::list(&contoso.as_person(&contoso_owner))
        .await
        .unwrap()
        .is_empty());
}

/// An identity loaded again (after a change of grants, say).
async fn reload(db: &domain::Database, tenant: &TenantDb, person: &Identity) -> Identity {
    domain::testing::reload_identity(db, tenant, person, now()).await
}

async fn answer_all(
    tenant: &TenantDb,
    people: &[Identity],
    round: rounds::RoundId,
    at: DateTime<Utc>,
    value: impl Fn(usize) -> i32,
) {
    for (i, person) in people.iter().enumerate() {
        let check_in = answering::open_check_ins(&tenant.as_person(person), at)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.round == round)
            .unwrap();
        let v = value(i);
        answering::submit(
            &tenant.as_person(person),
            round,
            answers(&check_in, v, (v * 2).min(10), Some(&format!("Comment {i}"))),
            at,
        )
        .await
        .unwrap();
    }
}

async fn trend_export_and_comment_teams(test_db: TestDb) {
    let db = &test_db.db;
    let pulse = seed(db).await;
    let tenant = &pulse.tenant;
    let first = rounds::open_due(db, now()).await.unwrap()[0].round();
    answer_all(tenant, &pulse.platform_people, first, now(), |_| 4).await;
    answer_all(tenant, &pulse.mobile_people, first, now(), |_| 2).await;
    answer_all(tenant, &pulse.sales_people, first, now(), |_| 5).await;
    // Open: no figure, no comment, no trend point, no export.
    let open_figures = results::round_report(&tenant.as_person(&pulse.owner), first)
        .await
        .unwrap();
    assert!(open_figures.results.groups.iter().all(|g| g.questions.is_empty()));
    assert!(comments::all(&tenant.as_person(&pulse.owner), first)
        .await
        .unwrap()
        .is_empty());
    assert!(results::trend(&tenant.as_person(&pulse.owner), first)
        .await
        .unwrap()
        .groups
        .iter()
        .all(|g| g.points.iter().flatten().all(Option::is_none)));
    assert_eq!(domain::testing::kept_tally_rows(tenant).await, 0);
    assert_eq!(
        domain::surveys::closing::close_due(db, now() + Duration::days(3))
            .await
            .unwrap(),
        1
    );
    // Closing releases its figures, once; no finer counts are kept beside them.
    assert_eq!(domain::testing::kept_tally_rows(tenant).await, 0);
    let closed_figures = results::round_report(&tenant.as_person(&pulse.owner), first)
        .await
        .unwrap();
    assert!(closed_figures
        .results
        .groups
        .iter()
        .any(|g| !g.questions.is_empty()));
    assert_eq!(
        comments::all(&tenant.as_person(&pulse.owner), first)
            .await
            .unwrap()
            .len(),
        15
    );
    assert_eq!(
        domain::surveys::closing::close_due(db, now() + Duration::days(3))
            .await
            .unwrap(),
        0
    );
    // Round 2: only Sales answers.
    let later = now() + Duration::days(7);
    let second = rounds::open_due(db, later).await.unwrap()[0].round();
    answer_all(tenant, &pulse.sales_people, second, later, |i| {
        if i < 3 {
            3
        } else {
            4
        }
    })
    .await;
    // Round 2 is still open: its point is missing until it closes.
    let trend = results::trend(&tenant.as_person(&pulse.owner), second)
        .await
        .unwrap();
    assert!(trend
        .groups
        .iter()
        .all(|g| g.points.iter().all(|points| points[1].is_none())));
    domain::surveys::closing::close_now(&tenant.as_person(&pulse.owner), second, later)
        .await
        .unwrap();

    // The trend: each round as its own page shows it.
    let trend = results::trend(&tenant.as_person(&pulse.owner), second)
        .await
        .unwrap();
    assert_eq!(trend.rounds, [1, 2]);
    assert_eq!(
        trend.questions.len(),
        2,
        "workload and eNPS; free text has no figure"
    );
    let series = |group: Group| trend.groups.iter().find(|g| g.group == group).unwrap();
    let workplace = &series(Group::Workplace).points[0];
    assert!((workplace[0].unwrap() - 58.0 / 15.0).abs() < 1e-9);
    assert!((workplace[1].unwrap() - 3.5).abs() < 1e-9);
    // Engineering answered in round 1 only; Mobile and Platform are hidden in both.
    assert_eq!(series(Group::Department(pulse.engineering)).points[0][1], None);
    assert!(series(Group::Department(pulse.engineering)).points[0][0].is_some());
    assert_eq!(series(Group::Department(pulse.mobile)).points[0], [None, None]);
    assert_eq!(series(Group::Department(pulse.platform)).points[0], [None, None]);
    let theirs = results::trend(&tenant.as_person(&pulse.manager), second)
        .await
        .unwrap();
    assert!(theirs
        .groups
        .iter()
        .all(|g| matches!(g.group, Group::Department(d) if [pulse.engineering, pulse.platform, pulse.mobile].contains(&d))));
    // Looking back from round 1 sees round 1 only.
    assert_eq!(
        results::trend(&tenant.as_person(&pulse.owner), first)
            .await
            .unwrap()
            .rounds,
        [1]
    );

    // Comments are shown under the smallest team large enough: Engineering, not its teams.
    let comments = comments::all(&tenant.as_person(&pulse.manager), first)
        .await
        .unwrap();
    assert_eq!(comments.len(), 9);
    assert!(comments.iter().all(|c| c.team == "Engineering"));
    let everyone = comments::all(&tenant.as_person(&pulse.owner), first)
        .await
        .unwrap();
    assert_eq!(everyone.iter().filter(|c| c.team == "Sales").count(), 6);

    // The export holds what the page shows, and is recorded.
    let csv = results::export_csv(&tenant.as_person(&pulse.manager), first, now())
        .await
        .unwrap();
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let engineering: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "Engineering").collect();
    assert_eq!(engineering.len(), 2);
    assert_eq!(
        &engineering[0][2..8],
        [
            "9",
            "9",
            library::find("workload").unwrap().prompt,
            "scale",
            "3.11",
            ""
        ]
    );
    // Workload answers: 4 × 2 and 5 × 4, in the columns for the values 1 to 5.
    assert_eq!(&engineering[0][10..15], ["0", "4", "0", "5", "0"]);
    for hidden in ["Mobile", "Platform"] {
        let row = rows.iter().find(|r| r[0] == hidden).unwrap();
        assert_eq!(row[8], "not enough responses");
        assert!(row[2..8].iter().all(String::is_empty));
    }
    assert!(!csv.contains("Sales"), "outside the manager's grants");
    assert!(!csv.contains("Comment"), "comments are not exported");
    let events = domain::platform::access_log::recent_security_events(tenant, 10)
        .await
        .unwrap();
    let exported = events.iter().find(|e| e.kind == "data.results_exported").unwrap();
    assert_eq!(exported.actor, Some(pulse.manager.user_id));
    assert_eq!(exported.subject_id, Some(first));
    let refused = results::export_csv(&tenant.as_person(&pulse.platform_people[0]), first, now())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "auth.forbidden");
}

async fn replies_reach_the_author_and_nobody_learns_who(test_db: TestDb) {
    use domain::surveys::replies;
    let db = &test_db.db;
    let pulse = seed(db).await;
    let tenant = &pulse.tenant;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    let author = &pulse.sales_people[0];
    let check_in = answering::open_check_ins(&tenant.as_person(author), now())
        .await
        .unwrap()
        .remove(0);
    let secrets = answering::submit(
        &tenant.as_person(author),
        round,
        answers(&check_in, 3, 7, Some("The rota is unfair")),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(secrets.len(), 1);
    let secret = secrets[0].secret.clone();
    answer_all(tenant, &pulse.sales_people[1..], round, now(), |i| {
        1 + (i % 5) as i32
    })
    .await;
    // Before the round closes the comment is sealed in the ballot box: nothing finds it.
    assert!(
        replies::inbox(&tenant.as_person(author), std::slice::from_ref(&secret))
            .await
            .unwrap()
            .is_empty()
    );
    domain::surveys::closing::close_now(&tenant.as_person(&pulse.owner), round, now())
        .await
        .unwrap();

    // Nothing to read yet, and nothing to answer.
    assert!(
        replies::inbox(&tenant.as_person(author), std::slice::from_ref(&secret))
            .await
            .unwrap()
            .is_empty()
    );
    let early = replies::answer_back(&tenant.as_person(author), &secret, "Hello?", now())
        .await
        .unwrap_err();
    assert_eq!(early.code(), "resource.conflict");

    // The owner reads the comment on the results page and replies.
    let comments = comments::all(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap();
    let comment = comments.iter().find(|c| c.text == "The rota is unfair").unwrap();
    assert!(comment.can_reply && comment.replies.is_empty());
    for bad in ["", "   ", &"x".repeat(2001)] {
        let err = replies::reply(&tenant.as_person(&pulse.owner), comment.id, bad, now())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "input.invalid");
    }
    replies::reply(
        &tenant.as_person(&pulse.owner),
        comment.id,
        "Thanks, can you say which shifts?",
        now(),
    )
    .await
    .unwrap();
    // The manager cannot see Sales, so cannot reply there either; an employee has no results.
    for (who, code) in [
        (&pulse.manager, "resource.not_found"),
        (&pulse.sales_people[1], "auth.forbidden"),
    ] {
        let err = replies::reply(&tenant.as_person(who), comment.id, "Hi", now())
            .await
            .unwrap_err();
        assert_eq!(err.code(), code);
    }

    // The author's browser presents the secret and finds the reply; they answer back.
    let inbox = replies::inbox(
        &tenant.as_person(author),
        &[secret.clone(), "not-a-secret".into()],
    )
    .await
    .unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].comment, "The rota is unfair");
    assert_eq!(inbox[0].round, 1);
    assert_eq!(inbox[0].messages.len(), 1);
    assert!(!inbox[0].messages[0].from_author);
    replies::answer_back(
        &tenant.as_person(author),
        &secret,
        "The weekend ones.",
        now() + Duration::hours(2),
    )
    .await
    .unwrap();
    let comments = comments::all(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap();
    let thread = &comments.iter().find(|c| c.id == comment.id).unwrap().replies;
    assert_eq!(
        thread
            .iter()
            .map(|m| (m.from_author, m.text.as_str()))
            .collect::<Vec<_>>(),
        [
            (false, "Thanks, can you say which shifts?"),
            (true, "The weekend ones.")
        ]
    );
    // Days, not times, are kept.
    assert_eq!(thread[1].written_on, now().date_naive());

    // Without the secret there is nothing: another person, a made-up secret, another workplace.
    let other = &pulse.sales_people[2];
    let guessed = domain::access::auth::session::SecretToken::generate();
    assert!(
        replies::inbox(&tenant.as_person(other), &[guessed.expose().to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
    let err = replies::answer_back(&tenant.as_person(other), guessed.expose(), "Me too", now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "resource.not_found");
    let (contoso_owner, contoso) =
        domain::testing::workplace(db, "Contoso", "grace@contoso.test", now()).await;
    assert!(
        replies::inbox(&contoso.as_person(&contoso_owner), std::slice::from_ref(&secret))
            .await
            .unwrap()
            .is_empty()
    );
    let err = replies::reply(&contoso.as_person(&contoso_owner), comment.id, "Hi", now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "resource.not_found");
    let too_many = vec![secret.clone(); replies::MAX_SECRETS + 1];
    assert_eq!(
        replies::inbox(&tenant.as_person(author), &too_many)
            .await
            .unwrap_err()
            .code(),
        "input.invalid"
    );
}

/// A workplace whose `n` people answered one closed round of the workload question with `value`.
pub(crate) async fn workplace_with_answers(
    db: &domain::Database,
    tag: &str,
    n: usize,
    value: i32,
) -> (Identity, TenantDb) {
    let (owner, tenant) =
        domain::testing::workplace(db, tag, &format!("owner@{}.test", tag.to_lowercase()), now()).await;
    let team = departments::create(&tenant, "Team", None, now()).await.unwrap();
    let members = people(db, &tenant, tag, team, n).await;
    surveys::create(
        &tenant.as_person(&owner),
        NewSurvey {
            title: "Pulse".into(),
            questions: vec![library_question("workload")],
            departments: vec![team],
            cadence: Cadence::Once,
            first_round_at: now(),
            window_days: 3,
        },
        now(),
    )
    .await
    .unwrap();
    let round = rounds::open_due(db, now())
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.workplace() == tenant.workplace_id())
        .unwrap()
        .round();
    answer_all(&tenant, &members, round, now(), |_| value).await;
    (owner, tenant)
}

async fn benchmarks_need_five_workplaces_that_opted_in(test_db: TestDb) {
    use domain::surveys::benchmarks;
    let db = &test_db.db;
    let mut workplaces = Vec::new();
    for (i, value) in [2, 3, 4, 5, 4].into_iter().enumerate() {
        workplaces.push(workplace_with_answers(db, &format!("Opted{i}"), 5, value).await);
    }
    // Too few answers to contribute, and one that never opted in.
    let small = workplace_with_answers(db, "Small", 4, 1).await;
    let outside = workplace_with_answers(db, "Outside", 5, 1).await;
    let later = now() + Duration::days(4);
    domain::surveys::closing::close_due(db, later).await.unwrap();
    for (owner, tenant) in workplaces.iter().chain([&small]) {
        benchmarks::set_opt_in(&tenant.as_person(owner), true)
            .await
            .unwrap();
    }
    // Only the `settings` permission decides.
    let (_, first_tenant) = &workplaces[0];
    let employee = &people(
        db,
        first_tenant,
        "Staff",
        departments::create(first_tenant, "Staff", None, now())
            .await
            .unwrap(),
        1,
    )
    .await[0];
    assert_eq!(
        benchmarks::set_opt_in(&first_tenant.as_person(employee), false)
            .await
            .unwrap_err()
            .code(),
        "auth.forbidden"
    );

    // The workload question is published once, with noise, and the ledger records it.
    assert_eq!(benchmarks::recompute(db, later).await.unwrap(), 1);
    let round_of = |owner: &Identity, tenant: &TenantDb| {
        let (owner, tenant) = (owner.clone(), tenant.clone());
        async move {
            results::rounds_with_results(&tenant.as_person(&owner))
                .await
                .unwrap()[0]
                .round
                .id
        }
    };
    let (owner, tenant) = &workplaces[0];
    let report = results::round_report(&tenant.as_person(owner), round_of(owner, tenant).await)
        .await
        .unwrap();
    let platform: Vec<&benchmarks::Benchmark> = report.benchmarks.values().collect();
    // The noisy count may, rarely, fall below five; then nothing is shown at all.
    if let Some(published) = platform.first() {
        assert!((1.0..=5.0).contains(&published.value), "{}", published.value);
        assert_eq!(published.computed_at, later);
    }
    assert!(platform.len() <= 1);
    // A workplace that does not take part sees no benchmark.
    let (outside_owner, outside_tenant) = &outside;
    let theirs = results::round_report(
        &outside_tenant.as_person(outside_owner),
        round_of(outside_owner, outside_tenant).await,
    )
    .await
    .unwrap();
    assert!(theirs.benchmarks.is_empty());
    // A workplace leaving (or a sybil joining) is never shown on its own: nothing is published
    // again within the month, whatever changes.
    benchmarks::set_opt_in(&workplaces[4].1.as_person(&workplaces[4].0), false)
        .await
        .unwrap();
    assert_eq!(benchmarks::recompute(db, later).await.unwrap(), 0);
    assert_eq!(
        benchmarks::recompute(db, later + Duration::days(29))
            .await
            .unwrap(),
        0
    );
    let again = results::round_report(&tenant.as_person(owner), round_of(owner, tenant).await)
        .await
        .unwrap();
    assert_eq!(again.benchmarks, report.benchmarks);
    // A month on, a new publication (new noise); three in 90 days use the whole budget, so the
    // fourth waits until the first has left the window.
    let mut at = later;
    for _ in 0..2 {
        at += Duration::days(benchmarks::REPUBLISH_DAYS);
        assert_eq!(benchmarks::recompute(db, at).await.unwrap(), 1);
    }
    assert_eq!(
        benchmarks::recompute(db, later + Duration::days(89))
            .await
            .unwrap(),
        0,
        "neither due nor within the 90-day budget"
    );
    assert_eq!(
        benchmarks::recompute(db, later + Duration::days(91))
            .await
            .unwrap(),
        0,
        "contributions are older than the window by then: none left to publish"
    );
}

async fn comments_and_replies_are_sealed_again_when_the_key_rotates(test_db: TestDb) {
    use domain::operations::key_rotation::{rotate_workplace, Options};
    let db = &test_db.db;
    let pulse = seed(db).await;
    let tenant = &pulse.tenant;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    answer_all(tenant, &pulse.sales_people, round, now(), |i| 1 + (i % 5) as i32).await;
    domain::surveys::closing::close_now(&tenant.as_person(&pulse.owner), round, now())
        .await
        .unwrap();
    let comment = comments::all(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap()[0]
        .id;
    domain::surveys::replies::reply(
        &tenant.as_person(&pulse.owner),
        comment,
        "Thank you for saying so",
        now(),
    )
    .await
    .unwrap();
    let before = comments::all(&tenant.as_person(&pulse.owner), round)
        .await
        .unwrap();
    assert!(domain::testing::sealed_text_versions(tenant)
        .await
        .iter()
        .all(|v| *v == 1));

    let rotated = rotate_workplace(
        db,
        tenant.workplace_id(),
        Options {
            batch: 4,
            max_batches: None,
        },
        now(),
        |_| {},
    )
    .await
    .unwrap();
    assert!(rotated.finished);
    // Six comments and one reply, besides the people.
    let versions = domain::testing::sealed_text_versions(tenant).await;
    assert_eq!(versions.len(), 7);
    assert!(versions.iter().all(|v| *v == 2), "{versions:?}");
    assert_eq!(
        comments::all(&tenant.as_person(&pulse.owner), round)
            .await
            .unwrap(),
        before
    );
}

/// Everyone submits at the same moment, through the writer that stores concurrent check-ins
/// together: every submission is saved (none fails because another was writing), and a second
/// tab of each person is refused.
async fn simultaneous_submissions_all_count_once(test_db: TestDb) {
    let db = &test_db.db;
    let pulse = seed(db).await;
    let writer = domain::surveys::submissions::SubmissionWriter::start();
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    let everyone: Vec<Identity> = [&pulse.platform_people, &pulse.mobile_people, &pulse.sales_people]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let check_in = answering::open_check_ins(&pulse.tenant.as_person(&everyone[0]), now())
        .await
        .unwrap()
        .remove(0);
    let mut tasks = Vec::new();
    for (i, person) in everyone.iter().enumerate() {
        // Two tabs per person.
        for _ in 0..2 {
            let (tenant, person, given) = (
                pulse.tenant.clone(),
                person.clone(),
                answers(&check_in, 1 + (i % 5) as i32, 5, Some("Same moment")),
            );
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                writer
                    .submit(answering::Submission {
                        tenant: tenant.as_person(&person),
                        round,
                        given,
                        now: now(),
                    })
                    .await
            }));
        }
    }
    let mut saved = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => saved += 1,
            Err(err) => assert_eq!(err.code(), "resource.conflict", "{err}"),
        }
    }
    assert_eq!(saved, everyone.len());
    closes_with_everyone_counted_once(&pulse, round).await;
    let figures = results::round_results(&pulse.tenant.as_person(&pulse.owner), round)
        .await
        .unwrap();
    assert_eq!(group(&figures, Group::Workplace).unwrap().respondents, Some(15));
}

/// Check-ins stored together in one transaction keep their own outcomes: a second tab, a
/// missing answer and someone not asked are refused alone and leave nothing behind, while the
/// others of the batch, of this workplace and of another one, are stored.
async fn submissions_stored_together_keep_their_own_outcomes(test_db: TestDb) {
    let db = &test_db.db;
    let pulse = seed(db).await;
    let (other_owner, other) = domain::testing::workplace(db, "Fabrikam", "owner@fabrikam.test", now()).await;
    let team = departments::create(&other, "Team", None, now()).await.unwrap();
    let other_people = people(db, &other, "Fabrikam", team, 2).await;
    domain::testing::workload_survey(&other, &other_owner, "Pulse", now()).await;
    let opened = rounds::open_due(db, now()).await.unwrap();
    let round_of = |tenant: &TenantDb| {
        opened
            .iter()
            .find(|m| m.workplace() == tenant.workplace_id())
            .unwrap()
            .round()
    };
    let (round, other_round) = (round_of(&pulse.tenant), round_of(&other));
    let check_in = answering::open_check_ins(&pulse.tenant.as_person(&pulse.platform_people[0]), now())
        .await
        .unwrap()
        .remove(0);
    let other_check_in = answering::open_check_ins(&other.as_person(&other_people[0]), now())
        .await
        .unwrap()
        .remove(0);
    let submission = |tenant: &TenantDb, person: &Identity, round, given| answering::Submission {
        tenant: tenant.as_person(person),
        round,
        given,
        now: now(),
    };
    let [a, b, c] = [0, 1, 2].map(|i| pulse.platform_people[i].clone());
    let mut missing_one = answers(&check_in, 3, 7, None);
    missing_one.remove(0);
    let outcomes = answering::store_together(vec![
        submission(
            &pulse.tenant,
            &a,
            round,
            answers(&check_in, 4, 9, Some("First of the batch")),
        ),
        submission(
            &other,
            &other_people[0],
            other_round,
            answers(&other_check_in, 2, 0, None),
        ),
        submission(&pulse.tenant, &a, round, answers(&check_in, 1, 0, None)),
        submission(&pulse.tenant, &b, round, missing_one),
        submission(
            &pulse.tenant,
            &pulse.manager,
            round,
            answers(&check_in, 3, 3, None),
        ),
        submission(&pulse.tenant, &c, round, answers(&check_in, 5, 10, None)),
    ])
    .await;
    let codes: Vec<&str> = outcomes
        .iter()
        .map(|outcome| outcome.as_ref().map_or_else(|err| err.code(), |_| "stored"))
        .collect();
    assert_eq!(
        codes,
        [
            "stored",
            "stored",
            "resource.conflict",
            "input.invalid",
            "resource.not_found",
            "stored"
        ]
    );
    assert_eq!(
        outcomes[0].as_ref().unwrap().len(),
        1,
        "one secret for the one comment"
    );
    let ballots = (
        pulse.tenant.count_unfiltered("ballots").await.unwrap(),
        other.count_unfiltered("ballots").await.unwrap(),
    );
    match db.backend() {
        // Each workplace's transaction wrote under its own row-level security.
        domain::Backend::Postgres => assert_eq!(ballots, (2, 1)),
        // No row-level security: both counts are the whole table.
        domain::Backend::Sqlite => assert_eq!(ballots, (3, 3)),
    }
    // The refused submission left nothing: the same person answers properly afterwards, and
    // the first person's second tab stays refused.
    answering::submit(
        &pulse.tenant.as_person(&b),
        round,
        answers(&check_in, 3, 7, None),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        answering::submit(
            &pulse.tenant.as_person(&a),
            round,
            answers(&check_in, 3, 7, None),
            now()
        )
        .await
        .unwrap_err()
        .code(),
        "resource.conflict"
    );
    // The round counted the batch's two and everyone after them, once each.
    let everyone: Vec<Identity> = [&pulse.platform_people, &pulse.mobile_people, &pulse.sales_people]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let rest: Vec<Identity> = everyone[3..].to_vec();
    answer_all(&pulse.tenant, &rest, round, now(), |_| 3).await;
    answer_all(&other, &other_people[1..], other_round, now(), |_| 3).await;
    closes_with_everyone_counted_once(&pulse, round).await;
}

/// Two writers (two server processes) storing the same people at once: whichever commits
/// second finds them answered — by its own check or, when both read before either wrote, by
/// its conditional writes, and then tries each submission alone. Each person counts once.
async fn two_writers_racing_store_each_person_once(test_db: TestDb) {
    let db = &test_db.db;
    let pulse = seed(db).await;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    let check_in = answering::open_check_ins(&pulse.tenant.as_person(&pulse.sales_people[0]), now())
        .await
        .unwrap()
        .remove(0);
    let batch = || {
        pulse
            .sales_people
            .iter()
            .map(|person| answering::Submission {
                tenant: pulse.tenant.as_person(person),
                round,
                given: answers(&check_in, 2, 6, None),
                now: now(),
            })
            .collect::<Vec<_>>()
    };
    let (first, second) = tokio::join!(
        tokio::spawn(answering::store_together(batch())),
        tokio::spawn(answering::store_together(batch()))
    );
    let outcomes: Vec<_> = first.unwrap().into_iter().chain(second.unwrap()).collect();
    let stored = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(stored, pulse.sales_people.len(), "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
        assert_eq!(refused.code(), "resource.conflict", "{refused}");
    }
    let everyone_else: Vec<Identity> = [&pulse.platform_people, &pulse.mobile_people]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    answer_all(&pulse.tenant, &everyone_else, round, now(), |_| 3).await;
    closes_with_everyone_counted_once(&pulse, round).await;
}

/// Closes `round` and checks that its release counts each of the fifteen people asked once.
async fn closes_with_everyone_counted_once(pulse: &Pulse, round: rounds::RoundId) {
    let owner = pulse.tenant.as_person(&pulse.owner);
    domain::surveys::closing::close_now(&owner, round, now())
        .await
        .unwrap();
    let listed = results::rounds_with_results(&owner).await.unwrap();
    assert_eq!(listed[0].counts, Some((15, results::Answered::Exactly(15))));
}

/// Solves whether `target` is a linear combination of `rows` (Gaussian elimination; the vectors
/// are small 0/1 indicators, so floating point is exact enough).
fn in_span(rows: &[Vec<f64>], target: &[f64]) -> bool {
    let rank = |mut m: Vec<Vec<f64>>| {
        let columns = m.first().map_or(0, Vec::len);
        let mut rank = 0;
        for column in 0..columns {
            let Some(pivot) = (rank..m.len()).find(|r| m[*r][column].abs() > 1e-9) else {
                continue;
            };
            m.swap(rank, pivot);
            let pivot_row = m[rank].clone();
            for (r, row) in m.iter_mut().enumerate() {
                if r != rank {
                    let factor = row[column] / pivot_row[column];
                    for (cell, pivot_cell) in row.iter_mut().zip(&pivot_row) {
                        *cell -= factor * pivot_cell;
                    }
                }
            }
            rank += 1;
        }
        rank
    };
    let mut with = rows.to_vec();
    with.push(target.to_vec());
    rank(rows.to_vec()) == rank(with)
}

/// A manager with grants on overlapping subtrees collects everything Candor will show them —
/// every round's figures, comments, trend and CSV export — and tries every subset of teams to
/// see whether adding and subtracting what they saw gives a figure about fewer people than the
/// minimum (one person's answer, at worst). None may.
async fn no_combination_of_views_pins_a_person(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let create = |name: &'static str, parent: Option<DepartmentId>| async move {
        departments::create(tenant, name, parent, now()).await.unwrap()
    };
    let engineering = create("Engineering", None).await;
    let platform = create("Platform", Some(engineering)).await;
    let mobile = create("Mobile", Some(engineering)).await;
    let ios = create("iOS", Some(mobile)).await;
    let android = create("Android", Some(mobile)).await;
    let sales = create("Sales", None).await;
    // Direct members: Engineering 2, Platform 5, Mobile 1, iOS 3, Android 3, Sales 6.
    let teams = [
        (engineering, 2),
        (platform, 5),
        (mobile, 1),
        (ios, 3),
        (android, 3),
        (sales, 6),
    ];
    let mut members: Vec<(DepartmentId, Vec<Identity>)> = Vec::new();
    for (i, (department, n)) in teams.iter().enumerate() {
        members.push((
            *department,
            people(db, tenant, &format!("T{i}"), *department, *n).await,
        ));
    }
    let manager = domain::testing::active_person(
        db,
        tenant,
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
    // Overlapping grants: Engineering, and Mobile inside it.
    domain::organisation::people::set_grants(
        tenant,
        manager.user_id,
        &[engineering, mobile].into_iter().collect(),
        now(),
    )
    .await
    .unwrap();
    let manager = reload(db, tenant, &manager).await;
    surveys::create(
        &tenant.as_person(&owner),
        NewSurvey {
            title: "Weekly pulse".into(),
            questions: vec![
                library_question("workload"),
                library_question("enps"),
                library_question("open_feedback"),
            ],
            departments: Vec::new(),
            cadence: Cadence::Weekly,
            first_round_at: now(),
            window_days: 3,
        },
        now(),
    )
    .await
    .unwrap();

    // Three rounds with different people answering: everyone; all but one in iOS; all but
    // Engineering's own two.
    let mut rounds_seen = Vec::new();
    let mut answered_per_round: Vec<BTreeMap<DepartmentId, usize>> = Vec::new();
    for week in 0..3 {
        let at = now() + Duration::days(7 * week);
        domain::surveys::closing::close_due(db, at).await.unwrap();
        let round = rounds::open_due(db, at).await.unwrap()[0].round();
        let mut answered = BTreeMap::new();
        for (department, people) in &members {
            let skip = match week {
                1 if *department == ios => 1,
                2 if *department == engineering => 2,
                _ => 0,
            };
            let answering = &people[skip..];
            answer_all(tenant, answering, round, at, |i| {
                1 + ((i + week as usize) % 5) as i32
            })
            .await;
            answered.insert(*department, answering.len());
        }
        rounds_seen.push((round, at));
        answered_per_round.push(answered);
    }
    domain::surveys::closing::close_due(db, now() + Duration::days(7 * 3))
        .await
        .unwrap();

    let atoms: Vec<DepartmentId> = teams.iter().map(|(d, _)| *d).collect();
    let edges: Vec<(DepartmentId, Option<DepartmentId>)> = vec![
        (engineering, None),
        (platform, Some(engineering)),
        (mobile, Some(engineering)),
        (ios, Some(mobile)),
        (android, Some(mobile)),
        (sales, None),
    ];
    let indicator = |group: Group| -> Vec<f64> {
        let inside = match group {
            Group::Workplace => atoms.iter().copied().collect(),
            Group::Department(d) => domain::platform::tree::subtree(edges.iter().copied(), [d]),
        };
        atoms
            .iter()
            .map(|a| if inside.contains(a) { 1.0 } else { 0.0 })
            .collect()
    };
    let (minimum, comment_minimum) = (5, 5);
    for (index, (round, at)) in rounds_seen.iter().enumerate() {
        let answered = &answered_per_round[index];
        // Everything the manager is shown about this round, from every page and the export.
        let report = results::round_report(&tenant.as_person(&manager), *round)
            .await
            .unwrap();
        let shown: Vec<&GroupResult> = report
            .results
            .groups
            .iter()
            .filter(|g| g.respondents.is_some())
            .collect();
        let csv = results::export_csv(&tenant.as_person(&manager), *round, *at)
            .await
            .unwrap();
        let exported_teams: BTreeSet<String> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .filter(|r| r[2].parse::<u32>().is_ok())
            .map(|r| r[0].to_owned())
            .collect();
        let shown_names: BTreeSet<String> = shown.iter().map(|g| g.name.clone()).collect();
        assert_eq!(
            exported_teams, shown_names,
            "the export shows what the page shows"
        );
        let trend = results::trend(&tenant.as_person(&manager), *round).await.unwrap();
        let trended: BTreeSet<Group> = trend
            .groups
            .iter()
            .filter(|g| g.points[0].last().copied().flatten().is_some())
            .map(|g| g.group)
            .collect();
        let shown_groups: BTreeSet<Group> = shown.iter().map(|g| g.group).collect();
        assert_eq!(
            trended, shown_groups,
            "the trend's latest point shows what the page shows"
        );

        // Each shown figure is a sum over its teams; try every subset of teams.
        let observed: Vec<Vec<f64>> = shown.iter().map(|g| indicator(g.group)).collect();
        for mask in 1_u32..(1 << atoms.len()) {
            let target: Vec<f64> = (0..atoms.len()).map(|i| f64::from((mask >> i) & 1)).collect();
            if !in_span(&observed, &target) {
                continue;
            }
            let people: usize = (0..atoms.len())
                .filter(|i| (mask >> i) & 1 == 1)
                .map(|i| answered[&atoms[i]])
                .sum();
            assert!(
                people == 0 || people >= minimum,
                "round {}: the teams {mask:#b} can be worked out, covering {people} people",
                index + 1
            );
        }
        // A comment's team says its author is in that team but in none of its shown teams
        // below: that remainder must be at least the comment minimum.
        for comment in &comments::all(&tenant.as_person(&manager), *round).await.unwrap() {
            let home = shown.iter().find(|g| g.name == comment.team).unwrap();
            let below: Vec<&&GroupResult> = shown
                .iter()
                .filter(|g| {
                    g.group != home.group
                        && indicator(g.group)
                            .iter()
                            .zip(indicator(home.group))
                            .all(|(a, b)| *a <= b)
                })
                .collect();
            let remainder: usize = atoms
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    indicator(home.group)[*i] == 1.0 && below.iter().all(|g| indicator(g.group)[*i] == 0.0)
                })
                .map(|(_, a)| answered[a])
                .sum();
            assert!(
                remainder >= comment_minimum,
                "a comment narrowed to {remainder} people"
            );
        }
        // Something is shown: the test is not passing on an empty page.
        assert!(!shown.is_empty(), "round {}", index + 1);
    }
}

/// A survey that starts now opens its own first round at once, and returns whom to invite; a
/// due survey of another workplace waits for the scheduler (a request in one workplace does no
/// work in another).
async fn a_survey_starting_now_opens_only_its_own_round(test_db: TestDb) {
    let db = &test_db.db;
    let (contoso_owner, contoso) = domain::testing::workplace(db, "Contoso", "ada@contoso.test", now()).await;
    let waiting = domain::testing::workload_survey(&contoso, &contoso_owner, "Contoso pulse", now()).await;
    let (owner, northwind) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let known = library::find("workload").unwrap();
    let created = domain::surveys::create_and_open(
        &northwind.as_person(&owner),
        NewSurvey {
            title: "Northwind pulse".into(),
            questions: vec![NewQuestion {
                prompt: known.prompt.into(),
                kind: known.kind(),
                library_key: Some("workload".into()),
            }],
            departments: vec![],
            cadence: Cadence::Once,
            first_round_at: now(),
            window_days: 3,
        },
        now(),
    )
    .await
    .unwrap();
    let opened = created.opened.expect("it starts now");
    assert_eq!(opened.workplace(), northwind.workplace_id());
    assert_eq!(opened.participants(), [owner.user_id.uuid()]);
    assert_eq!(rounds::of_survey(&northwind, created.id).await.unwrap().len(), 1);
    assert!(
        rounds::of_survey(&contoso, waiting).await.unwrap().is_empty(),
        "Contoso's round waits for the scheduler"
    );
    // A survey that starts later opens nothing now.
    let later = domain::surveys::create_and_open(
        &northwind.as_person(&owner),
        NewSurvey {
            title: "Later pulse".into(),
            questions: vec![NewQuestion {
                prompt: known.prompt.into(),
                kind: known.kind(),
                library_key: Some("workload".into()),
            }],
            departments: vec![],
            cadence: Cadence::Once,
            first_round_at: now() + Duration::days(2),
            window_days: 3,
        },
        now(),
    )
    .await
    .unwrap();
    assert!(later.opened.is_none());
}

/// A round's comments come a page at a time, filtered in the database: every page together is
/// every readable comment once, in id order (random, given at close: nothing about when each
/// was written), and a filter outside the reader's reach finds nothing rather than an error.
async fn comments_come_a_page_at_a_time(test_db: TestDb) {
    use comments::{CommentQuery, PER_PAGE};
    let db = &test_db.db;
    let pulse = seed(db).await;
    let tenant = &pulse.tenant;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    answer_all(tenant, &pulse.platform_people, round, now(), |_| 4).await;
    answer_all(tenant, &pulse.mobile_people, round, now(), |_| 2).await;
    answer_all(tenant, &pulse.sales_people, round, now(), |_| 5).await;
    domain::surveys::closing::close_due(db, now() + Duration::days(3))
        .await
        .unwrap();
    let owner = tenant.as_person(&pulse.owner);
    let manager = tenant.as_person(&pulse.manager);
    let first = comments::page(&owner, round, &CommentQuery::default())
        .await
        .unwrap();
    assert_eq!(first.matching, 15);
    assert_eq!(first.pages(), 1);
    let question = first.questions[0].key;
    let counts: Vec<(&str, u64)> = first
        .teams
        .iter()
        .map(|t| (t.label.as_str(), t.comments))
        .collect();
    assert_eq!(counts, [("Engineering", 9), ("Sales", 6)]);
    // 45 more under Sales: three pages for the Owner, none of them for Engineering's manager.
    let texts: Vec<String> = (0..45).map(|i| format!("Seeded comment {i}")).collect();
    domain::testing::seed_comments(tenant, round, question, Some(pulse.sales), &texts).await;
    let query = |team: Option<Group>, page: u64| CommentQuery {
        question: None,
        team,
        page,
    };
    let mut seen = Vec::new();
    for page in 0..3 {
        let found = comments::page(&owner, round, &query(None, page)).await.unwrap();
        assert_eq!((found.matching, found.page, found.pages()), (60, page, 3));
        assert_eq!(found.items.len() as u64, if page < 2 { PER_PAGE } else { 20 });
        seen.extend(found.items.into_iter().map(|c| c.id));
    }
    let mut in_order = seen.clone();
    in_order.sort();
    assert_eq!(seen, in_order, "pages follow the comments' ids");
    in_order.dedup();
    assert_eq!(in_order.len(), 60, "each comment on exactly one page");
    // Past the end: the last page.
    let beyond = comments::page(&owner, round, &query(None, 99)).await.unwrap();
    assert_eq!(beyond.page, 2);
    let sales = comments::page(&owner, round, &query(Some(Group::Department(pulse.sales)), 0))
        .await
        .unwrap();
    assert_eq!(sales.matching, 51);
    assert!(sales.items.iter().all(|c| c.team == "Sales"));
    // Platform's comments stand under Engineering: as a filter, Platform lists nothing.
    let platform = comments::page(&owner, round, &query(Some(Group::Department(pulse.platform)), 0))
        .await
        .unwrap();
    assert_eq!((platform.matching, platform.items.len()), (0, 0));
    let by_question = comments::page(
        &owner,
        round,
        &CommentQuery {
            question: Some(question),
            team: Some(Group::Department(pulse.engineering)),
            page: 0,
        },
    )
    .await
    .unwrap();
    assert_eq!(by_question.matching, 9);
    // The manager reads Engineering only, whatever the filter asks for.
    let theirs = comments::page(&manager, round, &query(None, 0)).await.unwrap();
    assert_eq!(theirs.matching, 9);
    assert_eq!(theirs.teams.len(), 1);
    for team in [Group::Department(pulse.sales), Group::Workplace] {
        let outside = comments::page(&manager, round, &query(Some(team), 0))
            .await
            .unwrap();
        assert_eq!((outside.matching, outside.items.len()), (0, 0), "{team:?}");
    }
    let unknown = comments::page(
        &manager,
        round,
        &CommentQuery {
            question: Some(uuid::Uuid::new_v4()),
            team: None,
            page: 0,
        },
    )
    .await
    .unwrap();
    assert_eq!(unknown.matching, 0);
    assert_eq!(comments::all(&owner, round).await.unwrap().len(), 60);
}

domain::on_both_backends!(
    two_writers_racing_store_each_person_once,
    submissions_stored_together_keep_their_own_outcomes,
    comments_come_a_page_at_a_time,
    a_survey_starting_now_opens_only_its_own_round,
    simultaneous_submissions_all_count_once,
    comments_and_replies_are_sealed_again_when_the_key_rotates,
    benchmarks_need_five_workplaces_that_opted_in,
    trend_export_and_comment_teams,
    replies_reach_the_author_and_nobody_learns_who,
    no_combination_of_views_pins_a_person,
    a_weekly_pulse_runs_and_hides_small_groups,
    bad_answers_are_refused_and_nothing_is_saved,
    comments_are_sealed_and_another_workplace_sees_nothing,
);
