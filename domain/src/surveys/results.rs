//! Results of a round: per group (the whole workplace, each department with everything below
//! it) the participation, and per question the mean, the distribution and — for eNPS — the
//! score. Groups below the workplace's minimum, and groups whose figure would let a hidden
//! group's be worked out, show "not enough responses" (see [`super::suppression`]). Which
//! groups are hidden is decided once for the whole workplace, never per viewer, so combining
//! what different people can see reveals nothing more.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};

use super::{
    rounds::{Round, RoundId},
    suppression::{shown_groups, Group, GroupCount},
    QuestionId, QuestionKind,
};
use crate::{
    entities::{answers, departments, round_participants, surveys},
    ids::DepartmentId,
    policy::{allows, require, Action, Identity, Resource},
    tenant::TenantDb,
    Error, Result,
};

#[derive(Clone, Debug, PartialEq)]
pub struct QuestionResult {
    pub question: QuestionId,
    pub prompt: String,
    pub kind: QuestionKind,
    /// Answers per value, for every value the question allows.
    pub distribution: Vec<(i32, u32)>,
    /// Scale and eNPS questions.
    pub mean: Option<f64>,
    /// eNPS: % promoters (9–10) minus % detractors (0–6), −100 to 100.
    pub enps: Option<i32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupResult {
    pub group: Group,
    pub name: String,
    /// Depth in the department tree (the workplace is 0).
    pub depth: usize,
    /// How many were asked; None when the group is too small to say.
    pub asked: Option<u32>,
    /// How many answered; None: not enough responses to show anything.
    pub respondents: Option<u32>,
    pub questions: Vec<QuestionResult>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RoundResults {
    pub round: Round,
    pub title: String,
    pub minimum: u32,
    pub groups: Vec<GroupResult>,
}

/// The department tree with respondents per department (None: people without one), and the
/// groups that may be shown at `minimum`.
fn shown_for(
    tree: &[departments::Model],
    respondents: &BTreeMap<Option<DepartmentId>, u32>,
    minimum: u32,
) -> (Vec<GroupCount>, BTreeSet<Group>) {
    let counts: Vec<GroupCount> = tree
        .iter()
        .map(|d| {
            let department = DepartmentId::from_uuid(d.id);
            GroupCount {
                department,
                parent: d.parent_id.map(DepartmentId::from_uuid),
                direct: respondents.get(&Some(department)).copied().unwrap_or(0),
            }
        })
        .collect();
    let unassigned = respondents.get(&None).copied().unwrap_or(0);
    let shown = shown_groups(&counts, unassigned, minimum);
    (counts, shown)
}

/// Aggregates of one group, summed from the answers of its departments.
fn question_results(
    questions: &[super::Question],
    counts: &BTreeMap<(QuestionId, i32), u32>,
) -> Vec<QuestionResult> {
    questions
        .iter()
        .filter_map(|question| {
            let values = question.kind.values()?;
            let distribution: Vec<(i32, u32)> = values
                .map(|value| (value, counts.get(&(question.id, value)).copied().unwrap_or(0)))
                .collect();
            let total: u32 = distribution.iter().map(|(_, n)| n).sum();
            let sum: i64 = distribution
                .iter()
                .map(|(v, n)| i64::from(*v) * i64::from(*n))
                .sum();
            let mean = (total > 0 && !matches!(question.kind, QuestionKind::Choice { .. }))
                .then(|| sum as f64 / f64::from(total));
            let enps = (matches!(question.kind, QuestionKind::Enps) && total > 0).then(|| {
                let promoters: u32 = distribution.iter().filter(|(v, _)| *v >= 9).map(|(_, n)| n).sum();
                let detractors: u32 = distribution.iter().filter(|(v, _)| *v <= 6).map(|(_, n)| n).sum();
                ((f64::from(promoters) - f64::from(detractors)) * 100.0 / f64::from(total)).round() as i32
            });
            Some(QuestionResult {
                question: question.id,
                prompt: question.prompt.clone(),
                kind: question.kind.clone(),
                distribution,
                mean,
                enps,
            })
        })
        .collect()
}

/// A round's results as `identity` may see them: the whole workplace with workplace-wide
/// `results`, otherwise the departments granted to them (and below).
pub async fn round_results(tenant: &TenantDb, identity: &Identity, round: RoundId) -> Result<RoundResults> {
    require(identity, Action::ListResults, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let round_row = super::rounds::find(tenant, &txn, round).await?;
    let survey = tenant
        .select::<surveys::Entity>()
        .filter(surveys::Column::Id.eq(round_row.survey_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let questions = super::questions_in(tenant, &txn, survey.id).await?;
    let (minimum, _) = super::minimum_group_sizes(tenant, &txn).await?;
    let tree = tenant.select::<departments::Entity>().all(&txn).await?;
    // Counted by the database: a few hundred grouped rows, not one row per person.
    let participants: Vec<(Option<uuid::Uuid>, bool, i64)> = tenant
        .select::<round_participants::Entity>()
        .select_only()
        .column(round_participants::Column::DepartmentId)
        .column(round_participants::Column::Answered)
        .column_as(round_participants::Column::Id.count(), "n")
        .filter(round_participants::Column::RoundId.eq(round))
        .group_by(round_participants::Column::DepartmentId)
        .group_by(round_participants::Column::Answered)
        .into_tuple()
        .all(&txn)
        .await?;
    let answer_rows: Vec<(QuestionId, Option<uuid::Uuid>, i32, i64)> = tenant
        .select::<answers::Entity>()
        .select_only()
        .column(answers::Column::QuestionId)
        .column(answers::Column::DepartmentId)
        .column(answers::Column::Value)
        .column_as(answers::Column::Id.count(), "n")
        .filter(answers::Column::RoundId.eq(round))
        .group_by(answers::Column::QuestionId)
        .group_by(answers::Column::DepartmentId)
        .group_by(answers::Column::Value)
        .into_tuple()
        .all(&txn)
        .await?;
    txn.commit().await?;

    // Per department (None: no department): asked, answered, and answers per (question, value).
    let mut asked: BTreeMap<Option<DepartmentId>, u32> = BTreeMap::new();
    let mut answered: BTreeMap<Option<DepartmentId>, u32> = BTreeMap::new();
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    for (department, did_answer, n) in participants {
        let department = department.map(DepartmentId::from_uuid);
        *asked.entry(department).or_default() += count(n);
        if did_answer {
            *answered.entry(department).or_default() += count(n);
        }
    }
    let mut tallies: BTreeMap<Option<DepartmentId>, BTreeMap<(QuestionId, i32), u32>> = BTreeMap::new();
    for (question, department, value, n) in answer_rows {
        *tallies
            .entry(department.map(DepartmentId::from_uuid))
            .or_default()
            .entry((question, value))
            .or_default() += count(n);
    }
    let (counts, shown) = shown_for(&tree, &answered, minimum);

    let edges: Vec<(DepartmentId, Option<DepartmentId>)> =
        counts.iter().map(|c| (c.department, c.parent)).collect();
    let names: BTreeMap<DepartmentId, (String, Option<DepartmentId>)> = tree
        .iter()
        .map(|d| {
            (
                DepartmentId::from_uuid(d.id),
                (d.name.clone(), d.parent_id.map(DepartmentId::from_uuid)),
            )
        })
        .collect();
    let depth = |mut id: DepartmentId| {
        let mut depth = 1;
        while let Some(parent) = names.get(&id).and_then(|(_, parent)| *parent) {
            depth += 1;
            id = parent;
        }
        depth
    };
    let group_result = |group: Group, members: &BTreeSet<Option<DepartmentId>>| {
        let sum = |map: &BTreeMap<Option<DepartmentId>, u32>| -> u32 {
            members.iter().filter_map(|m| map.get(m)).sum()
        };
        let (name, depth) = match group {
            Group::Workplace => ("Whole workplace".to_owned(), 0),
            Group::Department(id) => (
                names.get(&id).map(|(name, _)| name.clone()).unwrap_or_default(),
                depth(id),
            ),
        };
        if !shown.contains(&group) {
            return GroupResult {
                group,
                name,
                depth,
                asked: None,
                respondents: None,
                questions: Vec::new(),
            };
        }
        let mut merged: BTreeMap<(QuestionId, i32), u32> = BTreeMap::new();
        for member in members {
            for (key, n) in tallies.get(member).into_iter().flatten() {
                *merged.entry(*key).or_default() += n;
            }
        }
        GroupResult {
            group,
            name,
            depth,
            asked: Some(sum(&asked)),
            respondents: Some(sum(&answered)),
            questions: question_results(&questions, &merged),
        }
    };

    let mut groups = Vec::new();
    if allows(identity, Action::ViewResults, Resource::Workplace) {
        let everyone: BTreeSet<Option<DepartmentId>> =
            asked.keys().copied().chain(tallies.keys().copied()).collect();
        groups.push(group_result(Group::Workplace, &everyone));
    }
    // Departments in tree order: parents before their children, siblings by name.
    let mut ordered = Vec::new();
    let mut stack: Vec<DepartmentId> = {
        let mut top: Vec<DepartmentId> = names
            .iter()
            .filter(|(_, (_, parent))| parent.is_none_or(|p| !names.contains_key(&p)))
            .map(|(id, _)| *id)
            .collect();
        top.sort_by(|a, b| names[b].0.cmp(&names[a].0));
        top
    };
    while let Some(next) = stack.pop() {
        ordered.push(next);
        let mut children: Vec<DepartmentId> = names
            .iter()
            .filter(|(_, (_, parent))| *parent == Some(next))
            .map(|(id, _)| *id)
            .collect();
        children.sort_by(|a, b| names[b].0.cmp(&names[a].0));
        stack.extend(children);
    }
    for department in ordered {
        if !allows(identity, Action::ViewResults, Resource::Department(department)) {
            continue;
        }
        let members: BTreeSet<Option<DepartmentId>> =
            crate::departments::subtree(edges.iter().copied(), [department])
                .into_iter()
                .map(Some)
                .collect();
        // Teams the round did not ask (outside the survey's audience) have nothing to show.
        if !members.iter().any(|m| asked.contains_key(m)) {
            continue;
        }
        groups.push(group_result(Group::Department(department), &members));
    }
    Ok(RoundResults {
        round: Round::from(round_row),
        title: survey.title,
        minimum,
        groups,
    })
}

/// A comment as a results page lists it: the question and the words, nothing about who.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentView {
    pub question: String,
    pub text: String,
}

/// The comments of a round that `identity` may read: from groups they may see that reach the
/// comment minimum (with the same complementary suppression as the figures), in a stable
/// order that says nothing about when each was written.
pub async fn round_comments(
    tenant: &TenantDb,
    identity: &Identity,
    round: RoundId,
) -> Result<Vec<CommentView>> {
    use crate::entities::comments;
    require(identity, Action::ListResults, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let round_row = super::rounds::find(tenant, &txn, round).await?;
    let questions = super::questions_in(tenant, &txn, round_row.survey_id).await?;
    let (_, minimum) = super::minimum_group_sizes(tenant, &txn).await?;
    let tree = tenant.select::<departments::Entity>().all(&txn).await?;
    let answered: Vec<(Option<uuid::Uuid>, i64)> = tenant
        .select::<round_participants::Entity>()
        .select_only()
        .column(round_participants::Column::DepartmentId)
        .column_as(round_participants::Column::Id.count(), "n")
        .filter(round_participants::Column::RoundId.eq(round))
        .filter(round_participants::Column::Answered.eq(true))
        .group_by(round_participants::Column::DepartmentId)
        .into_tuple()
        .all(&txn)
        .await?;
    let rows = tenant
        .select::<comments::Entity>()
        .filter(comments::Column::RoundId.eq(round))
        .all(&txn)
        .await?;
    let keys = tenant.data_keys_in(&txn).await?;
    txn.commit().await?;
    let mut direct: BTreeMap<Option<DepartmentId>, u32> = BTreeMap::new();
    for (department, n) in answered {
        *direct.entry(department.map(DepartmentId::from_uuid)).or_default() +=
            u32::try_from(n).unwrap_or(u32::MAX);
    }
    let (counts, shown) = shown_for(&tree, &direct, minimum);
    let edges: Vec<(DepartmentId, Option<DepartmentId>)> =
        counts.iter().map(|c| (c.department, c.parent)).collect();
    let whole_workplace =
        shown.contains(&Group::Workplace) && allows(identity, Action::ViewResults, Resource::Workplace);
    let mut readable: BTreeSet<DepartmentId> = BTreeSet::new();
    for group in &shown {
        if let Group::Department(id) = group {
            if allows(identity, Action::ViewResults, Resource::Department(*id)) {
                readable.extend(crate::departments::subtree(edges.iter().copied(), [*id]));
            }
        }
    }
    let prompts: BTreeMap<QuestionId, &str> = questions.iter().map(|q| (q.id, q.prompt.as_str())).collect();
    let mut out = Vec::new();
    for row in rows {
        let department = row.department_id.map(DepartmentId::from_uuid);
        if !(whole_workplace || department.is_some_and(|d| readable.contains(&d))) {
            continue;
        }
        out.push(CommentView {
            question: prompts
                .get(&row.question_id)
                .copied()
                .unwrap_or_default()
                .to_owned(),
            text: super::answering::open_comment(&keys, &row)?.into_exposed(),
        });
    }
    out.sort_by(|a, b| (a.question.as_str(), a.text.as_str()).cmp(&(b.question.as_str(), b.text.as_str())));
    Ok(out)
}

/// A round someone may look at the results of, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundListing {
    pub round: Round,
    pub title: String,
    /// (asked, answered) for the whole workplace; None for people limited to some departments.
    pub counts: Option<(u32, u32)>,
}

/// Every round of every survey, for people with `results` (what they see inside each round
/// still depends on their reach).
pub async fn rounds_with_results(tenant: &TenantDb, identity: &Identity) -> Result<Vec<RoundListing>> {
    use sea_orm::QueryOrder;
    require(identity, Action::ListResults, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let titles: BTreeMap<uuid::Uuid, String> = tenant
        .select::<surveys::Entity>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.title))
        .collect();
    let rows = tenant
        .select::<crate::entities::rounds::Entity>()
        .order_by_desc(crate::entities::rounds::Column::OpensAt)
        .all(&txn)
        .await?;
    txn.commit().await?;
    // Counts kept on the round: whole-workplace figures, shown to those who see the whole
    // workplace; people limited to some departments see participation inside each round.
    let whole_workplace = allows(identity, Action::ViewResults, Resource::Workplace);
    Ok(rows
        .into_iter()
        .map(|row| {
            let counts = whole_workplace.then(|| {
                (
                    u32::try_from(row.asked).unwrap_or(0),
                    u32::try_from(row.answered).unwrap_or(0),
                )
            });
            RoundListing {
                title: titles.get(&row.survey_id).cloned().unwrap_or_default(),
                round: Round::from(row),
                counts,
            }
        })
        .collect())
}
