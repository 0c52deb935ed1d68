//! The subprocessors Candor's operator uses: kept by the operator (`candor subprocessors`),
//! shown to everyone on the public subprocessors page, and every change announced to every
//! workplace's Owners — by email and on their home page — ahead of the day it takes effect
//! (30 days by default), so a workplace can object before new processing starts.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::{
    platform::{
        entities::{subprocessor_changes, subprocessors},
        mail_queue::{MailKind, MailQueue},
        security_events::{EventKind, SecurityEvent},
        tenant::TenantDb,
    },
    Database, Error, Result,
};

/// How long before it takes effect a change is announced, unless the operator says otherwise.
pub const NOTICE_DAYS: i64 = 30;
/// How long Owners see an announced change on their home page.
const BANNER_DAYS: i64 = 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subprocessor {
    pub id: uuid::Uuid,
    pub name: String,
    pub purpose: String,
    pub location: String,
    pub data_categories: String,
    pub from_date: NaiveDate,
    pub until_date: Option<NaiveDate>,
}

impl Subprocessor {
    /// Whether it processes data on `day`.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.from_date <= day && self.until_date.is_none_or(|until| day <= until)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
}

impl ChangeKind {
    pub fn key(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        [ChangeKind::Added, ChangeKind::Removed]
            .into_iter()
            .find(|k| k.key() == key)
    }
}

/// A change as it was announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub summary: String,
    pub effective_on: NaiveDate,
    pub announced_at: DateTime<Utc>,
}

/// What the public page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Processing today (some perhaps with an announced last day).
    pub current: Vec<Subprocessor>,
    /// Announced, not yet started.
    pub planned: Vec<Subprocessor>,
    /// Every change, newest first.
    pub changes: Vec<Change>,
}

/// A new subprocessor as the operator describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSubprocessor {
    pub name: String,
    pub purpose: String,
    pub location: String,
    pub data_categories: String,
}

/// What an announcement reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Announced {
    pub id: uuid::Uuid,
    pub workplaces: usize,
    pub emails: usize,
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(Error::Invalid {
            field,
            reason: format!("must be 1 to {max} characters"),
        });
    }
    Ok(value.to_owned())
}

fn not_before_today(effective_on: NaiveDate, now: DateTime<Utc>) -> Result<()> {
    if effective_on < now.date_naive() {
        return Err(Error::Invalid {
            field: "from",
            reason: "a change cannot take effect in the past".into(),
        });
    }
    Ok(())
}

/// The default day a change announced `now` takes effect.
pub fn default_effective_on(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::days(NOTICE_DAYS)).date_naive()
}

fn from_row(row: subprocessors::Model) -> Subprocessor {
    Subprocessor {
        id: row.id,
        name: row.name,
        purpose: row.purpose,
        location: row.location,
        data_categories: row.data_categories,
        from_date: row.from_date,
        until_date: row.until_date,
    }
}

pub async fn list(db: &Database, today: NaiveDate) -> Result<Listing> {
    let rows = subprocessors::Entity::find()
        .order_by_asc(subprocessors::Column::Name)
        .all(db.connection())
        .await?;
    let mut listing = Listing::default();
    for row in rows.into_iter().map(from_row) {
        if row.active_on(today) {
            listing.current.push(row);
        } else if row.from_date > today {
            listing.planned.push(row);
        }
    }
    listing.changes = changes(db, None).await?;
    Ok(listing)
}

async fn changes(db: &Database, announced_since: Option<DateTime<Utc>>) -> Result<Vec<Change>> {
    let mut query =
        subprocessor_changes::Entity::find().order_by_desc(subprocessor_changes::Column::AnnouncedAt);
    if let Some(since) = announced_since {
        query = query.filter(subprocessor_changes::Column::AnnouncedAt.gte(since));
    }
    Ok(query
        .all(db.connection())
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(Change {
                kind: ChangeKind::from_key(&row.kind)?,
                summary: row.summary,
                effective_on: row.effective_on,
                announced_at: row.announced_at,
            })
        })
        .collect())
}

