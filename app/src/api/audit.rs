//! The access log for Auditors (and Owners): search, review, export, alerts and how the log is
//! kept. Actor ids become names here, in the viewer; the stored log holds none.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ids::{AlertId, LogEntryId};
use crate::{
    error::ApiError,
    model::{ExportFormat, Outcome, Severity},
};
#[cfg(feature = "ssr")]
use ssr::*;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub from: String,
    pub until: String,
    pub security_only: bool,
    pub unreviewed_only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRow {
    pub id: LogEntryId,
    pub seq: i64,
    pub at: String,
    pub category: String,
    pub action: String,
    pub severity: Severity,
    pub outcome: Outcome,
    /// The actor's name, resolved for this view only (or "—", or "former account").
    pub actor: String,
    pub entity: String,
    pub entity_ids: Vec<String>,
    pub entity_count: i32,
    pub network_tag: Option<String>,
    pub request_id: Option<String>,
    /// "Reviewed by … on …: note".
    pub review: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub id: AlertId,
    pub raised: String,
    pub label: String,
    pub severity: Severity,
    pub detail: String,
    pub acknowledged: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSettingsView {
    pub retention_days: i32,
    pub review_interval_days: i32,
    pub failed_sign_in_limit: i32,
    pub denial_limit: i32,
    pub export_limit: i32,
    /// Whether this person may change them.
    pub can_change: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditOverview {
    pub rows: Vec<LogRow>,
    /// People who appear in the log: (id, name), for the actor filter.
    pub actors: Vec<(String, String)>,
    pub entities: Vec<String>,
    pub alerts: Vec<AlertRow>,
    pub open_alerts: u64,
    pub review_due: String,
    pub review_overdue: bool,
    pub last_review: Option<String>,
    pub settings: AuditSettingsView,
}

/// The log page: entries matching `query` (newest first), alerts, review status and settings.
#[server(prefix = "/api", endpoint = "audit/overview")]
pub async fn overview(query: LogQuery) -> Result<AuditOverview, ApiError> {
    use domain::{
        compliance::audit_log::{monitor, review},
        platform::{
            ids::UserId,
            policy::{allows, Action, Resource},
        },
    };
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let filter = filter_of(&query)?;
    let entries = review::search(&tenant, &filter).await?;
    let alerts = monitor::alerts(&tenant, 20).await?;
    let mut ids: Vec<UserId> = entries
        .iter()
        .flat_map(|e| e.actor.into_iter().chain(e.review.as_ref().map(|r| r.reviewer)))
        .chain(alerts.iter().filter_map(|a| a.actor))
        .chain(alerts.iter().filter_map(|a| a.acknowledged.map(|(by, _)| by)))
        .collect();
    ids.sort();
    ids.dedup();
    let names = review::names(&tenant, &ids).await?;
    let name_of = |id: Option<UserId>| match id {
        None => "—".to_owned(),
        Some(id) => names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "former account".to_owned()),
    };
    let rows = entries
        .into_iter()
        .map(|e| LogRow {
            id: e.id.into(),
            seq: e.seq,
            at: e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            category: e.category,
            action: e.action,
            severity: severity(e.severity),
            outcome: outcome(e.outcome),
            actor: name_of(e.actor),
            entity: e.entity_type.unwrap_or_default(),
            entity_count: e.entity_count,
            entity_ids: e.entity_ids.iter().map(ToString::to_string).collect(),
            network_tag: e.network_tag,
            request_id: e.request_id,
            review: e.review.map(|r| {
                let note = r.note.map(|n| format!(": {}", n.expose())).unwrap_or_default();
                format!(
                    "Reviewed by {} on {}{note}",
                    name_of(Some(r.reviewer)),
                    when(r.reviewed_at)
                )
            }),
        })
        .collect();
    let alerts = alerts
        .into_iter()
        .map(|a| AlertRow {
            id: a.id.into(),
            raised: when(a.raised_at),
            label: a.label,
            severity: severity(a.severity),
            detail: {
                let mut parts = vec![format!("{} events", a.count)];
                if a.window_minutes > 0 {
                    parts.push(format!("within {} minutes", a.window_minutes));
                }
                if let Some(actor) = a.actor {
                    parts.push(format!("by {}", name_of(Some(actor))));
                }
                if let Some(tag) = a.network_tag {
                    parts.push(format!("network {tag}"));
                }
                parts.push(format!("entry #{}", a.entry_seq));
                parts.join(" · ")
            },
            acknowledged: a
                .acknowledged
                .map(|(by, at)| format!("Acknowledged by {} on {}", name_of(Some(by)), when(at))),
        })
        .collect();
    let open_alerts = monitor::open_alert_count(&tenant).await?;
    let status = review::review_status(&tenant, state.clock.now()).await?;
    let settings = review::settings(&tenant).await?;
    let actors = review::actors(&tenant)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    Ok(AuditOverview {
        rows,
        actors,
        entities: domain::platform::audit::EntityType::ALL
            .iter()
            .map(|t| t.code().to_owned())
            .collect(),
        alerts,
        open_alerts,
        review_due: status.due_at.format("%-d %B %Y").to_string(),
        review_overdue: status.overdue,
        last_review: status.last_review.map(when),
        settings: AuditSettingsView {
            retention_days: settings.retention_days,
            review_interval_days: settings.review_interval_days,
            failed_sign_in_limit: settings.failed_sign_in_limit,
            denial_limit: settings.denial_limit,
            export_limit: settings.export_limit,
            can_change: allows(&who, Action::ManageSettings, Resource::Workplace),
        },
    })
}

#[server(prefix = "/api", endpoint = "audit/review")]
pub async fn mark_reviewed(entry: LogEntryId, #[server(default)] note: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let entry = entry.parse()?;
    domain::compliance::audit_log::review::mark_reviewed(&tenant, entry, &note, state.clock.now()).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "audit/acknowledge")]
