//! Roles: the built-in five and those a workplace defines from the permission sets. A person's
//! role is stored as a built-in key, or as `custom` with the id of a role of their workplace.
//! Editing a workplace role changes what its holders may do from their next request.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    Set,
};

use crate::{
    platform::{
        entities::{users, workplace_roles},
        ids::{RoleId, WorkplaceId},
        policy::{Action, Permission, PermissionSet, Resource, Role, RoleDefinition, RoleKey},
        tenant::TenantDb,
    },
    Error, Result,
};

/// `users.role` of someone holding a workplace's own role.
const CUSTOM: &str = "custom";
/// Enough for any organisation chart; keeps the role picker usable.
pub const MAX_WORKPLACE_ROLES: usize = 50;
const NAME_MAX: usize = 60;

/// A role with the number of people holding it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSummary {
    pub definition: RoleDefinition,
    pub holders: u64,
}

/// A workplace role as its editor fills it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleDraft {
    pub name: String,
    pub permissions: PermissionSet,
    pub results_limited_to_grants: bool,
}

/// The columns that store `key` on a person.
pub(crate) fn stored(key: RoleKey) -> (String, Option<uuid::Uuid>) {
    match key {
        RoleKey::BuiltIn(role) => (role.key().to_owned(), None),
        RoleKey::Workplace(id) => (CUSTOM.to_owned(), Some(id.uuid())),
    }
}

fn definition(row: &workplace_roles::Model) -> Result<RoleDefinition> {
    let permissions = PermissionSet::from_keys(&row.permissions)
        .ok_or_else(|| Error::Internal(format!("unknown permission in role {}", row.id)))?;
    Ok(RoleDefinition {
        key: RoleKey::Workplace(RoleId::from_uuid(row.id)),
        name: row.name.clone(),
        permissions,
        results_limited_to_grants: row.results_limited_to_grants,
    })
}

/// The workplace's own roles, by id: what a list of people needs to name their roles.
#[derive(Clone, Debug, Default)]
pub(crate) struct WorkplaceRoles(HashMap<uuid::Uuid, RoleDefinition>);

impl WorkplaceRoles {
    pub(crate) async fn load(conn: &impl ConnectionTrait, workplace: WorkplaceId) -> Result<Self> {
        // Callers come through a tenant transaction, or (loading an identity) before one exists.
        workplace_roles::Entity::find()
            .filter(workplace_roles::Column::WorkplaceId.eq(workplace.uuid()))
            .all(conn)
            .await?
            .iter()
            .map(|row| Ok((row.id, definition(row)?)))
            .collect::<Result<_>>()
            .map(Self)
    }

    /// The role stored in a person's `role` and `custom_role_id` columns.
    pub(crate) fn resolve(&self, role: &str, custom: Option<uuid::Uuid>) -> Result<RoleDefinition> {
        if role == CUSTOM {
            return custom
                .and_then(|id| self.0.get(&id).cloned())
                .ok_or_else(|| Error::Internal("a person holds a role that does not exist".into()));
        }
        Role::from_key(role)
            .map(RoleDefinition::built_in)
            .ok_or_else(|| Error::Internal(format!("unknown role {role:?}")))
    }

    pub(crate) fn definitions(&self) -> impl Iterator<Item = &RoleDefinition> {
        self.0.values()
    }
}

/// The definition behind `key`; a workplace role must belong to this workplace (not found
/// otherwise).
pub(crate) async fn find_in(
    tenant: &TenantDb,
    conn: &impl ConnectionTrait,
    key: RoleKey,
) -> Result<RoleDefinition> {
    match key {
        RoleKey::BuiltIn(role) => Ok(RoleDefinition::built_in(role)),
        RoleKey::Workplace(id) => {
            // Shared lock: a role cannot be deleted while someone is being given it.
            let row = tenant
                .select::<workplace_roles::Entity>()
                .filter(workplace_roles::Column::Id.eq(id.uuid()))
                .lock_shared()
                .one(conn)
                .await?
                .ok_or(Error::NotFound)?;
            definition(&row)
        }
    }
}

