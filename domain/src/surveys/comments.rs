//! The comments of a released round, as its readers page through them: each comment under the
//! smallest group the reader may see that reached the comment minimum when the round closed,
//! filtered by question and team in the database, a page at a time. Only the page's comments
//! are opened, so a round with ten thousand comments costs a reader what one page costs.
//!
//! Comments are listed by their id, which is random and given when the round closed: the order
//! says nothing about who wrote first or last.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, Condition, QueryFilter, QueryOrder, QuerySelect};

use super::{release::Frozen, results::may_see, rounds::RoundId, suppression::Group, tree::Tree, QuestionId};
use crate::{
    platform::{
        entities::comments,
        ids::DepartmentId,
        policy::{Action, Identity, Resource},
        tenant::TenantDb,
    },
    Error, Result,
};

/// How many comments one page holds: with the longest comments allowed, a page stays well
/// under 100 KB.
pub const PER_PAGE: u64 = 20;

/// A comment as a results page lists it: the question, the team it is shown under (the
/// smallest group the reader may see that is large enough), and the words — nothing about who.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentView {
    pub id: uuid::Uuid,
    pub question: String,
    pub team: String,
    pub text: String,
    /// Whether the author can receive a reply (comments from before replies existed cannot).
    pub can_reply: bool,
    /// The anonymous conversation so far, oldest first.
    pub replies: Vec<super::conversations::Message>,
}

/// Which comments to list: all, or one question's, one team's; and which page (from 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommentQuery {
    pub question: Option<QuestionId>,
    pub team: Option<Group>,
    pub page: u64,
}

/// A choice of the question or team filter, with how many readable comments it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterChoice<K> {
    pub key: K,
    pub label: String,
    pub comments: u64,
}

/// One page of a round's comments for its reader.
#[derive(Clone, Debug, PartialEq)]
pub struct CommentPage {
    /// The questions with comments the reader may read, in the survey's order.
    pub questions: Vec<FilterChoice<QuestionId>>,
    /// The teams comments are listed under for this reader, the workplace first, then the tree.
    pub teams: Vec<FilterChoice<Group>>,
    /// How many comments the query matches, over all pages.
    pub matching: u64,
    /// The page shown (a page past the end shows the last one).
    pub page: u64,
    pub items: Vec<CommentView>,
}

impl CommentPage {
    pub fn pages(&self) -> u64 {
        self.matching.div_ceil(PER_PAGE).max(1)
    }
}

/// Where a reader may read a round's comments: for each department whose comments they may
/// read, the group those comments are listed under, and whether comments listed under the whole
/// workplace are theirs to read too.
struct Reach {
    tree: Tree,
    home: BTreeMap<DepartmentId, Group>,
    whole_workplace: bool,
}

impl Reach {
    fn of(identity: &Identity, frozen: &Frozen) -> Self {
        let tree = frozen.tree();
        let shown = frozen.comment_groups();
        let mut home = BTreeMap::new();
        for department in &tree.ordered {
            let group = Group::Department(*department);
            if shown.contains(&group) && may_see(identity, group) {
                // Tree order visits parents first, so deeper groups overwrite their ancestors.
                for member in tree.members(*department).into_iter().flatten() {
                    home.insert(member, group);
                }
            }
        }
        let whole_workplace = shown.contains(&Group::Workplace) && may_see(identity, Group::Workplace);
        Self {
            tree,
            home,
            whole_workplace,
        }
    }

    /// The group a comment stored under `department` is listed under, if the reader may read it.
    fn group_of(&self, department: Option<uuid::Uuid>) -> Option<Group> {
        match department
            .map(DepartmentId::from_uuid)
            .and_then(|d| self.home.get(&d))
        {
            Some(group) => Some(*group),
            None if self.whole_workplace => Some(Group::Workplace),
            None => None,
        }
    }

