//! Organisation server functions: the department tree. Every one authenticates the caller and
//! calls the domain, which asks the policy through the tenant scope of the caller's workplace.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ids::DepartmentId;

/// A department as the tree on the departments page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentNode {
    pub id: DepartmentId,
    pub parent: Option<DepartmentId>,
    pub name: String,
    pub archived: bool,
    pub people: u64,
}

/// The tree, and whether the caller may change it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentTree {
    pub departments: Vec<DepartmentNode>,
    pub can_manage: bool,
}

/// An empty or missing parent means the top level.
#[server(prefix = "/api", endpoint = "organisation/departments")]
pub async fn departments() -> Result<DepartmentTree, ApiError> {
    use domain::platform::policy::{allows, Action, Resource};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let mut departments: Vec<DepartmentNode> = domain::organisation::departments::list(&tenant)
        .await?
        .into_iter()
        .map(|d| DepartmentNode {
            id: d.id.into(),
            parent: d.parent.map(Into::into),
            name: d.name,
            archived: d.archived,
            people: d.people,
        })
        .collect();
    departments.sort_by_key(|d| d.name.to_lowercase());
    Ok(DepartmentTree {
        departments,
        can_manage: allows(&who, Action::ManageDepartments, Resource::Workplace),
    })
}

#[server(prefix = "/api", endpoint = "organisation/create_department")]
pub async fn create_department(name: String, parent: DepartmentId) -> Result<String, ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let id = domain::organisation::departments::create(
        &tenant,
        &name,
        parent.parse_optional()?,
        state.clock.now(),
    )
    .await?;
    Ok(id.to_string())
}

#[server(prefix = "/api", endpoint = "organisation/rename_department")]
pub async fn rename_department(id: DepartmentId, name: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let id = id.parse()?;
    domain::organisation::departments::rename(&tenant, id, &name).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "organisation/move_department")]
pub async fn move_department(id: DepartmentId, parent: DepartmentId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let id = id.parse()?;
    domain::organisation::departments::move_to(&tenant, id, parent.parse_optional()?).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "organisation/archive_department")]
pub async fn archive_department(id: DepartmentId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let id = id.parse()?;
    domain::organisation::departments::archive(&tenant, id, state.clock.now()).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "organisation/restore_department")]
pub async fn restore_department(id: DepartmentId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let id = id.parse()?;
    domain::organisation::departments::restore(&tenant, id).await?;
    Ok(())
}
