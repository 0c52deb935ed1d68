//! A round's results are released once, when it closes, and frozen: the department tree as it
//! was then (names, parents, who answered from where), the minimum group sizes then in force,
//! and every released group with its figures are stored with the round and never computed
//! again. A department moved, renamed or archived later, or a minimum changed later, applies
//! to rounds that close afterwards; nothing already released can be re-sliced into a new view.
//!
//! What is released is chosen by the release guard ([`super::guard`]) over the round's atoms
//! (the respondents of each department, and of no department). The stored release is also the
//! round's ledger: each released group names the atoms it sums, so any later cut of the same
//! answers can be checked together with it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::{
    answering::NOT_KEPT,
    guard::{self, Candidate},
    rounds::RoundId,
    suppression::Group,
    tallies::{load_tallies, Tallies},
    tenure::TenureBands,
    tree::{freeze_tree, thaw_tree, FrozenDepartment, Tree},
};
use crate::{
    platform::{
        entities::{
            answers, comment_replies, comments, departments, round_participants, round_releases,
            round_tallies, users,
        },
        ids::DepartmentId,
        tenant::TenantDb,
    },
    Error, Result,
};

/// The layout of [`Release`] as stored.
const FORMAT: u32 = 1;

/// A released group's figures: participation and answers per (question, value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Figures {
    pub asked: u32,
    pub respondents: u32,
    pub counts: Vec<(uuid::Uuid, i32, u32)>,
}

/// One group of the round as released: with figures, or "not enough responses".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReleasedGroup {
    /// None: the whole workplace.
    pub department: Option<uuid::Uuid>,
    pub name: String,
    pub depth: usize,
    /// The atoms (departments; None: people without one) this group sums: the ledger.
    pub atoms: Vec<Option<uuid::Uuid>>,
    pub figures: Option<Figures>,
}

impl ReleasedGroup {
    pub fn group(&self) -> Group {
        self.department.map_or(Group::Workplace, |d| {
            Group::Department(DepartmentId::from_uuid(d))
        })
    }
}

/// One tenure band of the whole workplace, or of one team, as released: with figures, or
/// "not enough responses".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReleasedTenure {
    /// None: the whole workplace; else the team (a department and everything under it).
    #[serde(default)]
    pub department: Option<uuid::Uuid>,
    pub label: String,
    pub figures: Option<Figures>,
}

/// Who was asked and who answered, and their answers, per atom: a department (None: people
/// without one) and a tenure band (None: no start date recorded, or a round counted before
/// tenure was).
#[derive(Clone, Debug, Default)]
pub(crate) struct AtomCounts {
    pub asked: BTreeMap<Atom, u32>,
    pub answered: BTreeMap<Atom, u32>,
    pub values: BTreeMap<Atom, BTreeMap<(uuid::Uuid, i32), u32>>,
}

pub(crate) type Atom = (Option<DepartmentId>, Option<usize>);

impl AtomCounts {
    /// Counts by department only (rounds closed before tenure was counted).
    pub(crate) fn by_department(tallies: &Tallies) -> Self {
        let key = |d: &Option<DepartmentId>| (*d, None);
        Self {
            asked: tallies.asked.iter().map(|(d, n)| (key(d), *n)).collect(),
            answered: tallies.answered.iter().map(|(d, n)| (key(d), *n)).collect(),
            values: tallies.values.iter().map(|(d, v)| (key(d), v.clone())).collect(),
        }
    }
}

/// What a release may cut by: the department tree, and the tenure bands (None: not at all).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Cut {
    Team(Group),
    /// A tenure band (None: no start date) of a team, or of the whole workplace.
    Tenure(Group, Option<usize>),
}