    /// The rows listed under `team` (any team the reader may read when None), as a condition on
    /// the department column; None when no row can match.
    fn condition(&self, team: Option<Group>) -> Option<Condition> {
        let departments = |pick: &dyn Fn(&Group) -> bool| -> Vec<uuid::Uuid> {
            self.home
                .iter()
                .filter(|(_, group)| pick(group))
                .map(|(department, _)| department.uuid())
                .collect()
        };
        match team {
            None if self.whole_workplace => Some(Condition::all()),
            None => Some(Condition::all().add(comments::Column::DepartmentId.is_in(departments(&|_| true)))),
            Some(Group::Workplace) if self.whole_workplace => Some(
                Condition::any()
                    .add(comments::Column::DepartmentId.is_null())
                    .add(comments::Column::DepartmentId.is_not_in(departments(&|_| true))),
            ),
            Some(Group::Workplace) => None,
            Some(team) => {
                let listed: Vec<uuid::Uuid> = departments(&|group| *group == team);
                (!listed.is_empty())
                    .then(|| Condition::all().add(comments::Column::DepartmentId.is_in(listed)))
            }
        }
    }
}

/// What the round released when it closed (`closed_at`, already read by the caller).
async fn released(
    tenant: &TenantDb,
    round: RoundId,
    closed_at: chrono::DateTime<chrono::Utc>,
) -> Result<Frozen> {
    super::release::of_rounds(tenant, &[(round, Some(closed_at))])
        .await?
        .remove(&round)
        .ok_or_else(|| Error::Internal(format!("round {round} has no release")))
}

/// One page of a round's comments as the scope's person may read them. A round still open has
/// none yet: its page is empty.
pub async fn page(tenant: &TenantDb, round: RoundId, query: &CommentQuery) -> Result<CommentPage> {
    let identity = tenant.person()?;
    tenant.touch(crate::platform::audit::EntityType::Round, [round]);
    tenant.require(Action::ListResults, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let round_row = super::rounds::find(tenant, &txn, round).await?;
    let questions = super::questions_in(tenant, &txn, round_row.survey_id).await?;
    txn.commit().await?;
    let empty = CommentPage {
        questions: Vec::new(),
        teams: Vec::new(),
        matching: 0,
        page: 0,
        items: Vec::new(),
    };
    let Some(closed_at) = round_row.closed_at else {
        return Ok(empty);
    };
    let reach = Reach::of(identity, &released(tenant, round, closed_at).await?);
    let txn = tenant.begin_read().await?;
    // How many comments each (question, stored department) holds: a few rows per round.
    let counts: Vec<(uuid::Uuid, Option<uuid::Uuid>, i64)> = tenant
        .select::<comments::Entity>()
        .filter(comments::Column::RoundId.eq(round))
        .select_only()
        .column(comments::Column::QuestionId)
        .column(comments::Column::DepartmentId)
        // COUNT(*): counting a column would visit each row for it, not just the index.
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "comments")
        .group_by(comments::Column::QuestionId)
        .group_by(comments::Column::DepartmentId)
        .into_tuple()
        .all(&txn)
        .await?;
    let mut per_question: BTreeMap<QuestionId, u64> = BTreeMap::new();
    let mut per_team: BTreeMap<Group, u64> = BTreeMap::new();
    let mut matching = 0;
    for (question, department, count) in counts {
        let Some(group) = reach.group_of(department) else {
            continue;
        };
        let count = u64::try_from(count).unwrap_or_default();
        *per_question.entry(question).or_default() += count;
        *per_team.entry(group).or_default() += count;
        if query.question.is_none_or(|q| q == question) && query.team.is_none_or(|t| t == group) {
            matching += count;
        }
    }
    let prompts: BTreeMap<QuestionId, &str> = questions.iter().map(|q| (q.id, q.prompt.as_str())).collect();
    let question_choices = questions
        .iter()
        .filter_map(|q| {
            Some(FilterChoice {
                key: q.id,
                label: q.prompt.clone(),
                comments: *per_question.get(&q.id)?,
            })
        })
        .collect();
    let team_choices = std::iter::once(Group::Workplace)
        .chain(reach.tree.ordered.iter().map(|d| Group::Department(*d)))
        .filter_map(|group| {
            Some(FilterChoice {
                key: group,
                label: reach.tree.name(group),
                comments: *per_team.get(&group)?,
            })
        })
        .collect();
    let last_page = matching.div_ceil(PER_PAGE).saturating_sub(1);
    let page_number = query.page.min(last_page);
    // The page's ids first, from the index alone (skipping rows reads no sealed text), then
    // those rows.
    let ids: Vec<uuid::Uuid> = match reach.condition(query.team) {
        Some(condition) if matching > 0 => {
            let mut select = tenant
                .select::<comments::Entity>()
                .filter(comments::Column::RoundId.eq(round))
                .filter(condition);
            if let Some(question) = query.question {
                select = select.filter(comments::Column::QuestionId.eq(question));
            }
            select
                .select_only()
                .column(comments::Column::Id)
                .order_by_asc(comments::Column::Id)
                .offset(page_number * PER_PAGE)
                .limit(PER_PAGE)
                .into_tuple()
                .all(&txn)
                .await?
        }
        _ => Vec::new(),
    };
    let rows = if ids.is_empty() {
        Vec::new()
    } else {
        // The round too: the lookup then stays inside the round's part of the index.
        tenant
            .select::<comments::Entity>()
            .filter(comments::Column::RoundId.eq(round))
            .filter(comments::Column::Id.is_in(ids))
            .order_by_asc(comments::Column::Id)
            .all(&txn)
            .await?
    };
    let items = opened(tenant, &txn, &reach, &prompts, rows).await?;
    txn.commit().await?;
    Ok(CommentPage {
        questions: question_choices,
        teams: team_choices,
        matching,
        page: page_number,
        items,
    })
}