pub async fn acknowledge(alert: AlertId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let alert = alert.parse()?;
    domain::compliance::audit_log::monitor::acknowledge(&tenant, alert, state.clock.now()).await?;
    Ok(())
}

/// The filtered log as a file: `csv` or `json`. Recorded before it is returned.
#[server(prefix = "/api", endpoint = "audit/export")]
pub async fn export(query: LogQuery, format: ExportFormat) -> Result<String, ApiError> {
    use domain::compliance::audit_log::review;
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let format = match format {
        ExportFormat::Csv => review::ExportFormat::Csv,
        ExportFormat::Json => review::ExportFormat::Json,
    };
    let filter = filter_of(&query)?;
    Ok(review::export(&tenant, &filter, format, state.clock.now()).await?)
}

#[server(prefix = "/api", endpoint = "audit/save_settings")]
pub async fn save_settings(
    retention_days: i32,
    review_interval_days: i32,
    failed_sign_in_limit: i32,
    denial_limit: i32,
    export_limit: i32,
) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::compliance::audit_log::review::save_settings(
        &tenant,
        domain::compliance::audit_log::review::Settings {
            retention_days,
            review_interval_days,
            failed_sign_in_limit,
            denial_limit,
            export_limit,
        },
    )
    .await?;
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    //! What this file's server functions share on the server only.

    use super::*;

    pub(super) fn filter_of(
        query: &LogQuery,
    ) -> Result<domain::compliance::audit_log::review::Filter, ApiError> {
        Ok(domain::compliance::audit_log::review::Filter::from_form(
            &query.actor,
            &query.action,
            &query.entity,
            &query.entity_id,
            &query.from,
            &query.until,
            query.security_only,
            query.unreviewed_only,
        )?)
    }

    pub(super) fn when(time: chrono::DateTime<chrono::Utc>) -> String {
        time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }

    /// The browser's name for an access-log severity.
    pub(super) fn severity(severity: domain::platform::audit::Severity) -> Severity {
        use domain::platform::audit::Severity as Stored;
        match severity {
            Stored::Info => Severity::Info,
            Stored::Warning => Severity::Warning,
            Stored::Critical => Severity::Critical,
        }
    }

    /// The browser's name for an access-log outcome.
    pub(super) fn outcome(outcome: domain::platform::audit::Outcome) -> Outcome {
        use domain::platform::audit::Outcome as Stored;
        match outcome {
            Stored::Ok => Outcome::Ok,
            Stored::Invalid => Outcome::Invalid,
            Stored::Unauthenticated => Outcome::Unauthenticated,
            Stored::Denied => Outcome::Denied,
            Stored::Throttled => Outcome::Throttled,
            Stored::Error => Outcome::Error,
        }
    }
}
