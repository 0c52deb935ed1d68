//! Pulse surveys: what is asked (questions from the built-in library or written by the
//! workplace), of whom (departments and everything below them, or everyone), and how often.
//! Rounds, answering and results live in the submodules.

pub mod answering;
pub mod benchmarks;
pub mod closing;
pub mod comments;
pub mod conversations;
pub mod guard;
pub mod library;
pub mod messages;
pub mod release;
pub mod replies;
pub mod results;
pub mod rounds;
pub mod submissions;
pub mod suppression;
pub(crate) mod tallies;
pub mod tenure;
pub(crate) mod tree;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, Set};

use crate::{
    platform::{
        entities::{
            departments, survey_questions, survey_questions::Kind as StoredKind, survey_targets, surveys,
        },
        ids::DepartmentId,
        policy::{Action, Resource},
        tenant::TenantDb,
    },
    Error, Result,
};

/// Results are shown for groups of at least this many respondents unless a workplace decides
/// otherwise (within [`MINIMUM_GROUP_SIZES`]).
pub const DEFAULT_MINIMUM_GROUP_SIZE: i32 = crate::platform::entities::workplaces::DEFAULT_MINIMUM_GROUP_SIZE;
pub const MINIMUM_GROUP_SIZES: std::ops::RangeInclusive<i32> = 3..=10;
pub const MAX_QUESTIONS: usize = 30;
pub const MAX_PROMPT: usize = 300;
pub const MAX_TITLE: usize = 120;
pub const MAX_CHOICES: usize = 10;

/// A survey's id.
pub type SurveyId = uuid::Uuid;
pub type QuestionId = uuid::Uuid;

/// What a question asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuestionKind {
    /// 1 to 5, with words for the two ends.
    Scale { low: String, high: String },
    /// "How likely are you to recommend…", 0 to 10.
    Enps,
    /// One of a few options (stored as the option's index).
    Choice { options: Vec<String> },
    /// Words only.
    Text,
}

impl QuestionKind {
    pub fn key(&self) -> &'static str {
        match self {
            QuestionKind::Scale { .. } => "scale",
            QuestionKind::Enps => "enps",
            QuestionKind::Choice { .. } => "choice",
            QuestionKind::Text => "text",
        }
    }

    /// The kind as its row stores it (labels and options go in their own columns).
    fn stored(&self) -> StoredKind {
        match self {
            QuestionKind::Scale { .. } => StoredKind::Scale,
            QuestionKind::Enps => StoredKind::Enps,
            QuestionKind::Choice { .. } => StoredKind::Choice,
            QuestionKind::Text => StoredKind::Text,
        }
    }

    /// The values an answer may take; None for text.
    pub fn values(&self) -> Option<std::ops::RangeInclusive<i32>> {
        match self {
            QuestionKind::Scale { .. } => Some(1..=5),
            QuestionKind::Enps => Some(0..=10),
            QuestionKind::Choice { options } => {
                Some(0..=i32::try_from(options.len()).unwrap_or(1).saturating_sub(1))
            }
            QuestionKind::Text => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub id: QuestionId,
    pub prompt: String,
    pub kind: QuestionKind,
    /// The built-in question this is, for benchmarks.
    pub library_key: Option<String>,
}

/// How often a survey runs (stored through the entity's derive).
pub use crate::platform::entities::surveys::Cadence;

impl Cadence {
    pub const ALL: [Cadence; 4] = [
        Cadence::Once,
        Cadence::Weekly,
        Cadence::Fortnightly,
        Cadence::Monthly,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Cadence::Once => "once",
            Cadence::Weekly => "weekly",
            Cadence::Fortnightly => "fortnightly",
            Cadence::Monthly => "monthly",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }

    /// The next round's opening after one that opened at `opened`.
    pub fn next_after(self, opened: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Cadence::Once => None,
            Cadence::Weekly => Some(opened + Duration::days(7)),
            Cadence::Fortnightly => Some(opened + Duration::days(14)),
            Cadence::Monthly => opened.checked_add_months(chrono::Months::new(1)),
        }
    }

    /// The longest response window: a round closes before the next one opens.
    fn max_window_days(self) -> i32 {
        match self {
            Cadence::Once => 14,
            Cadence::Weekly => 6,
            Cadence::Fortnightly => 13,
            Cadence::Monthly => 14,
        }
    }
}

/// Where a survey stands (stored through the entity's derive).
pub use crate::platform::entities::surveys::Status as SurveyStatus;

impl SurveyStatus {
    pub fn key(self) -> &'static str {
        match self {
            SurveyStatus::Active => "active",
            SurveyStatus::Paused => "paused",
            SurveyStatus::Closed => "closed",
        }
    }
}

