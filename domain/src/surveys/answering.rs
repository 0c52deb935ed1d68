//! Answering a check-in: the open rounds a person was asked in, and one submission per round,
//! saved all or nothing, once; the person's row in `round_participants` only turns to
//! "answered", which is also what stops a second submission (two tabs included). Submissions
//! that arrive together are stored in one transaction ([`store_together`], fed by
//! [`super::submissions`]): their people are marked and their ballots written in one commit,
//! the ballots in a shuffled order.
//!
//! A submission does not write answers. It seals them, with its comments, the department the
//! person was asked from and their whole years here, into a ballot (the workplace key; no
//! person, no time; padded to one size per round) in the transaction that marks the person
//! answered. When the round closes, its release ([`super::release::close`]) opens the ballots,
//! counts them, and stores only what it released: answers without department or tenure, in a
//! shuffled order, comments under the group they are listed under; the ballots are deleted. No
//! answer row shares a transaction id, an insertion order or a time with a participant row or an
//! access-log entry, so the raw database cannot tell whose answer is whose.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::{rounds::RoundId, Question, QuestionId, QuestionKind};
use crate::{
    platform::{
        entities::{answers, ballots, comments, round_participants, rounds, surveys, users},
        tenant::TenantDb,
    },
    Error, Result,
};

/// The longest comment, in characters.
pub const MAX_COMMENT: usize = 2000;
pub(crate) const COMMENTS: &str = "comments";
const BALLOTS: &str = "ballots";
/// What this module seals, as the Security page lists it.
pub(crate) const SEALED: &[&str] = &[
    "survey comments",
    "replies to comments",
    "check-in answers waiting for their round to close",
];
pub(crate) const TEXT: &str = "text";

/// A check-in waiting for the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckIn {
    pub round: RoundId,
    pub title: String,
    pub closes_at: DateTime<Utc>,
    pub questions: Vec<Question>,
}

/// The rounds open now that asked this person and that they have not answered.
pub async fn open_check_ins(tenant: &TenantDb, now: DateTime<Utc>) -> Result<Vec<CheckIn>> {
    let identity = tenant.person()?;
    // At the day only: the moment someone opened their check-ins, next to a comment reply that
    // appeared then, would point at its author.
    tenant.coarsen_trail();
    let txn = tenant.begin_read().await?;
    let waiting: Vec<RoundId> = tenant
        .select::<round_participants::Entity>()
        .filter(round_participants::Column::UserId.eq(identity.user_id.uuid()))
        .filter(round_participants::Column::Answered.eq(false))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| p.round_id)
        .collect();
    let mut out = Vec::new();
    for row in tenant
        .select::<rounds::Entity>()
        .filter(rounds::Column::Id.is_in(waiting))
        .filter(rounds::Column::ClosedAt.is_null())
        .filter(rounds::Column::OpensAt.lte(now))
        .filter(rounds::Column::ClosesAt.gt(now))
        .all(&txn)
        .await?
    {
        let survey = tenant
            .select::<surveys::Entity>()
            .filter(surveys::Column::Id.eq(row.survey_id))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        out.push(CheckIn {
            round: row.id,
            title: survey.title,
            closes_at: row.closes_at,
            questions: super::questions_in(tenant, &txn, row.survey_id).await?,
        });
    }
    txn.commit().await?;
    out.sort_by_key(|c| c.closes_at);
    Ok(out)
}

/// One question's answer as submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GivenAnswer {
    pub question: QuestionId,
    /// Required for every question except free text.
    pub value: Option<i32>,
    pub comment: Option<String>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        reason: reason.into(),
    }
}

/// What a valid submission stores: values and comments by question.
struct Checked {
    values: Vec<(QuestionId, i32)>,
    comments: Vec<(QuestionId, String)>,
}

