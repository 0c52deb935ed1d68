//! Survey server functions: defining pulses (the `surveys` permission), answering check-ins
//! (everyone asked), and reading results (the `results` permission, within each person's reach).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryEntry {
    pub key: String,
    pub topic: String,
    pub prompt: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundSummary {
    pub id: String,
    pub number: i32,
    pub survey_title: String,
    pub opens: String,
    pub closes: String,
    pub open: bool,
    /// (asked, answered); None for people who see only some departments.
    pub counts: Option<(u32, u32)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveySummary {
    pub id: String,
    pub title: String,
    pub status: String,
    pub schedule: String,
    pub audience: String,
    pub next_round: Option<String>,
    pub questions: Vec<String>,
    pub rounds: Vec<RoundSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveysOverview {
    pub surveys: Vec<SurveySummary>,
    pub library: Vec<LibraryEntry>,
    /// Active departments for targeting, in tree order with indented labels.
    pub departments: Vec<crate::api::people::Choice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionView {
    pub id: String,
    pub prompt: String,
    /// `scale`, `enps`, `choice` or `text`.
    pub kind: String,
    /// For a scale: the two ends' labels; for a choice: the options.
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInView {
    pub round: String,
    pub title: String,
    pub closes: String,
    pub questions: Vec<QuestionView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInsOverview {
    pub open: Vec<CheckInView>,
    /// How many check-ins this person has answered so far.
    pub answered: usize,
    /// Results are shown only for groups with at least this many answers.
    pub minimum: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerInput {
    pub question: String,
    pub value: Option<i32>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionFigures {
    pub prompt: String,
    pub kind: String,
    pub mean: Option<f64>,
    pub enps: Option<i32>,
    /// (value label, count).
    pub distribution: Vec<(String, u32)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupFigures {
    pub name: String,
    pub depth: usize,
    /// None: not enough responses to show anything.
    pub respondents: Option<u32>,
    pub asked: Option<u32>,
    pub questions: Vec<QuestionFigures>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsView {
    pub title: String,
    pub round_number: i32,
    pub opens: String,
    pub closes: String,
    pub minimum: u32,
    pub groups: Vec<GroupFigures>,
    pub comments: Vec<(String, String)>,
}

#[cfg(feature = "ssr")]
fn day(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%a %-d %b %Y, %H:%M UTC").to_string()
}

#[cfg(feature = "ssr")]
fn parse_id(text: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(text).map_err(|_| domain::Error::NotFound.into())
}

#[cfg(feature = "ssr")]
fn question_view(question: &domain::surveys::Question) -> QuestionView {
    use domain::surveys::QuestionKind;
    let labels = match &question.kind {
        QuestionKind::Scale { low, high } => vec![low.clone(), high.clone()],
        QuestionKind::Choice { options } => options.clone(),
        QuestionKind::Enps => vec!["Not at all likely".into(), "Extremely likely".into()],
        QuestionKind::Text => Vec::new(),
    };
    QuestionView {
        id: question.id.to_string(),
        prompt: question.prompt.clone(),
        kind: question.kind.key().to_owned(),
        labels,
    }
}

/// The workplace's surveys with their rounds, the question library and the departments.
#[server(prefix = "/api", endpoint = "surveys/list")]
pub async fn surveys_page() -> Result<SurveysOverview, ApiError> {
    use domain::surveys::{self, library, results, Cadence, SurveyStatus};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let list = surveys::list(&tenant, &who).await?;
    let departments = domain::departments::list(&tenant).await?;
    use domain::policy::{allows, Action, Resource};
    let listings = if allows(&who, Action::ListResults, Resource::Workplace) {
        results::rounds_with_results(&tenant, &who).await?
    } else {
        Vec::new()
    };
    let now = state.clock.now();
    let surveys = list
        .into_iter()
        .map(|survey| {
            let audience = if survey.departments.is_empty() {
                "Everyone".to_owned()
            } else {
                survey
                    .departments
                    .iter()
                    .filter_map(|d| departments.iter().find(|x| x.id == *d).map(|x| x.name.clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let schedule = match survey.cadence {
                Cadence::Once => "Once".to_owned(),
                Cadence::Weekly => "Every week".to_owned(),
                Cadence::Fortnightly => "Every two weeks".to_owned(),
                Cadence::Monthly => "Every month".to_owned(),
            } + &format!(", open {} days", survey.window_days);
            SurveySummary {
                id: survey.id.to_string(),
                title: survey.title.clone(),
                status: match survey.status {
                    SurveyStatus::Active => "Active",
                    SurveyStatus::Paused => "Paused",
                    SurveyStatus::Closed => "Closed",
                }
                .to_owned(),
                schedule,
                audience,
                next_round: survey.next_round_at.map(day),
                questions: survey.questions.iter().map(|q| q.prompt.clone()).collect(),
                rounds: listings
                    .iter()
                    .filter(|l| l.round.survey == survey.id)
                    .map(|l| round_summary(l, now))
                    .collect(),
            }
        })
        .collect();
    Ok(SurveysOverview {
        surveys,
        library: library::QUESTIONS
            .iter()
            .map(|q| LibraryEntry {
                key: q.key.to_owned(),
                topic: q.topic.to_owned(),
                prompt: q.prompt.to_owned(),
            })
            .collect(),
        departments: crate::api::people::support::department_choices(&departments),
    })
}

#[cfg(feature = "ssr")]
fn round_summary(
    listing: &domain::surveys::results::RoundListing,
    now: chrono::DateTime<chrono::Utc>,
) -> RoundSummary {
    RoundSummary {
        id: listing.round.id.to_string(),
        number: listing.round.number,
        survey_title: listing.title.clone(),
        opens: day(listing.round.opens_at),
        closes: day(listing.round.closes_at),
        open: listing.round.is_open(now),
        counts: listing.counts,
    }
}

/// Creates a pulse from library questions. `start` is `now` or a date (YYYY-MM-DD, 09:00 UTC).
#[server(prefix = "/api", endpoint = "surveys/create")]
pub async fn create_survey(
    title: String,
    #[server(default)] questions: Vec<String>,
    #[server(default)] departments: Vec<String>,
    cadence: String,
    start: String,
    window_days: i32,
) -> Result<String, ApiError> {
    use domain::surveys::{self, library, Cadence, NewQuestion, NewSurvey};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let now = state.clock.now();
    let cadence = Cadence::from_key(&cadence).ok_or(domain::Error::Invalid {
        field: "schedule",
        reason: "choose once, weekly, every two weeks or monthly".into(),
    })?;
    let first_round_at = if start.trim().is_empty() || start == "now" {
        now
    } else {
        chrono::NaiveDate::parse_from_str(start.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .map(|t| t.and_utc())
            .ok_or(domain::Error::Invalid {
                field: "start",
                reason: "is not a date".into(),
            })?
    };
    // Asked in the library's order (free text last), whatever order they were ticked in.
    let mut questions = questions;
    questions.sort_by_key(|key| library::QUESTIONS.iter().position(|q| q.key == key.as_str()));
    questions.dedup();
    let questions = questions
        .iter()
        .map(|key| {
            let known = library::find(key).ok_or(domain::Error::Invalid {
                field: "questions",
                reason: "one is not in the library".into(),
            })?;
            Ok(NewQuestion {
                prompt: known.prompt.into(),
                kind: known.kind(),
                library_key: Some(known.key.into()),
            })
        })
        .collect::<Result<Vec<_>, domain::Error>>()?;
    let departments = departments
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.parse())
        .collect::<Result<Vec<_>, _>>()?;
    let id = surveys::create(
        &tenant,
        &who,
        NewSurvey {
            title,
            questions,
            departments,
            cadence,
            first_round_at,
            window_days,
        },
        now,
    )
    .await?;
    // A pulse starting now opens its first round at once rather than on the next tick.
    if first_round_at <= now {
        for opened in surveys::rounds::open_due(&state.db, now).await? {
            surveys::rounds::notify(&state.db, &state.mailer, &state.public_url, &opened).await;
        }
    }
    Ok(id.to_string())
}

/// Pauses, resumes or closes a survey.
#[server(prefix = "/api", endpoint = "surveys/set_status")]
pub async fn set_survey_status(id: String, status: String) -> Result<(), ApiError> {
    use domain::surveys::{self, SurveyStatus};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let status = match status.as_str() {
        "active" => SurveyStatus::Active,
        "paused" => SurveyStatus::Paused,
        "closed" => SurveyStatus::Closed,
        _ => {
            return Err(domain::Error::Invalid {
                field: "status",
                reason: "must be active, paused or closed".into(),
            }
            .into())
        }
    };
    surveys::set_status(&tenant, &who, parse_id(&id)?, status, state.clock.now()).await?;
    Ok(())
}

/// The check-ins waiting for the signed-in person.
#[server(prefix = "/api", endpoint = "check_ins/mine")]
pub async fn my_check_ins() -> Result<CheckInsOverview, ApiError> {
    use domain::surveys::answering;
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let open = answering::open_check_ins(&tenant, &who, state.clock.now()).await?;
    let answered = answering::answered_rounds(&tenant, &who).await?.len();
    let minimum = domain::surveys::minimum_group_size(&tenant).await?;
    Ok(CheckInsOverview {
        minimum,
        open: open
            .into_iter()
            .map(|c| CheckInView {
                round: c.round.to_string(),
                title: c.title,
                closes: day(c.closes_at),
                questions: c.questions.iter().map(question_view).collect(),
            })
            .collect(),
        answered,
    })
}

/// Saves the signed-in person's answers to one check-in.
#[server(prefix = "/api", endpoint = "check_ins/submit", input = leptos::server_fn::codec::Json)]
pub async fn submit_check_in(round: String, answers: Vec<AnswerInput>) -> Result<(), ApiError> {
    use domain::surveys::answering::{self, GivenAnswer};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let round = parse_id(&round)?;
    let given = answers
        .into_iter()
        .map(|a| {
            Ok(GivenAnswer {
                question: uuid::Uuid::parse_str(&a.question).map_err(|_| domain::Error::Invalid {
                    field: "answers",
                    reason: "name a question of another check-in".into(),
                })?,
                value: a.value,
                comment: a.comment,
            })
        })
        .collect::<Result<Vec<_>, domain::Error>>()?;
    answering::submit(&tenant, &who, round, given, state.clock.now()).await?;
    Ok(())
}

/// Rounds whose results the person may open.
#[server(prefix = "/api", endpoint = "results/rounds")]
pub async fn result_rounds() -> Result<Vec<RoundSummary>, ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let now = state.clock.now();
    Ok(domain::surveys::results::rounds_with_results(&tenant, &who)
        .await?
        .iter()
        .map(|l| round_summary(l, now))
        .collect())
}

/// One round's results and comments, within the person's reach.
#[server(prefix = "/api", endpoint = "results/round")]
pub async fn round_results(round: String) -> Result<ResultsView, ApiError> {
    use domain::surveys::{results, QuestionKind};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let round = parse_id(&round)?;
    let figures = results::round_results(&tenant, &who, round).await?;
    let comments = results::round_comments(&tenant, &who, round).await?;
    Ok(ResultsView {
        title: figures.title,
        round_number: figures.round.number,
        opens: day(figures.round.opens_at),
        closes: day(figures.round.closes_at),
        minimum: figures.minimum,
        groups: figures
            .groups
            .into_iter()
            .map(|g| GroupFigures {
                name: g.name,
                depth: g.depth,
                respondents: g.respondents,
                asked: g.asked,
                questions: g
                    .questions
                    .into_iter()
                    .map(|q| QuestionFigures {
                        prompt: q.prompt,
                        kind: q.kind.key().to_owned(),
                        mean: q.mean,
                        enps: q.enps,
                        distribution: q
                            .distribution
                            .into_iter()
                            .map(|(value, n)| {
                                let label = match &q.kind {
                                    QuestionKind::Choice { options } => usize::try_from(value)
                                        .ok()
                                        .and_then(|i| options.get(i).cloned())
                                        .unwrap_or_default(),
                                    _ => value.to_string(),
                                };
                                (label, n)
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        comments: comments.into_iter().map(|c| (c.question, c.text)).collect(),
    })
}
