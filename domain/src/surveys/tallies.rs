//! A round's counts per department: kept with the round when it closed before releases
//! existed, otherwise counted from its participants and answers, grouped by the database.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};

use super::{rounds::RoundId, QuestionId};
use crate::{
    platform::{
        entities::{answers, round_participants, round_tallies},
        ids::DepartmentId,
        tenant::TenantDb,
    },
    Result,
};

/// One round's counts per department (None: people without one): who was asked, who answered,
/// and answers per (question, value).
#[derive(Default)]
pub(crate) struct Tallies {
    pub(crate) asked: BTreeMap<Option<DepartmentId>, u32>,
    pub(crate) answered: BTreeMap<Option<DepartmentId>, u32>,
    pub(crate) values: BTreeMap<Option<DepartmentId>, BTreeMap<(QuestionId, i32), u32>>,
}

pub(crate) fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One grouped count of a round: participation when `question` is None, else answers of one
/// value. The same shape whether counted now or kept when the round closed.
pub(crate) struct TallyRow {
    round: RoundId,
    department: Option<uuid::Uuid>,
    question: Option<QuestionId>,
    value: Option<i32>,
    answered: bool,
    n: i64,
}

/// Who was asked and who answered `rounds`, per department, counted now.
pub(crate) async fn count_participants(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    rounds: &[RoundId],
) -> Result<Vec<TallyRow>> {
    let participants: Vec<(RoundId, Option<uuid::Uuid>, bool, i64)> = tenant
        .select::<round_participants::Entity>()
        .select_only()
        .column(round_participants::Column::RoundId)
        .column(round_participants::Column::DepartmentId)
        .column(round_participants::Column::Answered)
        .column_as(round_participants::Column::Id.count(), "n")
        .filter(round_participants::Column::RoundId.is_in(rounds.iter().copied()))
        .group_by(round_participants::Column::RoundId)
        .group_by(round_participants::Column::DepartmentId)
        .group_by(round_participants::Column::Answered)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(participants
        .into_iter()
        .map(|(round, department, answered, n)| TallyRow {
            round,
            department,
            question: None,
            value: None,
            answered,
            n,
        })
        .collect())
}

/// Counts `rounds` from their participants and answers, grouped by the database: a few hundred
/// rows per round, never one per person.
pub(crate) async fn count_now(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    rounds: &[RoundId],
) -> Result<Vec<TallyRow>> {
    let participants = count_participants(tenant, conn, rounds).await?;
    let answer_rows: Vec<(RoundId, QuestionId, Option<uuid::Uuid>, i32, i64)> = tenant
        .select::<answers::Entity>()
        .select_only()
        .column(answers::Column::RoundId)
        .column(answers::Column::QuestionId)
        .column(answers::Column::DepartmentId)
        .column(answers::Column::Value)
        .column_as(answers::Column::Id.count(), "n")
        .filter(answers::Column::RoundId.is_in(rounds.iter().copied()))
        .group_by(answers::Column::RoundId)
        .group_by(answers::Column::QuestionId)
        .group_by(answers::Column::DepartmentId)
        .group_by(answers::Column::Value)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(participants
        .into_iter()
        .chain(
            answer_rows
                .into_iter()
                .map(|(round, question, department, value, n)| TallyRow {
                    round,
                    department,
                    question: Some(question),
                    value: Some(value),
                    answered: true,
                    n,
                }),
        )
        .collect())
}

pub(crate) fn tallies_from(rounds: &[RoundId], rows: Vec<TallyRow>) -> BTreeMap<RoundId, Tallies> {
    let mut out: BTreeMap<RoundId, Tallies> = rounds.iter().map(|r| (*r, Tallies::default())).collect();
    for row in rows {
        let tallies = out.entry(row.round).or_default();
        let department = row.department.map(DepartmentId::from_uuid);
        match (row.question, row.value) {
            (Some(question), Some(value)) => {
                *tallies
                    .values
                    .entry(department)
                    .or_default()
                    .entry((question, value))
                    .or_default() += count(row.n);
            }
            _ => {
                *tallies.asked.entry(department).or_default() += count(row.n);
                if row.answered {
                    *tallies.answered.entry(department).or_default() += count(row.n);
                }
            }
        }
    }
    out
}

/// Counts for each of `rounds`: kept ones for rounds that closed, counted now for the others.
pub(crate) async fn load_tallies(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    rounds: &[RoundId],
) -> Result<BTreeMap<RoundId, Tallies>> {
    let mut rows: Vec<TallyRow> = tenant
        .select::<round_tallies::Entity>()
        .filter(round_tallies::Column::RoundId.is_in(rounds.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| TallyRow {
            round: row.round_id,
            department: row.department_id,
            question: row.question_id,
            value: row.value,
            answered: row.answered,
            n: row.count,
        })
        .collect();
    let kept: BTreeSet<RoundId> = rows.iter().map(|row| row.round).collect();
    let missing: Vec<RoundId> = rounds.iter().copied().filter(|r| !kept.contains(r)).collect();
    if !missing.is_empty() {
        rows.extend(count_now(tenant, conn, &missing).await?);
    }
    Ok(tallies_from(rounds, rows))
}

/// Keeps the counts of `round` by department, as rounds closed before releases were kept did:
/// only tests build such rounds now (their release, at start, then removes the counts).
#[cfg(feature = "testing")]
pub(crate) async fn keep_tallies(
    tenant: &TenantDb,
    txn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
) -> Result<()> {
    use sea_orm::EntityTrait;
    let workplace = tenant.workplace_id().uuid();
    let rows: Vec<round_tallies::ActiveModel> = count_now(tenant, txn, &[round])
        .await?
        .into_iter()
        .map(|row| round_tallies::ActiveModel {
            id: sea_orm::Set(uuid::Uuid::new_v4()),
            workplace_id: sea_orm::Set(workplace),
            round_id: sea_orm::Set(row.round),
            department_id: sea_orm::Set(row.department),
            question_id: sea_orm::Set(row.question),
            value: sea_orm::Set(row.value),
            answered: sea_orm::Set(row.answered),
            count: sea_orm::Set(row.n),
        })
        .collect();
    for chunk in rows.chunks(500) {
        round_tallies::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}