/// Everything a round released, as stored with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Release {
    pub format: u32,
    pub departments: Vec<FrozenDepartment>,
    /// Tree order, the whole workplace first.
    pub groups: Vec<ReleasedGroup>,
    /// Groups comments may be listed under (those reaching the comment minimum).
    pub comment_groups: Vec<Option<uuid::Uuid>>,
    /// The whole workplace, then each team, by time here, in the bands in force at close
    /// (empty for rounds released before tenure was counted).
    #[serde(default)]
    pub tenure: Vec<ReleasedTenure>,
    /// Whether the round's answers may stay in the database, with no department: their sum
    /// over everyone must be safe next to what was released. Decided at close, not stored.
    #[serde(skip)]
    pub keeps_answers: bool,
}

/// A stored release with the minimum group size it was made under (the comment minimum is
/// stored too, for the record; readers need only the groups it let through).
#[derive(Clone, Debug)]
pub(crate) struct Frozen {
    pub release: Release,
    pub minimum: u32,
    pub released_at: DateTime<Utc>,
}

impl Frozen {
    /// The department tree as it was when the round closed.
    pub fn tree(&self) -> Tree {
        thaw_tree(&self.release.departments)
    }

    pub fn comment_groups(&self) -> BTreeSet<Group> {
        self.release
            .comment_groups
            .iter()
            .map(|d| {
                d.map_or(Group::Workplace, |d| {
                    Group::Department(DepartmentId::from_uuid(d))
                })
            })
            .collect()
    }
}