/// A question as an HR admin writes it (or picks from the library).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewQuestion {
    pub prompt: String,
    pub kind: QuestionKind,
    pub library_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSurvey {
    pub title: String,
    pub questions: Vec<NewQuestion>,
    /// These departments and everything below them; empty: the whole workplace.
    pub departments: Vec<DepartmentId>,
    pub cadence: Cadence,
    pub first_round_at: DateTime<Utc>,
    /// Days each round stays open.
    pub window_days: i32,
}

/// A survey as its list and page show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    pub id: SurveyId,
    pub title: String,
    pub status: SurveyStatus,
    pub cadence: Cadence,
    pub window_days: i32,
    pub next_round_at: Option<DateTime<Utc>>,
    pub departments: Vec<DepartmentId>,
    pub questions: Vec<Question>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        reason: reason.into(),
    }
}

fn validate_question(question: NewQuestion) -> Result<NewQuestion> {
    if let Some(key) = &question.library_key {
        // A library question is asked exactly as worded there, so workplaces can be compared.
        let known = library::find(key).ok_or_else(|| invalid("question", "is not in the library"))?;
        return Ok(NewQuestion {
            prompt: known.prompt.into(),
            kind: known.kind(),
            library_key: Some(known.key.into()),
        });
    }
    let prompt = crate::platform::text::one_line(&question.prompt, "question", MAX_PROMPT)?;
    let kind = match question.kind {
        QuestionKind::Scale { low, high } => QuestionKind::Scale {
            low: crate::platform::text::one_line(&low, "scale label", 60)?,
            high: crate::platform::text::one_line(&high, "scale label", 60)?,
        },
        QuestionKind::Choice { options } => {
            if !(2..=MAX_CHOICES).contains(&options.len()) {
                return Err(invalid(
                    "options",
                    format!("a choice question needs 2 to {MAX_CHOICES} options"),
                ));
            }
            let options = options
                .iter()
                .map(|option| crate::platform::text::one_line(option, "option", 60))
                .collect::<Result<Vec<_>>>()?;
            let mut unique = options.clone();
            unique.sort();
            unique.dedup();
            if unique.len() != options.len() {
                return Err(invalid("options", "must differ from each other"));
            }
            QuestionKind::Choice { options }
        }
        other => other,
    };
    Ok(NewQuestion {
        prompt,
        kind,
        library_key: None,
    })
}

/// A survey just created, and the round it opened when it starts now: the people to tell.
#[derive(Clone, Debug)]
pub struct Created {
    pub id: SurveyId,
    /// The first round, when it opened at once; its invitations are the caller's to send.
    pub opened: Option<rounds::Mailing>,
}

/// Creates a survey (see [`create`]) and, when it starts now, opens its first round at once
/// rather than on the scheduler's next tick. Only this survey's round opens: other surveys
/// (other workplaces' above all) wait for the scheduler.
pub async fn create_and_open(tenant: &TenantDb, new: NewSurvey, now: DateTime<Utc>) -> Result<Created> {
    let starts_now = new.first_round_at <= now;
    let id = create(tenant, new, now).await?;
    let opened = if starts_now {
        rounds::open_next(tenant, id, now).await?
    } else {
        None
    };
    Ok(Created { id, opened })
}

