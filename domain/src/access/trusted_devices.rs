//! Remembered devices and the workplace setting behind them. By default every sign-in needs
//! both factors. A workplace may let a device skip the second factor for up to 30 days after it
//! was used with both — but only from the same browser family and network it was remembered on,
//! and never when the account signs in at a rate above its usual one.
//!
//! Changing the password, resetting factors, suspension and switching the setting off forget
//! remembered devices.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    access::auth::{context::SignInContext, session::SecretToken},
    platform::{
        entities::{sessions, trusted_devices, users, workplaces},
        policy::{Action, Resource},
        tenant::TenantDb,
    },
    Database, Error, Result,
};

pub const MAX_REMEMBER_DAYS: i32 = 30;
/// How far back the usual sign-in rate is measured.
const HISTORY: Duration = Duration::days(14);

/// Whether the sign-ins of the last 24 hours exceed the account's usual rate: at least three,
/// and at least twice the average day over the two weeks before (rounded up).
pub fn unusual_rate(completed_sign_ins: &[DateTime<Utc>], now: DateTime<Utc>) -> bool {
    let day_ago = now - Duration::days(1);
    let today = completed_sign_ins
        .iter()
        .filter(|at| **at > day_ago && **at <= now)
        .count();
    let before = completed_sign_ins
        .iter()
        .filter(|at| **at <= day_ago && **at > now - HISTORY)
        .count();
    let usual_per_day = before.div_ceil(13);
    today >= (2 * usual_per_day).max(3)
}

/// Sign-in settings of a workplace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInSettings {
    /// 0: both factors at every sign-in.
    pub remember_device_days: i32,
}

/// The workplace's sign-in settings, for those who may change them.
pub async fn settings(tenant: &TenantDb) -> Result<SignInSettings> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let workplace = workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    txn.commit().await?;
    Ok(SignInSettings {
        remember_device_days: workplace.remember_device_days,
    })
}

pub async fn save_settings(tenant: &TenantDb, new: SignInSettings) -> Result<()> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    if !(0..=MAX_REMEMBER_DAYS).contains(&new.remember_device_days) {
        return Err(Error::Invalid {
            field: "days",
            reason: format!("must be between 1 and {MAX_REMEMBER_DAYS}"),
        });
    }
    let txn = tenant.begin().await?;
    let workplace = workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut changed: workplaces::ActiveModel = workplace.into();
    changed.remember_device_days = Set(new.remember_device_days);
    changed.update(&txn).await?;
    if new.remember_device_days == 0 {
        let members: Vec<Uuid> = tenant
            .select::<users::Entity>()
            .all(&txn)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        trusted_devices::Entity::delete_many()
            .filter(trusted_devices::Column::UserId.is_in(members))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Days a device of this account may be remembered (0: not at all).
pub async fn remember_days_for(db: &Database, user_id: Uuid) -> Result<i32> {
    let conn = db.connection();
    let Some(user) = users::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(0);
    };
    Ok(workplaces::Entity::find_by_id(user.workplace_id)
        .one(conn)
        .await?
        .map(|w| w.remember_device_days)
        .unwrap_or(0))
}

/// Remembers the device a sign-in just completed on; returns the token for its cookie.
pub async fn remember(
    db: &Database,
    user_id: Uuid,
    context: &SignInContext,
    days: i32,
    now: DateTime<Utc>,
) -> Result<SecretToken> {
    let token = SecretToken::generate();
    trusted_devices::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        token_hash: Set(token.hash()),
        context_index: Set(Some(crate::access::context_fields::index(db.keyring()?, context))),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(i64::from(days.clamp(0, MAX_REMEMBER_DAYS)))),
    }
    .insert(db.connection())
    .await?;
    Ok(token)
}

/// Whether this sign-in may skip the second factor: the workplace allows it, the presented
/// device token is this account's, unexpired, remembered on the same browser family and
/// network, and the account is not signing in unusually often.
pub async fn may_skip_second_factor(
    db: &Database,
    user_id: Uuid,
    presented: Option<&str>,
    context: &SignInContext,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(token) = presented.and_then(SecretToken::parse) else {
        return Ok(false);
    };
    if remember_days_for(db, user_id).await? == 0 {
        return Ok(false);
    }
    let conn = db.connection();
    let here = crate::access::context_fields::index(db.keyring()?, context);
    let known = trusted_devices::Entity::find()
        .filter(trusted_devices::Column::TokenHash.eq(token.hash()))
        .filter(trusted_devices::Column::UserId.eq(user_id))
        .one(conn)
        .await?
        .is_some_and(|d| d.expires_at > now && d.context_index.as_deref() == Some(here.as_str()));
    if !known {
        return Ok(false);
    }
    let history: Vec<DateTime<Utc>> = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::SecondFactorAt.is_not_null())
        .filter(sessions::Column::CreatedAt.gt(now - HISTORY))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| s.created_at)
        .collect();
    Ok(!unusual_rate(&history, now))
}

/// Forgets every remembered device of an account.
pub(crate) async fn forget_all(conn: &impl sea_orm::ConnectionTrait, user_id: Uuid) -> Result<()> {
    trusted_devices::Entity::delete_many()
        .filter(trusted_devices::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours_ago: i64, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::hours(hours_ago)
    }

    #[test]
    fn the_usual_rate_is_learned_from_the_two_weeks_before() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        // Nothing before: up to two sign-ins a day are usual, the third is not.
        assert!(!unusual_rate(&[at(1, now), at(5, now)], now));
        assert!(unusual_rate(&[at(1, now), at(2, now), at(3, now)], now));
        // Someone who signs in about four times a day: eight today is unusual, seven is not.
        let mut history: Vec<DateTime<Utc>> = (1..=13)
            .flat_map(|day| (0..4).map(move |n| at(day * 24 + n, now)))
            .collect();
        let today: Vec<DateTime<Utc>> = (0..7).map(|n| at(n, now)).collect();
        history.extend(&today);
        assert!(!unusual_rate(&history, now));
        history.push(at(8, now));
        assert!(unusual_rate(&history, now));
        // Sign-ins older than two weeks do not count.
        let old: Vec<DateTime<Utc>> = (0..100).map(|n| at(24 * 20 + n, now)).collect();
        assert!(!unusual_rate(&old, now));
    }
}
