//! Departments: a tree per workplace. Create, rename, move (never under itself or one of its own
//! descendants) and archive (only when nothing active remains inside). Names are unique among
//! the active departments that share a parent.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, PaginatorTrait, QueryFilter, QuerySelect, Set};

use crate::{
    platform::{
        entities::{departments, users},
        ids::DepartmentId,
        policy::{Action, Resource},
        tenant::TenantDb,
        tree::subtree,
    },
    Error, Result,
};

pub const MAX_NAME: usize = 120;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Department {
    pub id: DepartmentId,
    pub parent: Option<DepartmentId>,
    pub name: String,
    pub archived: bool,
    /// People whose department this is (not counting sub-departments).
    pub people: u64,
}

async fn all_rows(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<Vec<departments::Model>> {
    Ok(tenant.select::<departments::Entity>().all(conn).await?)
}

fn edges(rows: &[departments::Model]) -> impl Iterator<Item = (DepartmentId, Option<DepartmentId>)> + '_ {
    rows.iter().map(|row| {
        (
            DepartmentId::from_uuid(row.id),
            row.parent_id.map(DepartmentId::from_uuid),
        )
    })
}

/// The workplace's departments, archived ones included, in no particular order.
pub async fn list(tenant: &TenantDb) -> Result<Vec<Department>> {
    tenant.require(Action::ViewDepartments, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let rows = all_rows(tenant, &txn).await?;
    // Counted by the database: a workplace of thousands need not be loaded to count it.
    let counted: Vec<(Option<uuid::Uuid>, i64)> = tenant
        .select::<users::Entity>()
        .select_only()
        .column(users::Column::DepartmentId)
        .column_as(users::Column::Id.count(), "people")
        .filter(users::Column::DepartmentId.is_not_null())
        .group_by(users::Column::DepartmentId)
        .into_tuple()
        .all(&txn)
        .await?;
    txn.commit().await?;
    let counts: BTreeMap<uuid::Uuid, u64> = counted
        .into_iter()
        .filter_map(|(department, n)| Some((department?, u64::try_from(n).unwrap_or_default())))
        .collect();
    Ok(with_counts(rows, &counts))
}

/// [`list`] with the people counted from a directory already open (see
/// [`super::directory::Directory::departments`]), instead of by the database.
pub(crate) async fn list_counted(
    tenant: &TenantDb,
    counts: &BTreeMap<uuid::Uuid, u64>,
) -> Result<Vec<Department>> {
    tenant.require(Action::ViewDepartments, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let rows = all_rows(tenant, &txn).await?;
    txn.commit().await?;
    Ok(with_counts(rows, counts))
}

fn with_counts(rows: Vec<departments::Model>, counts: &BTreeMap<uuid::Uuid, u64>) -> Vec<Department> {
    rows.into_iter()
        .map(|row| Department {
            id: DepartmentId::from_uuid(row.id),
            parent: row.parent_id.map(DepartmentId::from_uuid),
            people: counts.get(&row.id).copied().unwrap_or_default(),
            name: row.name,
            archived: row.archived_at.is_some(),
        })
        .collect()
}

fn active_parent(rows: &[departments::Model], parent: Option<DepartmentId>) -> Result<()> {
    match parent {
        None => Ok(()),
        Some(parent) => match rows.iter().find(|row| row.id == parent.uuid()) {
            Some(row) if row.archived_at.is_none() => Ok(()),
            Some(_) => Err(Error::Conflict(
                "That department is archived. Restore it first.".into(),
            )),
            None => Err(Error::NotFound),
        },
    }
}

fn unique_among_siblings(
    rows: &[departments::Model],
    parent: Option<DepartmentId>,
    name: &str,
    except: Option<DepartmentId>,
) -> Result<()> {
    let taken = rows.iter().any(|row| {
        row.parent_id == parent.map(DepartmentId::uuid)
            && row.archived_at.is_none()
            && Some(row.id) != except.map(DepartmentId::uuid)
            && row.name.to_lowercase() == name.to_lowercase()
    });
    if taken {
        return Err(Error::Conflict(format!(
            "There is already a department called “{name}” there."
        )));
    }
    Ok(())
}

pub async fn create(
    tenant: &TenantDb,
    name: &str,
    parent: Option<DepartmentId>,
    now: DateTime<Utc>,
) -> Result<DepartmentId> {
    tenant.require(Action::ManageDepartments, Resource::Workplace)?;
    let name = crate::platform::text::one_line(name, "name", MAX_NAME)?;
    let txn = tenant.begin().await?;
    let rows = all_rows(tenant, &txn).await?;
    active_parent(&rows, parent)?;
    unique_among_siblings(&rows, parent, &name, None)?;
    let id = DepartmentId::new();
    departments::ActiveModel {
        id: Set(id.uuid()),
        workplace_id: Set(tenant.workplace_id().uuid()),
        parent_id: Set(parent.map(DepartmentId::uuid)),
        name: Set(name),
        archived_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(id)
}

fn find(rows: &[departments::Model], id: DepartmentId) -> Result<&departments::Model> {
    rows.iter().find(|row| row.id == id.uuid()).ok_or(Error::NotFound)
}

pub async fn rename(tenant: &TenantDb, id: DepartmentId, name: &str) -> Result<()> {
    tenant.require(Action::ManageDepartments, Resource::Department(id))?;
    tenant.touch(crate::platform::audit::EntityType::Department, [id.uuid()]);
    let name = crate::platform::text::one_line(name, "name", MAX_NAME)?;
    let txn = tenant.begin().await?;
    let rows = all_rows(tenant, &txn).await?;
    let row = find(&rows, id)?.clone();
    unique_among_siblings(&rows, row.parent_id.map(DepartmentId::from_uuid), &name, Some(id))?;
    let mut renamed: departments::ActiveModel = row.into();
    renamed.name = Set(name);
    renamed.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Moves a department (with everything below it) under `new_parent`, or to the top level.
pub async fn move_to(tenant: &TenantDb, id: DepartmentId, new_parent: Option<DepartmentId>) -> Result<()> {
    tenant.require(Action::ManageDepartments, Resource::Department(id))?;
    tenant.touch(crate::platform::audit::EntityType::Department, [id.uuid()]);
    let txn = tenant.begin().await?;
    let rows = all_rows(tenant, &txn).await?;
    let row = find(&rows, id)?.clone();
    active_parent(&rows, new_parent)?;
    if let Some(parent) = new_parent {
        if subtree(edges(&rows), [id]).contains(&parent) {
            return Err(Error::Invalid {
                field: "parent",
                reason: "A department cannot move under itself or one of its own sub-departments.".into(),
            });
        }
    }
    unique_among_siblings(&rows, new_parent, &row.name, Some(id))?;
    let mut moved: departments::ActiveModel = row.into();
    moved.parent_id = Set(new_parent.map(DepartmentId::uuid));
    moved.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Archives a department that has no active sub-departments and no people left in it.
pub async fn archive(tenant: &TenantDb, id: DepartmentId, now: DateTime<Utc>) -> Result<()> {
    tenant.require(Action::ManageDepartments, Resource::Department(id))?;
    tenant.touch(crate::platform::audit::EntityType::Department, [id.uuid()]);
    let txn = tenant.begin().await?;
    let rows = all_rows(tenant, &txn).await?;
    let row = find(&rows, id)?.clone();
    if row.archived_at.is_some() {
        return Ok(());
    }
    if rows
        .iter()
        .any(|other| other.parent_id == Some(row.id) && other.archived_at.is_none())
    {
        return Err(Error::Conflict(
            "Move or archive its sub-departments first.".into(),
        ));
    }
    let people = tenant
        .select::<users::Entity>()
        .filter(users::Column::DepartmentId.eq(row.id))
        .count(&txn)
        .await?;
    if people > 0 {
        return Err(Error::Conflict(format!(
            "{people} people are still in this department. Move them first."
        )));
    }
    let mut archived: departments::ActiveModel = row.into();
    archived.archived_at = Set(Some(now));
    archived.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Brings an archived department back, under an active parent.
pub async fn restore(tenant: &TenantDb, id: DepartmentId) -> Result<()> {
    tenant.require(Action::ManageDepartments, Resource::Department(id))?;
    tenant.touch(crate::platform::audit::EntityType::Department, [id.uuid()]);
    let txn = tenant.begin().await?;
    let rows = all_rows(tenant, &txn).await?;
    let row = find(&rows, id)?.clone();
    active_parent(&rows, row.parent_id.map(DepartmentId::from_uuid))?;
    unique_among_siblings(
        &rows,
        row.parent_id.map(DepartmentId::from_uuid),
        &row.name,
        Some(id),
    )?;
    let mut restored: departments::ActiveModel = row.into();
    restored.archived_at = Set(None);
    restored.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}
