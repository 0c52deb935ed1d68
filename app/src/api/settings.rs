//! Workplace settings. Reading and changing them needs the `settings` permission.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ids::SupportGrantId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSettingsView {
    /// 0: both factors at every sign-in.
    pub remember_device_days: i32,
    pub max_days: i32,
}

#[server(prefix = "/api", endpoint = "settings/sign_in")]
pub async fn sign_in_settings() -> Result<SignInSettingsView, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let settings = domain::access::trusted_devices::settings(&tenant).await?;
    Ok(SignInSettingsView {
        remember_device_days: settings.remember_device_days,
        max_days: domain::access::trusted_devices::MAX_REMEMBER_DAYS,
    })
}

/// `remember` off: both factors at every sign-in (and every remembered device is forgotten).
#[server(prefix = "/api", endpoint = "settings/save_sign_in")]
pub async fn save_sign_in_settings(
    #[server(default)] remember: bool,
    #[server(default)] days: i32,
) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    if remember && days < 1 {
        return Err(domain::Error::Invalid {
            field: "days",
            reason: format!(
                "must be between 1 and {}",
                domain::access::trusted_devices::MAX_REMEMBER_DAYS
            ),
        }
        .into());
    }
    domain::access::trusted_devices::save_settings(
        &tenant,
        domain::access::trusted_devices::SignInSettings {
            remember_device_days: if remember { days } else { 0 },
        },
    )
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationView {
    /// The Owner who asked, while their account exists.
    pub requested_by: Option<String>,
    pub requested_at: String,
    pub delete_at: String,
    /// Whole days left, rounded up.
    pub days_left: i64,
}

#[cfg(feature = "ssr")]
impl TerminationView {
    pub(crate) fn from_domain(
        termination: domain::compliance::workplace_deletion::Termination,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        let left = termination.delete_at - now;
        TerminationView {
            requested_by: termination.requested_by,
            requested_at: at(termination.requested_at),
            delete_at: at(termination.delete_at),
            days_left: (left.num_hours().max(0) + 23) / 24,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkplaceDeletionView {
    pub workplace_name: String,
    /// Only the workplace's Owners may ask for its deletion, or cancel it.
    pub allowed: bool,
    pub pending: Option<TerminationView>,
    pub default_grace_days: i64,
    pub min_grace_days: i64,
    pub max_grace_days: i64,
}

#[server(prefix = "/api", endpoint = "settings/deletion")]
pub async fn workplace_deletion() -> Result<WorkplaceDeletionView, ApiError> {
    use domain::compliance::workplace_deletion as termination;
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let target = termination::target(&tenant).await?;
    let now = state.clock.now();
    Ok(WorkplaceDeletionView {
        workplace_name: target.workplace_name,
        allowed: target.allowed,
        pending: target.pending.map(|t| TerminationView::from_domain(t, now)),
        default_grace_days: termination::DEFAULT_GRACE_DAYS,
        min_grace_days: termination::MIN_GRACE_DAYS,
        max_grace_days: termination::MAX_GRACE_DAYS,
    })
}

/// Asks for the whole workplace to be deleted after `grace_days`; `confirmation` repeats its
/// name. Needs the second factor given within the last few minutes. Every Owner is emailed and
/// any of them may cancel until then.
#[server(prefix = "/api", endpoint = "settings/request_deletion")]
pub async fn request_workplace_deletion(
    confirmation: String,
    grace_days: i64,
) -> Result<TerminationView, ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_recent_identity(&state).await?;
    let now = state.clock.now();
    let pending = domain::compliance::workplace_deletion::request_termination(
        &tenant,
        &confirmation,
        grace_days,
        &state.mail,
        &format!("{}/settings", state.public_url),
        now,
    )
    .await?;
    Ok(TerminationView::from_domain(pending, now))
}

#[server(prefix = "/api", endpoint = "settings/cancel_deletion")]
pub async fn cancel_workplace_deletion() -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::compliance::workplace_deletion::cancel_termination(
        &tenant,
        &state.mail,
        &format!("{}/settings", state.public_url),
        state.clock.now(),
    )
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionView {
    /// None: kept until removed by hand.
    pub people_left_months: Option<i32>,
    pub comments_months: Option<i32>,
    /// False: the defaults apply.
    pub chosen: bool,
    pub audit_log_days: i32,
    pub max_months: i32,
    /// "Last applied …: 2 people who left erased, 40 comments deleted", or None before the first run.
    pub last_run: Option<String>,
    /// People who left longer ago than the policy, not erased yet (next run, or after an open round).
    pub past_period: i64,
}

/// The workplace's retention policy, with the audit log's retention and the last run.
#[server(prefix = "/api", endpoint = "settings/retention")]
pub async fn retention() -> Result<RetentionView, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let overview = domain::compliance::retention::overview(&tenant, state.clock.now()).await?;
    Ok(RetentionView {
        people_left_months: overview.policy.people_left_months,
        comments_months: overview.policy.comments_months,
        chosen: overview.chosen,
        audit_log_days: overview.audit_log_days,
        max_months: domain::compliance::retention::MAX_MONTHS,
        last_run: overview.last_applied_at.map(|at| {
            format!(
                "Last applied {}: {} {} who left erased, {} {} deleted.",
                at.format("%Y-%m-%d %H:%M UTC"),
                overview.last_people_erased,
                if overview.last_people_erased == 1 {
                    "person"
                } else {
                    "people"
                },
                overview.last_comments_deleted,
                if overview.last_comments_deleted == 1 {
                    "comment"
                } else {
                    "comments"
                },
            )
        }),
        past_period: overview.past_period,
    })
}

/// Saves the policy. A `keep_*` flag keeps that data until removed by hand (its months are
/// then ignored).
#[server(prefix = "/api", endpoint = "settings/save_retention")]
pub async fn save_retention(
    #[server(default)] keep_people_left: bool,
    #[server(default)] people_left_months: i32,
    #[server(default)] keep_comments: bool,
    #[server(default)] comments_months: i32,
) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::compliance::retention::set_policy(
        &tenant,
        domain::compliance::retention::Policy {
            people_left_months: (!keep_people_left).then_some(people_left_months),
            comments_months: (!keep_comments).then_some(comments_months),
        },
        state.clock.now(),
    )
    .await?;
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSizesView {
    pub results: i32,
    pub comments: i32,
}

/// The minimum number of answers before a group's results (and comments) are shown.
#[server(prefix = "/api", endpoint = "settings/group_sizes")]
pub async fn group_sizes() -> Result<GroupSizesView, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let sizes = domain::surveys::group_sizes(&tenant).await?;
    Ok(GroupSizesView {
        results: sizes.results,
        comments: sizes.comments,
    })
}