/// The roles this scope's actor may give, in the order of [`list`]: the choices of the people
/// forms, which need no right to read the roles table itself.
pub async fn assignable(tenant: &TenantDb) -> Result<Vec<RoleDefinition>> {
    let txn = tenant.begin_read().await?;
    let own = WorkplaceRoles::load(&txn, tenant.workplace_id()).await?;
    txn.commit().await?;
    Ok(in_order(&own)
        .into_iter()
        .filter(|role| tenant.allows(Action::AssignRole(role.reach()), Resource::Workplace))
        .collect())
}

/// The built-in roles first, then the workplace's own by name.
fn in_order(own: &WorkplaceRoles) -> Vec<RoleDefinition> {
    let mut workplace: Vec<&RoleDefinition> = own.definitions().collect();
    workplace.sort_by_key(|d| d.name.to_lowercase());
    Role::ALL
        .into_iter()
        .map(RoleDefinition::built_in)
        .chain(workplace.into_iter().cloned())
        .collect()
}

/// One role of the workplace, built-in or its own.
pub async fn find(tenant: &TenantDb, key: RoleKey) -> Result<RoleDefinition> {
    let txn = tenant.begin().await?;
    let found = find_in(tenant, &txn, key).await?;
    txn.commit().await?;
    Ok(found)
}

/// Every role of the workplace: the built-in ones first, then its own by name, each with the
/// number of people holding it (invited and former people included). For those who may read
/// the roles table (people or roles managers).
pub async fn list(tenant: &TenantDb) -> Result<Vec<RoleSummary>> {
    tenant.require(Action::ViewRoles, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let own = WorkplaceRoles::load(&txn, tenant.workplace_id()).await?;
    let counted: Vec<(String, Option<uuid::Uuid>, i64)> = tenant
        .select::<users::Entity>()
        .select_only()
        .column(users::Column::Role)
        .column(users::Column::CustomRoleId)
        .column_as(users::Column::Id.count(), "holders")
        .group_by(users::Column::Role)
        .group_by(users::Column::CustomRoleId)
        .into_tuple()
        .all(&txn)
        .await?;
    txn.commit().await?;
    let mut holders: HashMap<RoleKey, u64> = HashMap::new();
    for (role, custom, n) in counted {
        let key = own.resolve(&role, custom)?.key;
        *holders.entry(key).or_default() += u64::try_from(n).unwrap_or_default();
    }
    Ok(in_order(&own)
        .into_iter()
        .map(|definition| RoleSummary {
            holders: holders.get(&definition.key).copied().unwrap_or_default(),
            definition,
        })
        .collect())
}

/// The checked name, its unique form, and the permissions to store.
fn validate(draft: &RoleDraft) -> Result<(String, String, PermissionSet, bool)> {
    let name = crate::platform::text::one_line(&draft.name, "name", NAME_MAX)?;
    let name_key = name.to_lowercase();
    if Role::ALL
        .into_iter()
        .any(|role| role.label().to_lowercase() == name_key || role.key() == name_key)
    {
        return Err(Error::Invalid {
            field: "name",
            reason: "is the name of a built-in role".into(),
        });
    }
    let allowed: PermissionSet = Permission::FOR_WORKPLACE_ROLES.into_iter().collect();
    if !draft.permissions.is_subset(allowed) {
        return Err(Error::Invalid {
            field: "permissions",
            reason: "may not include giving roles; only Owners do that".into(),
        });
    }
    if draft.permissions.is_empty() {
        return Err(Error::Invalid {
            field: "permissions",
            reason: "choose at least one (a role without any is the Employee role)".into(),
        });
    }
    let limited = draft.results_limited_to_grants && draft.permissions.contains(Permission::Results);
    Ok((name, name_key, draft.permissions, limited))
}

fn name_taken() -> Error {
    Error::Conflict("The workplace already has a role with that name.".into())
}

fn unique_name(result: std::result::Result<workplace_roles::Model, sea_orm::DbErr>) -> Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(err) => Err(match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => name_taken(),
            _ => err.into(),
        }),
    }
}

