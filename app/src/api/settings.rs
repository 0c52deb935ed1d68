//! Workplace settings. Reading and changing them needs the `settings` permission.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSettingsView {
    /// 0: both factors at every sign-in.
    pub remember_device_days: i32,
    pub max_days: i32,
}

#[server(prefix = "/api", endpoint = "settings/sign_in")]
pub async fn sign_in_settings() -> Result<SignInSettingsView, ApiError> {
    use domain::policy::{require, Action, Resource};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    require(&who, Action::ManageSettings, Resource::Workplace)?;
    let settings = domain::trusted_devices::settings(&tenant).await?;
    Ok(SignInSettingsView {
        remember_device_days: settings.remember_device_days,
        max_days: domain::trusted_devices::MAX_REMEMBER_DAYS,
    })
}

/// `remember` off: both factors at every sign-in (and every remembered device is forgotten).
#[server(prefix = "/api", endpoint = "settings/save_sign_in")]
pub async fn save_sign_in_settings(
    #[server(default)] remember: bool,
    #[server(default)] days: i32,
) -> Result<(), ApiError> {
    use domain::policy::{require, Action, Resource};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    require(&who, Action::ManageSettings, Resource::Workplace)?;
    if remember && days < 1 {
        return Err(domain::Error::Invalid {
            field: "days",
            reason: format!(
                "must be between 1 and {}",
                domain::trusted_devices::MAX_REMEMBER_DAYS
            ),
        }
        .into());
    }
    domain::trusted_devices::save_settings(
        &tenant,
        domain::trusted_devices::SignInSettings {
            remember_device_days: if remember { days } else { 0 },
        },
    )
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkplaceDeletionView {
    pub workplace_name: String,
    /// Only the workplace's Owners may delete it.
    pub allowed: bool,
}

#[server(prefix = "/api", endpoint = "settings/deletion")]
pub async fn workplace_deletion() -> Result<WorkplaceDeletionView, ApiError> {
    use domain::policy::{require, Action, Resource};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    require(&who, Action::ManageSettings, Resource::Workplace)?;
    let target = domain::workplace_deletion::target(&tenant, &who).await?;
    Ok(WorkplaceDeletionView {
        workplace_name: target.workplace_name,
        allowed: target.allowed,
    })
}

/// Deletes the whole workplace and destroys its keys; `confirmation` repeats its name. Needs the
/// second factor given within the last few minutes. Everyone in it is signed out for good.
#[server(prefix = "/api", endpoint = "settings/delete_workplace")]
pub async fn delete_workplace(confirmation: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_recent_identity(&state).await?;
    domain::workplace_deletion::delete_workplace(&tenant, &who, &confirmation, state.clock.now()).await?;
    crate::session::clear_session_cookie();
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
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let sizes = domain::surveys::group_sizes(&tenant, &who).await?;
    Ok(GroupSizesView {
        results: sizes.results,
        comments: sizes.comments,
    })
}

#[server(prefix = "/api", endpoint = "settings/save_group_sizes")]
pub async fn save_group_sizes(results: i32, comments: i32) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    domain::surveys::set_group_sizes(&tenant, &who, domain::surveys::GroupSizes { results, comments })
        .await?;
    Ok(())
}

/// Whether the workplace takes part in benchmarks across workplaces.
#[server(prefix = "/api", endpoint = "settings/benchmarks")]
pub async fn benchmark_setting() -> Result<bool, ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    Ok(domain::surveys::benchmarks::opt_in(&tenant, &who).await?)
}

#[server(prefix = "/api", endpoint = "settings/save_benchmarks")]
pub async fn save_benchmark_setting(#[server(default)] take_part: bool) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    domain::surveys::benchmarks::set_opt_in(&tenant, &who, take_part).await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportGrantView {
    pub id: String,
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
    use domain::policy::{allows, Action, Resource};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let now = state.clock.now();
    let grants = domain::support::grants(&tenant, &who).await?;
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    Ok(SupportAccessView {
        grants: grants
            .into_iter()
            .map(|(g, granted_by)| SupportGrantView {
                id: g.id.to_string(),
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
        max_hours: domain::support::MAX_HOURS,
    })
}

#[server(prefix = "/api", endpoint = "settings/grant_support")]
pub async fn grant_support(hours: i64) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_recent_identity(&state).await?;
    domain::support::grant(&tenant, &who, hours, state.clock.now()).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "settings/revoke_support")]
pub async fn revoke_support(id: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let id = id.parse::<uuid::Uuid>().map_err(|_| domain::Error::NotFound)?;
    domain::support::revoke(&tenant, &who, id, state.clock.now()).await?;
    Ok(())
}
