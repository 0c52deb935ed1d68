//! Rounds: each run of a survey. The scheduler opens a round when a survey's next round is due
//! (asking everyone active in its departments at that moment) and closes it when its window
//! ends. Both steps are idempotent, so a job interrupted midway is simply run again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{SurveyId, SurveyStatus};
use crate::{
    platform::{
        entities::{departments, round_participants, rounds, survey_targets, surveys, users},
        ids::{DepartmentId, WorkplaceId},
        tenant::TenantDb,
    },
    Database, Error, Result,
};

pub type RoundId = uuid::Uuid;

/// A round as lists show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    pub id: RoundId,
    pub survey: SurveyId,
    pub number: i32,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub closed: bool,
}

impl From<rounds::Model> for Round {
    fn from(row: rounds::Model) -> Self {
        Self {
            id: row.id,
            survey: row.survey_id,
            number: row.number,
            opens_at: row.opens_at,
            closes_at: row.closes_at,
            closed: row.closed_at.is_some(),
        }
    }
}

impl Round {
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        !self.closed && self.opens_at <= now && now < self.closes_at
    }
}

/// A round and the people to email about it: everyone asked when it opens, those who have not
/// answered when it reminds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailing {
    pub(crate) workplace: WorkplaceId,
    pub(crate) round: RoundId,
    pub(crate) participants: Vec<uuid::Uuid>,
}

impl Mailing {
    /// Only the domain makes one (when it opens a round or finds one due a reminder): whom
    /// [`notify`] mails is never the caller's to choose.
    pub fn workplace(&self) -> WorkplaceId {
        self.workplace
    }

    pub fn round(&self) -> RoundId {
        self.round
    }

    pub fn participants(&self) -> &[uuid::Uuid] {
        &self.participants
    }
}

/// Opens every round that is due, in every workplace.
pub async fn open_due(db: &Database, now: DateTime<Utc>) -> Result<Vec<Mailing>> {
    // A system job across workplaces: which surveys are due is read outside any workplace.
    let due: Vec<(uuid::Uuid, uuid::Uuid)> = surveys::Entity::find()
        .select_only()
        .column(surveys::Column::Id)
        .column(surveys::Column::WorkplaceId)
        .filter(surveys::Column::Status.eq(SurveyStatus::Active))
        .filter(surveys::Column::NextRoundAt.lte(now))
        .into_tuple()
        .all(db.connection())
        .await?;
    let mut opened = Vec::new();
    for (survey, workplace) in due {
        let tenant = TenantDb::for_system(db, WorkplaceId::from_uuid(workplace), "open survey rounds");
        if let Some(round) = open_next(&tenant, survey, now).await? {
            opened.push(round);
        }
    }
    Ok(opened)
}