/// Checks a submission against the round's questions; returns the values and comments to store.
fn validate(questions: &[Question], given: Vec<GivenAnswer>) -> Result<Checked> {
    let by_id: BTreeMap<QuestionId, &Question> = questions.iter().map(|q| (q.id, q)).collect();
    let mut seen = BTreeSet::new();
    let mut values = Vec::new();
    let mut comments = Vec::new();
    for answer in given {
        let question = by_id
            .get(&answer.question)
            .ok_or_else(|| invalid("answers", "name a question of another check-in"))?;
        if !seen.insert(answer.question) {
            return Err(invalid("answers", "answer each question once"));
        }
        match (question.kind.values(), answer.value) {
            (Some(range), Some(value)) if range.contains(&value) => values.push((question.id, value)),
            (Some(range), Some(_)) => {
                return Err(invalid(
                    "answers",
                    format!(
                        "\u{201c}{}\u{201d} takes a value from {} to {}",
                        question.prompt,
                        range.start(),
                        range.end()
                    ),
                ))
            }
            (Some(_), None) => {
                return Err(invalid(
                    "answers",
                    format!("\u{201c}{}\u{201d} needs an answer", question.prompt),
                ))
            }
            (None, Some(_)) => return Err(invalid("answers", "a free-text question takes words only")),
            (None, None) => {}
        }
        if let Some(comment) = answer
            .comment
            .map(|c| plain_line_breaks(c.trim()))
            .filter(|c| !c.is_empty())
        {
            if comment.chars().count() > MAX_COMMENT {
                return Err(invalid(
                    "comment",
                    format!("is longer than {MAX_COMMENT} characters"),
                ));
            }
            comments.push((question.id, comment));
        }
    }
    if let Some(missing) = questions
        .iter()
        .find(|q| !matches!(q.kind, QuestionKind::Text) && !seen.contains(&q.id))
    {
        return Err(invalid(
            "answers",
            format!("\u{201c}{}\u{201d} needs an answer", missing.prompt),
        ));
    }
    // In the questions' order, however they were sent: a browser's form post sends them in
    // another order than the page's script, and nothing stored may tell the two apart.
    let position: BTreeMap<QuestionId, usize> =
        questions.iter().enumerate().map(|(i, q)| (q.id, i)).collect();
    values.sort_by_key(|(question, _)| position.get(question).copied());
    comments.sort_by_key(|(question, _)| position.get(question).copied());
    Ok(Checked { values, comments })
}

/// Line breaks as `\n` only: a browser posting a form sends `\r\n` where its script sends
/// `\n`, and a released comment must not show which way its author answered.
fn plain_line_breaks(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The secret of one comment, for its author's browser to keep: with it, and only with it, the
/// author reads replies to the comment and answers back (see [`super::replies`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentSecret {
    pub question: QuestionId,
    pub secret: String,
}

/// One person's check-in as their request hands it over, to be stored alone ([`submit`]) or
/// together with others that arrived at the same moment ([`super::submissions`]).
pub struct Submission {
    /// The person's scope (and request trail) in their workplace.
    pub tenant: TenantDb,
    pub round: RoundId,
    pub given: Vec<GivenAnswer>,
    pub now: DateTime<Utc>,
}

impl Submission {
    /// Keeps the request's log entry at the round and the day: an exact time (or request id)
    /// next to the person's id could help single out their answers. Done before the
    /// submission waits for anything, so a request that ends early is logged the same way.
    pub(crate) fn coarsen_trail(&self) {
        self.tenant
            .touch(crate::platform::audit::EntityType::Round, [self.round]);
        self.tenant.coarsen_trail();
    }
}

/// Saves a person's answers to a round, all or nothing, once. Returns a secret per comment.
pub async fn submit(
    tenant: &TenantDb,
    round: RoundId,
    given: Vec<GivenAnswer>,
    now: DateTime<Utc>,
) -> Result<Vec<CommentSecret>> {
    let submission = Submission {
        tenant: tenant.clone(),
        round,
        given,
        now,
    };
    submission.coarsen_trail();
    store_together(vec![submission])
        .await
        .pop()
        .unwrap_or_else(|| Err(Error::Internal("a submission went unanswered".into())))
}

