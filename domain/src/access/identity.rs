//! Who a signed-in session is, for the policy: role, workplace and the department subtrees
//! granted to them. Loaded on every request, so a change of role or grant applies to the next
//! one.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{
    access::{
        accounts::{SessionInfo, SignedIn},
        roles::WorkplaceRoles,
    },
    platform::tree::subtree,
    platform::{
        entities::{department_grants, departments, users},
        ids::{DepartmentId, UserId, WorkplaceId},
        policy::Identity,
    },
    Database, Error, Result,
};

pub async fn load(db: &Database, session: &SessionInfo) -> Result<Identity> {
    let user = users::Entity::find_by_id(session.user_id)
        .one(db.connection())
        .await?
        .ok_or(Error::Unauthenticated)?;
    of_account(db, &user).await
}

/// [`load`] for a session read with its account ([`crate::access::accounts::resolve_signed_in`]):
/// the account is not read again.
pub async fn of_signed_in(db: &Database, signed_in: &SignedIn) -> Result<Identity> {
    of_account(db, &signed_in.account).await
}

async fn of_account(db: &Database, user: &users::Model) -> Result<Identity> {
    if user.status != crate::platform::entities::users::Status::Active {
        return Err(Error::Unauthenticated);
    }
    let conn = db.connection();
    let workplace = WorkplaceId::from_uuid(user.workplace_id);
    let role = if user.custom_role_id.is_some() {
        WorkplaceRoles::load(conn, workplace).await?
    } else {
        WorkplaceRoles::default()
    }
    .resolve(&user.role, user.custom_role_id)?;
    let grants: Vec<DepartmentId> = department_grants::Entity::find()
        .filter(department_grants::Column::UserId.eq(user.id))
        .filter(department_grants::Column::WorkplaceId.eq(user.workplace_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|grant| DepartmentId::from_uuid(grant.department_id))
        .collect();
    let granted_departments = if grants.is_empty() {
        Default::default()
    } else {
        let edges = departments::Entity::find()
            .filter(departments::Column::WorkplaceId.eq(user.workplace_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|row| {
                (
                    DepartmentId::from_uuid(row.id),
                    row.parent_id.map(DepartmentId::from_uuid),
                )
            });
        subtree(edges, grants)
    };
    Ok(Identity {
        user_id: UserId::from_uuid(user.id),
        workplace_id: workplace,
        role,
        granted_departments,
    })
}