/// Decides and builds what a round releases from its counts, on `tree`, cut by team and, when
/// `tenure` is given, by tenure band: every cut goes through one guard over the same atoms, so
/// no team figure set against a tenure figure singles anyone out.
pub(crate) fn decide(
    tree: &Tree,
    counts: &AtomCounts,
    tenure: Option<&TenureBands>,
    minimum: u32,
    comment_minimum: u32,
) -> Release {
    // Atoms: every (department, band) the counts name, and every department of the tree.
    let mut atoms: Vec<Atom> = tree.ordered.iter().map(|d| (Some(*d), None)).collect();
    for key in counts.asked.keys().chain(counts.answered.keys()) {
        if !atoms.contains(key) {
            atoms.push(*key);
        }
    }
    let answered: Vec<u32> = atoms
        .iter()
        .map(|a| counts.answered.get(a).copied().unwrap_or(0))
        .collect();
    let asked: Vec<u32> = atoms
        .iter()
        .map(|a| counts.asked.get(a).copied().unwrap_or(0))
        .collect();
    let sum = |map: &BTreeMap<Atom, u32>, members: &[usize]| -> u32 {
        members.iter().filter_map(|i| map.get(&atoms[*i])).sum()
    };
    let indices = |keep: &dyn Fn(&Atom) -> bool| -> Vec<usize> {
        atoms
            .iter()
            .enumerate()
            .filter(|(_, a)| keep(a))
            .map(|(i, _)| i)
            .collect()
    };
    // Every cut the round asked someone in: the workplace, each department subtree, each band.
    let mut cuts: Vec<(Cut, Vec<usize>)> = Vec::new();
    cuts.push((Cut::Team(Group::Workplace), indices(&|_| true)));
    for department in &tree.ordered {
        let members = tree.members(*department);
        cuts.push((
            Cut::Team(Group::Department(*department)),
            indices(&|(d, _)| members.contains(d)),
        ));
    }
    if let Some(bands) = tenure {
        let all_bands = || (0..bands.len()).map(Some).chain([None]);
        for band in all_bands() {
            cuts.push((Cut::Tenure(Group::Workplace, band), indices(&|(_, b)| *b == band)));
        }
        for department in &tree.ordered {
            let members = tree.members(*department);
            for band in all_bands() {
                cuts.push((
                    Cut::Tenure(Group::Department(*department), band),
                    indices(&|(d, b)| *b == band && members.contains(d)),
                ));
            }
        }
    }
    cuts.retain(|(_, members)| sum(&counts.asked, members) > 0);
    let candidates: Vec<Candidate<Cut>> = cuts
        .iter()
        .map(|(cut, members)| Candidate {
            key: *cut,
            atoms: members.clone(),
        })
        .collect();
    // Figures state how many were asked as well as how many answered: both must hold.
    // Nor may they say that a few people, or a band or team of people, all stayed silent.
    let checked = [
        guard::Measure::plain(&asked, minimum),
        guard::Measure::respondents_or_silence(&answered, &asked, minimum),
    ];
    let shown: BTreeSet<Cut> = guard::release_checked(&answered, &checked, &[], &candidates, minimum)
        .into_iter()
        .collect();
    // Answers kept without department add one aggregate: everyone's. Keep them only if that,
    // next to what is shown, singles out no one.
    let shown_rows: Vec<Vec<usize>> = candidates
        .iter()
        .filter(|c| shown.contains(&c.key))
        .map(|c| c.atoms.clone())
        .chain([(0..atoms.len()).collect()])
        .collect();
    let keeps_answers = answered.iter().sum::<u32>() >= minimum.max(1)
        && !guard::isolates_a_few(&answered, &shown_rows, minimum);
    // Comments stand only under teams whose figures show too.
    let comment_candidates: Vec<Candidate<Cut>> = candidates
        .iter()
        .filter(|c| matches!(c.key, Cut::Team(_)) && shown.contains(&c.key))
        .cloned()
        .collect();
    let comment_groups = guard::release(&answered, &[], &comment_candidates, comment_minimum)
        .into_iter()
        .filter_map(|cut| match cut {
            Cut::Team(Group::Workplace) => Some(None),
            Cut::Team(Group::Department(d)) => Some(Some(d.uuid())),
            Cut::Tenure(..) => None,
        })
        .collect();
    let figures_of = |cut: &Cut, members: &[usize]| {
        shown.contains(cut).then(|| {
            let mut merged: BTreeMap<(uuid::Uuid, i32), u32> = BTreeMap::new();
            for i in members {
                for (key, n) in counts.values.get(&atoms[*i]).into_iter().flatten() {
                    *merged.entry(*key).or_default() += n;
                }
            }
            Figures {
                asked: sum(&counts.asked, members),
                respondents: sum(&counts.answered, members),
                counts: merged.into_iter().map(|((q, v), n)| (q, v, n)).collect(),
            }
        })
    };
    let mut groups = Vec::new();
    let mut tenure_released = Vec::new();
    for (cut, members) in &cuts {
        match cut {
            Cut::Team(group) => {
                let departments: BTreeSet<Option<uuid::Uuid>> = members
                    .iter()
                    .map(|i| atoms[*i].0.map(DepartmentId::uuid))
                    .collect();
                groups.push(ReleasedGroup {
                    department: match group {
                        Group::Workplace => None,
                        Group::Department(d) => Some(d.uuid()),
                    },
                    name: tree.name(*group),
                    depth: tree.depth(*group),
                    atoms: departments.into_iter().collect(),
                    figures: figures_of(cut, members),
                });
            }
            Cut::Tenure(group, band) => tenure_released.push(ReleasedTenure {
                department: match group {
                    Group::Workplace => None,
                    Group::Department(d) => Some(d.uuid()),
                },
                label: tenure.map(|b| b.label(*band)).unwrap_or_default(),
                figures: figures_of(cut, members),
            }),
        }
    }
    Release {
        format: FORMAT,
        departments: freeze_tree(tree),
        groups,
        comment_groups,
        tenure: tenure_released,
        keeps_answers,
    }
}