/// Creates a survey; its first round opens at `first_round_at` (now, or later).
pub async fn create(tenant: &TenantDb, new: NewSurvey, now: DateTime<Utc>) -> Result<SurveyId> {
    let identity = tenant.person()?;
    tenant.require(Action::ManageSurveys, Resource::Workplace)?;
    let title = crate::platform::text::one_line(&new.title, "title", MAX_TITLE)?;
    if new.questions.is_empty() {
        return Err(invalid("questions", "add at least one question"));
    }
    if new.questions.len() > MAX_QUESTIONS {
        return Err(invalid(
            "questions",
            format!("at most {MAX_QUESTIONS} per survey"),
        ));
    }
    let questions = new
        .questions
        .into_iter()
        .map(validate_question)
        .collect::<Result<Vec<_>>>()?;
    // A few minutes of slack for a form filled in slowly.
    if new.first_round_at < now - Duration::minutes(5) {
        return Err(invalid("start", "is in the past"));
    }
    if new.first_round_at > now + Duration::days(366) {
        return Err(invalid("start", "is more than a year away"));
    }
    let max_window = new.cadence.max_window_days();
    if !(1..=max_window).contains(&new.window_days) {
        return Err(invalid(
            "response window",
            format!("must be 1 to {max_window} days for this schedule"),
        ));
    }
    let txn = tenant.begin().await?;
    let mut targets = new.departments;
    targets.sort();
    targets.dedup();
    if !targets.is_empty() {
        let found = tenant
            .select::<departments::Entity>()
            .filter(departments::Column::Id.is_in(targets.iter().map(|d| d.uuid())))
            .filter(departments::Column::ArchivedAt.is_null())
            .all(&txn)
            .await?;
        if found.len() != targets.len() {
            return Err(Error::NotFound);
        }
    }
    let id = uuid::Uuid::new_v4();
    let workplace_id = tenant.workplace_id().uuid();
    surveys::ActiveModel {
        id: Set(id),
        workplace_id: Set(workplace_id),
        title: Set(title),
        status: Set(SurveyStatus::Active),
        cadence: Set(new.cadence),
        window_days: Set(new.window_days),
        first_round_at: Set(new.first_round_at),
        next_round_at: Set(Some(new.first_round_at.max(now))),
        created_by: Set(Some(identity.user_id.uuid())),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    for department in targets {
        survey_targets::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            workplace_id: Set(workplace_id),
            survey_id: Set(id),
            department_id: Set(department.uuid()),
        }
        .insert(&txn)
        .await?;
    }
    for (position, question) in questions.into_iter().enumerate() {
        let (choices, low, high) = match &question.kind {
            QuestionKind::Scale { low, high } => (None, Some(low.clone()), Some(high.clone())),
            QuestionKind::Choice { options } => (
                Some(serde_json::to_string(options).map_err(|err| Error::Internal(err.to_string()))?),
                None,
                None,
            ),
            QuestionKind::Enps | QuestionKind::Text => (None, None, None),
        };
        survey_questions::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            workplace_id: Set(workplace_id),
            survey_id: Set(id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            kind: Set(question.kind.stored()),
            prompt: Set(question.prompt),
            library_key: Set(question.library_key),
            choices: Set(choices),
            low_label: Set(low),
            high_label: Set(high),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(id)
}

fn question_from_row(row: survey_questions::Model) -> Result<Question> {
    let kind = match row.kind {
        StoredKind::Scale => QuestionKind::Scale {
            low: row.low_label.unwrap_or_default(),
            high: row.high_label.unwrap_or_default(),
        },
        StoredKind::Enps => QuestionKind::Enps,
        StoredKind::Choice => QuestionKind::Choice {
            options: serde_json::from_str(row.choices.as_deref().unwrap_or("[]"))
                .map_err(|err| Error::Internal(format!("question {}: {err}", row.id)))?,
        },
        StoredKind::Text => QuestionKind::Text,
    };
    Ok(Question {
        id: row.id,
        prompt: row.prompt,
        kind,
        library_key: row.library_key,
    })
}

/// A survey's questions in order.
pub(crate) async fn questions_in(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    survey: SurveyId,
) -> Result<Vec<Question>> {
    tenant
        .select::<survey_questions::Entity>()
        .filter(survey_questions::Column::SurveyId.eq(survey))
        .order_by_asc(survey_questions::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(question_from_row)
        .collect()
}

async fn load(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    row: surveys::Model,
) -> Result<Survey> {
    let departments = tenant
        .select::<survey_targets::Entity>()
        .filter(survey_targets::Column::SurveyId.eq(row.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| DepartmentId::from_uuid(t.department_id))
        .collect();
    Ok(Survey {
        id: row.id,
        questions: questions_in(tenant, conn, row.id).await?,
        title: row.title,
        status: row.status,
        cadence: row.cadence,
        window_days: row.window_days,
        next_round_at: row.next_round_at,
        departments,
    })
}

/// Every survey of the workplace, newest first.
pub async fn list(tenant: &TenantDb) -> Result<Vec<Survey>> {
    tenant.require(Action::ManageSurveys, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let rows = tenant
        .select::<surveys::Entity>()
        .order_by_desc(surveys::Column::CreatedAt)
        .all(&txn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(load(tenant, &txn, row).await?);
    }
    txn.commit().await?;
    Ok(out)
}

/// Pauses (no new rounds), resumes or closes a survey for good. Rounds already open run to
/// their end.
pub async fn set_status(
    tenant: &TenantDb,
    survey: SurveyId,
    status: SurveyStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    tenant.touch(crate::platform::audit::EntityType::Survey, [survey]);
    tenant.require(Action::ManageSurveys, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let row = tenant
        .select::<surveys::Entity>()
        .filter(surveys::Column::Id.eq(survey))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    if row.status == SurveyStatus::Closed {
        return Err(Error::Conflict("This survey is closed for good.".into()));
    }
    let cadence = row.cadence;
    let mut changed: surveys::ActiveModel = row.clone().into();
    changed.status = Set(status);
    if status == SurveyStatus::Active {
        // Resuming: the next round follows the schedule from now on, never one in the past.
        let mut next = row.next_round_at;
        while let Some(at) = next.filter(|at| *at < now) {
            next = Some(cadence.next_after(at).unwrap_or(now));
            if next == Some(now) {
                break;
            }
        }
        changed.next_round_at = Set(next);
    }
    if status == SurveyStatus::Closed {
        changed.next_round_at = Set(None);
    }
    changed.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Every survey's title by id.
pub(crate) async fn titles(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<std::collections::BTreeMap<SurveyId, String>> {
    Ok(tenant
        .select::<surveys::Entity>()
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.title))
        .collect())
}

/// The workplace's minimum group sizes for results and comments.
pub(crate) async fn minimum_group_sizes(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<(u32, u32)> {
    use sea_orm::EntityTrait;
    let row = crate::platform::entities::workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let clamp = |value: i32| {
        u32::try_from(value.clamp(*MINIMUM_GROUP_SIZES.start(), *MINIMUM_GROUP_SIZES.end())).unwrap_or(5)
    };
    let results = clamp(row.minimum_group_size);
    Ok((results, clamp(row.comment_minimum_group_size).max(results)))
}

/// The workplace's minimum group size for results, as people are told on the form.
pub async fn minimum_group_size(tenant: &TenantDb) -> Result<u32> {
    let txn = tenant.begin_read().await?;
    let (results, _) = minimum_group_sizes(tenant, &txn).await?;
    txn.commit().await?;
    Ok(results)
}

/// The minimum group sizes a workplace has set: for figures, and for comments (never lower).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupSizes {
    pub results: i32,
    pub comments: i32,
}

pub async fn group_sizes(tenant: &TenantDb) -> Result<GroupSizes> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let (results, comments) = minimum_group_sizes(tenant, &txn).await?;
    txn.commit().await?;
    Ok(GroupSizes {
        results: i32::try_from(results).unwrap_or(DEFAULT_MINIMUM_GROUP_SIZE),
        comments: i32::try_from(comments).unwrap_or(DEFAULT_MINIMUM_GROUP_SIZE),
    })
}

/// Sets the minimum group sizes: 3 to 10, comments at least the figures' minimum. A change
/// applies to rounds that close afterwards: a closed round keeps what it released.
pub async fn set_group_sizes(tenant: &TenantDb, sizes: GroupSizes) -> Result<()> {
    use sea_orm::EntityTrait;
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let range = MINIMUM_GROUP_SIZES;
    if !range.contains(&sizes.results) {
        return Err(invalid(
            "minimum group size",
            format!("must be between {} and {}", range.start(), range.end()),
        ));
    }
    if !range.contains(&sizes.comments) || sizes.comments < sizes.results {
        return Err(invalid(
            "minimum group size for comments",
            format!(
                "must be between {} and {}, and not below the minimum for figures",
                range.start(),
                range.end()
            ),
        ));
    }
    let txn = tenant.begin().await?;
    let row = crate::platform::entities::workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut changed: crate::platform::entities::workplaces::ActiveModel = row.into();
    changed.minimum_group_size = Set(sizes.results);
    changed.comment_minimum_group_size = Set(sizes.comments);
    changed.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_stored_statuses_cadences_and_kinds_are_errors_not_defaults() {
        use sea_orm::ActiveEnum;
        for status in [SurveyStatus::Active, SurveyStatus::Paused, SurveyStatus::Closed] {
            assert_eq!(
                SurveyStatus::try_from_value(&status.key().to_owned()).unwrap(),
                status
            );
        }
        for cadence in Cadence::ALL {
            assert_eq!(
                Cadence::try_from_value(&cadence.key().to_owned()).unwrap(),
                cadence
            );
        }
        let kinds = [
            QuestionKind::Scale {
                low: String::new(),
                high: String::new(),
            },
            QuestionKind::Enps,
            QuestionKind::Choice { options: Vec::new() },
            QuestionKind::Text,
        ];
        for kind in kinds {
            assert_eq!(
                StoredKind::try_from_value(&kind.key().to_owned()).unwrap(),
                kind.stored()
            );
        }
        assert!(SurveyStatus::try_from_value(&"archived".to_owned()).is_err());
        assert!(Cadence::try_from_value(&"hourly".to_owned()).is_err());
        assert!(StoredKind::try_from_value(&"slider".to_owned()).is_err());
    }
}
