//! Survey server functions: defining pulses (the `surveys` permission), answering check-ins
//! (everyone asked), and reading results (the `results` permission, within each person's reach).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ids::{CommentId, QuestionId, RoundId, SurveyId};
use crate::{
    error::ApiError,
    model::{Cadence, QuestionType, SurveyState},
};
#[cfg(feature = "ssr")]
use ssr::*;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryEntry {
    pub key: String,
    pub topic: String,
    pub prompt: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundSummary {
    pub id: RoundId,
    pub number: i32,
    pub survey_title: String,
    pub opens: String,
    pub closes: String,
    pub open: bool,
    /// "12 of 15 answered" (while open, in steps of the minimum group size: "at least 10 of 15
    /// answered"); None for people who see only some departments.
    pub participation: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveySummary {
    pub id: SurveyId,
    pub title: String,
    pub status: SurveyState,
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
    pub id: QuestionId,
    pub prompt: String,
    pub kind: QuestionType,
    /// For a scale: the two ends' labels; for a choice: the options.
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInView {
    pub round: RoundId,
    pub title: String,
    pub closes: String,
    pub questions: Vec<QuestionView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInsOverview {
    pub open: Vec<CheckInView>,
    /// How many check-ins this person has answered so far.
    pub answered: usize,
    /// Every round they were asked in, newest first: (survey and round, opened, answered).
    pub history: Vec<(String, String, bool)>,
    /// Results are shown only for groups with at least this many answers.
    pub minimum: u32,
    /// Where this browser keeps this person's comment secrets (one place per account, so
    /// someone else signing in on the same browser does not see them).
    pub storage_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub from_author: bool,
    pub text: String,
    pub day: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    pub secret: String,
    pub survey: String,
    pub round: i32,
    pub question: String,
    pub comment: String,
    pub messages: Vec<MessageView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerInput {
    pub question: QuestionId,
    pub value: Option<i32>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionFigures {
    pub prompt: String,
    pub kind: QuestionType,
    pub mean: Option<f64>,
    pub enps: Option<i32>,
    /// (value label, count).
    pub distribution: Vec<(String, u32)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupFigures {
    pub name: String,
    pub depth: usize,
    /// None: not enough responses to show anything (or the round is still open).
    pub respondents: Option<u32>,
    pub asked: Option<u32>,
    /// While the round is open: "At least 5" or "Fewer than 5" answered so far.
    pub progress: Option<String>,
    pub questions: Vec<QuestionFigures>,
}

/// A team (or the whole workplace) by time here: one row per tenure band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenureFigures {
    pub team: String,
    pub bands: Vec<GroupFigures>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentItem {
    pub id: CommentId,
    pub question: String,
    /// The team the comment is shown under (never smaller than the comment minimum).
    pub team: String,
    pub text: String,
    pub can_reply: bool,
    pub replies: Vec<MessageView>,
}

/// A choice of the comments' question or team filter: its value in a link, its label, and how
/// many comments it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentFilter {
    pub value: String,
    pub label: String,
    pub comments: u64,
}

/// One page of a round's comments for its reader, filtered by question and team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentsPage {
    /// The filters applied, as their link values (empty: all).
    pub question: String,
    pub team: String,
    pub questions: Vec<CommentFilter>,
    pub teams: Vec<CommentFilter>,
    /// Comments matching the filters, over all pages.
    pub matching: u64,
    /// The page shown, from 1, and how many there are.
    pub page: u64,
    pub pages: u64,
    pub per_page: u64,
    pub items: Vec<CommentItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsView {
    pub round: RoundId,
    pub title: String,
    pub round_number: i32,
    pub opens: String,
    pub closes: String,
    pub open: bool,
    /// When the round's results were released (it closed); None while it is open.
    pub released_on: Option<String>,
    pub minimum: u32,
    pub groups: Vec<GroupFigures>,
    /// The whole workplace and each team by time here, as far as the reader may see them.
    #[serde(default)]
    pub tenure: Vec<TenureFigures>,
    /// (question prompt, platform figure, workplaces) for built-in questions, when the
    /// workplace takes part in benchmarks and enough workplaces contribute.
    pub benchmarks: Vec<(String, f64, u32)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendGroup {
    pub name: String,
    pub depth: usize,
    /// Per question, per round: the mean (eNPS: the score); None where too few answered.
    pub points: Vec<Vec<Option<f64>>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendView {
    /// Round numbers, oldest first.
    pub rounds: Vec<i32>,
    /// (prompt, kind) of each charted question.
    pub questions: Vec<(String, QuestionType)>,
    pub groups: Vec<TrendGroup>,
}

/// A question an HR admin writes: a 1–5 scale with words for its ends, a single choice, or
/// free text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomQuestion {
    pub prompt: String,
    /// A scale, a single choice or free text (the builder offers no eNPS of its own).
    pub kind: QuestionType,
    #[serde(default)]
    pub low: String,
    #[serde(default)]
    pub high: String,
    #[serde(default)]
    pub options: Vec<String>,
}

/// The workplace's surveys with their rounds, the question library and the departments.
#[server(prefix = "/api", endpoint = "surveys/list")]
pub async fn surveys_page() -> Result<SurveysOverview, ApiError> {
    use domain::surveys::{self, library, results, Cadence, SurveyStatus};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let list = surveys::list(&tenant).await?;
    let departments = domain::organisation::departments::list(&tenant).await?;
    use domain::platform::policy::{allows, Action, Resource};
    let listings = if allows(&who, Action::ListResults, Resource::Workplace) {
        results::rounds_with_results(&tenant).await?
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
                id: survey.id.into(),
                title: survey.title.clone(),
                status: match survey.status {
                    SurveyStatus::Active => SurveyState::Active,
                    SurveyStatus::Paused => SurveyState::Paused,
                    SurveyStatus::Closed => SurveyState::Closed,
                },
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
        departments: crate::api::people::ssr::department_choices(&departments),
    })
}

/// Creates a pulse from library questions and the workplace's own. `start` is `now` or a date
/// (YYYY-MM-DD, 09:00 UTC).
#[server(prefix = "/api", endpoint = "surveys/create", input = leptos::server_fn::codec::Json)]
pub async fn create_survey(
    title: String,
    #[server(default)] questions: Vec<String>,
    #[server(default)] custom: Vec<CustomQuestion>,
    #[server(default)] departments: Vec<String>,
    cadence: Cadence,
    start: String,
    window_days: i32,
) -> Result<String, ApiError> {
    use domain::surveys::{self, library, NewQuestion, NewSurvey, QuestionKind};
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let now = state.clock.now();
    let cadence = match cadence {
        Cadence::Once => surveys::Cadence::Once,
        Cadence::Weekly => surveys::Cadence::Weekly,
        Cadence::Fortnightly => surveys::Cadence::Fortnightly,
        Cadence::Monthly => surveys::Cadence::Monthly,
    };
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
    let mut questions = questions;
    for question in custom {
        let kind = match question.kind {
            QuestionType::Scale => QuestionKind::Scale {
                low: question.low,
                high: question.high,
            },
            QuestionType::Choice => QuestionKind::Choice {
                options: question.options,
            },
            QuestionType::Text => QuestionKind::Text,
            QuestionType::Enps => {
                return Err(domain::Error::Invalid {
                    field: "question type",
                    reason: "choose a scale, a single choice or free text".into(),
                }
                .into())
            }
        };
        // Checked (prompt, labels, options) by the domain, like every question.
        questions.push(NewQuestion {
            prompt: question.prompt,
            kind,
            library_key: None,
        });
    }
    let departments = departments
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.parse())
        .collect::<Result<Vec<_>, _>>()?;
    let created = surveys::create_and_open(
        &tenant,
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
    if let Some(opened) = created.opened {
        surveys::rounds::notify_in_background(
            &state.db,
            &state.mail,
            &state.public_url,
            opened,
            surveys::rounds::Notice::Invitation,
            now,
        );
    }
    Ok(created.id.to_string())
}

/// Pauses, resumes or closes a survey.
#[server(prefix = "/api", endpoint = "surveys/set_status")]
pub async fn set_survey_status(id: SurveyId, status: SurveyState) -> Result<(), ApiError> {
    use domain::surveys::{self, SurveyStatus};
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let status = match status {
        SurveyState::Active => SurveyStatus::Active,
        SurveyState::Paused => SurveyStatus::Paused,
        SurveyState::Closed => SurveyStatus::Closed,
    };
    surveys::set_status(&tenant, id.parse()?, status, state.clock.now()).await?;
    Ok(())
}

/// The check-ins waiting for the signed-in person.
#[server(prefix = "/api", endpoint = "check_ins/mine")]
pub async fn my_check_ins() -> Result<CheckInsOverview, ApiError> {
    use domain::surveys::answering;
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let open = answering::open_check_ins(&tenant, state.clock.now()).await?;
    let history = answering::participation(&tenant).await?;
    let answered = history.iter().filter(|p| p.answered).count();
    let minimum = domain::surveys::minimum_group_size(&tenant).await?;
    Ok(CheckInsOverview {
        minimum,
        storage_key: format!("candor.comment-secrets.{}", who.user_id),
        open: open
            .into_iter()
            .map(|c| CheckInView {
                round: c.round.into(),
                title: c.title,
                closes: day(c.closes_at),
                questions: c.questions.iter().map(question_view).collect(),
            })
            .collect(),
        answered,
        history: history
            .into_iter()
            .map(|p| {
                (
                    format!("{} — round {}", p.title, p.number),
                    day(p.opens_at),
                    p.answered,
                )
            })
            .collect(),
    })
}

/// Saves the signed-in person's answers to one check-in; returns one secret per comment, for
/// the browser to keep (it opens the comment's replies).
#[server(prefix = "/api", endpoint = "check_ins/submit", input = leptos::server_fn::codec::Json)]
pub async fn submit_check_in(round: RoundId, answers: Vec<AnswerInput>) -> Result<Vec<String>, ApiError> {
    save_answers(round, answers).await
}

/// The check-in form as a browser posts it before its script has loaded, or without one: a
/// field `answers[q<question>]` per chosen value and `comments[q<question>]` per comment (the
/// letter keeps a key of digits only from being read as a list index). Saved as
/// [`submit_check_in`] saves (and logged as it is); the browser is then sent on with 303 See Other — to
/// the check-ins page, which thanks them, or back to the form with the refusal's code (the
/// access log records the refusal all the same). Comment secrets need the script to be kept,
/// so replies to these comments cannot be read in this browser.
#[server(prefix = "/api", endpoint = "check_ins/send")]
pub async fn send_check_in_form(
    round: RoundId,
    #[server(default)] answers: std::collections::BTreeMap<String, String>,
    #[server(default)] comments: std::collections::BTreeMap<String, String>,
) -> Result<(), ApiError> {
    // Only a round id that parses goes back into the address, in its canonical form.
    let form = match round.parse() {
        Ok(id) => format!("/check-ins/{id}"),
        Err(_) => "/check-ins".to_owned(),
    };
    let saved = match posted_answers(answers, comments) {
        Ok(given) => save_answers(round, given).await,
        Err(err) => Err(err),
    };
    let next = match saved {
        Ok(_) => "/check-ins?sent=1".to_owned(),
        Err(err) => format!("{form}?problem={}", err.code),
    };
    crate::state::see_other(&next);
    Ok(())
}

/// The replies to the comments whose secrets this browser holds.
#[server(prefix = "/api", endpoint = "check_ins/inbox", input = leptos::server_fn::codec::Json)]
pub async fn comment_inbox(secrets: Vec<String>) -> Result<Vec<ThreadView>, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let threads = domain::surveys::replies::inbox(&tenant, &secrets).await?;
    Ok(threads
        .into_iter()
        .map(|t| ThreadView {
            secret: t.secret,
            survey: t.survey,
            round: t.round,
            question: t.question,
            comment: t.comment,
            messages: message_views(t.messages),
        })
        .collect())
}

/// The author of a comment answers its replies, presenting the comment's secret.
#[server(prefix = "/api", endpoint = "check_ins/answer_reply", input = leptos::server_fn::codec::Json)]
pub async fn answer_reply(secret: String, text: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::surveys::replies::answer_back(&tenant, &secret, &text, state.clock.now()).await?;
    Ok(())
}

/// A reader of a comment (on its results page) replies to its anonymous author.
#[server(prefix = "/api", endpoint = "results/reply")]
pub async fn reply_to_comment(comment: CommentId, text: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::surveys::replies::reply(&tenant, comment.parse()?, &text, state.clock.now()).await?;
    Ok(())
}

/// Rounds whose results the person may open.
#[server(prefix = "/api", endpoint = "results/rounds")]
pub async fn result_rounds() -> Result<Vec<RoundSummary>, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let now = state.clock.now();
    Ok(domain::surveys::results::rounds_with_results(&tenant)
        .await?
        .iter()
        .map(|l| round_summary(l, now))
        .collect())
}

/// One round's results and comments, within the person's reach.
#[server(prefix = "/api", endpoint = "results/round")]
pub async fn round_results(round: RoundId) -> Result<ResultsView, ApiError> {
    use domain::surveys::results;
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let round = round.parse()?;
    let report = results::round_report(&tenant, round).await?;
    let figures = report.results;
    let prompts: std::collections::BTreeMap<uuid::Uuid, String> = figures
        .groups
        .iter()
        .flat_map(|g| g.questions.iter().map(|q| (q.question, q.prompt.clone())))
        .collect();
    let benchmarks = report
        .benchmarks
        .iter()
        .filter_map(|(question, b)| Some((prompts.get(question)?.clone(), b.value, b.workplaces)))
        .collect();
    Ok(ResultsView {
        round: round.into(),
        title: figures.title,
        round_number: figures.round.number,
        opens: day(figures.round.opens_at),
        closes: day(figures.round.closes_at),
        open: figures.round.is_open(state.clock.now()),
        released_on: figures.released_at.map(day),
        minimum: figures.minimum,
        groups: figures.groups.into_iter().map(group_figures).collect(),
        tenure: figures
            .tenure
            .into_iter()
            .map(|team| TenureFigures {
                team: team.team,
                bands: team.bands.into_iter().map(group_figures).collect(),
            })
            .collect(),
        benchmarks,
    })
}

/// One page of a round's comments within the person's reach: `question` and `team` narrow it
/// (empty: all), `page` counts from 1.
#[server(prefix = "/api", endpoint = "results/comments")]
pub async fn round_comments(
    round: RoundId,
    #[server(default)] question: Option<QuestionId>,
    #[server(default)] team: Option<String>,
    #[server(default)] page: Option<u64>,
) -> Result<CommentsPage, ApiError> {
    use domain::surveys::comments;
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let query = comments::CommentQuery {
        question: question.as_ref().and_then(question_filter),
        team: team.as_deref().and_then(team_filter),
        page: page.unwrap_or(1).saturating_sub(1),
    };
    let found = comments::page(&tenant, round.parse()?, &query).await?;
    Ok(CommentsPage {
        question: query.question.map(|q| q.to_string()).unwrap_or_default(),
        team: query.team.map(team_key).unwrap_or_default(),
        questions: found
            .questions
            .iter()
            .map(|q| CommentFilter {
                value: q.key.to_string(),
                label: q.label.clone(),
                comments: q.comments,
            })
            .collect(),
        teams: found
            .teams
            .iter()
            .map(|t| CommentFilter {
                value: team_key(t.key),
                label: t.label.clone(),
                comments: t.comments,
            })
            .collect(),
        matching: found.matching,
        page: found.page + 1,
        pages: found.pages(),
        per_page: comments::PER_PAGE,
        items: found
            .items
            .into_iter()
            .map(|c| CommentItem {
                id: c.id.into(),
                question: c.question,
                team: c.team,
                text: c.text,
                can_reply: c.can_reply,
                replies: message_views(c.replies),
            })
            .collect(),
    })
}

/// The trend of a round's survey up to that round, per team the person may see.
#[server(prefix = "/api", endpoint = "results/trend")]
pub async fn round_trend(round: RoundId) -> Result<TrendView, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let trend = domain::surveys::results::trend(&tenant, round.parse()?).await?;
    Ok(TrendView {
        rounds: trend.rounds,
        questions: trend
            .questions
            .into_iter()
            .map(|(_, prompt, kind)| (prompt, question_type(&kind)))
            .collect(),
        groups: trend
            .groups
            .into_iter()
            .map(|g| TrendGroup {
                name: g.name,
                depth: g.depth,
                points: g.points,
            })
            .collect(),
    })
}

/// A round's figures as CSV, exactly as the person sees them on the page (recorded as an
/// export).
#[server(prefix = "/api", endpoint = "results/export")]
pub async fn export_results(round: RoundId) -> Result<String, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let csv = domain::surveys::results::export_csv(&tenant, round.parse()?, state.clock.now()).await?;
    Ok(csv)
}

/// Ends an open round now: nobody can answer it any more, and its results are released.
#[server(prefix = "/api", endpoint = "surveys/close_round")]
pub async fn close_round(round: RoundId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::surveys::closing::close_now(&tenant, round.parse()?, state.clock.now()).await?;
    Ok(())
}

/// Emails a reminder now to everyone an open round asked who has not answered. It does not say
/// how many: that count, read before and after, would be the exact participation the open
/// round shows only in steps.
#[server(prefix = "/api", endpoint = "surveys/remind")]
pub async fn remind_round(round: RoundId) -> Result<(), ApiError> {
    use domain::surveys::rounds;
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let now = state.clock.now();
    let mailing = rounds::remind_now(&tenant, round.parse()?, now).await?;
    rounds::notify_in_background(
        &state.db,
        &state.mail,
        &state.public_url,
        mailing,
        rounds::Notice::Reminder,
        now,
    );
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    //! What this file's server functions share on the server only.

    use super::*;

    /// Saves answers from either form of the check-in; one secret per comment.
    pub(super) async fn save_answers(
        round: RoundId,
        answers: Vec<AnswerInput>,
    ) -> Result<Vec<String>, ApiError> {
        use domain::surveys::answering::{GivenAnswer, Submission};
        let state = crate::state::app_state()?;
        let tenant = crate::session::require_tenant(&state).await?;
        let round = round.parse()?;
        let given = answers
            .into_iter()
            .map(|a| {
                Ok(GivenAnswer {
                    question: a.question.parse().map_err(|_| domain::Error::Invalid {
                        field: "answers",
                        reason: "name a question of another check-in".into(),
                    })?,
                    value: a.value,
                    comment: a.comment,
                })
            })
            .collect::<Result<Vec<_>, domain::Error>>()?;
        let secrets = state
            .submissions
            .submit(Submission {
                tenant,
                round,
                given,
                now: state.clock.now(),
            })
            .await?;
        Ok(secrets.into_iter().map(|s| s.secret).collect())
    }

    /// The posted form's fields as answers: every question that has a value or a comment.
    /// Questions with neither are left out, and the domain asks for the required ones.
    pub(super) fn posted_answers(
        values: std::collections::BTreeMap<String, String>,
        comments: std::collections::BTreeMap<String, String>,
    ) -> Result<Vec<AnswerInput>, ApiError> {
        let unknown = || domain::Error::Invalid {
            field: "answers",
            reason: "name a question of another check-in".into(),
        };
        let question = |key: &str| key.strip_prefix('q').map(QuestionId::from).ok_or_else(unknown);
        let mut answers = std::collections::BTreeMap::<QuestionId, AnswerInput>::new();
        for (key, value) in values {
            let question = question(&key)?;
            let value = value.trim().parse::<i32>().map_err(|_| domain::Error::Invalid {
                field: "answers",
                reason: "take one of the offered values".into(),
            })?;
            answers.insert(
                question.clone(),
                AnswerInput {
                    question,
                    value: Some(value),
                    comment: None,
                },
            );
        }
        for (key, comment) in comments {
            let question = question(&key)?;
            answers
                .entry(question.clone())
                .or_insert_with(|| AnswerInput {
                    question,
                    value: None,
                    comment: None,
                })
                .comment = Some(comment);
        }
        Ok(answers.into_values().collect())
    }

    pub(super) fn day(time: chrono::DateTime<chrono::Utc>) -> String {
        time.format("%a %-d %b %Y, %H:%M UTC").to_string()
    }

    pub(super) fn answered_text(answered: domain::surveys::results::Answered) -> String {
        use domain::surveys::results::Answered;
        match answered {
            Answered::Exactly(n) => n.to_string(),
            Answered::AtLeast(n) => format!("at least {n}"),
            Answered::FewerThan(n) => format!("fewer than {n}"),
        }
    }

    /// A results team in a link: `workplace`, or the department's id.
    pub(super) fn team_key(group: domain::surveys::suppression::Group) -> String {
        use domain::surveys::suppression::Group;
        match group {
            Group::Workplace => WHOLE_WORKPLACE.to_owned(),
            Group::Department(department) => department.to_string(),
        }
    }

    /// The team a link names; empty means every team. Text naming no team is a filter that
    /// matches nothing (an empty page, never an error).
    pub(super) fn team_filter(text: &str) -> Option<domain::surveys::suppression::Group> {
        use domain::surveys::suppression::Group;
        match text.trim() {
            "" => None,
            WHOLE_WORKPLACE => Some(Group::Workplace),
            department => Some(Group::Department(
                crate::ids::DepartmentId::from(department)
                    .parse()
                    .unwrap_or(domain::platform::ids::DepartmentId::from_uuid(uuid::Uuid::nil())),
            )),
        }
    }

    /// The question a link names; empty means every question. Text naming no question matches
    /// nothing, like [`team_filter`].
    pub(super) fn question_filter(question: &QuestionId) -> Option<domain::surveys::QuestionId> {
        match question.parse_optional() {
            Ok(found) => found,
            Err(_) => Some(uuid::Uuid::nil()),
        }
    }

    const WHOLE_WORKPLACE: &str = "workplace";

    pub(super) fn message_views(messages: Vec<domain::surveys::conversations::Message>) -> Vec<MessageView> {
        messages
            .into_iter()
            .map(|m| MessageView {
                from_author: m.from_author,
                text: m.text,
                day: m.written_on.format("%-d %b %Y").to_string(),
            })
            .collect()
    }

    /// The browser's name for a domain question kind.
    pub(super) fn question_type(kind: &domain::surveys::QuestionKind) -> QuestionType {
        use domain::surveys::QuestionKind;
        match kind {
            QuestionKind::Scale { .. } => QuestionType::Scale,
            QuestionKind::Enps => QuestionType::Enps,
            QuestionKind::Choice { .. } => QuestionType::Choice,
            QuestionKind::Text => QuestionType::Text,
        }
    }

    pub(super) fn question_view(question: &domain::surveys::Question) -> QuestionView {
        use domain::surveys::QuestionKind;
        let labels = match &question.kind {
            QuestionKind::Scale { low, high } => vec![low.clone(), high.clone()],
            QuestionKind::Choice { options } => options.clone(),
            QuestionKind::Enps => vec!["Not at all likely".into(), "Extremely likely".into()],
            QuestionKind::Text => Vec::new(),
        };
        QuestionView {
            id: question.id.into(),
            prompt: question.prompt.clone(),
            kind: question_type(&question.kind),
            labels,
        }
    }

    pub(super) fn round_summary(
        listing: &domain::surveys::results::RoundListing,
        now: chrono::DateTime<chrono::Utc>,
    ) -> RoundSummary {
        RoundSummary {
            id: listing.round.id.into(),
            number: listing.round.number,
            survey_title: listing.title.clone(),
            opens: day(listing.round.opens_at),
            closes: day(listing.round.closes_at),
            open: listing.round.is_open(now),
            participation: listing
                .counts
                .map(|(asked, answered)| format!("{} of {asked} answered", answered_text(answered))),
        }
    }

    pub(super) fn group_figures(g: domain::surveys::results::GroupResult) -> GroupFigures {
        use domain::surveys::QuestionKind;
        GroupFigures {
            name: g.name,
            depth: g.depth,
            respondents: g.respondents,
            asked: g.asked,
            progress: g.progress.map(|p| {
                let text = answered_text(p);
                let mut chars = text.chars();
                chars
                    .next()
                    .map(|first| first.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }),
            questions: g
                .questions
                .into_iter()
                .map(|q| QuestionFigures {
                    prompt: q.prompt,
                    kind: question_type(&q.kind),
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
        }
    }
}
