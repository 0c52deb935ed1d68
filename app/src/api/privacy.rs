//! Data-subject requests: HR carries out a person's request for a copy of their data, a
//! restriction of processing or erasure, and keeps the register of requests and their deadlines.
//! The domain (`domain::compliance::privacy`) decides and asks the policy; these functions parse and map.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ids::PersonId;
#[cfg(feature = "ssr")]
use ssr::*;

/// A readable copy of a person's data, and the same as JSON for download (portability).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalCopy {
    pub name: String,
    pub json: String,
    pub sections: Vec<Section>,
    pub not_included: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    /// Each entry: its lines as (label, value).
    pub entries: Vec<Vec<(String, String)>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    pub kind: String,
    pub person: String,
    /// The person's page, while they exist.
    pub person_id: Option<String>,
    pub received: String,
    pub due: String,
    pub done: Option<String>,
    pub by: Option<String>,
    pub overdue: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub rows: Vec<RequestRow>,
    pub open: usize,
    pub overdue: usize,
    /// (key, label) of the kinds of request, for the form.
    pub kinds: Vec<(String, String)>,
}

/// A copy of everything Candor holds about the person. Reading it changes nothing (the page is
/// a GET); handing it over is recorded with [`copy_delivered`].
#[server(prefix = "/api", endpoint = "privacy/export")]
pub async fn export_personal_data(id: PersonId) -> Result<PersonalCopy, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let data = domain::compliance::privacy::export(&tenant, id.parse()?, state.clock.now()).await?;
    let json = serde_json_text(&data)?;
    Ok(PersonalCopy {
        name: data.person.name.clone(),
        sections: readable(&data),
        not_included: data.not_included.iter().map(|s| (*s).to_owned()).collect(),
        json,
    })
}

/// Records that the person was given their copy: carries out their open requests for one.
#[server(prefix = "/api", endpoint = "privacy/copy_delivered")]
pub async fn copy_delivered(id: PersonId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::compliance::privacy::copy_delivered(&tenant, id.parse()?, state.clock.now()).await?;
    Ok(())
}

/// Restricts processing for the person (`restricted` "true") or lifts the restriction.
#[server(prefix = "/api", endpoint = "privacy/restrict")]
pub async fn restrict_processing(id: PersonId, restricted: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let restricted = match restricted.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(domain::Error::Invalid {
                field: "restricted",
                reason: "must be true or false".into(),
            }
            .into())
        }
    };
    domain::compliance::privacy::set_restricted(&tenant, id.parse()?, restricted, state.clock.now()).await?;
    Ok(())
}

/// Erases the person once `confirmation` repeats their name; needs a recent second factor.
#[server(prefix = "/api", endpoint = "privacy/erase")]
pub async fn erase_person(id: PersonId, confirmation: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_recent_identity(&state).await?;
    let person: domain::platform::ids::UserId = id.parse()?;
    domain::compliance::privacy::erase_confirmed(&tenant, person, &confirmation, state.clock.now()).await?;
    Ok(())
}

/// Records a request as received on `received` (YYYY-MM-DD), to be carried out by its deadline.
#[server(prefix = "/api", endpoint = "privacy/record")]
pub async fn record_request(id: PersonId, kind: String, received: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let kind = domain::compliance::privacy::RequestKind::from_key(&kind).ok_or(domain::Error::Invalid {
        field: "kind",
        reason: "is not a kind of request".into(),
    })?;
    let now = state.clock.now();
    let received = chrono::NaiveDate::parse_from_str(received.trim(), "%Y-%m-%d").map_err(|_| {
        domain::Error::Invalid {
            field: "received",
            reason: "give the date as YYYY-MM-DD".into(),
        }
    })?;
    // Received today: now; an earlier day: its start.
    let received_at = if received == now.date_naive() {
        now
    } else {
        received.and_time(chrono::NaiveTime::MIN).and_utc()
    };
    domain::compliance::privacy::record(&tenant, id.parse()?, kind, received_at, now).await?;
    Ok(())
}