/// Opens `rows` for the page, with their conversations.
async fn opened(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    reach: &Reach,
    prompts: &BTreeMap<QuestionId, &str>,
    rows: Vec<comments::Model>,
) -> Result<Vec<CommentView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys = tenant.data_keys_in(conn).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|c| c.id).collect();
    let mut conversations = super::conversations::conversations(
        tenant,
        conn,
        &ids,
        super::conversations::Reader::Others {
            today: tenant.now().date_naive(),
        },
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(group) = reach.group_of(row.department_id) else {
            continue;
        };
        out.push(CommentView {
            id: row.id,
            question: prompts
                .get(&row.question_id)
                .copied()
                .unwrap_or_default()
                .to_owned(),
            team: reach.tree.name(group),
            text: super::answering::open_comment(&keys, &row)?.into_exposed(),
            can_reply: row.reply_token_hash.is_some(),
            replies: conversations.remove(&row.id).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Every comment of a round the scope's person may read, page after page (tests and tools; a
/// page asks for one page).
pub async fn all(tenant: &TenantDb, round: RoundId) -> Result<Vec<CommentView>> {
    let mut query = CommentQuery::default();
    let mut out = Vec::new();
    loop {
        let page = page(tenant, round, &query).await?;
        let last = page.page + 1 >= page.pages();
        query.page = page.page + 1;
        out.extend(page.items);
        if last {
            return Ok(out);
        }
    }
}

/// Whether the scope's person may read `row`: exactly when a page of its round would list it.
pub(crate) async fn readable(tenant: &TenantDb, row: &comments::Model) -> Result<bool> {
    let identity = tenant.person()?;
    tenant.touch(crate::platform::audit::EntityType::Round, [row.round_id]);
    let txn = tenant.begin_read().await?;
    let closed_at = super::rounds::find(tenant, &txn, row.round_id).await?.closed_at;
    txn.commit().await?;
    // A comment exists only once its round has closed.
    let Some(closed_at) = closed_at else {
        return Ok(false);
    };
    let reach = Reach::of(identity, &released(tenant, row.round_id, closed_at).await?);
    Ok(reach.group_of(row.department_id).is_some())
}
