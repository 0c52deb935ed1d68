//! Anonymity over time, tried as an attacker would: someone who looks after every single
//! answer, who looks again after a reorganisation or a changed minimum, who reads the access
//! log, or who queries the raw database. Every observation of a released figure is a sum over
//! a set of people; the release guard's rank test is run over everything observed, with one
//! atom per person, and must never single out 1 to minimum − 1 of them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

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
        comments, guard, library,
        results::{self, Answered},
        rounds,
        suppression::Group,
        Cadence, NewQuestion, NewSurvey, QuestionKind,
    },
    testing::TestDb,
};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .unwrap()
        .to_utc()
}

async fn person(
    db: &domain::Database,
    tenant: &TenantDb,
    name: String,
    department: Option<DepartmentId>,
    role: Role,
) -> Identity {
    let email = format!("{}@northwind.test", name.to_lowercase().replace(' ', "."));
    domain::testing::active_person(
        db,
        tenant,
        NewPerson {
            name,
            email,
            department,
            role: RoleKey::BuiltIn(role),
            start_date: None,
        },
        now(),
    )
    .await
}

async fn team(
    db: &domain::Database,
    tenant: &TenantDb,
    name: &str,
    department: Option<DepartmentId>,
    n: usize,
) -> Vec<Identity> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(
            person(
                db,
                tenant,
                format!("{name} Person {i}"),
                department,
                Role::Employee,
            )
            .await,
        );
    }
    out
}

fn question(key: &str) -> NewQuestion {
    let known = library::find(key).unwrap();
    NewQuestion {
        prompt: known.prompt.into(),
        kind: known.kind(),
        library_key: Some(key.into()),
    }
}

async fn weekly_pulse(tenant: &TenantDb, owner: &Identity) -> surveys::SurveyId {
    surveys::create(
        &tenant.as_person(owner),
        NewSurvey {
            title: "Weekly pulse".into(),
            questions: vec![question("workload"), question("enps"), question("open_feedback")],
            departments: Vec::new(),
            cadence: Cadence::Weekly,
            first_round_at: now(),
            window_days: 3,
        },
        now(),
    )
    .await
    .unwrap()
}

async fn answer(tenant: &TenantDb, who: &Identity, round: rounds::RoundId, value: i32, at: DateTime<Utc>) {
    answer_with(tenant, who, round, value, &format!("Comment {value}"), at).await;
}

async fn answer_with(
    tenant: &TenantDb,
    who: &Identity,
    round: rounds::RoundId,
    value: i32,
    comment: &str,
    at: DateTime<Utc>,
) {
    let check_in = answering::open_check_ins(&tenant.as_person(who), at)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.round == round)
        .unwrap();
    let given = check_in
        .questions
        .iter()
        .map(|q| GivenAnswer {
            question: q.id,
            value: match q.kind {
                QuestionKind::Text => None,
                QuestionKind::Enps => Some(value * 2),
                _ => Some(value),
            },
            comment: matches!(q.kind, QuestionKind::Text).then(|| comment.to_owned()),
        })
        .collect();
    answering::submit(&tenant.as_person(who), round, given, at)
        .await
        .unwrap();
}

/// What one viewer has seen: every released aggregate, as the set of people it sums.
#[derive(Default)]
struct Observed {
    rows: Vec<Vec<usize>>,
}

impl Observed {
    fn see(&mut self, people: &BTreeSet<usize>) {
        if !people.is_empty() {
            self.rows.push(people.iter().copied().collect());
        }
    }

    fn assert_pins_nobody(&self, people: usize, minimum: u32) {
        assert!(
            !self.rows.is_empty(),
            "nothing was observed: the test proves nothing"
        );
        assert!(
            !guard::isolates_a_few(&vec![1; people], &self.rows, minimum),
            "combining {} observations singles out fewer than {minimum} people",
            self.rows.len()
        );
    }
}

/// A manager of a team reloads every results view after every single answer, and once more
/// after the round closes. Whatever changed between two looks must never be one person.
async fn looking_after_every_answer_pins_nobody(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let engineering = departments::create(tenant, "Engineering", None, now())
        .await
        .unwrap();
    let harbour = departments::create(tenant, "Harbour", Some(engineering), now())
        .await
        .unwrap();
    let dock = departments::create(tenant, "Dock", Some(engineering), now())
        .await
        .unwrap();
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let mut everyone: Vec<(Identity, DepartmentId)> = Vec::new();
    for (department, n, name) in [(harbour, 6, "Quay"), (dock, 3, "Dock"), (sales, 6, "Sales")] {
        for p in team(db, tenant, name, Some(department), n).await {
            everyone.push((p, department));
        }
    }
    let manager = person(db, tenant, "Grace Manager".into(), None, Role::Manager).await;
    domain::organisation::people::set_grants(
        tenant,
        manager.user_id,
        &[engineering].into_iter().collect(),
        now(),
    )
    .await
    .unwrap();
    let manager = domain::testing::reload_identity(db, tenant, &manager, now()).await;
    weekly_pulse(tenant, &owner).await;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    let members = |group: Group| -> BTreeSet<DepartmentId> {
        match group {
            Group::Workplace => [engineering, harbour, dock, sales].into_iter().collect(),
            Group::Department(d) if d == engineering => [engineering, harbour, dock].into_iter().collect(),
            Group::Department(d) => [d].into_iter().collect(),
        }
    };
    let mut answered: BTreeSet<usize> = BTreeSet::new();
    let mut observed = Observed::default();
    let mut look = |answered: &BTreeSet<usize>,
                    report: &results::RoundReport,
                    comments: &[comments::CommentView],
                    trend: &results::Trend| {
        let people_in = |group: Group| -> BTreeSet<usize> {
            let inside = members(group);
            answered
                .iter()
                .copied()
                .filter(|i| inside.contains(&everyone[*i].1))
                .collect()
        };
        for g in &report.results.groups {
            if g.respondents.is_some() || !g.questions.is_empty() {
                observed.see(&people_in(g.group));
            }
            if report.results.released_at.is_none() {
                // Participation moves in steps of the minimum, never one answer at a time.
                assert!(g.respondents.is_none(), "{}", g.name);
                match g.progress {
                    Some(Answered::FewerThan(n)) => assert_eq!(n, 5),
                    Some(Answered::AtLeast(n)) => assert_eq!(n % 5, 0),
                    // Not shown: the guard keeps it from bracketing a few people.
                    None => {}
                    other => panic!("{}: {other:?} while open", g.name),
                }
            }
        }
        // The comments under a team: how many there are, and their words, are a sum over the
        // people of that team who have answered.
        let teams: BTreeSet<&str> = comments.iter().map(|c| c.team.as_str()).collect();
        for name in teams {
            let g = report.results.groups.iter().find(|g| g.name == name).unwrap();
            observed.see(&people_in(g.group));
        }
        for series in &trend.groups {
            if series
                .points
                .iter()
                .any(|p| p.last().copied().flatten().is_some())
            {
                observed.see(&people_in(series.group));
            }
        }
    };
    // Harbour first, one answer at a time, then the rest; the manager looks after each.
    for (i, (who, _)) in everyone.iter().enumerate() {
        answer(tenant, who, round, 1 + (i % 5) as i32, now()).await;
        answered.insert(i);
        let report = results::round_report(&tenant.as_person(&manager), round)
            .await
            .unwrap();
        let trend = results::trend(&tenant.as_person(&manager), round).await.unwrap();
        assert_eq!(
            results::export_csv(&tenant.as_person(&manager), round, now())
                .await
                .unwrap_err()
                .code(),
            "resource.conflict",
            "no export while the round is open"
        );
        let comments = comments::all(&tenant.as_person(&manager), round).await.unwrap();
        look(&answered, &report, &comments, &trend);
    }
    domain::surveys::closing::close_due(db, now() + Duration::days(3))
        .await
        .unwrap();
    for _ in 0..2 {
        let report = results::round_report(&tenant.as_person(&manager), round)
            .await
            .unwrap();
        let trend = results::trend(&tenant.as_person(&manager), round).await.unwrap();
        assert!(report.results.released_at.is_some());
        let comments = comments::all(&tenant.as_person(&manager), round).await.unwrap();
        look(&answered, &report, &comments, &trend);
    }
    observed.assert_pins_nobody(everyone.len(), 5);
    // The released round does show something (Engineering, 9 people).
    let released = results::round_report(&tenant.as_person(&manager), round)
        .await
        .unwrap();
    assert!(released.results.groups.iter().any(|g| g.respondents == Some(9)));
}

