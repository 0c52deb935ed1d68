//! Support access. Candor's operators have no account in any workplace and no way in through
//! the application. When a workplace wants help, its Owner grants support access for a few
//! hours; while the grant is live, `candor support inspect` shows the operator the workplace's
//! setup — counts and settings, never a name, an address, an answer or a comment. Each grant,
//! revocation and inspection is recorded in the workplace's audit chain and in the instance's.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::{
    platform::{
        audit::EntityType,
        entities::{departments, rounds, support_grants, surveys, users},
        ids::{UserId, WorkplaceId},
        policy::{Action, Resource},
        security_events::{EventKind, SecurityEvent},
        tenant::TenantDb,
    },
    Database, Error, Result,
};

/// The longest a grant may run.
pub const MAX_HOURS: i64 = 72;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub id: Uuid,
    pub granted_by: UserId,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Grant {
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

fn to_grant(row: support_grants::Model) -> Grant {
    Grant {
        id: row.id,
        granted_by: UserId::from_uuid(row.granted_by),
        granted_at: row.granted_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
    }
}

/// The workplace's grants, newest first, each with the name of the Owner who gave it (the
/// settings page shows them to Owners and `settings`).
pub async fn grants(tenant: &TenantDb) -> Result<Vec<(Grant, String)>> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let rows = tenant
        .select::<support_grants::Entity>()
        .order_by_desc(support_grants::Column::GrantedAt)
        .limit(20)
        .all(&txn)
        .await?;
    let givers: Vec<Uuid> = rows.iter().map(|row| row.granted_by).collect();
    let names = crate::platform::user_fields::names_of(tenant, &txn, &givers).await?;
    txn.commit().await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let name = names
                .get(&row.granted_by)
                .cloned()
                .unwrap_or_else(|| "former account".into());
            (to_grant(row), name)
        })
        .collect())
}

/// Grants support access for `hours` (1 to [`MAX_HOURS`]); one grant is live at a time.
pub async fn grant(tenant: &TenantDb, hours: i64, now: DateTime<Utc>) -> Result<Grant> {
    let identity = tenant.person()?;
    tenant.require(Action::GrantSupportAccess, Resource::Workplace)?;
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(Error::Invalid {
            field: "hours",
            reason: format!("choose from 1 to {MAX_HOURS} hours"),
        });
    }
    let txn = tenant.begin().await?;
    let live = tenant
        .select::<support_grants::Entity>()
        .filter(support_grants::Column::RevokedAt.is_null())
        .filter(support_grants::Column::ExpiresAt.gt(now))
        .count(&txn)
        .await?;
    if live > 0 {
        return Err(Error::Conflict(
            "Support access is already granted. Revoke it first to grant a different period.".into(),
        ));
    }
    let row = support_grants::ActiveModel {
        id: Set(Uuid::new_v4()),
        workplace_id: Set(tenant.workplace_id().uuid()),
        granted_by: Set(identity.user_id.uuid()),
        granted_at: Set(now),
        expires_at: Set(now + Duration::hours(hours)),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = SecurityEvent::new(EventKind::SupportAccessGranted, now)
        .in_workplace(tenant.workplace_id())
        .by(identity.user_id);
    crate::platform::security_events::store_and_log(&txn, &event).await?;
    tenant.touch(EntityType::Workplace, [tenant.workplace_id().uuid()]);
    txn.commit().await?;
    crate::platform::security_events::record_for_instance(tenant.database(), event, tenant.workplace_id())
        .await?;
    Ok(to_grant(row))
}

/// Ends a live grant now.
pub async fn revoke(tenant: &TenantDb, grant: Uuid, now: DateTime<Utc>) -> Result<()> {
    let identity = tenant.person()?;
    tenant.require(Action::GrantSupportAccess, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let row = tenant
        .select::<support_grants::Entity>()
        .filter(support_grants::Column::Id.eq(grant))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    if !to_grant(row.clone()).live(now) {
        return Err(Error::Conflict("This grant has already ended.".into()));
    }
    let mut row: support_grants::ActiveModel = row.into();
    row.revoked_at = Set(Some(now));
    row.update(&txn).await?;
    let event = SecurityEvent::new(EventKind::SupportAccessRevoked, now)
        .in_workplace(tenant.workplace_id())
        .by(identity.user_id);
    crate::platform::security_events::store_and_log(&txn, &event).await?;
    txn.commit().await?;
    crate::platform::security_events::record_for_instance(tenant.database(), event, tenant.workplace_id())
        .await
}

/// What an operator sees of a workplace under a live grant: its shape, no person in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspection {
    pub expires_at: DateTime<Utc>,
    /// (status, how many people)
    pub people: Vec<(String, u64)>,
    pub departments: u64,
    /// (status, how many surveys)
    pub surveys: Vec<(String, u64)>,
    pub open_rounds: u64,
}

/// The operator's look at `workplace`: refused without a live grant; recorded on both sides.
pub async fn inspect(db: &Database, workplace: WorkplaceId, now: DateTime<Utc>) -> Result<Inspection> {
    let tenant = TenantDb::for_system(db, workplace, "support-inspect");
    let txn = tenant.begin_unlogged().await?;
    let live = tenant
        .select::<support_grants::Entity>()
        .filter(support_grants::Column::RevokedAt.is_null())
        .filter(support_grants::Column::ExpiresAt.gt(now))
        .order_by_desc(support_grants::Column::ExpiresAt)
        .one(&txn)
        .await?
        .ok_or(Error::Forbidden)?;
    let grouped = |values: Vec<String>| {
        let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
        for value in values {
            *counts.entry(value).or_default() += 1;
        }
        counts.into_iter().collect::<Vec<_>>()
    };
    let statuses: Vec<String> = tenant
        .select::<users::Entity>()
        .select_only()
        .column(users::Column::Status)
        .into_tuple()
        .all(&txn)
        .await?;
    let survey_statuses: Vec<String> = tenant
        .select::<surveys::Entity>()
        .select_only()
        .column(surveys::Column::Status)
        .into_tuple()
        .all(&txn)
        .await?;
    let inspection = Inspection {
        expires_at: live.expires_at,
        people: grouped(statuses),
        departments: tenant.select::<departments::Entity>().count(&txn).await?,
        surveys: grouped(survey_statuses),
        open_rounds: tenant
            .select::<rounds::Entity>()
            .filter(rounds::Column::ClosedAt.is_null())
            .count(&txn)
            .await?,
    };
    let event = SecurityEvent::new(EventKind::SupportAccessUsed, now)
        .in_workplace(workplace)
        .about("support_grant", Some(live.id));
    crate::platform::security_events::store_and_log(&txn, &event).await?;
    txn.commit().await?;
    crate::platform::security_events::record_for_instance(db, event, workplace).await?;
    Ok(inspection)
}