/// Opens the survey's due round, if it is still due (another process may have opened it).
pub(crate) async fn open_next(
    tenant: &TenantDb,
    survey: SurveyId,
    now: DateTime<Utc>,
) -> Result<Option<Mailing>> {
    let txn = tenant.begin().await?;
    let Some(row) = tenant
        .select::<surveys::Entity>()
        .filter(surveys::Column::Id.eq(survey))
        .filter(surveys::Column::Status.eq(SurveyStatus::Active))
        .filter(surveys::Column::NextRoundAt.lte(now))
        .one(&txn)
        .await?
    else {
        return Ok(None);
    };
    let Some(opens_at) = row.next_round_at else {
        return Ok(None);
    };
    let number = tenant
        .select::<rounds::Entity>()
        .filter(rounds::Column::SurveyId.eq(survey))
        .count(&txn)
        .await?;
    let cadence = row.cadence;
    // A round that was due long ago (the server was down) opens now, for its full window.
    let opens_at = if now - opens_at > Duration::hours(1) {
        now
    } else {
        opens_at
    };
    // While the round is open its participation is shown on the tree and minimum of now: a
    // department moved or a minimum changed later must not re-slice it between two looks.
    let (minimum, _) = super::minimum_group_sizes(tenant, &txn).await?;
    let tree = super::tree::Tree::new(
        &tenant
            .select::<crate::platform::entities::departments::Entity>()
            .all(&txn)
            .await?,
    );
    let tree_text = serde_json::to_string(&super::tree::freeze_tree(&tree))
        .map_err(|err| crate::Error::Internal(format!("round tree: {err}")))?;
    let round = rounds::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        workplace_id: Set(tenant.workplace_id().uuid()),
        survey_id: Set(survey),
        number: Set(i32::try_from(number + 1).unwrap_or(i32::MAX)),
        opens_at: Set(opens_at),
        closes_at: Set(opens_at + Duration::days(i64::from(row.window_days))),
        closed_at: Set(None),
        reminded_at: Set(None),
        asked: Set(0),
        answered: Set(0),
        opened_minimum: Set(Some(i32::try_from(minimum).unwrap_or(i32::MAX))),
        opened_tree: Set(Some(tree_text)),
    }
    .insert(&txn)
    .await?;
    // The next round: the first scheduled time after now.
    let mut next = cadence.next_after(opens_at);
    while let Some(at) = next.filter(|at| *at <= now) {
        next = cadence.next_after(at);
    }
    let mut changed: surveys::ActiveModel = row.into();
    changed.next_round_at = Set(next);
    if next.is_none() {
        // A one-off survey is done once its only round is open.
        changed.status = Set(SurveyStatus::Closed);
    }
    changed.update(&txn).await?;

    let people = targeted_people(tenant, &txn, survey).await?;
    for (user, department) in &people {
        round_participants::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            workplace_id: Set(tenant.workplace_id().uuid()),
            round_id: Set(round.id),
            user_id: Set(*user),
            department_id: Set(department.map(DepartmentId::uuid)),
            answered: Set(false),
        }
        .insert(&txn)
        .await?;
    }
    tenant
        .update_many::<rounds::Entity>()
        .col_expr(
            rounds::Column::Asked,
            sea_orm::sea_query::Expr::value(i32::try_from(people.len()).unwrap_or(i32::MAX)),
        )
        .filter(rounds::Column::Id.eq(round.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some(Mailing {
        workplace: tenant.workplace_id(),
        round: round.id,
        participants: people.into_iter().map(|(user, _)| user).collect(),
    }))
}

/// Everyone active in the survey's departments (and below), or in the whole workplace.
async fn targeted_people(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    survey: SurveyId,
) -> Result<Vec<(uuid::Uuid, Option<DepartmentId>)>> {
    let targets: Vec<DepartmentId> = tenant
        .select::<survey_targets::Entity>()
        .filter(survey_targets::Column::SurveyId.eq(survey))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| DepartmentId::from_uuid(t.department_id))
        .collect();
    let active: Vec<(uuid::Uuid, Option<uuid::Uuid>)> = tenant
        .select::<users::Entity>()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::DepartmentId)
        .filter(users::Column::Status.eq(users::Status::Active))
        // Restricted on their request: kept, but not asked.
        .filter(users::Column::RestrictedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    let people = active
        .into_iter()
        .map(|(user, department)| (user, department.map(DepartmentId::from_uuid)));
    if targets.is_empty() {
        return Ok(people.collect());
    }
    let edges: Vec<(DepartmentId, Option<DepartmentId>)> = tenant
        .select::<departments::Entity>()
        .all(conn)
        .await?
        .into_iter()
        .map(|d| {
            (
                DepartmentId::from_uuid(d.id),
                d.parent_id.map(DepartmentId::from_uuid),
            )
        })
        .collect();
    let reach = crate::platform::tree::subtree(edges, targets);
    Ok(people
        .filter(|(_, department)| department.is_some_and(|d| reach.contains(&d)))
        .collect())
}

/// A survey's rounds, newest first.
pub async fn of_survey(tenant: &TenantDb, survey: SurveyId) -> Result<Vec<Round>> {
    let txn = tenant.begin_read().await?;
    let rows = tenant
        .select::<rounds::Entity>()
        .filter(rounds::Column::SurveyId.eq(survey))
        .order_by_desc(rounds::Column::Number)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(rows.into_iter().map(Round::from).collect())
}

pub(crate) async fn find(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    round: RoundId,
) -> Result<rounds::Model> {
    tenant
        .select::<rounds::Entity>()
        .filter(rounds::Column::Id.eq(round))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Who to email about an opened round: address, name, the survey's title and when it closes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub email: crate::platform::crypto::Personal,
    pub name: crate::platform::crypto::Personal,
}

