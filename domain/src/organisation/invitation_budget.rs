//! A workplace's daily allowance of invitation mail. An invitation carries text the workplace
//! chooses (its own name, the person's name) to any address, so without a limit a free workplace
//! could relay phishing through Candor; and since an address belongs to one account across
//! Candor, each invitation also tells whether an address is free, so the allowance bounds how
//! fast anyone can test addresses too. A new workplace starts small. The window is a rolling 24
//! hours; invitations, resends and imports all count, one per message, even when the address
//! turns out to be taken.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use crate::{
    platform::{
        entities::{invitation_mail, workplaces},
        tenant::TenantDb,
    },
    Error, Result,
};

/// How many invitation messages a workplace may send in any 24 hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvitationBudget {
    /// While the workplace is younger than [`InvitationBudget::new_for`].
    pub new_workplace_per_day: u32,
    pub per_day: u32,
    pub new_for: Duration,
}

impl Default for InvitationBudget {
    fn default() -> Self {
        Self {
            new_workplace_per_day: 100,
            per_day: 2_000,
            new_for: Duration::days(14),
        }
    }
}

impl InvitationBudget {
    /// The allowance of a workplace created at `created_at`.
    pub fn per_day_for(&self, created_at: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
        if now - created_at < self.new_for {
            self.new_workplace_per_day
        } else {
            self.per_day
        }
    }
}

const WINDOW: Duration = Duration::hours(24);

/// Spends `messages` of the workplace's allowance, or refuses with the time until enough of it
/// is free again. Committed on its own, before the invitations are made: an attempt that then
/// fails (an address already taken) has still spent it. The workplace row is locked first, so
/// two concurrent imports cannot both pass on the same remainder.
pub(crate) async fn spend(tenant: &TenantDb, messages: usize, now: DateTime<Utc>) -> Result<()> {
    let txn = tenant.begin_unlogged().await?;
    spend_in(tenant, &txn, messages, now).await?;
    txn.commit().await?;
    Ok(())
}

async fn spend_in(
    tenant: &TenantDb,
    txn: &DatabaseTransaction,
    messages: usize,
    now: DateTime<Utc>,
) -> Result<()> {
    let budget = InvitationBudget::default();
    let workplace = workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(Error::NotFound)?;
    let per_day = match workplace.invitations_per_day {
        Some(set) => u32::try_from(set).unwrap_or(0),
        None => budget.per_day_for(workplace.created_at, now),
    };
    let since = now - WINDOW;
    tenant
        .delete_many::<invitation_mail::Entity>()
        .filter(invitation_mail::Column::WorkplaceId.eq(tenant.workplace_id().uuid()))
        .filter(invitation_mail::Column::SentAt.lt(since))
        .exec(txn)
        .await?;
    let sent: Vec<(DateTime<Utc>, i32)> = tenant
        .select::<invitation_mail::Entity>()
        .filter(invitation_mail::Column::SentAt.gte(since))
        .order_by_asc(invitation_mail::Column::SentAt)
        .select_only()
        .column(invitation_mail::Column::SentAt)
        .column(invitation_mail::Column::Messages)
        .into_tuple()
        .all(txn)
        .await?;
    let wanted = u64::try_from(messages).unwrap_or(u64::MAX);
    if let Some(free_at) = free_at(&sent, wanted, u64::from(per_day)) {
        let retry_after_secs = u64::try_from((free_at.max(now) - now).num_seconds())
            .unwrap_or(0)
            .max(1);
        return Err(Error::InvitationBudgetSpent {
            per_day,
            retry_after_secs,
        });
    }
    invitation_mail::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        workplace_id: Set(tenant.workplace_id().uuid()),
        messages: Set(i32::try_from(messages).unwrap_or(i32::MAX)),
        sent_at: Set(now),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// `None` when `wanted` more messages fit beside those `sent` (oldest first) in the window;
/// otherwise when enough of them will have left it. A request larger than the whole allowance
/// never fits: it waits a full window, and the message says the daily allowance.
fn free_at(sent: &[(DateTime<Utc>, i32)], wanted: u64, per_day: u64) -> Option<DateTime<Utc>> {
    let count = |messages: i32| u64::try_from(messages).unwrap_or(0);
    let mut spent: u64 = sent.iter().map(|(_, messages)| count(*messages)).sum();
    if spent + wanted <= per_day {
        return None;
    }
    for (at, messages) in sent {
        spent -= count(*messages);
        if spent + wanted <= per_day {
            return Some(*at + WINDOW);
        }
    }
    Some(sent.last().map_or(Utc::now(), |(at, _)| *at) + WINDOW)
}

/// The most an operator may set a workplace's allowance to: a whole large employer in a day.
pub const MOST_PER_DAY: u32 = 100_000;

/// The operator sets `workplace`'s daily allowance (`None`: back to the default), recorded in
/// the workplace's log and the instance's.
pub async fn set_allowance(
    db: &crate::Database,
    workplace: crate::platform::ids::WorkplaceId,
    per_day: Option<u32>,
    now: DateTime<Utc>,
) -> Result<()> {
    use crate::platform::security_events::{EventKind, SecurityEvent};
    if per_day.is_some_and(|n| n == 0 || n > MOST_PER_DAY) {
        return Err(Error::Invalid {
            field: "per_day",
            reason: format!("give a number from 1 to {MOST_PER_DAY}"),
        });
    }
    let tenant = TenantDb::for_system(db, workplace, "invitation-allowance");
    let txn = tenant.begin_unlogged().await?;
    let row = workplaces::Entity::find_by_id(workplace.uuid())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut row: workplaces::ActiveModel = row.into();
    row.invitations_per_day = Set(per_day.map(|n| i32::try_from(n).unwrap_or(i32::MAX)));
    row.update(&txn).await?;
    let event = SecurityEvent::new(EventKind::InvitationAllowanceSet, now)
        .in_workplace(workplace)
        .about("workplace", Some(workplace.uuid()));
    crate::platform::security_events::store_and_log(&txn, &event).await?;
    txn.commit().await?;
    crate::platform::security_events::record_for_instance(db, event, workplace).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + hours * 3600, 0).unwrap_or_default()
    }

    #[test]
    fn the_allowance_frees_up_as_old_mail_leaves_the_window() {
        let sent = [(at(0), 60), (at(5), 30)];
        assert_eq!(free_at(&sent, 10, 100), None);
        // 11 more only fit once the first 60 have left: 24 hours after they were sent.
        assert_eq!(free_at(&sent, 11, 100), Some(at(24)));
        assert_eq!(free_at(&sent, 80, 100), Some(at(29)));
    }

    #[test]
    fn a_new_workplace_starts_small() {
        let budget = InvitationBudget::default();
        assert_eq!(budget.per_day_for(at(0), at(24)), 100);
        assert_eq!(budget.per_day_for(at(0), at(24 * 15)), 2_000);
    }
}
