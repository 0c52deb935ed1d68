//! How long a workplace keeps what it no longer needs: people who left are erased, and comments
//! deleted, a set number of months after leaving or after their round closed. The audit log has
//! its own retention (see `audit::review::Settings`), shown alongside. The job runner applies
//! every workplace's policy once a day; what it removed is counted in the workplace's audit log
//! and the server log, never named.

use chrono::{DateTime, Months, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Set,
};

use crate::{
    platform::{
        audit::{self, Category, EntityType},
        entities::{comment_replies, comments, retention_policies, rounds, users},
        ids::{UserId, WorkplaceId},
        policy::{Action, Resource},
        tenant::TenantDb,
    },
    Database, Error, Result,
};

/// The longest period a policy may name: ten years.
pub const MAX_MONTHS: i32 = 120;
/// Until a workplace chooses: people who left are kept a year, comments two.
pub const DEFAULT_PEOPLE_LEFT_MONTHS: i32 = 12;
pub const DEFAULT_COMMENTS_MONTHS: i32 = 24;
const APPLIED: &str = "retention.applied";

/// A workplace's retention policy; None keeps that data until someone removes it by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub people_left_months: Option<i32>,
    pub comments_months: Option<i32>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            people_left_months: Some(DEFAULT_PEOPLE_LEFT_MONTHS),
            comments_months: Some(DEFAULT_COMMENTS_MONTHS),
        }
    }
}

impl Policy {
    fn check(self) -> Result<Self> {
        for (field, months) in [
            ("people_left_months", self.people_left_months),
            ("comments_months", self.comments_months),
        ] {
            if months.is_some_and(|m| !(1..=MAX_MONTHS).contains(&m)) {
                return Err(Error::Invalid {
                    field,
                    reason: format!("must be between 1 and {MAX_MONTHS} months"),
                });
            }
        }
        Ok(self)
    }
}

/// What the settings page shows: the policy, the audit log's retention, and the last run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overview {
    pub policy: Policy,
    /// Whether the workplace has chosen (false: the defaults apply).
    pub chosen: bool,
    pub audit_log_days: i32,
    pub last_applied_at: Option<DateTime<Utc>>,
    pub last_people_erased: i64,
    pub last_comments_deleted: i64,
    /// People who left longer ago than the policy and not yet erased: the next daily run
    /// erases them, or they wait for an open round that asks them.
    pub past_period: i64,
}

/// What one application of a workplace's policy removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub people_erased: u64,
    /// People past the policy who are still asked in an open round; erased once it closes.
    pub people_waiting: u64,
    pub comments_deleted: u64,
}

/// The first moment that is *not* past a period of `months` before `now`.
fn cutoff(now: DateTime<Utc>, months: i32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(months.unsigned_abs()))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn policy_from(row: Option<&retention_policies::Model>) -> Policy {
    row.map(|row| Policy {
        people_left_months: row.people_left_months,
        comments_months: row.comments_months,
    })
    .unwrap_or_default()
}

pub async fn overview(tenant: &TenantDb, now: DateTime<Utc>) -> Result<Overview> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let row = tenant.select::<retention_policies::Entity>().one(&txn).await?;
    let audit_log_days = crate::compliance::audit_log::review::settings_in(tenant, &txn)
        .await?
        .retention_days;
    let policy = policy_from(row.as_ref());
    let past_period = match policy.people_left_months {
        Some(months) => {
            tenant
                .select::<users::Entity>()
                .filter(users::Column::Status.eq(users::Status::Left))
                .filter(users::Column::LeftAt.lte(cutoff(now, months)))
                .count(&txn)
                .await?
        }
        None => 0,
    };
    txn.commit().await?;
    Ok(Overview {
        policy,
        chosen: row.is_some(),
        audit_log_days,
        last_applied_at: row.as_ref().and_then(|r| r.last_applied_at),
        last_people_erased: row.as_ref().map_or(0, |r| r.last_people_erased),
        last_comments_deleted: row.as_ref().map_or(0, |r| r.last_comments_deleted),
        past_period: i64::try_from(past_period).unwrap_or(i64::MAX),
    })
}