/// The people an opened round asks, with their addresses opened for the invitation email.
pub(crate) async fn recipients(
    db: &Database,
    opened: &Mailing,
) -> Result<(String, DateTime<Utc>, Vec<Recipient>)> {
    let active = users::Status::Active;
    let tenant = TenantDb::for_system(db, opened.workplace, "check-in emails");
    let txn = tenant.begin_read().await?;
    let round = find(&tenant, &txn, opened.round).await?;
    let title = tenant
        .select::<surveys::Entity>()
        .filter(surveys::Column::Id.eq(round.survey_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?
        .title;
    let keys = tenant.data_keys_in(&txn).await?;
    let mut out = Vec::new();
    for chunk in opened.participants.chunks(500) {
        for row in tenant
            .select::<users::Entity>()
            .filter(users::Column::Id.is_in(chunk.iter().copied()))
            .all(&txn)
            .await?
        {
            // Someone suspended since the round opened is not emailed.
            if row.status != active {
                continue;
            }
            let opened = crate::platform::user_fields::open_with(&keys, &row)?;
            out.push(Recipient {
                email: opened.email,
                name: opened.name,
            });
        }
    }
    txn.commit().await?;
    Ok((title, round.closes_at, out))
}

/// Which email a mailing sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A round has opened.
    Invitation,
    /// A round closes soon and the person has not answered yet.
    Reminder,
}

/// Queues an email for everyone in `mailing` with a link straight to the round's form; returns
/// how many were queued. The mail queue's sender delivers them; nobody waits on the mail server.
pub async fn notify(
    db: &Database,
    mail: &crate::platform::mail_queue::MailQueue,
    public_url: &str,
    mailing: &Mailing,
    notice: Notice,
    now: DateTime<Utc>,
) -> usize {
    use crate::platform::mail_queue::MailKind;
    let (title, closes_at, recipients) = match recipients(db, mailing).await {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(code = err.code(), error = %err, round = %mailing.round, "check-in emails not queued");
            return 0;
        }
    };
    let link = format!("{}/check-ins/{}", public_url.trim_end_matches('/'), mailing.round);
    let closes = closes_at.format("%A %-d %B, %H:%M UTC").to_string();
    type Message = fn(&str, &str, &str, &str, &str) -> crate::platform::mail::Mail;
    let (kind, message): (MailKind, Message) = match notice {
        Notice::Invitation => (MailKind::CheckIn, crate::surveys::messages::check_in),
        Notice::Reminder => (
            MailKind::CheckInReminder,
            crate::surveys::messages::check_in_reminder,
        ),
    };
    let mails = recipients
        .iter()
        .map(|r| message(r.email.expose(), r.name.expose(), &title, &closes, &link))
        .collect();
    match mail.enqueue_all(Some(mailing.workplace), kind, mails, now).await {
        Ok(queued) => queued,
        Err(err) => {
            tracing::error!(code = err.code(), error = %err, round = %mailing.round, "check-in emails not queued");
            0
        }
    }
}

/// [`notify`] in a task of its own, so the request that opened or reminded the round answers
/// without waiting for the queueing (a few hundred milliseconds for 10,000 people). What happens
/// is logged by [`notify`].
pub fn notify_in_background(
    db: &Database,
    mail: &crate::platform::mail_queue::MailQueue,
    public_url: &str,
    mailing: Mailing,
    notice: Notice,
    now: DateTime<Utc>,
) {
    use tracing::Instrument;
    let (db, mail, public_url) = (db.clone(), mail.clone(), public_url.to_owned());
    tokio::spawn(
        async move {
            notify(&db, &mail, &public_url, &mailing, notice, now).await;
        }
        .in_current_span(),
    );
}

/// When an open round reminds those who have not answered: a day before it closes, or halfway
/// through a window of less than two days.
pub fn reminder_due_at(opens_at: DateTime<Utc>, closes_at: DateTime<Utc>) -> DateTime<Utc> {
    closes_at - std::cmp::min(Duration::hours(24), (closes_at - opens_at) / 2)
}

/// How long after one reminder the next may be sent by hand.
pub const REMINDER_GAP: Duration = Duration::hours(12);

