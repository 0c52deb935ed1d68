//! Roles server functions: the workplace's roles with what each allows (HR admins and Owners),
//! and defining, editing and deleting the workplace's own roles (Owners: the `roles` permission).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ids::RoleKey;
use crate::{error::ApiError, model::Permission};
#[cfg(feature = "ssr")]
use ssr::*;

/// One permission set, as the roles page explains it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionInfo {
    pub key: Permission,
    pub label: String,
    pub description: String,
    /// Whether a workplace's own role may include it.
    pub for_workplace_roles: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleView {
    /// The form value: a built-in key or `custom:` and the role's id.
    pub key: String,
    pub name: String,
    pub built_in: bool,
    pub permissions: Vec<Permission>,
    pub results_limited_to_grants: bool,
    pub holders: u64,
    /// What a holder can see and do, in sentences.
    pub access: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleTable {
    pub roles: Vec<RoleView>,
    pub permissions: Vec<PermissionInfo>,
    pub can_manage: bool,
}

/// The browser's name for a domain permission.
#[cfg(feature = "ssr")]
pub(crate) fn permission(permission: domain::platform::policy::Permission) -> Permission {
    use domain::platform::policy::Permission as Domain;
    match permission {
        Domain::Settings => Permission::Settings,
        Domain::Billing => Permission::Billing,
        Domain::People => Permission::People,
        Domain::Surveys => Permission::Surveys,
        Domain::Results => Permission::Results,
        Domain::Audit => Permission::Audit,
        Domain::Roles => Permission::Roles,
    }
}

#[server(prefix = "/api", endpoint = "roles/list")]
pub async fn roles() -> Result<RoleTable, ApiError> {
    use domain::platform::policy::{allows, Action, Resource, RoleKey};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    let roles = domain::access::roles::list(&tenant)
        .await?
        .into_iter()
        .map(|summary| {
            let role = summary.definition;
            RoleView {
                key: role.key.to_string(),
                built_in: matches!(role.key, RoleKey::BuiltIn(_)),
                permissions: role.permissions.iter().map(permission).collect(),
                results_limited_to_grants: role.results_limited_to_grants,
                holders: summary.holders,
                access: crate::api::people::role_access(&role),
                name: role.name,
            }
        })
        .collect();
    Ok(RoleTable {
        roles,
        permissions: domain::platform::policy::Permission::ALL
            .into_iter()
            .map(|p| PermissionInfo {
                key: permission(p),
                label: p.label().to_owned(),
                description: description(p).to_owned(),
                for_workplace_roles: domain::platform::policy::Permission::FOR_WORKPLACE_ROLES.contains(&p),
            })
            .collect(),
        can_manage: allows(&who, Action::ManageRoles, Resource::Workplace),
    })
}

/// Defines a role for the workplace; returns its form value.
#[server(prefix = "/api", endpoint = "roles/create")]
pub async fn create_role(
    name: String,
    // No permission ticked sends no field at all.
    #[server(default)] permissions: Vec<Permission>,
    #[server(default)] results_limited_to_grants: bool,
) -> Result<String, ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let draft = draft(name, &permissions, results_limited_to_grants)?;
    let id = domain::access::roles::create(&tenant, &draft, state.clock.now()).await?;
    Ok(domain::platform::policy::RoleKey::Workplace(id).to_string())
}

/// Renames a workplace role or changes what it allows; holders get the change on their next
/// request.
#[server(prefix = "/api", endpoint = "roles/update")]
pub async fn update_role(
    key: RoleKey,
    name: String,
    #[server(default)] permissions: Vec<Permission>,
    #[server(default)] results_limited_to_grants: bool,
) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let id = workplace_role(&key)?;
    let draft = draft(name, &permissions, results_limited_to_grants)?;
    domain::access::roles::update(&tenant, id, &draft, state.clock.now()).await?;
    Ok(())
}

/// Deletes a workplace role nobody holds.
#[server(prefix = "/api", endpoint = "roles/delete")]
pub async fn delete_role(key: RoleKey) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    domain::access::roles::delete(&tenant, workplace_role(&key)?).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    //! What this file's server functions share on the server only.

    use super::*;

    /// The domain's permission for the browser's name.
    pub(super) fn domain_permission(permission: Permission) -> domain::platform::policy::Permission {
        use domain::platform::policy::Permission as Domain;
        match permission {
            Permission::Settings => Domain::Settings,
            Permission::Billing => Domain::Billing,
            Permission::People => Domain::People,
            Permission::Surveys => Domain::Surveys,
            Permission::Results => Domain::Results,
            Permission::Audit => Domain::Audit,
            Permission::Roles => Domain::Roles,
        }
    }

    pub(super) fn description(permission: domain::platform::policy::Permission) -> &'static str {
        use domain::platform::policy::Permission;
        match permission {
            Permission::Settings => "Workplace settings such as sign-in rules and the minimum group size.",
            Permission::Billing => "The plan and invoices.",
            Permission::People => "Departments, people, invitations and managers' grants.",
            Permission::Surveys => "Creating, scheduling and closing surveys.",
            Permission::Results => {
                "Anonymous survey results: for the whole workplace, or only granted departments."
            }
            Permission::Audit => "The access log and security events.",
            Permission::Roles => "Defining roles and giving any role, including Owner.",
        }
    }

    pub(super) fn draft(
        name: String,
        permissions: &[Permission],
        results_limited_to_grants: bool,
    ) -> Result<domain::access::roles::RoleDraft, ApiError> {
        let permissions = permissions.iter().copied().map(domain_permission).collect();
        Ok(domain::access::roles::RoleDraft {
            name,
            permissions,
            results_limited_to_grants,
        })
    }

    pub(super) fn workplace_role(key: &RoleKey) -> Result<domain::platform::ids::RoleId, ApiError> {
        match key.parse()? {
            domain::platform::policy::RoleKey::Workplace(id) => Ok(id),
            domain::platform::policy::RoleKey::BuiltIn(_) => Err(domain::Error::Conflict(
                "Built-in roles cannot be changed. Define a role of your own instead.".into(),
            )
            .into()),
        }
    }
}