/// The register of requests, newest first.
#[server(prefix = "/api", endpoint = "privacy/requests")]
pub async fn data_requests() -> Result<Register, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let now = state.clock.now();
    let requests = domain::compliance::privacy::requests(&tenant).await?;
    let rows: Vec<RequestRow> = requests
        .iter()
        .map(|r| RequestRow {
            kind: r.kind.label().to_owned(),
            person: r
                .subject_name
                .clone()
                .unwrap_or_else(|| "Erased person".to_owned()),
            person_id: r.subject_name.as_ref().map(|_| r.subject.to_string()),
            received: day(r.received_at),
            due: day(r.due_at),
            done: r.done_at.map(moment),
            by: r.done_by.clone().or_else(|| r.recorded_by.clone()),
            overdue: r.overdue(now),
        })
        .collect();
    Ok(Register {
        open: requests.iter().filter(|r| r.done_at.is_none()).count(),
        overdue: rows.iter().filter(|r| r.overdue).count(),
        rows,
        kinds: domain::compliance::privacy::RequestKind::ALL
            .iter()
            .map(|k| (k.key().to_owned(), k.label().to_owned()))
            .collect(),
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    //! What this file's server functions share on the server only.

    use super::*;

    pub(super) fn day(time: chrono::DateTime<chrono::Utc>) -> String {
        time.format("%Y-%m-%d").to_string()
    }

    pub(super) fn moment(time: chrono::DateTime<chrono::Utc>) -> String {
        time.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    pub(super) fn readable(data: &domain::compliance::privacy::PersonalData) -> Vec<Section> {
        let line = |label: &str, value: String| (label.to_owned(), value);
        let or_none = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
        let p = &data.person;
        let mut sections = vec![Section {
            title: "Profile".into(),
            entries: vec![vec![
                line("Name", p.name.clone()),
                line("Email", p.email.clone()),
                line("Workplace", data.workplace.clone()),
                line("Role", p.role.clone()),
                line("Department", or_none(p.department.clone())),
                line("Start date", or_none(p.start_date.map(|d| d.to_string()))),
                line("Status", p.status.clone()),
                line("Account created", moment(p.account_created_at)),
                line("Email confirmed", or_none(p.email_verified_at.map(moment))),
                line(
                    "Processing restricted since",
                    or_none(p.processing_restricted_since.map(moment)),
                ),
            ]],
        }];
        sections.push(Section {
            title: "Sessions".into(),
            entries: data
                .sessions
                .iter()
                .map(|s| {
                    vec![
                        line("Signed in", moment(s.signed_in_at)),
                        line("Last seen", moment(s.last_seen_at)),
                        line("Ended", or_none(s.ended_at.map(moment))),
                        line("From", or_none(s.signed_in_from.clone())),
                    ]
                })
                .collect(),
        });
        sections.push(Section {
            title: "Second factors".into(),
            entries: data
                .second_factors
                .iter()
                .map(|f| {
                    vec![
                        line("Kind", f.kind.to_owned()),
                        line("Name", f.name.clone()),
                        line("Added", moment(f.added_at)),
                        line("Last used", or_none(f.last_used_at.map(moment))),
                    ]
                })
                .collect(),
        });
        sections.push(Section {
            title: "Remembered devices".into(),
            entries: data
                .remembered_devices
                .iter()
                .map(|d| {
                    vec![
                        line("Remembered", moment(d.remembered_at)),
                        line("Until", moment(d.until)),
                    ]
                })
                .collect(),
        });
        sections.push(Section {
            title: "Results they may see".into(),
            entries: data
                .results_access
                .iter()
                .map(|d| vec![line("Department", d.clone())])
                .collect(),
        });
        sections.push(Section {
            title: "Surveys they were asked in".into(),
            entries: data
                .participation
                .iter()
                .map(|r| {
                    vec![
                        line("Survey", format!("{} — round {}", r.survey, r.round)),
                        line("Opened", day(r.opened_at)),
                        line("Answered", if r.answered { "yes" } else { "no" }.to_owned()),
                    ]
                })
                .collect(),
        });
        sections.push(Section {
            title: "Their data-protection requests".into(),
            entries: data
                .requests
                .iter()
                .map(|r| {
                    vec![
                        line("Request", r.kind.to_owned()),
                        line("Received", day(r.received_at)),
                        line("Carried out", or_none(r.done_at.map(moment))),
                    ]
                })
                .collect(),
        });
        sections
    }

    pub(super) fn serde_json_text(
        data: &domain::compliance::privacy::PersonalData,
    ) -> Result<String, ApiError> {
        domain::compliance::privacy::to_json(data).map_err(ApiError::from)
    }
}