/// Stores `batch`, one transaction per workplace, and returns each submission's outcome in
/// the batch's order: what one person got wrong (already answered, a closed round, a missing
/// answer) refuses their submission only. Every stored submission is committed before any
/// outcome is returned, so an acknowledged check-in survives the process being killed.
pub async fn store_together(batch: Vec<Submission>) -> Vec<Result<Vec<CommentSecret>>> {
    let mut outcomes: Vec<Option<Result<Vec<CommentSecret>>>> = batch.iter().map(|_| None).collect();
    let mut by_workplace: BTreeMap<uuid::Uuid, Vec<usize>> = BTreeMap::new();
    for (index, submission) in batch.iter().enumerate() {
        by_workplace
            .entry(submission.tenant.workplace_id().uuid())
            .or_default()
            .push(index);
    }
    for indexes in by_workplace.into_values() {
        let group: Vec<&Submission> = indexes.iter().map(|&i| &batch[i]).collect();
        let results = match store_in_one_transaction(&group).await {
            Ok(results) => results,
            // Another process answered or closed something under one of these: each alone.
            Err(Failed::Raced(_)) if group.len() > 1 => {
                let mut results = Vec::with_capacity(group.len());
                for submission in group.iter().copied() {
                    results.push(match store_in_one_transaction(&[submission]).await {
                        Ok(mut one) => one
                            .pop()
                            .unwrap_or_else(|| Err(Error::Internal("a submission went unanswered".into()))),
                        Err(Failed::Raced(err) | Failed::Database(err)) => Err(err),
                    });
                }
                results
            }
            Err(Failed::Raced(err)) => vec![Err(err)],
            Err(Failed::Database(err)) if group.len() == 1 => vec![Err(err)],
            // Every submission of the transaction fails with it (nothing of it was stored, so
            // each may try again); the details are logged once.
            Err(Failed::Database(err)) => {
                tracing::error!(error = %err, submissions = group.len(), "check-in submissions could not be stored");
                group
                    .iter()
                    .map(|_| Err(Error::Unavailable("check-ins cannot be stored right now".into())))
                    .collect()
            }
        };
        for (index, result) in indexes.into_iter().zip(results) {
            outcomes[index] = Some(result);
        }
    }
    outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| Err(Error::Internal("a submission went unanswered".into()))))
        .collect()
}

/// Why a group's transaction was given up.
enum Failed {
    /// The database failed: every submission of the transaction gets an error.
    Database(Error),
    /// A conditional write matched fewer rows than were checked a moment before: another
    /// process answered or closed meanwhile, and each submission is tried alone.
    Raced(Error),
}

impl From<Error> for Failed {
    fn from(err: Error) -> Self {
        Self::Database(err)
    }
}

impl From<sea_orm::DbErr> for Failed {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Database(err.into())
    }
}

/// A submission that passed every check, its ballot sealed, waiting for its writes.
struct Accepted {
    index: usize,
    participant: uuid::Uuid,
    round: RoundId,
    /// Taken when the ballots are written.
    ballot: Option<ballots::ActiveModel>,
    secrets: Vec<CommentSecret>,
}

/// What a group's transaction read once for all of its submissions.
struct Read {
    participants: BTreeMap<(RoundId, uuid::Uuid), round_participants::Model>,
    rounds: BTreeMap<RoundId, rounds::Model>,
    questions_of: BTreeMap<uuid::Uuid, Vec<Question>>,
    start_dates: BTreeMap<uuid::Uuid, Option<chrono::NaiveDate>>,
    keys: std::sync::Arc<crate::platform::crypto::TenantKeys>,
    workplace: uuid::Uuid,
}

