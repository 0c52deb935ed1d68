//! Results of a round: per group (the whole workplace, each department with everything below
//! it) the participation, and per question the mean, the distribution and — for eNPS — the
//! score. Groups below the workplace's minimum, and groups whose figure would let a hidden
//! group's be worked out, show "not enough responses" (see [`super::guard`]). Figures exist
//! only once a round has closed: it releases them once, on the department tree and minimums of
//! that moment, and they are never computed again (see [`super::release`]). Which groups are
//! hidden is decided then for the whole workplace, never per viewer, so combining what
//! different people can see, or what one person saw at different times, reveals nothing more.
//! The trend across rounds and the CSV export are read from the same releases. While a round
//! is open, people see participation only, in steps of the minimum group size.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    release::Frozen,
    rounds::{Round, RoundId},
    suppression::Group,
    tallies::{count_participants, tallies_from, Tallies},
    tree::{thaw_tree, FrozenDepartment, Tree},
    Question, QuestionId, QuestionKind,
};
use crate::{
    platform::{
        entities::{departments, rounds, surveys},
        ids::DepartmentId,
        policy::{allows, Action, Identity, Resource},
        security_events::{EventKind, SecurityEvent},
        tenant::TenantDb,
    },
    Error, Result,
};

/// How many rounds the trend looks back over, the round being viewed included.
pub const TREND_ROUNDS: usize = 12;

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