/// Sales = {A 5, B 1} and C 5 at minimum 5: a round closes; then B moves under C, B's person
/// moves into C and B is archived and restored; the minimum goes down to 4 and up to 6. Every
/// view of the closed round stays exactly what it released, and a round closing after the
/// move is released on the new tree.
async fn reorganising_and_changing_the_minimum_re_slice_nothing(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let a = departments::create(tenant, "Sales A", Some(sales), now())
        .await
        .unwrap();
    let b = departments::create(tenant, "Sales B", Some(sales), now())
        .await
        .unwrap();
    let c = departments::create(tenant, "Service C", None, now())
        .await
        .unwrap();
    let mut everyone = team(db, tenant, "A", Some(a), 5).await;
    let b_person = team(db, tenant, "B", Some(b), 1).await;
    everyone.extend(b_person.iter().cloned());
    everyone.extend(team(db, tenant, "C", Some(c), 5).await);
    // Sales and C are asked (the Owner, asked too, would be a silent atom of one).
    let first = pulse_for(db, tenant, &owner, vec![sales, c]).await;
    for (i, who) in everyone.iter().enumerate() {
        answer(tenant, who, first, 1 + (i % 5) as i32, now()).await;
    }
    domain::surveys::closing::close_due(db, now() + Duration::days(3))
        .await
        .unwrap();

    let everything = |tenant: TenantDb, owner: Identity| async move {
        let report = results::round_report(&tenant.as_person(&owner), first)
            .await
            .unwrap();
        let trend = results::trend(&tenant.as_person(&owner), first).await.unwrap();
        let csv = results::export_csv(&tenant.as_person(&owner), first, now())
            .await
            .unwrap();
        (report, trend, csv)
    };
    let before = everything(tenant.clone(), owner.clone()).await;
    // What it released: the workplace, Sales (6) and C (5); A would leave B's one person.
    let shown: Vec<&str> = before
        .0
        .results
        .groups
        .iter()
        .filter(|g| g.respondents.is_some())
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(shown, ["Whole workplace", "Sales", "Service C"]);

    // A reorganisation, step by step; after each, the closed round reads the same.
    departments::move_to(tenant, b, Some(c)).await.unwrap();
    assert_eq!(
        everything(tenant.clone(), owner.clone()).await,
        before,
        "after moving B under C"
    );
    domain::organisation::people::set_department(tenant, b_person[0].user_id, Some(c))
        .await
        .unwrap();
    departments::archive(tenant, b, now()).await.unwrap();
    assert_eq!(
        everything(tenant.clone(), owner.clone()).await,
        before,
        "after archiving B"
    );
    departments::restore(tenant, b).await.unwrap();
    departments::rename(tenant, a, "Sales North").await.unwrap();
    assert_eq!(
        everything(tenant.clone(), owner.clone()).await,
        before,
        "after restoring B"
    );
    for (results, comments) in [(4, 4), (6, 6), (5, 5)] {
        surveys::set_group_sizes(
            &tenant.as_person(&owner),
            surveys::GroupSizes { results, comments },
        )
        .await
        .unwrap();
        assert_eq!(
            everything(tenant.clone(), owner.clone()).await,
            before,
            "after changing the minimum to {results}"
        );
    }

    // A round closing after the move is released on the new tree: B's person now counts in C.
    let later = now() + Duration::days(7);
    let second = rounds::open_due(db, later).await.unwrap()[0].round();
    for (i, who) in everyone.iter().enumerate() {
        answer(tenant, who, second, 1 + (i % 5) as i32, later).await;
    }
    domain::surveys::closing::close_due(db, later + Duration::days(3))
        .await
        .unwrap();
    let report = results::round_report(&tenant.as_person(&owner), second)
        .await
        .unwrap();
    let figure = |name: &str| {
        report
            .results
            .groups
            .iter()
            .find(|g| g.name == name)
            .and_then(|g| g.respondents)
    };
    assert_eq!(figure("Service C"), Some(6));
    assert_eq!(figure("Sales"), Some(5));
    // Round one is still what it released.
    assert_eq!(everything(tenant.clone(), owner.clone()).await, before);

    // The rank test over every view of both rounds, one atom per (person, round).
    let mut observed = Observed::default();
    let people_of = |names: &[&str], offset: usize, round_tree: &BTreeMap<&str, Vec<usize>>| {
        let mut set = BTreeSet::new();
        for name in names {
            set.extend(round_tree[name].iter().map(|i| i + offset));
        }
        set
    };
    // Round 1 on its frozen tree: A = 0..5, B = 5, C = 6..11; round 2: B's person is in C.
    let tree_one: BTreeMap<&str, Vec<usize>> = [
        ("Whole workplace", (0..11).collect()),
        ("Sales", (0..6).collect()),
        ("Sales A", (0..5).collect()),
        ("Sales B", vec![5]),
        ("Service C", (6..11).collect()),
    ]
    .into_iter()
    .collect();
    let tree_two: BTreeMap<&str, Vec<usize>> = [
        ("Whole workplace", (0..11).collect()),
        ("Sales", (0..5).collect()),
        ("Sales North", (0..5).collect()),
        ("Sales B", Vec::new()),
        ("Service C", (5..11).collect()),
    ]
    .into_iter()
    .collect();
    for g in before.0.results.groups.iter().filter(|g| g.respondents.is_some()) {
        observed.see(&people_of(&[g.name.as_str()], 0, &tree_one));
    }
    for g in report.results.groups.iter().filter(|g| g.respondents.is_some()) {
        observed.see(&people_of(&[g.name.as_str()], 11, &tree_two));
    }
    observed.assert_pins_nobody(22, 5);
}