/// Submissions of one workplace in one transaction: a few statements for all of them, not per
/// person. Ballots go in a shuffled order, so neither their insertion order nor their shared
/// transaction id tells which of the people marked answered together gave which.
async fn store_in_one_transaction(
    group: &[&Submission],
) -> std::result::Result<Vec<Result<Vec<CommentSecret>>>, Failed> {
    let Some(first) = group.first() else {
        return Ok(Vec::new());
    };
    let tenant = &first.tenant;
    let mut outcomes: Vec<Option<Result<Vec<CommentSecret>>>> = group.iter().map(|_| None).collect();
    let mut people = Vec::new();
    for (index, submission) in group.iter().enumerate() {
        match submission.tenant.person() {
            Ok(identity) => people.push((index, identity.user_id.uuid())),
            Err(err) => outcomes[index] = Some(Err(err)),
        }
    }
    let round_ids: BTreeSet<RoundId> = group.iter().map(|s| s.round).collect();
    let user_ids: BTreeSet<uuid::Uuid> = people.iter().map(|(_, user)| *user).collect();
    let txn = tenant.begin_unlogged().await?;
    let participants: BTreeMap<(RoundId, uuid::Uuid), round_participants::Model> = tenant
        .select::<round_participants::Entity>()
        .filter(round_participants::Column::RoundId.is_in(round_ids.iter().copied()))
        .filter(round_participants::Column::UserId.is_in(user_ids.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| ((p.round_id, p.user_id), p))
        .collect();
    let round_rows: BTreeMap<RoundId, rounds::Model> = tenant
        .select::<rounds::Entity>()
        .filter(rounds::Column::Id.is_in(round_ids.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let survey_ids: BTreeSet<uuid::Uuid> = round_rows.values().map(|row| row.survey_id).collect();
    let mut questions_of = BTreeMap::new();
    for survey in survey_ids {
        questions_of.insert(survey, super::questions_in(tenant, &txn, survey).await?);
    }
    let start_dates: BTreeMap<uuid::Uuid, Option<chrono::NaiveDate>> = tenant
        .select::<users::Entity>()
        .filter(users::Column::Id.is_in(user_ids.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.start_date))
        .collect();
    let read = Read {
        participants,
        rounds: round_rows,
        questions_of,
        start_dates,
        keys: tenant.data_keys_in(&txn).await?,
        workplace: tenant.workplace_id().uuid(),
    };
    let mut taken = BTreeSet::new();
    let mut accepted = Vec::new();
    for (index, user) in people {
        match accept(index, group[index], user, &read, &mut taken) {
            Ok(one) => accepted.push(one),
            Err(err) => outcomes[index] = Some(Err(err)),
        }
    }
    if !accepted.is_empty() {
        write_accepted(tenant, &txn, group, &mut accepted).await?;
    }
    txn.commit().await?;
    for one in accepted {
        outcomes[one.index] = Some(Ok(one.secrets));
    }
    Ok(outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| Err(Error::Internal("a submission went unanswered".into()))))
        .collect())
}

/// Checks one submission against what its transaction read and seals its ballot; `taken`
/// holds the participants already accepted in the same transaction (one person's two tabs in
/// one batch). Whatever fails here refuses this submission only.
fn accept(
    index: usize,
    submission: &Submission,
    user: uuid::Uuid,
    read: &Read,
    taken: &mut BTreeSet<uuid::Uuid>,
) -> Result<Accepted> {
    // Not asked in this round (or no such round here): nothing to answer.
    let participant = read
        .participants
        .get(&(submission.round, user))
        .ok_or(Error::NotFound)?;
    if participant.answered || taken.contains(&participant.id) {
        return Err(Error::Conflict("You have already answered this check-in.".into()));
    }
    let round_row = read.rounds.get(&submission.round).ok_or(Error::NotFound)?;
    if !super::rounds::Round::from(round_row.clone()).is_open(submission.now) {
        return Err(Error::Conflict("This check-in is closed.".into()));
    }
    let questions = read
        .questions_of
        .get(&round_row.survey_id)
        .ok_or(Error::NotFound)?;
    let Checked {
        values,
        comments: comment_texts,
    } = validate(questions, submission.given.clone())?;
    // Whole years here when the round opened: the band is chosen at close, from the bands
    // then in force, and everyone asked in the round is measured on the same day.
    let start_date = read.start_dates.get(&user).copied().flatten();
    let tenure_years = super::tenure::whole_years(start_date, round_row.opens_at.date_naive());
    // The department the person was asked from when the round opened: a move during the
    // round changes neither their participant row nor where their answers count.
    let mut ballot = Ballot {
        department: participant.department_id,
        tenure_years,
        values,
        comments: Vec::new(),
    };
    let mut secrets = Vec::new();
    for (question, text) in comment_texts {
        let (secret, hash) = super::conversations::new_secret();
        secrets.push(CommentSecret {
            question,
            secret: secret.expose().to_owned(),
        });
        ballot.comments.push(BallotComment {
            question,
            text,
            reply_token_hash: hash,
        });
    }
    let id = uuid::Uuid::new_v4();
    let json = ballot.padded(questions)?;
    let sealed = ballots::ActiveModel {
        id: Set(id),
        workplace_id: Set(read.workplace),
        round_id: Set(submission.round),
        text_sealed: Set(read.keys.seal(BALLOTS, TEXT, id, &json)?),
    };
    taken.insert(participant.id);
    Ok(Accepted {
        index,
        participant: participant.id,
        round: submission.round,
        ballot: Some(sealed),
        secrets,
    })
}

/// The writes of a group's accepted submissions: participants marked, rounds counted, ballots
/// sealed in a shuffled order, each request's log entries.
async fn write_accepted(
    tenant: &TenantDb,
    txn: &sea_orm::DatabaseTransaction,
    group: &[&Submission],
    accepted: &mut [Accepted],
) -> std::result::Result<(), Failed> {
    use rand::seq::SliceRandom;
    // The statements that decide: of two tabs (or two processes) submitting at once, only one
    // marks the person; a round closed meanwhile (its counts kept at closing) refuses rather
    // than miss a submission.
    for chunk in accepted.chunks(500) {
        let marked = tenant
            .update_many::<round_participants::Entity>()
            .col_expr(
                round_participants::Column::Answered,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(round_participants::Column::Id.is_in(chunk.iter().map(|a| a.participant)))
            .filter(round_participants::Column::Answered.eq(false))
            .exec(txn)
            .await?;
        if marked.rows_affected != chunk.len() as u64 {
            return Err(Failed::Raced(Error::Conflict(
                "You have already answered this check-in.".into(),
            )));
        }
    }
    let mut per_round: BTreeMap<RoundId, i32> = BTreeMap::new();
    for one in accepted.iter() {
        *per_round.entry(one.round).or_default() += 1;
    }
    for (round, count) in per_round {
        let counted = tenant
            .update_many::<rounds::Entity>()
            .col_expr(
                rounds::Column::Answered,
                sea_orm::sea_query::ExprTrait::add(
                    sea_orm::sea_query::Expr::col(rounds::Column::Answered),
                    count,
                ),
            )
            .filter(rounds::Column::Id.eq(round))
            .filter(rounds::Column::ClosedAt.is_null())
            .exec(txn)
            .await?;
        if counted.rows_affected != 1 {
            return Err(Failed::Raced(Error::Conflict("This check-in is closed.".into())));
        }
    }
    let mut sealed: Vec<ballots::ActiveModel> =
        accepted.iter_mut().filter_map(|one| one.ballot.take()).collect();
    sealed.shuffle(&mut rand::rng());
    // About a megabyte a statement: a sealed ballot is tens to hundreds of kilobytes.
    let per_statement = sealed
        .first()
        .and_then(|ballot| ballot.text_sealed.try_as_ref().map(Vec::len))
        .map_or(1, |size| (1 << 20) / size.max(1))
        .clamp(1, 50);
    while !sealed.is_empty() {
        let rest = sealed.split_off(sealed.len().min(per_statement));
        ballots::Entity::insert_many(std::mem::replace(&mut sealed, rest))
            .exec(txn)
            .await?;
    }
    let trails: Vec<&TenantDb> = accepted.iter().map(|one| &group[one.index].tenant).collect();
    crate::platform::tenant::write_trails(txn, &trails).await?;
    Ok(())
}

/// One submission as sealed in the ballot box.
#[derive(Serialize, Deserialize)]
pub(crate) struct Ballot {
    pub department: Option<uuid::Uuid>,
    /// Whole years at the workplace when the round opened; None: no start date recorded.
    pub tenure_years: Option<u32>,
    pub values: Vec<(QuestionId, i32)>,
    pub comments: Vec<BallotComment>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct BallotComment {
    pub question: QuestionId,
    pub text: String,
    pub reply_token_hash: String,
}

/// The most a ballot of a round with `questions` can take as JSON: per question a value, its
/// question id, and the longest comment (any question may carry one) with every character
/// escaped (six bytes, `\u001f`) and its reply hash.
fn ballot_size(questions: &[Question]) -> usize {
    512 + questions.len() * (96 + MAX_COMMENT * 6 + 256)
}

impl Ballot {
    /// The ballot as JSON, padded with trailing spaces to the one size every ballot of the round
    /// has: a sealed ballot's length must not tell a short comment, a long one or none apart.
    fn padded(&self, questions: &[Question]) -> Result<Vec<u8>> {
        let mut json = serde_json::to_vec(self).map_err(|err| Error::Internal(format!("ballot: {err}")))?;
        let size = ballot_size(questions);
        if json.len() > size {
            return Err(Error::Internal(format!(
                "a ballot of {} bytes exceeds the round's size of {size}",
                json.len()
            )));
        }
        json.resize(size, b' ');
        Ok(json)
    }
}

/// Every ballot of `round`, opened (inside `txn`, the transaction that closes the round).
pub(crate) async fn open_ballots(
    tenant: &TenantDb,
    txn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
) -> Result<Vec<Ballot>> {
    let rows = tenant
        .select::<ballots::Entity>()
        .filter(ballots::Column::RoundId.eq(round))
        .all(txn)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys = tenant.data_keys_in(txn).await?;
    rows.iter()
        .map(|row| {
            let json = keys
                .open(BALLOTS, TEXT, row.id, &row.text_sealed)
                .map_err(|err| Error::Internal(format!("ballot {}: {err}", row.id)))?;
            // Trailing padding is JSON whitespace.
            serde_json::from_slice(&json).map_err(|err| Error::Internal(format!("ballot {}: {err}", row.id)))
        })
        .collect()
}

/// What of a round's ballots is kept once it is released: answers only when everyone's sum is
/// safe next to what was released (otherwise they would state what was withheld), and each
/// comment under the group it is listed under (None: not listed, so not kept).
pub(crate) struct Keep<'a> {
    pub answers: bool,
    pub comment_group: &'a (dyn Fn(Option<uuid::Uuid>) -> Option<Option<uuid::Uuid>> + Sync),
}

/// Moves `ballots` (all of `round`'s) into answers and comments, in a random order, inside
/// `txn`, and deletes the round's ballot box. Stored answers carry no department and no tenure
/// band: what a round released is frozen with it, and finer rows would let anyone with the
/// database recompute what the guard withheld.
pub(crate) async fn store_ballots(
    tenant: &TenantDb,
    txn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
    ballots_of_round: Vec<Ballot>,
    keep: Keep<'_>,
) -> Result<()> {
    use rand::seq::SliceRandom;
    let workplace_id = tenant.workplace_id().uuid();
    let mut answer_rows = Vec::new();
    let mut comment_rows = Vec::new();
    let keys = if ballots_of_round.iter().any(|b| !b.comments.is_empty()) {
        Some(tenant.data_keys_in(txn).await?)
    } else {
        None
    };
    for ballot in ballots_of_round {
        if keep.answers {
            for (question, value) in &ballot.values {
                answer_rows.push(answers::ActiveModel {
                    id: Set(uuid::Uuid::new_v4()),
                    workplace_id: Set(workplace_id),
                    round_id: Set(round),
                    question_id: Set(*question),
                    department_id: Set(None),
                    tenure_band: Set(NOT_KEPT.to_owned()),
                    value: Set(*value),
                });
            }
        }
        let Some(listed_under) = (keep.comment_group)(ballot.department) else {
            continue;
        };
        for comment in ballot.comments {
            let Some(keys) = &keys else { break };
            let id = uuid::Uuid::new_v4();
            comment_rows.push(comments::ActiveModel {
                id: Set(id),
                workplace_id: Set(workplace_id),
                round_id: Set(round),
                question_id: Set(comment.question),
                department_id: Set(listed_under),
                tenure_band: Set(NOT_KEPT.to_owned()),
                text_sealed: Set(keys.seal(COMMENTS, TEXT, id, comment.text.as_bytes())?),
                reply_token_hash: Set(Some(comment.reply_token_hash)),
            });
        }
    }
    // Rows go in, one shuffled batch, in an order that follows no submission.
    {
        // The thread's generator is not Send: it must not live across an await.
        let mut rng = rand::rng();
        answer_rows.shuffle(&mut rng);
        comment_rows.shuffle(&mut rng);
    }
    for chunk in answer_rows.chunks(500) {
        answers::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
    }
    for chunk in comment_rows.chunks(200) {
        comments::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
    }
    tenant
        .delete_many::<ballots::Entity>()
        .filter(ballots::Column::WorkplaceId.eq(workplace_id))
        .filter(ballots::Column::RoundId.eq(round))
        .exec(txn)
        .await?;
    Ok(())
}

/// The tenure band of stored answers and comments: not kept (results by tenure are frozen with
/// the round's release).
pub(crate) const NOT_KEPT: &str = "unknown";

/// Opens a stored comment.
pub(crate) fn open_comment(
    keys: &crate::platform::crypto::TenantKeys,
    row: &comments::Model,
) -> Result<crate::platform::crypto::Personal> {
    let bytes = keys
        .open(COMMENTS, TEXT, row.id, &row.text_sealed)
        .map_err(|err| Error::Internal(format!("comments.text of {}: {err}", row.id)))?;
    String::from_utf8(bytes)
        .map(crate::platform::crypto::Personal::new)
        .map_err(|_| Error::Internal(format!("comments.text of {} is not text", row.id)))
}

/// One round a person was asked in, as their participation history shows it: whether they
/// answered, never what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participation {
    pub round: RoundId,
    pub title: String,
    pub number: i32,
    pub opens_at: DateTime<Utc>,
    pub answered: bool,
}

/// Every round this person was asked in, newest first: their participation history.
pub async fn participation(tenant: &TenantDb) -> Result<Vec<Participation>> {
    let identity = tenant.person()?;
    // At the day only, as opening one's check-ins is (see `open_check_ins`).
    tenant.coarsen_trail();
    participation_of(tenant, identity.user_id).await
}

/// [`participation`] of any person of the workplace (for a copy of their data).
pub(crate) async fn participation_of(
    tenant: &TenantDb,
    person: crate::platform::ids::UserId,
) -> Result<Vec<Participation>> {
    let txn = tenant.begin_read().await?;
    let asked: BTreeMap<RoundId, bool> = tenant
        .select::<round_participants::Entity>()
        .filter(round_participants::Column::UserId.eq(person.uuid()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.round_id, p.answered))
        .collect();
    let mut out = Vec::with_capacity(asked.len());
    if !asked.is_empty() {
        let titles = super::titles(tenant, &txn).await?;
        for chunk in asked.keys().copied().collect::<Vec<_>>().chunks(500) {
            for row in tenant
                .select::<rounds::Entity>()
                .filter(rounds::Column::Id.is_in(chunk.iter().copied()))
                .all(&txn)
                .await?
            {
                out.push(Participation {
                    round: row.id,
                    title: titles.get(&row.survey_id).cloned().unwrap_or_default(),
                    number: row.number,
                    opens_at: row.opens_at,
                    answered: asked.get(&row.id).copied().unwrap_or(false),
                });
            }
        }
    }
    txn.commit().await?;
    out.sort_by_key(|p| std::cmp::Reverse(p.opens_at));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(n: u128, kind: QuestionKind) -> Question {
        Question {
            id: uuid::Uuid::from_u128(n),
            prompt: format!("Question {n}"),
            kind,
            library_key: None,
        }
    }

    fn answer(n: u128, value: Option<i32>, comment: Option<&str>) -> GivenAnswer {
        GivenAnswer {
            question: uuid::Uuid::from_u128(n),
            value,
            comment: comment.map(str::to_owned),
        }
    }

    #[test]
    fn submissions_are_checked_against_the_questions() {
        let questions = [
            question(
                1,
                QuestionKind::Scale {
                    low: "Low".into(),
                    high: "High".into(),
                },
            ),
            question(2, QuestionKind::Enps),
            question(
                3,
                QuestionKind::Choice {
                    options: vec!["A".into(), "B".into()],
                },
            ),
            question(4, QuestionKind::Text),
        ];
        let good = vec![
            answer(1, Some(5), Some("  fine  ")),
            answer(2, Some(0), None),
            answer(3, Some(1), None),
            answer(4, None, Some("More coffee")),
        ];
        let checked = validate(&questions, good.clone()).unwrap();
        assert_eq!(checked.values.len(), 3);
        assert_eq!(checked.comments[0].1, "fine");
        // Sent as a browser's form post (answers in another order, line breaks as CRLF), the
        // same answers are stored as the same values and bytes.
        let mut posted = good;
        posted.reverse();
        posted[0].comment = Some("More\r\ncoffee\rplease".into());
        let mut from_form = validate(&questions, posted.clone()).unwrap();
        posted[0].comment = Some("More\ncoffee\nplease".into());
        let from_script = validate(&questions, {
            let mut in_order = posted;
            in_order.reverse();
            in_order
        })
        .unwrap();
        assert_eq!(from_form.values, from_script.values);
        assert_eq!(from_form.comments, from_script.comments);
        assert_eq!(
            from_form.comments.pop().map(|c| c.1).as_deref(),
            Some("More\ncoffee\nplease")
        );
        let long = "x".repeat(100 * 1024);
        let bad: Vec<(&str, Vec<GivenAnswer>)> = vec![
            (
                "scale out of range",
                vec![
                    answer(1, Some(6), None),
                    answer(2, Some(1), None),
                    answer(3, Some(0), None),
                ],
            ),
            (
                "enps out of range",
                vec![
                    answer(1, Some(1), None),
                    answer(2, Some(11), None),
                    answer(3, Some(0), None),
                ],
            ),
            (
                "choice out of range",
                vec![
                    answer(1, Some(1), None),
                    answer(2, Some(1), None),
                    answer(3, Some(2), None),
                ],
            ),
            (
                "missing a required answer",
                vec![answer(1, Some(1), None), answer(3, Some(0), None)],
            ),
            (
                "the same question twice",
                vec![
                    answer(1, Some(1), None),
                    answer(1, Some(2), None),
                    answer(2, Some(1), None),
                    answer(3, Some(0), None),
                ],
            ),
            (
                "a value for free text",
                vec![
                    answer(1, Some(1), None),
                    answer(2, Some(1), None),
                    answer(3, Some(0), None),
                    answer(4, Some(1), None),
                ],
            ),
            ("another survey's question", vec![answer(9, Some(1), None)]),
            (
                "a 100 KB comment",
                vec![
                    answer(1, Some(1), Some(&long)),
                    answer(2, Some(1), None),
                    answer(3, Some(0), None),
                ],
            ),
        ];
        for (name, given) in bad {
            let err = validate(&questions, given).err().unwrap();
            assert_eq!(err.code(), "input.invalid", "{name}");
        }
    }
}