impl QuestionResult {
    /// The one number a trend or a heatmap shows: the eNPS score, else the mean.
    pub fn headline(&self) -> Option<f64> {
        self.enps.map(f64::from).or(self.mean)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupResult {
    pub group: Group,
    pub name: String,
    /// Depth in the department tree (the workplace is 0).
    pub depth: usize,
    /// How many were asked; None when the group is too small to say.
    pub asked: Option<u32>,
    /// How many answered; None: not enough responses to show anything (or still open).
    pub respondents: Option<u32>,
    /// While the round is open: how many have answered so far, in steps of the minimum.
    pub progress: Option<Answered>,
    pub questions: Vec<QuestionResult>,
}

/// How many answered a round that is still open, as people may see it: never an exact count
/// that moves one answer at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answered {
    /// Fewer than this (the minimum group size).
    FewerThan(u32),
    /// At least this many (a multiple of the minimum group size).
    AtLeast(u32),
    /// Exactly this many: a closed round with at least the minimum.
    Exactly(u32),
}

impl Answered {
    pub fn banded(answered: u32, minimum: u32) -> Self {
        let minimum = minimum.max(1);
        if answered < minimum {
            Answered::FewerThan(minimum)
        } else {
            Answered::AtLeast(answered / minimum * minimum)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RoundResults {
    pub round: Round,
    pub title: String,
    /// The minimum group size the figures were released under (today's while open).
    pub minimum: u32,
    /// When the round's results were released (it closed); None while it is open.
    pub released_at: Option<DateTime<Utc>>,
    pub groups: Vec<GroupResult>,
    /// The whole workplace and each team by time here, as released, for those who may see
    /// that team; a team is listed when two or more of its bands were released.
    pub tenure: Vec<TenureResults>,
}

/// One team (or the whole workplace) by time here: each band named by its label.
#[derive(Clone, Debug, PartialEq)]
pub struct TenureResults {
    pub group: Group,
    pub team: String,
    pub bands: Vec<GroupResult>,
}

/// Figures of one round, loaded together (comments are paged: see [`super::comments`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RoundReport {
    pub results: RoundResults,
    /// The platform figure for the round's built-in questions (workplaces that opted in only).
    pub benchmarks: BTreeMap<QuestionId, super::benchmarks::Benchmark>,
}

/// Aggregates of one group, summed from the answers of its departments.
fn question_results(
    questions: &[Question],
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

/// A released cell as results show it: its figures, or "not enough responses" (no figures).
fn released_result(
    group: Group,
    name: &str,
    depth: usize,
    figures: Option<&super::release::Figures>,
    questions: &[Question],
) -> GroupResult {
    let mut result = GroupResult {
        group,
        name: name.to_owned(),
        depth,
        asked: None,
        respondents: None,
        progress: None,
        questions: Vec::new(),
    };
    if let Some(figures) = figures {
        let counts: BTreeMap<(QuestionId, i32), u32> =
            figures.counts.iter().map(|(q, v, n)| ((*q, *v), *n)).collect();
        result.asked = Some(figures.asked);
        result.respondents = Some(figures.respondents);
        result.questions = question_results(questions, &counts);
    }
    result
}

/// The groups of a released round that `identity` may see, in the frozen tree's order, each
/// with its figures or "not enough responses".
fn visible_groups(identity: &Identity, frozen: &Frozen, questions: &[Question]) -> Vec<GroupResult> {
    frozen
        .release
        .groups
        .iter()
        .filter(|g| may_see(identity, g.group()))
        .map(|g| released_result(g.group(), &g.name, g.depth, g.figures.as_ref(), questions))
        .collect()
}

/// The tenure bands of a released round: the whole workplace's for those who see it, then
/// each team's for those who see that team (a team only when two or more of its bands show).
fn visible_tenure(identity: &Identity, frozen: &Frozen, questions: &[Question]) -> Vec<TenureResults> {
    let mut teams: Vec<TenureResults> = frozen
        .release
        .groups
        .iter()
        .filter(|g| may_see(identity, g.group()))
        .map(|g| TenureResults {
            group: g.group(),
            team: g.name.clone(),
            bands: frozen
                .release
                .tenure
                .iter()
                .filter(|band| band.department == g.department)
                .map(|band| released_result(g.group(), &band.label, 1, band.figures.as_ref(), questions))
                .collect(),
        })
        .collect();
    // A team whose respondents all fall in one band says nothing its own row does not.
    teams.retain(|team| match team.group {
        Group::Workplace => !team.bands.is_empty(),
        Group::Department(_) => {
            team.bands
                .iter()
                .filter(|band| band.respondents.is_some())
                .count()
                > 1
        }
    });
    teams
}

/// Whether `identity` may see `group`'s results (and read the comments listed under it).
pub(super) fn may_see(identity: &Identity, group: Group) -> bool {
    match group {
        Group::Workplace => allows(identity, Action::ViewResults, Resource::Workplace),
        Group::Department(d) => allows(identity, Action::ViewResults, Resource::Department(d)),
    }
}

/// The groups of an open round that `identity` may see, with participation only: how many were
/// asked (when at least the minimum) and how many answered, in steps of the minimum. Bands of
/// two nested groups bound their difference, so only groups the release guard accepts over the
/// people asked get a band: no two shown groups differ by 1 to minimum − 1 people.
fn participation_groups(
    identity: &Identity,
    tree: &Tree,
    tallies: &Tallies,
    minimum: u32,
) -> Vec<GroupResult> {
    let sum = |map: &BTreeMap<Option<DepartmentId>, u32>, members: &BTreeSet<Option<DepartmentId>>| -> u32 {
        members.iter().filter_map(|m| map.get(m)).sum()
    };
    let mut candidates: Vec<(Group, BTreeSet<Option<DepartmentId>>)> = Vec::new();
    let everyone: BTreeSet<Option<DepartmentId>> = tallies.asked.keys().copied().collect();
    if !everyone.is_empty() {
        candidates.push((Group::Workplace, everyone));
    }
    for department in &tree.ordered {
        let members = tree.members(*department);
        if members.iter().any(|m| tallies.asked.contains_key(m)) {
            candidates.push((Group::Department(*department), members));
        }
    }
    // Every group anyone may be shown, whatever this reader's reach: another reader's view
    // combines with this one.
    let atoms: Vec<Option<DepartmentId>> = tallies.asked.keys().copied().collect();
    let index: BTreeMap<Option<DepartmentId>, usize> =
        atoms.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    let asked: Vec<u32> = atoms
        .iter()
        .map(|a| tallies.asked.get(a).copied().unwrap_or(0))
        .collect();
    let shown: BTreeSet<Group> = super::guard::release(
        &asked,
        &[],
        &candidates
            .iter()
            .map(|(group, members)| super::guard::Candidate {
                key: *group,
                atoms: members.iter().filter_map(|m| index.get(m).copied()).collect(),
            })
            .collect::<Vec<_>>(),
        minimum,
    )
    .into_iter()
    .collect();
    candidates
        .into_iter()
        .filter(|(group, _)| may_see(identity, *group))
        .map(|(group, members)| {
            let asked = sum(&tallies.asked, &members);
            let progress = if shown.contains(&group) {
                Some(Answered::banded(sum(&tallies.answered, &members), minimum))
            } else if asked < minimum {
                // Fewer asked than the minimum: "fewer than N answered" holds whatever happens.
                Some(Answered::FewerThan(minimum))
            } else {
                None
            };
            GroupResult {
                group,
                name: tree.name(group),
                depth: tree.depth(group),
                asked: (shown.contains(&group) && asked >= minimum).then_some(asked),
                respondents: None,
                progress,
                questions: Vec::new(),
            }
        })
        .collect()
}

/// The minimum and department tree an open round's participation is shown on: as they were when
/// it opened (today's for a round opened before they were kept).
async fn open_view(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    round: &rounds::Model,
) -> Result<(u32, Tree)> {
    let minimum = match round.opened_minimum {
        Some(minimum) => u32::try_from(minimum).unwrap_or(u32::MAX),
        None => super::minimum_group_sizes(tenant, conn).await?.0,
    };
    let frozen: Option<Vec<FrozenDepartment>> = round
        .opened_tree
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok());
    let tree = match frozen {
        Some(departments) => thaw_tree(&departments),
        None => Tree::new(&tenant.select::<departments::Entity>().all(conn).await?),
    };
    Ok((minimum, tree))
}

/// A round's figures as the scope's person may see them, from one load: the whole
/// workplace with workplace-wide `results`, otherwise the departments granted to them (and
/// below). While the round is open: participation only. Once it has closed: what it released
/// then, frozen.
pub async fn round_report(tenant: &TenantDb, round: RoundId) -> Result<RoundReport> {
    let identity = tenant.person()?;
    tenant.touch(crate::platform::audit::EntityType::Round, [round]);
    tenant.require(Action::ListResults, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let round_row = super::rounds::find(tenant, &txn, round).await?;
    let title = survey_title(tenant, &txn, round_row.survey_id).await?;
    let questions = super::questions_in(tenant, &txn, round_row.survey_id).await?;
    let platform = super::benchmarks::for_workplace(tenant, &txn).await?;
    let benchmarks = questions
        .iter()
        .filter_map(|q| Some((q.id, platform.get(q.library_key.as_deref()?)?.clone())))
        .collect();
    let Some(closed_at) = round_row.closed_at else {
        // Open: who has answered, in steps; no figure and no comment exists yet.
        let (minimum, tree) = open_view(tenant, &txn, &round_row).await?;
        let tallies = tallies_from(&[round], count_participants(tenant, &txn, &[round]).await?)
            .remove(&round)
            .unwrap_or_default();
        txn.commit().await?;
        return Ok(RoundReport {
            results: RoundResults {
                round: Round::from(round_row),
                title,
                minimum,
                released_at: None,
                groups: participation_groups(identity, &tree, &tallies, minimum),
                tenure: Vec::new(),
            },
            benchmarks,
        });
    };
    txn.commit().await?;
    let frozen = super::release::of_rounds(tenant, &[(round, Some(closed_at))])
        .await?
        .remove(&round)
        .ok_or_else(|| Error::Internal(format!("round {round} has no release")))?;
    Ok(RoundReport {
        results: RoundResults {
            round: Round::from(round_row),
            title,
            minimum: frozen.minimum,
            released_at: Some(frozen.released_at),
            groups: visible_groups(identity, &frozen, &questions),
            tenure: visible_tenure(identity, &frozen, &questions),
        },
        benchmarks,
    })
}

async fn survey_title(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    survey: super::SurveyId,
) -> Result<String> {
    Ok(tenant
        .select::<surveys::Entity>()
        .filter(surveys::Column::Id.eq(survey))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?
        .title)
}

/// A round's figures as the scope's person may see them.
pub async fn round_results(tenant: &TenantDb, round: RoundId) -> Result<RoundResults> {
    Ok(round_report(tenant, round).await?.results)
}

/// One group's headline figure per question across rounds; None where that round showed "not
/// enough responses" (or the group was not asked).
#[derive(Clone, Debug, PartialEq)]
pub struct TrendSeries {
    pub group: Group,
    pub name: String,
    pub depth: usize,
    /// Per question (in [`Trend::questions`] order), per round (in [`Trend::rounds`] order).
    pub points: Vec<Vec<Option<f64>>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Trend {
    /// Round numbers, oldest first, ending with the round asked about.
    pub rounds: Vec<i32>,
    /// The questions with a figure (scale, eNPS), in survey order.
    pub questions: Vec<(QuestionId, String, QuestionKind)>,
    pub groups: Vec<TrendSeries>,
}

/// The survey's last [`TREND_ROUNDS`] rounds up to `round`, per group the scope's person may see: each
/// closed round's figures exactly as it released them; a round still open has no point.
pub async fn trend(tenant: &TenantDb, round: RoundId) -> Result<Trend> {
    let identity = tenant.person()?;
    tenant.touch(crate::platform::audit::EntityType::Round, [round]);
    tenant.require(Action::ListResults, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let round_row = super::rounds::find(tenant, &txn, round).await?;
    let mut earlier = tenant
        .select::<rounds::Entity>()
        .filter(rounds::Column::SurveyId.eq(round_row.survey_id))
        .filter(rounds::Column::Number.lte(round_row.number))
        .order_by_desc(rounds::Column::Number)
        .limit(TREND_ROUNDS as u64)
        .all(&txn)
        .await?;
    earlier.reverse();
    let questions = super::questions_in(tenant, &txn, round_row.survey_id).await?;
    txn.commit().await?;
    let ids: Vec<(RoundId, Option<DateTime<Utc>>)> = earlier.iter().map(|r| (r.id, r.closed_at)).collect();
    let releases = super::release::of_rounds(tenant, &ids).await?;

    let charted: Vec<&Question> = questions
        .iter()
        .filter(|q| matches!(q.kind, QuestionKind::Scale { .. } | QuestionKind::Enps))
        .collect();
    let per_round: Vec<Vec<GroupResult>> = ids
        .iter()
        .map(|(id, _)| {
            releases
                .get(id)
                .map(|frozen| visible_groups(identity, frozen, &questions))
                .unwrap_or_default()
        })
        .collect();
    // Every group seen in any of the rounds, in the order of the newest round that has it.
    let mut order: Vec<(Group, String, usize)> = Vec::new();
    for groups in per_round.iter().rev() {
        for g in groups {
            if !order.iter().any(|(seen, _, _)| *seen == g.group) {
                order.push((g.group, g.name.clone(), g.depth));
            }
        }
    }
    let groups = order
        .into_iter()
        .map(|(group, name, depth)| TrendSeries {
            group,
            name,
            depth,
            points: charted
                .iter()
                .map(|question| {
                    per_round
                        .iter()
                        .map(|groups| {
                            groups
                                .iter()
                                .find(|g| g.group == group)
                                .and_then(|g| g.questions.iter().find(|q| q.question == question.id))
                                .and_then(QuestionResult::headline)
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    Ok(Trend {
        rounds: earlier.iter().map(|r| r.number).collect(),
        questions: charted
            .iter()
            .map(|q| (q.id, q.prompt.clone(), q.kind.clone()))
            .collect(),
        groups,
    })
}

/// A spreadsheet cell that cannot start a formula (team names and questions are typed by people).
fn safe_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The figures of a round as the scope's person sees them on its page, as CSV: one row per team and
/// question (a team with too few answers gets one row saying so). Comments are not exported.
/// The export is recorded as a security event.
pub async fn export_csv(tenant: &TenantDb, round: RoundId, now: DateTime<Utc>) -> Result<String> {
    let identity = tenant.person()?;
    tenant.touch(crate::platform::audit::EntityType::Round, [round]);
    let results = round_results(tenant, round).await?;
    if results.released_at.is_none() {
        return Err(Error::Conflict(
            "Results can be exported once the round has closed.".into(),
        ));
    }
    let values: Vec<i32> = (0..=10).collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "team", "level", "answered", "asked", "question", "type", "mean", "enps", "note",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(values.iter().map(|v| format!("answers_{v}")));
    let csv_error = |err: csv::Error| Error::Internal(format!("results export: {err}"));
    out.write_record(&header).map_err(csv_error)?;
    // Teams by their level in the tree, then each team's tenure bands.
    let rows = results
        .groups
        .iter()
        .map(|g| (g, safe_cell(&g.name), g.depth.to_string()))
        .chain(results.tenure.iter().flat_map(|team| {
            team.bands.iter().map(|band| {
                (
                    band,
                    safe_cell(&format!("{}, {}", team.team, band.name)),
                    "tenure".to_owned(),
                )
            })
        }));
    for (group, team, level) in rows {
        let (Some(respondents), Some(asked)) = (group.respondents, group.asked) else {
            let mut row = vec![
                team,
                level,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ];
            row.extend([String::new(), String::new(), "not enough responses".to_owned()]);
            row.extend(values.iter().map(|_| String::new()));
            out.write_record(&row).map_err(csv_error)?;
            continue;
        };
        for question in &group.questions {
            let mut row = vec![
                team.clone(),
                level.clone(),
                respondents.to_string(),
                asked.to_string(),
                safe_cell(&question.prompt),
                question.kind.key().to_owned(),
                question.mean.map(|m| format!("{m:.2}")).unwrap_or_default(),
                question.enps.map(|e| e.to_string()).unwrap_or_default(),
                String::new(),
            ];
            row.extend(values.iter().map(|v| {
                question
                    .distribution
                    .iter()
                    .find(|(value, _)| value == v)
                    .map(|(_, n)| n.to_string())
                    .unwrap_or_default()
            }));
            out.write_record(&row).map_err(csv_error)?;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|err| Error::Internal(format!("results export: {err}")))?;
    let text = String::from_utf8(bytes).map_err(|err| Error::Internal(format!("results export: {err}")))?;
    let txn = tenant.begin().await?;
    crate::platform::security_events::store_and_log(
        &txn,
        &SecurityEvent::new(EventKind::ResultsExported, now)
            .in_workplace(tenant.workplace_id())
            .by(identity.user_id)
            .about("rounds", Some(round)),
    )
    .await?;
    txn.commit().await?;
    Ok(text)
}

/// A round someone may look at the results of, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundListing {
    pub round: Round,
    pub title: String,
    /// (asked, answered) for the whole workplace; None for people limited to some departments.
    /// While the round is open, answered moves in steps of the minimum group size.
    pub counts: Option<(u32, Answered)>,
}

/// Every round of every survey, for people with `results` (what they see inside each round
/// still depends on their reach).
pub async fn rounds_with_results(tenant: &TenantDb) -> Result<Vec<RoundListing>> {
    let identity = tenant.person()?;
    tenant.require(Action::ListResults, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let titles = super::titles(tenant, &txn).await?;
    let rows = tenant
        .select::<rounds::Entity>()
        .order_by_desc(rounds::Column::OpensAt)
        .all(&txn)
        .await?;
    // Whole-workplace participation, shown to those who see the whole workplace; people limited
    // to some departments see participation inside each round. It is what the round's own page
    // shows, never a separate figure: released (closed) or guarded bands (open).
    let whole_workplace = allows(identity, Action::ViewResults, Resource::Workplace);
    let mut open_counts: BTreeMap<RoundId, (u32, Answered)> = BTreeMap::new();
    if whole_workplace {
        let open: Vec<RoundId> = rows
            .iter()
            .filter(|r| r.closed_at.is_none())
            .map(|r| r.id)
            .collect();
        if !open.is_empty() {
            let tallies = tallies_from(&open, count_participants(tenant, &txn, &open).await?);
            for (round, tallies) in tallies {
                let Some(row) = rows.iter().find(|r| r.id == round) else {
                    continue;
                };
                let (minimum, tree) = open_view(tenant, &txn, row).await?;
                let workplace = participation_groups(identity, &tree, &tallies, minimum)
                    .into_iter()
                    .find(|g| g.group == Group::Workplace);
                // As the round's page shows it: no count where the workplace's is withheld, and
                // none when fewer were asked than the minimum.
                if let Some(GroupResult {
                    progress: Some(progress),
                    asked: Some(asked),
                    ..
                }) = workplace
                {
                    open_counts.insert(round, (asked, progress));
                }
            }
        }
    }
    txn.commit().await?;
    let releases = if whole_workplace {
        let closed: Vec<(RoundId, Option<DateTime<Utc>>)> = rows
            .iter()
            .filter(|r| r.closed_at.is_some())
            .map(|r| (r.id, r.closed_at))
            .collect();
        super::release::of_rounds(tenant, &closed).await?
    } else {
        BTreeMap::new()
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let counts = match releases.get(&row.id) {
                Some(frozen) => frozen
                    .release
                    .groups
                    .iter()
                    .find(|g| g.department.is_none())
                    .and_then(|g| g.figures.as_ref())
                    .map(|f| (f.asked, Answered::Exactly(f.respondents))),
                None => open_counts.get(&row.id).copied(),
            };
            RoundListing {
                title: titles.get(&row.survey_id).cloned().unwrap_or_default(),
                round: Round::from(row),
                counts,
            }
        })
        .collect())
}