/// The third case, at the domain's level: Engineering = its head + Platform (5), Sales 2,
/// two people without a department. Released at 5, the round then keeps that release when the
/// minimum goes to 4 (where Engineering − Platform would be the head).
async fn a_lowered_minimum_does_not_reopen_a_closed_round(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let engineering = departments::create(tenant, "Engineering", None, now())
        .await
        .unwrap();
    let platform = departments::create(tenant, "Platform", Some(engineering), now())
        .await
        .unwrap();
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let mut everyone = team(db, tenant, "Head", Some(engineering), 1).await;
    everyone.extend(team(db, tenant, "Platform", Some(platform), 5).await);
    everyone.extend(team(db, tenant, "Sales", Some(sales), 2).await);
    everyone.extend(team(db, tenant, "Floating", None, 2).await);
    weekly_pulse(tenant, &owner).await;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    for (i, who) in everyone.iter().enumerate() {
        answer(tenant, who, round, 1 + (i % 5) as i32, now()).await;
    }
    domain::surveys::closing::close_due(db, now() + Duration::days(3))
        .await
        .unwrap();
    let at_five = results::round_report(&tenant.as_person(&owner), round)
        .await
        .unwrap();
    surveys::set_group_sizes(
        &tenant.as_person(&owner),
        surveys::GroupSizes {
            results: 4,
            comments: 4,
        },
    )
    .await
    .unwrap();
    let at_four = results::round_report(&tenant.as_person(&owner), round)
        .await
        .unwrap();
    assert_eq!(at_four, at_five);
    let indices: BTreeMap<&str, BTreeSet<usize>> = [
        ("Whole workplace", (0..10).collect()),
        ("Engineering", (0..6).collect()),
        ("Platform", (1..6).collect()),
        ("Sales", (6..8).collect()),
    ]
    .into_iter()
    .collect();
    let mut observed = Observed::default();
    for report in [&at_five, &at_four] {
        for g in report.results.groups.iter().filter(|g| g.respondents.is_some()) {
            observed.see(&indices[g.name.as_str()]);
        }
    }
    observed.assert_pins_nobody(10, 4);
}