/// Marks the round reminded (if it is open and, by hand, was not reminded within
/// [`REMINDER_GAP`]) and returns who has not answered. The one conditional update decides, so
/// two processes (or two clicks) never send the same reminder twice.
async fn claim_reminder(
    tenant: &TenantDb,
    round: RoundId,
    by_hand: bool,
    now: DateTime<Utc>,
) -> Result<Option<Mailing>> {
    use sea_orm::sea_query::Condition;
    let txn = tenant.begin().await?;
    let not_reminded = if by_hand {
        Condition::any()
            .add(rounds::Column::RemindedAt.is_null())
            .add(rounds::Column::RemindedAt.lte(now - REMINDER_GAP))
    } else {
        Condition::all().add(rounds::Column::RemindedAt.is_null())
    };
    let claimed = tenant
        .update_many::<rounds::Entity>()
        .col_expr(
            rounds::Column::RemindedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .filter(rounds::Column::WorkplaceId.eq(tenant.workplace_id().uuid()))
        .filter(rounds::Column::Id.eq(round))
        .filter(rounds::Column::ClosedAt.is_null())
        .filter(rounds::Column::OpensAt.lte(now))
        .filter(rounds::Column::ClosesAt.gt(now))
        .filter(not_reminded)
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    let waiting: Vec<uuid::Uuid> = tenant
        .select::<round_participants::Entity>()
        .select_only()
        .column(round_participants::Column::UserId)
        .filter(round_participants::Column::RoundId.eq(round))
        .filter(round_participants::Column::Answered.eq(false))
        .into_tuple()
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some(Mailing {
        workplace: tenant.workplace_id(),
        round,
        participants: waiting,
    }))
}

/// Every open round, in every workplace, whose reminder is due and not yet sent.
pub async fn reminders_due(db: &Database, now: DateTime<Utc>) -> Result<Vec<Mailing>> {
    // A system job across workplaces: which rounds are open is read outside any workplace.
    let open = rounds::Entity::find()
        .filter(rounds::Column::ClosedAt.is_null())
        .filter(rounds::Column::RemindedAt.is_null())
        .filter(rounds::Column::OpensAt.lte(now))
        .filter(rounds::Column::ClosesAt.gt(now))
        .all(db.connection())
        .await?;
    let mut due = Vec::new();
    for row in open {
        if reminder_due_at(row.opens_at, row.closes_at) > now {
            continue;
        }
        let tenant = TenantDb::for_system(db, WorkplaceId::from_uuid(row.workplace_id), "check-in reminders");
        if let Some(mailing) = claim_reminder(&tenant, row.id, false, now).await? {
            due.push(mailing);
        }
    }
    Ok(due)
}

/// Reminds, now, everyone an open round asked who has not answered (people with `surveys`).
/// Refused for a round that is not open, or that was reminded within [`REMINDER_GAP`].
pub async fn remind_now(tenant: &TenantDb, round: RoundId, now: DateTime<Utc>) -> Result<Mailing> {
    use crate::platform::policy::{Action, Resource};
    tenant.require(Action::ManageSurveys, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let row = find(tenant, &txn, round).await?;
    txn.commit().await?;
    if !Round::from(row).is_open(now) {
        return Err(Error::Conflict("This round is not open.".into()));
    }
    claim_reminder(tenant, round, true, now).await?.ok_or_else(|| {
        Error::Conflict(format!(
            "A reminder for this round went out less than {} hours ago.",
            REMINDER_GAP.num_hours()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .unwrap_or_default()
    }

    #[test]
    fn reminders_go_out_a_day_before_closing_or_halfway() {
        let cases = [
            (
                "2026-11-23T09:00:00Z",
                "2026-11-26T09:00:00Z",
                "2026-11-25T09:00:00Z",
            ),
            (
                "2026-11-23T09:00:00Z",
                "2026-11-25T09:00:00Z",
                "2026-11-24T09:00:00Z",
            ),
            (
                "2026-11-23T09:00:00Z",
                "2026-11-24T09:00:00Z",
                "2026-11-23T21:00:00Z",
            ),
            (
                "2026-11-23T09:00:00Z",
                "2026-12-07T09:00:00Z",
                "2026-12-06T09:00:00Z",
            ),
        ];
        for (opens, closes, due) in cases {
            assert_eq!(
                reminder_due_at(at(opens), at(closes)),
                at(due),
                "{opens} → {closes}"
            );
        }
    }
}