/// Adds a subprocessor from `effective_on` and announces it.
pub async fn add(
    db: &Database,
    new: NewSubprocessor,
    effective_on: NaiveDate,
    mail: &MailQueue,
    link: &str,
    now: DateTime<Utc>,
) -> Result<Announced> {
    let name = text("name", &new.name, 120)?;
    let purpose = text("purpose", &new.purpose, 400)?;
    let location = text("location", &new.location, 120)?;
    let data_categories = text("data", &new.data_categories, 400)?;
    not_before_today(effective_on, now)?;
    let id = uuid::Uuid::new_v4();
    let summary = format!("{name} ({location}) added for {purpose}; data: {data_categories}");
    let txn = db.begin_write().await?;
    subprocessors::ActiveModel {
        id: Set(id),
        name: Set(name),
        purpose: Set(purpose),
        location: Set(location),
        data_categories: Set(data_categories),
        from_date: Set(effective_on),
        until_date: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    record(&txn, id, ChangeKind::Added, &summary, effective_on, now).await?;
    txn.commit().await?;
    announce(db, id, &summary, effective_on, mail, link, now).await
}

/// Ends a subprocessor's processing after `last_day` and announces it.
pub async fn remove(
    db: &Database,
    id: uuid::Uuid,
    last_day: NaiveDate,
    mail: &MailQueue,
    link: &str,
    now: DateTime<Utc>,
) -> Result<Announced> {
    not_before_today(last_day, now)?;
    let txn = db.begin_write().await?;
    let row = subprocessors::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    if row.until_date.is_some() {
        return Err(Error::Conflict(format!("{} is already due to end.", row.name)));
    }
    if last_day < row.from_date {
        return Err(Error::Invalid {
            field: "until",
            reason: format!("{} starts only on {}", row.name, row.from_date),
        });
    }
    let summary = format!(
        "{} ({}) no longer used for {}",
        row.name, row.location, row.purpose
    );
    let mut ended: subprocessors::ActiveModel = row.into();
    ended.until_date = Set(Some(last_day));
    ended.update(&txn).await?;
    record(&txn, id, ChangeKind::Removed, &summary, last_day, now).await?;
    txn.commit().await?;
    announce(db, id, &summary, last_day, mail, link, now).await
}

async fn record(
    txn: &sea_orm::DatabaseTransaction,
    id: uuid::Uuid,
    kind: ChangeKind,
    summary: &str,
    effective_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    subprocessor_changes::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        subprocessor_id: Set(id),
        kind: Set(kind.key().to_owned()),
        summary: Set(summary.to_owned()),
        effective_on: Set(effective_on),
        announced_at: Set(now),
    }
    .insert(txn)
    .await?;
    crate::platform::security_events::store_and_log(
        txn,
        &SecurityEvent::new(EventKind::SubprocessorsChanged, now).about("subprocessor", Some(id)),
    )
    .await
}

/// Emails every active Owner of every workplace (through the mail queue).
async fn announce(
    db: &Database,
    id: uuid::Uuid,
    summary: &str,
    effective_on: NaiveDate,
    mail: &MailQueue,
    link: &str,
    now: DateTime<Utc>,
) -> Result<Announced> {
    // The operator's announcement goes to every workplace; each one's Owners are read through
    // its own tenant scope.
    let ids = crate::operations::key_rotation::workplace_ids(db).await?;
    let mut emails = 0;
    for &workplace in &ids {
        let tenant = TenantDb::for_system(db, workplace, "subprocessor announcement");
        let notices = crate::organisation::people::owner_contacts(&tenant)
            .await?
            .into_iter()
            .map(|(email, name)| {
                subprocessor_change_mail(&email, &name, summary, &effective_on.to_string(), link)
            })
            .collect();
        match mail
            .enqueue_all(Some(workplace), MailKind::SubprocessorNotice, notices, now)
            .await
        {
            Ok(queued) => emails += queued,
            Err(err) => {
                tracing::error!(%workplace, error = %err, "a subprocessor change could not be queued")
            }
        }
    }
    Ok(Announced {
        id,
        workplaces: ids.len(),
        emails,
    })
}

/// Changes announced in the last 30 days, for the Owner's home page; nothing for anyone else.
pub async fn notices_for(
    db: &Database,
    identity: &crate::platform::policy::Identity,
    now: DateTime<Utc>,
) -> Result<Vec<Change>> {
    if !crate::platform::policy::answers_for_workplace(&identity.role) {
        return Ok(Vec::new());
    }
    changes(db, Some(now - Duration::days(BANNER_DAYS))).await
}

/// The operator changed the list of subprocessors.
fn subprocessor_change_mail(
    to: &str,
    name: &str,
    summary: &str,
    effective_on: &str,
    link: &str,
) -> crate::platform::mail::Mail {
    crate::platform::mail::Mail {
        to: to.to_owned(),
        subject: "Candor: a change to our subprocessors".to_owned(),
        body: format!(
            "Hello {name},\n\nas the Owner of a Candor workplace you are told of every change to the \
             subprocessors that process its data, before it takes effect.\n\nChange: {summary}\nTakes \
             effect on: {effective_on}\n\nThe full list:\n\n{link}\n\nTo object, write to us from \
             Help in Candor before that day.\n\n— Candor\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_subprocessor_is_active_from_its_first_to_its_last_day() {
        let mut entry = Subprocessor {
            id: uuid::Uuid::nil(),
            name: "Mailer".into(),
            purpose: "email".into(),
            location: "Germany".into(),
            data_categories: "addresses".into(),
            from_date: day("2027-01-01"),
            until_date: None,
        };
        assert!(!entry.active_on(day("2026-12-31")));
        assert!(entry.active_on(day("2027-01-01")));
        entry.until_date = Some(day("2027-06-30"));
        assert!(entry.active_on(day("2027-06-30")));
        assert!(!entry.active_on(day("2027-07-01")));
    }

    #[test]
    fn changes_are_announced_thirty_days_ahead_unless_told_otherwise() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(default_effective_on(now), day("2027-01-01"));
        assert!(not_before_today(day("2026-12-02"), now).is_ok());
        assert!(not_before_today(day("2026-12-01"), now).is_err());
    }
}