/// Defines a new role for the workplace.
pub async fn create(tenant: &TenantDb, draft: &RoleDraft, now: DateTime<Utc>) -> Result<RoleId> {
    tenant.require(Action::ManageRoles, Resource::Workplace)?;
    let (name, name_key, permissions, limited) = validate(draft)?;
    let txn = tenant.begin().await?;
    let existing = tenant.select::<workplace_roles::Entity>().all(&txn).await?;
    if existing.len() >= MAX_WORKPLACE_ROLES {
        return Err(Error::Conflict(format!(
            "A workplace can define up to {MAX_WORKPLACE_ROLES} roles. Delete one you no longer use."
        )));
    }
    if existing.iter().any(|row| row.name_key == name_key) {
        return Err(name_taken());
    }
    let id = RoleId::new();
    unique_name(
        workplace_roles::ActiveModel {
            id: Set(id.uuid()),
            workplace_id: Set(tenant.workplace_id().uuid()),
            name: Set(name),
            name_key: Set(name_key),
            permissions: Set(permissions.keys()),
            results_limited_to_grants: Set(limited),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await,
    )?;
    txn.commit().await?;
    Ok(id)
}

async fn own_row(
    tenant: &TenantDb,
    conn: &impl ConnectionTrait,
    id: RoleId,
) -> Result<workplace_roles::Model> {
    tenant
        .select::<workplace_roles::Entity>()
        .filter(workplace_roles::Column::Id.eq(id.uuid()))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Renames a workplace role or changes its permissions; holders get the new permissions on
/// their next request.
pub async fn update(tenant: &TenantDb, id: RoleId, draft: &RoleDraft, now: DateTime<Utc>) -> Result<()> {
    tenant.require(Action::ManageRoles, Resource::Workplace)?;
    tenant.touch(crate::platform::audit::EntityType::Role, [id.uuid()]);
    let (name, name_key, permissions, limited) = validate(draft)?;
    let txn = tenant.begin().await?;
    let found = own_row(tenant, &txn, id).await?;
    let clash = tenant
        .select::<workplace_roles::Entity>()
        .filter(workplace_roles::Column::NameKey.eq(name_key.clone()))
        .filter(workplace_roles::Column::Id.ne(id.uuid()))
        .one(&txn)
        .await?;
    if clash.is_some() {
        return Err(name_taken());
    }
    let mut changed: workplace_roles::ActiveModel = found.into();
    changed.name = Set(name);
    changed.name_key = Set(name_key);
    changed.permissions = Set(permissions.keys());
    changed.results_limited_to_grants = Set(limited);
    changed.updated_at = Set(now);
    unique_name(changed.update(&txn).await)?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a workplace role nobody holds.
pub async fn delete(tenant: &TenantDb, id: RoleId) -> Result<()> {
    tenant.require(Action::ManageRoles, Resource::Workplace)?;
    tenant.touch(crate::platform::audit::EntityType::Role, [id.uuid()]);
    let txn = tenant.begin().await?;
    let found = own_row(tenant, &txn, id).await?;
    let holders = tenant
        .select::<users::Entity>()
        .filter(users::Column::CustomRoleId.eq(found.id))
        .count(&txn)
        .await?;
    if holders > 0 {
        let people = if holders == 1 {
            "person holds"
        } else {
            "people hold"
        };
        return Err(Error::Conflict(format!(
            "{holders} {people} this role. Give them another role first."
        )));
    }
    tenant
        .delete_many::<workplace_roles::Entity>()
        .filter(workplace_roles::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