/// An Owner replies to a comment, the author reads the reply and answers back, and everyone
/// else's browser calls the inbox too: the access log — read through the audit review, as an
/// Owner would — names nobody for those calls, keeps the day only, and places them after all
/// of that day's other entries, where no neighbour can point at the author.
async fn the_access_log_never_names_a_comment_author(test_db: TestDb) {
    use domain::platform::audit::Trail;
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let sales = departments::create(&tenant, "Sales", None, now()).await.unwrap();
    let people = team(db, &tenant, "Sales", Some(sales), 6).await;
    weekly_pulse(&tenant, &owner).await;
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    let clock: Arc<dyn domain::Clock> = Arc::new(domain::platform::clock::FixedClock::at(
        now() + Duration::hours(2),
    ));
    // Each request as the HTTP layer makes it: its own trail, identified by its session.
    let request = |who: &Identity, action: &str| {
        let trail = Trail::for_request(clock.clone(), Some("req-1"), action);
        trail.identify(who.user_id, who.workplace_id);
        (TenantDb::for_identity(db, who).with_trail(trail.clone()), trail)
    };
    let author = &people[0];
    let (scope, trail) = request(author, "check_ins/submit");
    let check_in = answering::open_check_ins(&scope.as_person(author), now())
        .await
        .unwrap()
        .remove(0);
    let given = check_in
        .questions
        .iter()
        .map(|q| GivenAnswer {
            question: q.id,
            value: (!matches!(q.kind, QuestionKind::Text)).then_some(3),
            comment: matches!(q.kind, QuestionKind::Text).then(|| "The rota is unfair".to_owned()),
        })
        .collect();
    let secret = answering::submit(&scope.as_person(author), round, given, now())
        .await
        .unwrap()[0]
        .secret
        .clone();
    domain::platform::access_log::finish(&trail, db, 200)
        .await
        .unwrap();
    for (i, who) in people.iter().enumerate().skip(1) {
        answer(&tenant, who, round, 1 + (i % 5) as i32, now()).await;
    }
    domain::surveys::closing::close_now(&tenant.as_person(&owner), round, now() + Duration::hours(1))
        .await
        .unwrap();
    let comment = comments::all(&tenant.as_person(&owner), round)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.text == "The rota is unfair")
        .unwrap();
    domain::surveys::replies::reply(&tenant.as_person(&owner), comment.id, "Which shifts?", now())
        .await
        .unwrap();
    // Everyone's check-ins page: the page itself (with the person's id, as every read is), then
    // the inbox — the author with the secret, the others with none.
    for who in &people {
        let (scope, trail) = request(who, "check_ins/mine");
        answering::participation(&scope.as_person(who)).await.unwrap();
        domain::platform::access_log::finish(&trail, db, 200)
            .await
            .unwrap();
        let (scope, trail) = request(who, "check_ins/inbox");
        let secrets = if who.user_id == author.user_id {
            vec![secret.clone()]
        } else {
            Vec::new()
        };
        domain::surveys::replies::inbox(&scope.as_person(who), &secrets)
            .await
            .unwrap();
        domain::platform::access_log::finish(&trail, db, 200)
            .await
            .unwrap();
        if who.user_id == author.user_id {
            let (scope, trail) = request(who, "check_ins/answer_reply");
            domain::surveys::replies::answer_back(&scope.as_person(who), &secret, "The weekend ones.", now())
                .await
                .unwrap();
            domain::platform::access_log::finish(&trail, db, 200)
                .await
                .unwrap();
            // A later page load by the author sits right after, in the same minute.
            let (scope, trail) = request(who, "check_ins/mine");
            answering::participation(&scope.as_person(who)).await.unwrap();
            domain::platform::access_log::finish(&trail, db, 200)
                .await
                .unwrap();
        }
    }
    // The Owner polls the comment: the author's answer does not show the day it was sent,
    // when the moment it appeared could be matched to who was online; it shows the day after.
    let owner_reads = |at: DateTime<Utc>| {
        let clock: Arc<dyn domain::Clock> = Arc::new(domain::platform::clock::FixedClock::at(at));
        let trail = Trail::for_request(clock, Some("req-2"), "results/round");
        trail.identify(owner.user_id, owner.workplace_id);
        TenantDb::for_identity(db, &owner).with_trail(trail)
    };
    let thread_on = |comments: &[comments::CommentView]| -> Vec<bool> {
        let c = comments.iter().find(|c| c.text == "The rota is unfair").unwrap();
        c.replies.iter().map(|m| m.from_author).collect()
    };
    let same_day = comments::all(&owner_reads(now() + Duration::hours(3)).as_person(&owner), round)
        .await
        .unwrap();
    assert_eq!(
        thread_on(&same_day),
        [false],
        "the author's answer waits for the next day"
    );
    let next_day = comments::all(&owner_reads(now() + Duration::days(1)).as_person(&owner), round)
        .await
        .unwrap();
    assert_eq!(thread_on(&next_day), [false, true]);
    let anonymous = ["check_ins/inbox", "check_ins/answer_reply"];
    let rows = domain::testing::audit_rows(db, Some(tenant.workplace_id())).await;
    // Opening one's check-ins is kept at the day: no minute to set beside a reply.
    for row in rows.iter().filter(|r| r.action == "check_ins/mine") {
        assert_eq!(
            row.occurred_at,
            now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc(),
            "check_ins/mine at an exact time"
        );
    }
    assert!(
        rows.iter().all(|r| !anonymous.contains(&r.action.as_str())),
        "entries of the day wait until it has ended"
    );
    // The next day, the waiting entries join the log.
    let flushed = domain::platform::access_log::flush_pending(db, now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(flushed, 7, "six inbox calls and one answer");
    let rows = domain::testing::audit_rows(db, Some(tenant.workplace_id())).await;
    let last_of_the_day = rows
        .iter()
        .filter(|r| !anonymous.contains(&r.action.as_str()))
        .map(|r| r.seq)
        .max()
        .unwrap();
    for row in rows.iter().filter(|r| anonymous.contains(&r.action.as_str())) {
        assert_eq!(row.actor, None, "{}", row.action);
        assert_eq!(row.account_tag, None);
        assert_eq!(
            (row.network_tag.as_deref(), row.request_id.as_deref()),
            (None, None)
        );
        assert_eq!(
            row.occurred_at,
            now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc()
        );
        assert!(row.seq > last_of_the_day, "chained after the day's other entries");
    }
    // No entry of any kind names the author beside the reply or the inbox: the review an Owner
    // reads lists the author only for their own page loads and their submission.
    let authored: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.actor == Some(author.user_id.uuid()))
        .map(|r| r.action.clone())
        .collect();
    assert_eq!(
        authored,
        ["check_ins/mine", "check_ins/submit"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
    // The chain still verifies with the late entries in it.
    let report = domain::platform::access_log::verify(db, Some(tenant.workplace_id()), &[])
        .await
        .unwrap();
    assert!(report.iter().all(|c| c.broken.is_none()), "{report:?}");
}

/// Someone with the raw database after N submissions tries every join between answers and the
/// people who gave them: transaction id (PostgreSQL `xmin`), physical order (`ctid`, SQLite's
/// rowid), the ballot box, times. None does better than chance.
async fn the_raw_database_links_no_answer_to_its_author(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let people = team(db, tenant, "Sales", Some(sales), 10).await;
    surveys::create(
        &tenant.as_person(&owner),
        NewSurvey {
            title: "eNPS".into(),
            questions: vec![question("enps")],
            departments: Vec::new(),
            cadence: Cadence::Once,
            first_round_at: now(),
            window_days: 3,
        },
        now(),
    )
    .await
    .unwrap();
    let round = rounds::open_due(db, now()).await.unwrap()[0].round();
    // Person k gives eNPS k: each a distinct value, in submission order.
    let mut given_in_order = Vec::new();
    for (k, who) in people.iter().enumerate() {
        let check_in = answering::open_check_ins(&tenant.as_person(who), now())
            .await
            .unwrap()
            .remove(0);
        let value = i32::try_from(k).unwrap();
        let answers = check_in
            .questions
            .iter()
            .map(|q| GivenAnswer {
                question: q.id,
                value: match q.kind {
                    QuestionKind::Enps => Some(value),
                    QuestionKind::Text => None,
                    _ => Some(1 + value % 5),
                },
                comment: None,
            })
            .collect();
        answering::submit(&tenant.as_person(who), round, answers, now())
            .await
            .unwrap();
        given_in_order.push(value.to_string());
    }
    // While the round is open, no answer row exists at all: only sealed ballots.
    let answer_rows = || "SELECT CAST(value AS TEXT) FROM answers".to_owned();
    assert!(domain::testing::raw_strings(db, &answer_rows()).await.is_empty());
    domain::surveys::closing::close_due(db, now() + Duration::days(3))
        .await
        .unwrap();
    assert!(
        domain::testing::raw_strings(db, "SELECT CAST(id AS TEXT) FROM ballots")
            .await
            .is_empty()
    );

    // Physical order against submission order (the access log's sequence gives the latter).
    let order = match db.backend() {
        domain::Backend::Postgres => "ctid",
        domain::Backend::Sqlite => "rowid",
    };
    let stored = domain::testing::raw_strings(db, &format!("{} ORDER BY {order}", answer_rows())).await;
    assert_eq!(stored.len(), 10);
    let in_place = stored.iter().zip(&given_in_order).filter(|(a, b)| a == b).count();
    // A random order leaves about one value in place; seven or more happens with p < 1e-4.
    assert!(
        in_place < 7,
        "{in_place} of 10 answers sit in submission order: {stored:?}"
    );
    assert_ne!(stored, given_in_order);

    if db.backend() == domain::Backend::Postgres {
        // Same transaction as the participant row or the submission's log entry: none.
        // (The mix shares its transaction with closing the round, which names no one.)
        for other in ["round_participants", "audit_log"] {
            let joined = domain::testing::raw_strings(
                db,
                &format!("SELECT CAST(count(*) AS TEXT) FROM answers a JOIN {other} o ON a.xmin = o.xmin"),
            )
            .await;
            assert_eq!(joined, ["0"], "answers share a transaction with {other}");
        }
        // Answers all came from one transaction (the mix at close), not one per person.
        let transactions = domain::testing::raw_strings(
            db,
            "SELECT CAST(count(DISTINCT CAST(xmin AS TEXT)) AS TEXT) FROM answers",
        )
        .await;
        assert_eq!(transactions, ["1"]);
    }
    // No time column ties an answer or a comment to a moment.
    for table in ["answers", "comments"] {
        let columns = domain::testing::raw_strings(
            db,
            &match db.backend() {
                domain::Backend::Postgres => format!(
                    "SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_name = '{table}'"
                ),
                domain::Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
            },
        )
        .await;
        assert!(
            columns
                .iter()
                .all(|c| !c.ends_with("_at") && !c.contains("time") && c != "user_id"),
            "{table}: {columns:?}"
        );
    }
}

/// A survey of `departments` (all of the workplace when empty) opening now, with the workload,
/// eNPS and free-text questions; returns its first round.
async fn pulse_for(
    db: &domain::Database,
    tenant: &TenantDb,
    owner: &Identity,
    departments: Vec<DepartmentId>,
) -> rounds::RoundId {
    surveys::create(
        &tenant.as_person(owner),
        NewSurvey {
            title: "Pulse".into(),
            questions: vec![question("workload"), question("enps"), question("open_feedback")],
            departments,
            cadence: Cadence::Weekly,
            first_round_at: now(),
            window_days: 3,
        },
        now(),
    )
    .await
    .unwrap();
    rounds::open_due(db, now()).await.unwrap()[0].round()
}

async fn raw_count(db: &domain::Database, sql: &str) -> String {
    domain::testing::raw_strings(db, sql).await.remove(0)
}

/// Someone with the raw database after a round closes: Quay is one person. Stored answers,
/// comments and counts must be no finer than what the round released, or a query by
/// department gives Quay's answer; and a round whose figures were not released keeps none.
async fn the_raw_database_holds_nothing_finer_than_was_released(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let quay = departments::create(tenant, "Quay", None, now()).await.unwrap();
    let sellers = team(db, tenant, "Sales", Some(sales), 6).await;
    let lonely = team(db, tenant, "Quay", Some(quay), 1).await.remove(0);
    let round = pulse_for(db, tenant, &owner, vec![sales, quay]).await;
    for (i, who) in sellers.iter().enumerate() {
        answer(tenant, who, round, 1 + (i % 2) as i32, now()).await;
    }
    answer_with(
        tenant,
        &lonely,
        round,
        5,
        &"A much longer comment than the others. ".repeat(20),
        now(),
    )
    .await;
    // Sealed ballots all have one length, whatever their comments: the box's sizes, next to
    // the released comments, tell no author.
    assert_eq!(
        raw_count(
            db,
            "SELECT CAST(count(DISTINCT length(text_sealed)) AS TEXT) FROM ballots"
        )
        .await,
        "1"
    );
    domain::surveys::closing::close_now(&tenant.as_person(&owner), round, now() + Duration::hours(1))
        .await
        .unwrap();
    let report = results::round_report(&tenant.as_person(&owner), round)
        .await
        .unwrap();
    assert!(report
        .results
        .groups
        .iter()
        .any(|g| g.group == Group::Workplace && g.respondents == Some(7)));
    // Kept: the workplace's answers (released), without department or tenure.
    assert_eq!(
        raw_count(db, "SELECT CAST(count(*) AS TEXT) FROM answers").await,
        "14"
    );
    for (what, sql) in [
        (
            "answers by department",
            "SELECT CAST(count(*) AS TEXT) FROM answers WHERE department_id IS NOT NULL",
        ),
        (
            "answers by tenure",
            "SELECT CAST(count(*) AS TEXT) FROM answers WHERE tenure_band <> 'unknown'",
        ),
        (
            "comments by tenure",
            "SELECT CAST(count(*) AS TEXT) FROM comments WHERE tenure_band <> 'unknown'",
        ),
        // Sales alone is hidden (Workplace − Sales = Quay): comments stand under the workplace.
        (
            "comments by department",
            "SELECT CAST(count(*) AS TEXT) FROM comments WHERE department_id IS NOT NULL",
        ),
        (
            "counts per department",
            "SELECT CAST(count(*) AS TEXT) FROM round_tallies",
        ),
    ] {
        assert_eq!(raw_count(db, sql).await, "0", "{what} outlive the release");
    }
    assert_eq!(
        comments::all(&tenant.as_person(&owner), round)
            .await
            .unwrap()
            .len(),
        7
    );

    // Round 2: only Quay's person answers. Nothing is released, so nothing is kept.
    let later = now() + Duration::days(7);
    let second = rounds::open_due(db, later).await.unwrap()[0].round();
    answer(tenant, &lonely, second, 1, later).await;
    domain::surveys::closing::close_now(&tenant.as_person(&owner), second, later + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        raw_count(db, "SELECT CAST(count(*) AS TEXT) FROM answers").await,
        "14"
    );
    assert_eq!(
        raw_count(db, "SELECT CAST(count(*) AS TEXT) FROM comments").await,
        "7"
    );
    assert_eq!(
        raw_count(db, "SELECT CAST(count(*) AS TEXT) FROM ballots").await,
        "0"
    );
}

/// While a round is open, an HR admin reads participation after every answer. Product holds
/// Apps (9) and Beacon (1): bands of Product and Apps together bound Beacon's one person
/// ("Product at least 5, Apps fewer than 5": Beacon's person answered). No two shown bands may differ by 1 to minimum − 1 people asked.
async fn open_round_participation_brackets_nobody(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let product = departments::create(tenant, "Product", None, now()).await.unwrap();
    let apps = departments::create(tenant, "Apps", Some(product), now())
        .await
        .unwrap();
    let beacon = departments::create(tenant, "Beacon", Some(product), now())
        .await
        .unwrap();
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let mut everyone: Vec<(Identity, DepartmentId)> = Vec::new();
    for (department, n, name) in [(apps, 9, "Apps"), (beacon, 1, "Beacon"), (sales, 6, "Sales")] {
        for p in team(db, tenant, name, Some(department), n).await {
            everyone.push((p, department));
        }
    }
    let round = pulse_for(db, tenant, &owner, vec![product, sales]).await;
    let members = |group: Group| -> BTreeSet<DepartmentId> {
        match group {
            Group::Workplace => [apps, beacon, sales].into_iter().collect(),
            Group::Department(d) if d == product => [apps, beacon].into_iter().collect(),
            Group::Department(d) => [d].into_iter().collect(),
        }
    };
    let people_in = |group: Group| -> BTreeSet<usize> {
        let inside = members(group);
        (0..everyone.len())
            .filter(|i| inside.contains(&everyone[*i].1))
            .collect()
    };
    let mut observed = Observed::default();
    // Beacon's person, then four of Apps: "Product at least 5" while "Apps fewer than 5".
    let order = [9usize, 0, 1, 2, 3];
    for i in order {
        answer(tenant, &everyone[i].0, round, 3, now()).await;
        let report = results::round_report(&tenant.as_person(&owner), round)
            .await
            .unwrap();
        assert!(report.results.released_at.is_none());
        for g in &report.results.groups {
            // A band says something unless it is "fewer than 5" of fewer than 5 asked, which
            // holds whatever anyone does; every other band comes with its exact asked count.
            match (g.asked, g.progress) {
                (Some(_), _) => observed.see(&people_in(g.group)),
                (None, Some(Answered::FewerThan(5)) | None) => {}
                (None, other) => panic!("{}: {other:?} without its asked count", g.name),
            }
        }
    }
    observed.assert_pins_nobody(everyone.len(), 5);
    // Something is still shown: the workplace's band.
    let report = results::round_report(&tenant.as_person(&owner), round)
        .await
        .unwrap();
    assert!(report
        .results
        .groups
        .iter()
        .any(|g| g.group == Group::Workplace && g.progress.is_some()));
}

/// Sales (6) all answer; Quay's one person does not. Released figures state how many were
/// asked: the workplace (7 asked, 6 answered) next to Sales (6 of 6) says Quay's person did
/// not answer.
async fn released_counts_do_not_name_who_stayed_silent(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let quay = departments::create(tenant, "Quay", None, now()).await.unwrap();
    let sellers = team(db, tenant, "Sales", Some(sales), 6).await;
    team(db, tenant, "Quay", Some(quay), 1).await;
    let round = pulse_for(db, tenant, &owner, vec![sales, quay]).await;
    for who in &sellers {
        answer(tenant, who, round, 4, now()).await;
    }
    domain::surveys::closing::close_now(&tenant.as_person(&owner), round, now() + Duration::hours(1))
        .await
        .unwrap();
    let report = results::round_report(&tenant.as_person(&owner), round)
        .await
        .unwrap();
    // People asked, one atom each: the six of Sales, then Quay's.
    let mut observed = Observed::default();
    for g in &report.results.groups {
        if g.asked.is_some() {
            let people: BTreeSet<usize> = match g.group {
                Group::Workplace => (0..7).collect(),
                Group::Department(d) if d == sales => (0..6).collect(),
                Group::Department(_) => [6].into_iter().collect(),
            };
            observed.see(&people);
        }
    }
    observed.assert_pins_nobody(7, 5);
    let listing = results::rounds_with_results(&tenant.as_person(&owner))
        .await
        .unwrap();
    let shown = report
        .results
        .groups
        .iter()
        .find(|g| g.group == Group::Workplace)
        .and_then(|g| g.asked);
    assert_eq!(
        listing[0].counts.map(|(asked, _)| asked),
        shown,
        "the list shows what the round shows"
    );
}

/// Rounds that closed before releases were kept (with answers and counts by department) are
/// released when Candor starts, once, and what they kept is brought down to what they show.
async fn rounds_closed_before_releases_are_frozen_at_start(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let people: Vec<(uuid::Uuid, Option<DepartmentId>)> = team(db, tenant, "Sales", Some(sales), 6)
        .await
        .iter()
        .map(|p| (p.user_id.uuid(), Some(sales)))
        .collect();
    let survey = domain::testing::workload_survey(tenant, &owner, "Earlier pulse", now()).await;
    let first = now() - Duration::weeks(4);
    let rounds_run = domain::testing::seed_survey_history(
        tenant,
        survey,
        2,
        &people,
        0,
        |p, _, _| 1 + (p % 5) as i32,
        first,
    )
    .await;
    assert!(raw_count(db, "SELECT CAST(count(*) AS TEXT) FROM round_tallies").await != "0");
    assert_eq!(surveys::release::release_pending(db, now()).await.unwrap(), 2);
    assert_eq!(
        surveys::release::release_pending(db, now()).await.unwrap(),
        0,
        "released once"
    );
    for (what, sql) in [
        (
            "counts per department",
            "SELECT CAST(count(*) AS TEXT) FROM round_tallies",
        ),
        (
            "answers by department",
            "SELECT CAST(count(*) AS TEXT) FROM answers WHERE department_id IS NOT NULL",
        ),
    ] {
        assert_eq!(raw_count(db, sql).await, "0", "{what} outlive the release");
    }
    let report = results::round_report(&tenant.as_person(&owner), rounds_run[0])
        .await
        .unwrap();
    assert_eq!(report.results.released_at, Some(first + Duration::days(3)));
    let sales_row = report
        .results
        .groups
        .iter()
        .find(|g| g.group == Group::Department(sales))
        .unwrap();
    assert_eq!(sales_row.respondents, Some(6));
}

/// People of `department` who started on `start`.
async fn starters(
    db: &domain::Database,
    tenant: &TenantDb,
    name: &str,
    department: DepartmentId,
    start: &str,
    n: usize,
) -> Vec<Identity> {
    let mut out = Vec::new();
    for i in 0..n {
        let full = format!("{name} Starter {i}");
        out.push(
            domain::testing::active_person(
                db,
                tenant,
                NewPerson {
                    email: format!(
                        "{}@{}.test",
                        full.to_lowercase().replace(' ', "."),
                        tenant.workplace_id().uuid().simple()
                    ),
                    name: full,
                    department: Some(department),
                    role: RoleKey::BuiltIn(Role::Employee),
                    start_date: chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d").ok(),
                },
                now(),
            )
            .await,
        );
    }
    out
}

/// Results by tenure band, for the workplace and for each team, go through the same guard as
/// the teams. Sales has five people under a year and `long_serving` of five years or more; Ops
/// has five of each. With one long-serving person, "the workplace" minus "under 1 year",
/// or Sales minus "Sales, under 1 year", would be them: whatever shows, team and tenure figures
/// together pin nobody. With five, every cut shows, and a manager sees only their team's.
async fn tenure_cuts_and_teams_together_pin_nobody(test_db: TestDb) {
    let db = &test_db.db;
    for (long_serving, workplace) in [(1usize, "Northwind"), (5, "Contoso")] {
        let (owner, tenant) = domain::testing::workplace(
            db,
            workplace,
            &format!("ada@{}.test", workplace.to_lowercase()),
            now(),
        )
        .await;
        let tenant = &tenant;
        let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
        let ops = departments::create(tenant, "Ops", None, now()).await.unwrap();
        let mut people: Vec<(Identity, &str)> = Vec::new();
        for p in starters(db, tenant, "Sales New", sales, "2026-06-01", 5).await {
            people.push((p, "sales-new"));
        }
        for p in starters(db, tenant, "Sales Old", sales, "2019-01-01", long_serving).await {
            people.push((p, "sales-old"));
        }
        for p in starters(db, tenant, "Ops New", ops, "2026-03-01", 5).await {
            people.push((p, "ops-new"));
        }
        for p in starters(db, tenant, "Ops Old", ops, "2018-01-01", 5).await {
            people.push((p, "ops-old"));
        }
        let round = pulse_for(db, tenant, &owner, vec![sales, ops]).await;
        for (i, (who, _)) in people.iter().enumerate() {
            answer(tenant, who, round, 1 + (i % 5) as i32, now()).await;
        }
        domain::surveys::closing::close_now(&tenant.as_person(&owner), round, now() + Duration::hours(1))
            .await
            .unwrap();
        let report = results::round_report(&tenant.as_person(&owner), round)
            .await
            .unwrap();
        let set = |kinds: &[&str]| -> BTreeSet<usize> {
            (0..people.len())
                .filter(|i| kinds.contains(&people[*i].1))
                .collect()
        };
        let mut observed = Observed::default();
        for g in &report.results.groups {
            if g.respondents.is_some() {
                observed.see(&match g.group {
                    Group::Workplace => set(&["sales-new", "sales-old", "ops-new", "ops-old"]),
                    Group::Department(d) if d == sales => set(&["sales-new", "sales-old"]),
                    Group::Department(_) => set(&["ops-new", "ops-old"]),
                });
            }
        }
        for team in &report.results.tenure {
            let in_team: &[&str] = match team.group {
                Group::Workplace => &["sales-new", "sales-old", "ops-new", "ops-old"],
                Group::Department(d) if d == sales => &["sales-new", "sales-old"],
                Group::Department(_) => &["ops-new", "ops-old"],
            };
            for band in team.bands.iter().filter(|b| b.respondents.is_some()) {
                let in_band: &[&str] = match band.name.as_str() {
                    "Under 1 year" => &["sales-new", "ops-new"],
                    "5 years or more" => &["sales-old", "ops-old"],
                    other => panic!("{other} holds nobody"),
                };
                let kinds: Vec<&str> = in_team.iter().filter(|k| in_band.contains(k)).copied().collect();
                observed.see(&set(&kinds));
            }
        }
        observed.assert_pins_nobody(people.len(), 5);
        let shown: Vec<(String, &str)> = report
            .results
            .tenure
            .iter()
            .flat_map(|team| {
                team.bands
                    .iter()
                    .filter(|b| b.respondents.is_some())
                    .map(|b| (team.team.clone(), b.name.as_str()))
            })
            .collect();
        if long_serving == 1 {
            // Sales under a year (5) next to Sales (6) would be the one long-serving person.
            let sales_shown = report
                .results
                .groups
                .iter()
                .any(|g| g.group == Group::Department(sales) && g.respondents.is_some());
            assert!(!(sales_shown && shown.contains(&("Sales".to_owned(), "Under 1 year"))));
        }
        if long_serving == 5 {
            let expected: Vec<(String, &str)> = [
                ("Whole workplace", "Under 1 year"),
                ("Whole workplace", "5 years or more"),
                ("Ops", "Under 1 year"),
                ("Ops", "5 years or more"),
                ("Sales", "Under 1 year"),
                ("Sales", "5 years or more"),
            ]
            .into_iter()
            .map(|(team, band)| (team.to_owned(), band))
            .collect();
            assert_eq!(shown, expected);
            let csv = results::export_csv(&tenant.as_person(&owner), round, now())
                .await
                .unwrap();
            assert!(
                csv.contains("\"Whole workplace, 5 years or more\",tenure,10,10,"),
                "{csv}"
            );
            assert!(csv.contains("\"Sales, 5 years or more\",tenure,5,5,"), "{csv}");
            // A manager of Ops sees Ops by time here, and neither Sales nor the workplace.
            let manager = person(db, tenant, "Grace Manager".into(), None, Role::Manager).await;
            domain::organisation::people::set_grants(
                tenant,
                manager.user_id,
                &[ops].into_iter().collect(),
                now(),
            )
            .await
            .unwrap();
            let manager = domain::testing::reload_identity(db, tenant, &manager, now()).await;
            let theirs = results::round_report(&tenant.as_person(&manager), round)
                .await
                .unwrap();
            let teams: Vec<&str> = theirs.results.tenure.iter().map(|t| t.team.as_str()).collect();
            assert_eq!(teams, ["Ops"]);
            let csv = results::export_csv(&tenant.as_person(&manager), round, now())
                .await
                .unwrap();
            assert!(csv.contains("\"Ops, Under 1 year\",tenure,5,5,"), "{csv}");
            assert!(
                !csv.contains("Sales") && !csv.contains("Whole workplace"),
                "{csv}"
            );
        }
    }
}

/// Any question may carry a comment of the longest length, in characters that take the most
/// room once sealed: the ballot still fits its round's one size, so writing a lot neither fails
/// nor shows in the ballot's length.
async fn the_longest_comments_fit_the_ballot(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let people = team(db, tenant, "Sales", Some(sales), 2).await;
    let round = pulse_for(db, tenant, &owner, vec![sales]).await;
    let longest: String = "\u{1}".repeat(answering::MAX_COMMENT - 2);
    let check_in = answering::open_check_ins(&tenant.as_person(&people[0]), now())
        .await
        .unwrap()
        .remove(0);
    let given = check_in
        .questions
        .iter()
        .map(|q| GivenAnswer {
            question: q.id,
            value: match q.kind {
                QuestionKind::Text => None,
                QuestionKind::Enps => Some(10),
                _ => Some(5),
            },
            comment: Some(format!("x{longest}x")),
        })
        .collect();
    answering::submit(&tenant.as_person(&people[0]), round, given, now())
        .await
        .unwrap();
    answer(tenant, &people[1], round, 3, now()).await;
    assert_eq!(
        raw_count(
            db,
            "SELECT CAST(count(DISTINCT length(text_sealed)) AS TEXT) FROM ballots"
        )
        .await,
        "1"
    );
}

/// While a round is open, an HR admin looks at its participation, moves a one-person team out
/// of its parent and lowers the minimum, then looks again with no answer in between. Sales has
/// five direct members and Beacon (one person) below it: on today's tree the second look would
/// show Sales without Beacon, and the change of band would say whether Beacon's person answered.
/// The open round keeps the tree and minimum it opened with: both looks are the same.
async fn an_open_round_is_not_re_sliced_by_a_reorganisation(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let sales = departments::create(tenant, "Sales", None, now()).await.unwrap();
    let beacon = departments::create(tenant, "Beacon", Some(sales), now())
        .await
        .unwrap();
    let ops = departments::create(tenant, "Ops", None, now()).await.unwrap();
    let sellers = team(db, tenant, "Sales", Some(sales), 5).await;
    let lonely = team(db, tenant, "Beacon", Some(beacon), 1).await.remove(0);
    team(db, tenant, "Ops", Some(ops), 5).await;
    let round = pulse_for(db, tenant, &owner, vec![sales, ops]).await;
    for who in sellers.iter().take(4) {
        answer(tenant, who, round, 3, now()).await;
    }
    answer(tenant, &lonely, round, 3, now()).await;
    let before = results::round_report(&tenant.as_person(&owner), round)
        .await
        .unwrap();
    let sales_band = |report: &results::RoundReport| {
        report
            .results
            .groups
            .iter()
            .find(|g| g.group == Group::Department(sales))
            .map(|g| (g.asked, g.progress))
    };
    assert_eq!(sales_band(&before), Some((Some(6), Some(Answered::AtLeast(5)))));
    departments::move_to(tenant, beacon, Some(ops)).await.unwrap();
    surveys::set_group_sizes(
        &tenant.as_person(&owner),
        surveys::GroupSizes {
            results: 4,
            comments: 4,
        },
    )
    .await
    .unwrap();
    let after = results::round_report(&tenant.as_person(&owner), round)
        .await
        .unwrap();
    assert_eq!(
        after.results, before.results,
        "the open round's view moved with the tree"
    );
    let listed = |rows: Vec<results::RoundListing>| rows.into_iter().map(|r| r.counts).collect::<Vec<_>>();
    assert_eq!(
        listed(
            results::rounds_with_results(&tenant.as_person(&owner))
                .await
                .unwrap()
        ),
        [Some((11, Answered::AtLeast(5)))]
    );
}

/// A round open when Candor was upgraded: one person answered the old way (answer rows by
/// department), the rest through ballots. Product has five members of its own (one old, four
/// ballots) and Core below it (five, all ballots). Its release counts both kinds together, so every released group's
/// number who answered matches its figures, and Product − Core is never one person's answers.
async fn a_round_answered_across_the_upgrade_counts_everyone_once(test_db: TestDb) {
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Northwind", "ada@northwind.test", now()).await;
    let tenant = &tenant;
    let product = departments::create(tenant, "Product", None, now()).await.unwrap();
    let core = departments::create(tenant, "Core", Some(product), now())
        .await
        .unwrap();
    let direct = team(db, tenant, "Product", Some(product), 5).await;
    let coders = team(db, tenant, "Core", Some(core), 5).await;
    let round = pulse_for(db, tenant, &owner, vec![product]).await;
    let questions = answering::open_check_ins(&tenant.as_person(&direct[0]), now())
        .await
        .unwrap()
        .remove(0)
        .questions;
    let old_values: Vec<(uuid::Uuid, i32)> = questions
        .iter()
        .filter_map(|q| match q.kind {
            QuestionKind::Text => None,
            QuestionKind::Enps => Some((q.id, 0)),
            _ => Some((q.id, 1)),
        })
        .collect();
    domain::testing::answer_without_ballot(tenant, round, &direct[0], &old_values).await;
    for who in direct.iter().skip(1).chain(&coders) {
        answer(tenant, who, round, 4, now()).await;
    }
    domain::surveys::closing::close_now(&tenant.as_person(&owner), round, now() + Duration::hours(1))
        .await
        .unwrap();
    let report = results::round_report(&tenant.as_person(&owner), round)
        .await
        .unwrap();
    for g in &report.results.groups {
        let (Some(respondents), Some(workload)) = (g.respondents, g.questions.first()) else {
            continue;
        };
        let counted: u32 = workload.distribution.iter().map(|(_, n)| n).sum();
        assert_eq!(
            counted, respondents,
            "{}: figures and count cover different people",
            g.name
        );
    }
    let workplace = report
        .results
        .groups
        .iter()
        .find(|g| g.group == Group::Workplace)
        .unwrap();
    assert_eq!(workplace.respondents, Some(10));
}

domain::on_both_backends!(
    looking_after_every_answer_pins_nobody,
    reorganising_and_changing_the_minimum_re_slice_nothing,
    a_lowered_minimum_does_not_reopen_a_closed_round,
    the_access_log_never_names_a_comment_author,
    the_raw_database_links_no_answer_to_its_author,
    the_raw_database_holds_nothing_finer_than_was_released,
    open_round_participation_brackets_nobody,
    released_counts_do_not_name_who_stayed_silent,
    rounds_closed_before_releases_are_frozen_at_start,
    tenure_cuts_and_teams_together_pin_nobody,
    the_longest_comments_fit_the_ballot,
    an_open_round_is_not_re_sliced_by_a_reorganisation,
    a_round_answered_across_the_upgrade_counts_everyone_once,
);