/// The workplace's tenure bands, as the boundaries in years ("1, 2, 5").
#[server(prefix = "/api", endpoint = "settings/tenure_bands")]
pub async fn tenure_bands() -> Result<String, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let bands = domain::surveys::tenure::bands(&tenant).await?;
    Ok(bands
        .bounds()
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", "))
}

/// Sets the tenure bands from boundaries in whole years, separated by commas.
#[server(prefix = "/api", endpoint = "settings/save_tenure_bands")]
pub async fn save_tenure_bands(bounds: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let parsed: Option<Vec<u32>> = bounds
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().ok())
        .collect();
    let bands = parsed
        .ok_or_else(|| domain::Error::Invalid {
            field: "tenure bands",
            reason: "write whole years separated by commas, such as 1, 2, 5".into(),
        })
        .and_then(domain::surveys::tenure::TenureBands::new)?;
    domain::surveys::tenure::set_bands(&tenant, &bands).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "settings/save_group_sizes")]
pub async fn save_group_sizes(results: i32, comments: i32) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::surveys::set_group_sizes(&tenant, domain::surveys::GroupSizes { results, comments }).await?;
    Ok(())
}

/// Whether the workplace takes part in benchmarks across workplaces.
#[server(prefix = "/api", endpoint = "settings/benchmarks")]
pub async fn benchmark_setting() -> Result<bool, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    Ok(domain::surveys::benchmarks::opt_in(&tenant).await?)
}

#[server(prefix = "/api", endpoint = "settings/save_benchmarks")]
pub async fn save_benchmark_setting(#[server(default)] take_part: bool) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::surveys::benchmarks::set_opt_in(&tenant, take_part).await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportGrantView {
    pub id: SupportGrantId,
    pub granted_by: String,
    pub granted_at: String,
    pub until: String,
    pub live: bool,
    /// "Revoked …", "Ended …" or "Live until …".
    pub state: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportAccessView {
    pub grants: Vec<SupportGrantView>,
    /// Only the Owner grants or revokes.
    pub can_grant: bool,
    pub max_hours: i64,
}

/// Support access: the grants so far and whether this person may give one.
#[server(prefix = "/api", endpoint = "settings/support_access")]
pub async fn support_access() -> Result<SupportAccessView, ApiError> {
    use domain::platform::policy::{allows, Action, Resource};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let now = state.clock.now();
    let grants = domain::compliance::support::grants(&tenant).await?;
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    Ok(SupportAccessView {
        grants: grants
            .into_iter()
            .map(|(g, granted_by)| SupportGrantView {
                id: g.id.into(),
                granted_by,
                granted_at: at(g.granted_at),
                until: at(g.expires_at),
                live: g.live(now),
                state: match g.revoked_at {
                    Some(revoked) => format!("Revoked {}", at(revoked)),
                    None if g.expires_at <= now => format!("Ended {}", at(g.expires_at)),
                    None => format!("Live until {}", at(g.expires_at)),
                },
            })
            .collect(),
        can_grant: allows(&who, Action::GrantSupportAccess, Resource::Workplace),
        max_hours: domain::compliance::support::MAX_HOURS,
    })
}

#[server(prefix = "/api", endpoint = "settings/grant_support")]
pub async fn grant_support(hours: i64) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_recent_identity(&state).await?;
    domain::compliance::support::grant(&tenant, hours, state.clock.now()).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "settings/revoke_support")]
pub async fn revoke_support(id: SupportGrantId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let id = id.parse()?;
    domain::compliance::support::revoke(&tenant, id, state.clock.now()).await?;
    Ok(())
}