/// Saves the policy; the next daily run applies it.
pub async fn set_policy(tenant: &TenantDb, policy: Policy, now: DateTime<Utc>) -> Result<()> {
    let identity = tenant.person()?;
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let policy = policy.check()?;
    tenant.touch(EntityType::Settings, [tenant.workplace_id().uuid()]);
    let txn = tenant.begin().await?;
    let existing = tenant.select::<retention_policies::Entity>().one(&*txn).await?;
    let exists = existing.is_some();
    let mut row: retention_policies::ActiveModel = match existing {
        Some(row) => row.into(),
        None => retention_policies::ActiveModel {
            workplace_id: Set(tenant.workplace_id().uuid()),
            last_applied_at: Set(None),
            last_people_erased: Set(0),
            last_comments_deleted: Set(0),
            ..Default::default()
        },
    };
    row.people_left_months = Set(policy.people_left_months);
    row.comments_months = Set(policy.comments_months);
    row.updated_at = Set(now);
    row.updated_by = Set(Some(identity.user_id.uuid()));
    if exists {
        row.update(&*txn).await?;
    } else {
        row.insert(&*txn).await?;
    }
    txn.commit().await
}

/// Applies every workplace's policy (the daily job).
pub async fn apply_all(db: &Database, now: DateTime<Utc>) -> Result<Vec<(WorkplaceId, Applied)>> {
    let ids = crate::operations::key_rotation::workplace_ids(db).await?;
    let mut applied = Vec::with_capacity(ids.len());
    for workplace in ids {
        let tenant = TenantDb::for_system(db, workplace, "data-retention");
        // One workplace's failure (logged) does not keep the others' policies from applying.
        let result = match apply(&tenant, now).await {
            Ok(result) => result,
            Err(err) => {
                tracing::error!(%workplace, code = err.code(), error = %err, "a retention policy could not be applied");
                continue;
            }
        };
        if result != Applied::default() {
            tracing::info!(
                %workplace,
                people_erased = result.people_erased,
                people_waiting = result.people_waiting,
                comments_deleted = result.comments_deleted,
                "retention policy applied"
            );
        }
        applied.push((workplace, result));
    }
    Ok(applied)
}