/// Releases `round`, which `txn` has just closed (or which closed before releases were kept),
/// once: its ballots are opened and counted with its participants, the guard decides what is
/// shown on today's tree and minimums, the release is frozen with the round, and only what it
/// allows is kept — answers without department or tenure, comments under the group they are
/// listed under. A round that already has a release keeps it.
pub(crate) async fn close(
    tenant: &TenantDb,
    txn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
    now: DateTime<Utc>,
) -> Result<()> {
    if stored(tenant, txn, round).await?.is_some() {
        return Ok(());
    }
    let (minimum, comment_minimum) = super::minimum_group_sizes(tenant, txn).await?;
    let tree = Tree::new(&tenant.select::<departments::Entity>().all(txn).await?);
    let ballots = super::answering::open_ballots(tenant, txn, round).await?;
    // Participants counted now, with any answers or counts stored before ballots existed.
    let tallies = load_tallies(tenant, txn, &[round])
        .await?
        .remove(&round)
        .unwrap_or_default();
    // Someone answered without a ballot (before ballots existed, or a round that was open when
    // Candor was upgraded): count by team only, the answers stored then together with the
    // ballots, so the figures and the number who answered cover the same people.
    let answered_without_ballot = tallies.answered.values().sum::<u32>() as usize > ballots.len();
    let release = if answered_without_ballot {
        let mut counts = AtomCounts::by_department(&tallies);
        for ballot in &ballots {
            let values = counts
                .values
                .entry((ballot.department.map(DepartmentId::from_uuid), None))
                .or_default();
            for (question, value) in &ballot.values {
                *values.entry((*question, *value)).or_default() += 1;
            }
        }
        decide(&tree, &counts, None, minimum, comment_minimum)
    } else {
        let bands = super::tenure::bands_in(tenant, txn).await?;
        let counts = atom_counts(tenant, txn, round, &bands, &ballots).await?;
        decide(&tree, &counts, Some(&bands), minimum, comment_minimum)
    };
    let answers_kept = release.keeps_answers;
    let homes = comment_homes(&tree, &release);
    let listed_under = |department: Option<uuid::Uuid>| homes.listed_under(department);
    scrub_stored_rows(tenant, txn, round, answers_kept, &listed_under).await?;
    super::answering::store_ballots(
        tenant,
        txn,
        round,
        ballots,
        super::answering::Keep {
            answers: answers_kept,
            comment_group: &listed_under,
        },
    )
    .await?;
    let text = serde_json::to_string(&release).map_err(|err| Error::Internal(format!("release: {err}")))?;
    round_releases::ActiveModel {
        round_id: Set(round),
        workplace_id: Set(tenant.workplace_id().uuid()),
        released_at: Set(now),
        minimum: Set(i32::try_from(minimum).unwrap_or(i32::MAX)),
        comment_minimum: Set(i32::try_from(comment_minimum).unwrap_or(i32::MAX)),
        release: Set(text),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Who was asked in `round` by department (as asked) and tenure band (whole years when the round
/// opened), and what its ballots hold by the same atoms.
async fn atom_counts(
    tenant: &TenantDb,
    txn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
    bands: &TenureBands,
    ballots: &[super::answering::Ballot],
) -> Result<AtomCounts> {
    use sea_orm::QuerySelect;
    let opened = super::rounds::find(tenant, txn, round)
        .await?
        .opens_at
        .date_naive();
    let asked: Vec<(uuid::Uuid, Option<uuid::Uuid>)> = tenant
        .select::<round_participants::Entity>()
        .select_only()
        .column(round_participants::Column::UserId)
        .column(round_participants::Column::DepartmentId)
        .filter(round_participants::Column::RoundId.eq(round))
        .into_tuple()
        .all(txn)
        .await?;
    let mut start_dates: BTreeMap<uuid::Uuid, Option<chrono::NaiveDate>> = BTreeMap::new();
    for chunk in asked.chunks(500) {
        let rows: Vec<(uuid::Uuid, Option<chrono::NaiveDate>)> = tenant
            .select::<users::Entity>()
            .select_only()
            .column(users::Column::Id)
            .column(users::Column::StartDate)
            .filter(users::Column::Id.is_in(chunk.iter().map(|(user, _)| *user)))
            .into_tuple()
            .all(txn)
            .await?;
        start_dates.extend(rows);
    }
    let mut counts = AtomCounts::default();
    for (user, department) in &asked {
        let years = super::tenure::whole_years(start_dates.get(user).copied().flatten(), opened);
        let atom = (department.map(DepartmentId::from_uuid), bands.band_of(years));
        *counts.asked.entry(atom).or_default() += 1;
    }
    for ballot in ballots {
        let atom = (
            ballot.department.map(DepartmentId::from_uuid),
            bands.band_of(ballot.tenure_years),
        );
        *counts.answered.entry(atom).or_default() += 1;
        let values = counts.values.entry(atom).or_default();
        for (question, value) in &ballot.values {
            *values.entry((*question, *value)).or_default() += 1;
        }
    }
    Ok(counts)
}

/// Where each department's comments are listed: under the deepest group at or above it that
/// reached the comment minimum, else under the whole workplace if it did, else nowhere.
struct CommentHomes {
    deepest: BTreeMap<uuid::Uuid, uuid::Uuid>,
    workplace: bool,
}

impl CommentHomes {
    /// Some(group) (None: the whole workplace), or None: not listed anywhere.
    fn listed_under(&self, department: Option<uuid::Uuid>) -> Option<Option<uuid::Uuid>> {
        match department.and_then(|d| self.deepest.get(&d)) {
            Some(group) => Some(Some(*group)),
            None if self.workplace => Some(None),
            None => None,
        }
    }
}

fn comment_homes(tree: &Tree, release: &Release) -> CommentHomes {
    let listed: BTreeSet<Option<uuid::Uuid>> = release.comment_groups.iter().copied().collect();
    let mut deepest = BTreeMap::new();
    // Tree order visits parents first, so deeper groups overwrite their ancestors.
    for department in &tree.ordered {
        if listed.contains(&Some(department.uuid())) {
            for member in tree.members(*department).into_iter().flatten() {
                deepest.insert(member.uuid(), department.uuid());
            }
        }
    }
    CommentHomes {
        deepest,
        workplace: listed.contains(&None),
    }
}

/// Brings rows stored before a round's release down to what it released: a round closed by an
/// earlier version kept answers and comments by department and tenure, and counts per
/// department; anyone reading the database could have recomputed what the guard withholds.
async fn scrub_stored_rows(
    tenant: &TenantDb,
    txn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
    answers_kept: bool,
    listed_under: &(dyn Fn(Option<uuid::Uuid>) -> Option<Option<uuid::Uuid>> + Sync),
) -> Result<()> {
    use sea_orm::sea_query::Expr;
    let workplace = tenant.workplace_id().uuid();
    if answers_kept {
        tenant
            .update_many::<answers::Entity>()
            .col_expr(answers::Column::DepartmentId, Expr::value(None::<uuid::Uuid>))
            .col_expr(answers::Column::TenureBand, Expr::value(NOT_KEPT))
            .filter(answers::Column::WorkplaceId.eq(workplace))
            .filter(answers::Column::RoundId.eq(round))
            .exec(txn)
            .await?;
    } else {
        tenant
            .delete_many::<answers::Entity>()
            .filter(answers::Column::WorkplaceId.eq(workplace))
            .filter(answers::Column::RoundId.eq(round))
            .exec(txn)
            .await?;
    }
    let stored_comments = tenant
        .select::<comments::Entity>()
        .filter(comments::Column::RoundId.eq(round))
        .all(txn)
        .await?;
    for comment in stored_comments {
        match listed_under(comment.department_id) {
            Some(group) => {
                tenant
                    .update_many::<comments::Entity>()
                    .col_expr(comments::Column::DepartmentId, Expr::value(group))
                    .col_expr(comments::Column::TenureBand, Expr::value(NOT_KEPT))
                    .filter(comments::Column::WorkplaceId.eq(workplace))
                    .filter(comments::Column::Id.eq(comment.id))
                    .exec(txn)
                    .await?;
            }
            None => {
                tenant
                    .delete_many::<comment_replies::Entity>()
                    .filter(comment_replies::Column::WorkplaceId.eq(workplace))
                    .filter(comment_replies::Column::CommentId.eq(comment.id))
                    .exec(txn)
                    .await?;
                tenant
                    .delete_many::<comments::Entity>()
                    .filter(comments::Column::WorkplaceId.eq(workplace))
                    .filter(comments::Column::Id.eq(comment.id))
                    .exec(txn)
                    .await?;
            }
        }
    }
    tenant
        .delete_many::<round_tallies::Entity>()
        .filter(round_tallies::Column::WorkplaceId.eq(workplace))
        .filter(round_tallies::Column::RoundId.eq(round))
        .exec(txn)
        .await?;
    Ok(())
}

/// The stored release of `round`, if it has one.
pub(crate) async fn stored(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
) -> Result<Option<Frozen>> {
    let Some(row) = tenant
        .select::<round_releases::Entity>()
        .filter(round_releases::Column::RoundId.eq(round))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let release: Release = serde_json::from_str(&row.release)
        .map_err(|err| Error::Internal(format!("release of round {round}: {err}")))?;
    Ok(Some(Frozen {
        release,
        minimum: u32::try_from(row.minimum).unwrap_or(u32::MAX),
        released_at: row.released_at,
    }))
}

/// The releases of closed `rounds` (each with when it closed; None: still open), freezing
/// once any that closed before releases were kept, as of its closing.
pub(crate) async fn of_rounds(
    tenant: &TenantDb,
    rounds: &[(RoundId, Option<DateTime<Utc>>)],
) -> Result<BTreeMap<RoundId, Frozen>> {
    let mut out = BTreeMap::new();
    let txn = tenant.begin_read().await?;
    let mut missing = Vec::new();
    for (round, closed_at) in rounds {
        let Some(closed_at) = closed_at else {
            continue;
        };
        match stored(tenant, &txn, *round).await? {
            Some(frozen) => {
                out.insert(*round, frozen);
            }
            None => missing.push((*round, *closed_at)),
        }
    }
    txn.commit().await?;
    for (round, closed_at) in missing {
        let txn = tenant.begin().await?;
        let released = close(tenant, &*txn, round, closed_at).await;
        let frozen = match released {
            Ok(()) => {
                let frozen = stored(tenant, &*txn, round).await?;
                txn.commit().await?;
                frozen
            }
            Err(err) => {
                // Another request released it at the same moment (its release row won): this
                // one rolls back and reads that release.
                txn.rollback().await?;
                let txn = tenant.begin_read().await?;
                let frozen = stored(tenant, &txn, round).await?;
                txn.commit().await?;
                if frozen.is_none() {
                    return Err(err);
                }
                frozen
            }
        };
        if let Some(frozen) = frozen {
            out.insert(round, frozen);
        }
    }
    Ok(out)
}

/// Releases, each in its own transaction, every closed round that has no release yet (rounds
/// that closed before releases were kept): run at start, right after the schema is brought up
/// to date, so none waits to be frozen on whatever the tree is when someone first opens it.
/// Returns how many were released.
pub async fn release_pending(db: &crate::Database, now: DateTime<Utc>) -> Result<u64> {
    use crate::platform::entities::rounds;
    use sea_orm::{sea_query::Query, EntityTrait, QuerySelect};
    // A system task across workplaces: which rounds lack a release is read outside any one, in
    // one query (at every start, so it must stay cheap once every round has its release).
    let pending: Vec<(RoundId, uuid::Uuid, Option<DateTime<Utc>>)> = rounds::Entity::find()
        .select_only()
        .column(rounds::Column::Id)
        .column(rounds::Column::WorkplaceId)
        .column(rounds::Column::ClosedAt)
        .filter(rounds::Column::ClosedAt.is_not_null())
        .filter(
            rounds::Column::Id.not_in_subquery(
                Query::select()
                    .column(round_releases::Column::RoundId)
                    .from(round_releases::Entity)
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db.connection())
        .await?;
    let mut count = 0;
    for (round, workplace, closed_at) in pending {
        let tenant = TenantDb::for_system(
            db,
            crate::platform::ids::WorkplaceId::from_uuid(workplace),
            "release closed survey rounds",
        );
        let released = async {
            let txn = tenant.begin().await?;
            close(&tenant, &*txn, round, closed_at.unwrap_or(now)).await?;
            txn.commit().await
        };
        // One round that cannot be released must not keep Candor from starting: it is
        // released when first read instead.
        match released.await {
            Ok(()) => count += 1,
            Err(err) => tracing::error!(%round, error = %err, "a closed survey round could not be released"),
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(n: u128) -> DepartmentId {
        DepartmentId::from_uuid(uuid::Uuid::from_u128(n))
    }

    fn tree(parts: &[(u128, &str, Option<u128>)]) -> Tree {
        Tree::from_parts(
            parts
                .iter()
                .map(|(id, name, parent)| (dept(*id), (*name).to_owned(), parent.map(dept))),
        )
    }

    fn tallies(answered: &[(Option<u128>, u32)]) -> Tallies {
        let mut t = Tallies::default();
        for (d, n) in answered {
            t.asked.insert(d.map(dept), *n);
            t.answered.insert(d.map(dept), *n);
        }
        t
    }

    fn shown(release: &Release) -> Vec<String> {
        release
            .groups
            .iter()
            .filter(|g| g.figures.is_some())
            .map(|g| g.name.clone())
            .collect()
    }

    /// Sales: five people under a year and one of five years or more; Ops: five under a year.
    /// The workplace (11) and "under 1 year" (10) would differ by Sales' one long-serving
    /// person: the guard hides one of them, and whatever shows passes it.
    #[test]
    fn tenure_cuts_go_through_the_guard_with_the_teams() {
        let tree = tree(&[(1, "Sales", None), (2, "Ops", None)]);
        let mut counts = AtomCounts::default();
        for (atom, n) in [
            ((Some(dept(1)), Some(0)), 5),
            ((Some(dept(1)), Some(3)), 1),
            ((Some(dept(2)), Some(0)), 5),
        ] {
            counts.asked.insert(atom, n);
            counts.answered.insert(atom, n);
        }
        let release = decide(&tree, &counts, Some(&TenureBands::default()), 5, 5);
        let workplace = release.groups.iter().find(|g| g.department.is_none()).unwrap();
        let under_a_year = release.tenure.iter().find(|t| t.label == "Under 1 year").unwrap();
        assert!(
            workplace.figures.is_none() || under_a_year.figures.is_none(),
            "both shown: their difference is one person"
        );
        assert!(release
            .tenure
            .iter()
            .all(|t| t.label != "5 years or more" || t.figures.is_none()));
        // Without the tenure cut, the workplace and both teams show.
        let by_team = decide(&tree, &counts, None, 5, 5);
        assert!(by_team.groups.iter().all(|g| g.figures.is_some()));
        assert!(by_team.tenure.is_empty());
    }

    #[test]
    fn the_minimum_case_of_the_issue_is_released_safely_at_either_minimum() {
        // Engineering = 1 direct + Platform 5, Sales 2, 2 people without a department.
        let tree = tree(&[
            (1, "Engineering", None),
            (2, "Platform", Some(1)),
            (3, "Sales", None),
        ]);
        let counts = tallies(&[(Some(1), 1), (Some(2), 5), (Some(3), 2), (None, 2)]);
        let counts = AtomCounts::by_department(&counts);
        let at_five = decide(&tree, &counts, None, 5, 5);
        let at_four = decide(&tree, &counts, None, 4, 4);
        // Each release alone is safe; the frozen one is the only one a round ever has.
        // Engineering would differ from the workplace by four people: it stays hidden.
        assert!(!shown(&at_five).contains(&"Engineering".to_owned()));
        assert_eq!(shown(&at_five)[0], "Whole workplace");
        assert!(!shown(&at_four).is_empty());
        assert_eq!(at_five.departments.len(), 3);
        assert_eq!(at_five.groups[0].atoms.len(), 4);
    }

    /// "5 of 10" for a team next to "5 of 5" for one of its bands would say that everyone in
    /// the other band (named by their start dates) stayed silent: not both.
    #[test]
    fn a_band_where_nobody_answered_is_not_given_away() {
        let tree = tree(&[(1, "Sales", None)]);
        let mut counts = AtomCounts::default();
        counts.asked.insert((Some(dept(1)), Some(0)), 5);
        counts.answered.insert((Some(dept(1)), Some(0)), 5);
        counts.asked.insert((Some(dept(1)), Some(3)), 5);
        let release = decide(&tree, &counts, Some(&TenureBands::default()), 5, 5);
        let sales = release.groups.iter().find(|g| g.department.is_some()).unwrap();
        let sales_new = release
            .tenure
            .iter()
            .find(|t| t.department.is_some() && t.label == "Under 1 year")
            .unwrap();
        assert!(sales.figures.is_some(), "the team itself may show");
        assert!(
            sales_new.figures.is_none(),
            "its band would give the silent five away"
        );
    }

    /// Not a test: how long `decide` takes on bigger trees, by team only and by team and
    /// tenure (printed, nothing asserted).
    /// `cargo test --release -p domain --lib release::tests::decide_speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn decide_speed() {
        for (divisions, teams, people) in [
            (10u128, 5u128, 10_000u32),
            (10, 10, 1_000),
            (20, 10, 10_000),
            (40, 10, 4_000),
        ] {
            let mut parts = Vec::new();
            let mut leaves = Vec::new();
            for d in 0..divisions {
                let division = 1000 + d;
                parts.push((division, format!("Division {d}"), None));
                for t in 0..teams {
                    let team = 100_000 + d * 1000 + t;
                    parts.push((team, format!("Team {d}.{t}"), Some(division)));
                    leaves.push(team);
                }
            }
            let tree = Tree::from_parts(
                parts
                    .iter()
                    .map(|(id, name, parent)| (dept(*id), name.clone(), parent.map(dept))),
            );
            let mut counts = AtomCounts::default();
            for person in 0..people {
                // Uneven team sizes and tenure mixes, without a random source.
                let leaf = leaves[(person as usize * 7 + person as usize / 13) % leaves.len()];
                let band = match person % 11 {
                    0 => None,
                    n => Some(n as usize % 4),
                };
                let atom = (Some(dept(leaf)), band);
                *counts.asked.entry(atom).or_default() += 1;
                if person % 3 != 0 {
                    *counts.answered.entry(atom).or_default() += 1;
                }
            }
            let by_department = |map: &BTreeMap<Atom, u32>| {
                map.iter()
                    .fold(BTreeMap::new(), |mut out: BTreeMap<Atom, u32>, ((d, _), n)| {
                        *out.entry((*d, None)).or_default() += n;
                        out
                    })
            };
            let by_team = AtomCounts {
                asked: by_department(&counts.asked),
                answered: by_department(&counts.answered),
                values: BTreeMap::new(),
            };
            let started = std::time::Instant::now();
            let release = decide(&tree, &by_team, None, 5, 5);
            println!(
                "{} departments by team only: {:?}, {} of {} shown",
                parts.len(),
                started.elapsed(),
                release.groups.iter().filter(|g| g.figures.is_some()).count(),
                release.groups.len()
            );
            let started = std::time::Instant::now();
            let release = decide(&tree, &counts, Some(&TenureBands::default()), 5, 5);
            println!(
                "{} departments, {people} people, by team and tenure: {:?}, {} of {} tenure cells shown",
                parts.len(),
                started.elapsed(),
                release.tenure.iter().filter(|t| t.figures.is_some()).count(),
                release.tenure.len()
            );
        }
    }
}