/// Applies one workplace's policy in one transaction: people who left longer ago than the
/// policy are erased (as an erasure request would), comments of rounds closed longer ago are
/// deleted with their replies, and the counts go to the audit log.
pub async fn apply(tenant: &TenantDb, now: DateTime<Utc>) -> Result<Applied> {
    let workplace = tenant.workplace_id();
    let txn = tenant.begin_unlogged().await?;
    let row = tenant.select::<retention_policies::Entity>().one(&txn).await?;
    let policy = policy_from(row.as_ref());
    let mut applied = Applied::default();
    // People marked as having left before leaving was dated start their clock today.
    tenant
        .update_many::<users::Entity>()
        .col_expr(users::Column::LeftAt, Expr::value(Some(now)))
        .filter(users::Column::WorkplaceId.eq(workplace.uuid()))
        .filter(users::Column::Status.eq(users::Status::Left))
        .filter(users::Column::LeftAt.is_null())
        .exec(&txn)
        .await?;
    let mut erased_addresses = Vec::new();
    if let Some(months) = policy.people_left_months {
        let due: Vec<uuid::Uuid> = tenant
            .select::<users::Entity>()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::Status.eq(users::Status::Left))
            .filter(users::Column::LeftAt.lte(cutoff(now, months)))
            .into_tuple()
            .all(&txn)
            .await?;
        for person in due {
            match crate::compliance::privacy::remove_account(tenant, &txn, UserId::from_uuid(person)).await {
                Ok(removed) => {
                    applied.people_erased += 1;
                    erased_addresses.push(removed.email);
                }
                Err(Error::Conflict(_)) => applied.people_waiting += 1,
                Err(err) => return Err(err),
            }
        }
    }
    if let Some(months) = policy.comments_months {
        let closed: Vec<uuid::Uuid> = tenant
            .select::<rounds::Entity>()
            .select_only()
            .column(rounds::Column::Id)
            .filter(rounds::Column::ClosedAt.lte(cutoff(now, months)))
            .into_tuple()
            .all(&txn)
            .await?;
        for chunk in closed.chunks(500) {
            let expired = tenant
                .select::<comments::Entity>()
                .select_only()
                .column(comments::Column::Id)
                .filter(comments::Column::RoundId.is_in(chunk.iter().copied()))
                .into_query();
            tenant
                .delete_many::<comment_replies::Entity>()
                .filter(comment_replies::Column::WorkplaceId.eq(workplace.uuid()))
                .filter(comment_replies::Column::CommentId.in_subquery(expired))
                .exec(&txn)
                .await?;
            applied.comments_deleted += tenant
                .delete_many::<comments::Entity>()
                .filter(comments::Column::WorkplaceId.eq(workplace.uuid()))
                .filter(comments::Column::RoundId.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected;
        }
    }
    let mut entries = Vec::new();
    for (entity, count) in [
        (EntityType::Person, applied.people_erased),
        (EntityType::Comment, applied.comments_deleted),
    ] {
        if count > 0 {
            let mut entry = audit::Entry::new(APPLIED, Category::Security, now);
            entry.workplace = Some(workplace);
            entry.entity_type = Some(entity.code().to_owned());
            entry.entity_count = usize::try_from(count).unwrap_or(usize::MAX);
            entries.push(entry);
        }
    }
    if !entries.is_empty() {
        audit::append(&txn, &entries).await?;
    }
    if let Some(row) = row {
        let mut row: retention_policies::ActiveModel = row.into();
        row.last_applied_at = Set(Some(now));
        row.last_people_erased = Set(i64::try_from(applied.people_erased).unwrap_or(i64::MAX));
        row.last_comments_deleted = Set(i64::try_from(applied.comments_deleted).unwrap_or(i64::MAX));
        row.update(&txn).await?;
    } else {
        retention_policies::ActiveModel {
            workplace_id: Set(workplace.uuid()),
            people_left_months: Set(policy.people_left_months),
            comments_months: Set(policy.comments_months),
            updated_at: Set(now),
            updated_by: Set(None),
            last_applied_at: Set(Some(now)),
            last_people_erased: Set(i64::try_from(applied.people_erased).unwrap_or(i64::MAX)),
            last_comments_deleted: Set(i64::try_from(applied.comments_deleted).unwrap_or(i64::MAX)),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    if applied.people_erased > 0 {
        crate::compliance::privacy::forget_queued_mail(tenant, erased_addresses).await;
        crate::compliance::workplace_deletion::let_go_of_erased_people(tenant.database()).await;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn periods_count_calendar_months_back() {
        assert_eq!(cutoff(at("2027-03-31T12:00:00Z"), 1), at("2027-02-28T12:00:00Z"));
        assert_eq!(cutoff(at("2027-12-02T00:00:00Z"), 12), at("2026-12-02T00:00:00Z"));
    }

    #[test]
    fn a_policy_names_one_month_to_ten_years_or_keeps() {
        let keep = Policy {
            people_left_months: None,
            comments_months: None,
        };
        assert!(keep.check().is_ok());
        assert!(Policy::default().check().is_ok());
        for bad in [0, -3, MAX_MONTHS + 1] {
            let policy = Policy {
                people_left_months: Some(bad),
                ..Policy::default()
            };
            assert!(matches!(
                policy.check(),
                Err(Error::Invalid {
                    field: "people_left_months",
                    ..
                })
            ));
        }
    }
}
