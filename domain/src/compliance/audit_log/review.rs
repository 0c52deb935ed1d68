//! Reviewing the log: auditors search a workplace's entries, mark them reviewed with a note,
//! export them, and set how the workplace's log is kept and watched. Names appear only here, in
//! the viewer, resolved from account ids; the stored entries hold none.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::platform::audit::{EntityType, Outcome, Severity};
use crate::{
    platform::{
        crypto::Personal,
        entities::{audit_log, audit_reviews, audit_settings},
        ids::{UserId, WorkplaceId},
        policy::{Action, Resource},
        security_events::{EventKind, SecurityEvent},
        tenant::TenantDb,
    },
    Error, Result,
};

/// The most entries one page of the viewer shows, and one export holds.
pub const PAGE: u64 = 200;
pub const MAX_EXPORT: u64 = 50_000;
const NOTE_MAX: usize = 1_000;
const REVIEWS_TABLE: &str = "audit_reviews";

/// What an auditor narrows the log to. Every part is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub actor: Option<UserId>,
    /// The start of an action code (`people/`, `results/export`).
    pub action: Option<String>,
    pub entity_type: Option<EntityType>,
    pub entity_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub security_only: bool,
    pub unreviewed_only: bool,
    /// Entries older than this sequence number (the next page).
    pub before_seq: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    pub reviewer: UserId,
    pub reviewed_at: DateTime<Utc>,
    #[serde(serialize_with = "expose")]
    pub note: Option<Personal>,
}

fn expose<S: serde::Serializer>(
    note: &Option<Personal>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_some(&note.as_ref().map(Personal::expose))
}

/// One entry as the viewer shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    pub id: Uuid,
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub category: String,
    pub action: String,
    pub severity: Severity,
    pub outcome: Outcome,
    pub actor: Option<UserId>,
    pub entity_type: Option<String>,
    pub entity_ids: Vec<Uuid>,
    pub entity_count: i32,
    pub network_tag: Option<String>,
    pub account_tag: Option<String>,
    pub hash: String,
    pub review: Option<Review>,
}

fn parse_time(field: &'static str, text: &str, end_of_day: bool) -> Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| Error::Invalid {
        field,
        reason: "write a date as YYYY-MM-DD".into(),
    })?;
    let time = if end_of_day {
        day.and_hms_opt(23, 59, 59)
    } else {
        day.and_hms_opt(0, 0, 0)
    };
    time.map(|t| t.and_utc()).ok_or_else(|| Error::Invalid {
        field,
        reason: "not a date".into(),
    })
}

impl Filter {
    /// A filter from form text, every field checked; blank fields are left out.
    #[allow(clippy::too_many_arguments)]
    pub fn from_form(
        actor: &str,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        from: &str,
        until: &str,
        security_only: bool,
        unreviewed_only: bool,
    ) -> Result<Self> {
        let blank = |s: &str| s.trim().is_empty();
        let actor = if blank(actor) {
            None
        } else {
            Some(actor.trim().parse::<UserId>().map_err(|_| Error::Invalid {
                field: "actor",
                reason: "choose a person from the list".into(),
            })?)
        };
        let action = if blank(action) {
            None
        } else if action.chars().count() > 64 {
            return Err(Error::Invalid {
                field: "action",
                reason: "an action is at most 64 characters".into(),
            });
        } else {
            Some(crate::platform::audit::clean_code(action.trim(), 64))
        };
        let entity_type = if blank(entity_type) {
            None
        } else {
            Some(
                EntityType::ALL
                    .into_iter()
                    .find(|t| t.code() == entity_type.trim())
                    .ok_or_else(|| Error::Invalid {
                        field: "entity",
                        reason: "choose a kind of record from the list".into(),
                    })?,
            )
        };
        let entity_id = if blank(entity_id) {
            None
        } else {
            Some(entity_id.trim().parse::<Uuid>().map_err(|_| Error::Invalid {
                field: "entity_id",
                reason: "a record id looks like 8-4-4-4-12 hexadecimal digits".into(),
            })?)
        };
        let from = if blank(from) {
            None
        } else {
            Some(parse_time("from", from, false)?)
        };
        let until = if blank(until) {
            None
        } else {
            Some(parse_time("until", until, true)?)
        };
        if let (Some(from), Some(until)) = (from, until) {
            if from > until {
                return Err(Error::Invalid {
                    field: "until",
                    reason: "the end comes before the start".into(),
                });
            }
        }
        Ok(Filter {
            actor,
            action,
            entity_type,
            entity_id,
            from,
            until,
            security_only,
            unreviewed_only,
            before_seq: None,
        })
    }
}

async fn query(tenant: &TenantDb, filter: &Filter, limit: u64) -> Result<Vec<LogEntry>> {
    let txn = tenant.begin_read().await?;
    let mut select = tenant.select::<audit_log::Entity>();
    if let Some(actor) = filter.actor {
        select = select.filter(audit_log::Column::ActorId.eq(actor.uuid()));
    }
    if let Some(action) = &filter.action {
        select = select.filter(audit_log::Column::Action.starts_with(action.as_str()));
    }
    if let Some(entity) = filter.entity_type {
        select = select.filter(audit_log::Column::EntityType.eq(entity.code()));
    }
    if let Some(id) = filter.entity_id {
        select = select.filter(audit_log::Column::EntityIds.contains(id.to_string()));
    }
    if let Some(from) = filter.from {
        select = select.filter(audit_log::Column::OccurredAt.gte(from));
    }
    if let Some(until) = filter.until {
        select = select.filter(audit_log::Column::OccurredAt.lte(until));
    }
    if filter.security_only {
        select =
            select.filter(audit_log::Column::Category.eq(crate::platform::audit::Category::Security.code()));
    }
    let keys = tenant.data_keys_in(&txn).await?;
    let mut out = Vec::new();
    let mut before = filter.before_seq;
    // Unreviewed-only filters after loading: read pages until enough are found.
    loop {
        let mut page = select.clone();
        if let Some(before) = before {
            page = page.filter(audit_log::Column::Seq.lt(before));
        }
        let rows = page
            .order_by_desc(audit_log::Column::Seq)
            .limit(limit)
            .all(&txn)
            .await?;
        let exhausted = (rows.len() as u64) < limit;
        before = rows.last().map(|row| row.seq);
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let mut reviews: HashMap<Uuid, audit_reviews::Model> = HashMap::new();
        for chunk in ids.chunks(500) {
            for review in tenant
                .select::<audit_reviews::Entity>()
                .filter(audit_reviews::Column::EntryId.is_in(chunk.iter().copied()))
                .all(&txn)
                .await?
            {
                reviews.insert(review.entry_id, review);
            }
        }
        for row in rows {
            let review = match reviews.remove(&row.id) {
                Some(review) => Some(Review {
                    reviewer: UserId::from_uuid(review.reviewer_id),
                    reviewed_at: review.reviewed_at,
                    note: match review.note.as_deref() {
                        Some(sealed) => Some(keys.open_text(REVIEWS_TABLE, "note", review.id, sealed)?),
                        None => None,
                    },
                }),
                None => None,
            };
            if filter.unreviewed_only && review.is_some() {
                continue;
            }
            out.push(LogEntry {
                id: row.id,
                seq: row.seq,
                occurred_at: row.occurred_at,
                request_id: row.request_id,
                category: row.category,
                action: row.action,
                severity: Severity::from_stored(&row.severity)?,
                outcome: Outcome::from_stored(&row.outcome)?,
                actor: row.actor_id.map(UserId::from_uuid),
                entity_type: row.entity_type,
                entity_ids: row
                    .entity_ids
                    .as_deref()
                    .unwrap_or("")
                    .split(' ')
                    .filter_map(|id| id.parse().ok())
                    .collect(),
                entity_count: row.entity_count,
                network_tag: row.network_tag,
                account_tag: row.account_tag,
                hash: crate::platform::text::hex(&row.hash),
                review,
            });
            if out.len() as u64 >= limit {
                break;
            }
        }
        if exhausted || out.len() as u64 >= limit || !filter.unreviewed_only {
            break;
        }
    }
    txn.commit().await?;
    Ok(out)
}

/// One page of the workplace's log, newest first.
pub async fn search(tenant: &TenantDb, filter: &Filter) -> Result<Vec<LogEntry>> {
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    tenant.touch(EntityType::AuditLog, []);
    query(tenant, filter, PAGE).await
}

/// The names of the accounts `ids` of this workplace, for the viewer only.
pub async fn names(tenant: &TenantDb, ids: &[UserId]) -> Result<BTreeMap<UserId, String>> {
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    let wanted: Vec<Uuid> = ids.iter().map(|id| id.uuid()).collect();
    let txn = tenant.begin_read().await?;
    let names = crate::platform::user_fields::names_of(tenant, &txn, &wanted).await?;
    txn.commit().await?;
    tenant.touch(EntityType::Person, wanted);
    Ok(names
        .into_iter()
        .map(|(id, name)| (UserId::from_uuid(id), name))
        .collect())
}

/// Everyone of this workplace who appears in its log, for the actor filter: (id, name).
pub async fn actors(tenant: &TenantDb) -> Result<Vec<(UserId, String)>> {
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let ids: Vec<Option<Uuid>> = tenant
        .select::<audit_log::Entity>()
        .select_only()
        .column(audit_log::Column::ActorId)
        .distinct()
        .filter(audit_log::Column::ActorId.is_not_null())
        .into_tuple()
        .all(&txn)
        .await?;
    txn.commit().await?;
    let ids: Vec<UserId> = ids.into_iter().flatten().map(UserId::from_uuid).collect();
    let mut named: Vec<(UserId, String)> = names(tenant, &ids).await?.into_iter().collect();
    named.sort_by_key(|(_, name)| name.to_lowercase());
    Ok(named)
}

/// Marks one entry reviewed, with an optional note (sealed: a note may say anything).
pub async fn mark_reviewed(tenant: &TenantDb, entry: Uuid, note: &str, now: DateTime<Utc>) -> Result<()> {
    let identity = tenant.person()?;
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    let note = note.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(Error::Invalid {
            field: "note",
            reason: format!("a note is at most {NOTE_MAX} characters"),
        });
    }
    let txn = tenant.begin().await?;
    tenant
        .select::<audit_log::Entity>()
        .filter(audit_log::Column::Id.eq(entry))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let already = tenant
        .select::<audit_reviews::Entity>()
        .filter(audit_reviews::Column::EntryId.eq(entry))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(Error::Conflict("This entry has already been reviewed.".into()));
    }
    let id = Uuid::new_v4();
    let sealed = if note.is_empty() {
        None
    } else {
        Some(
            tenant
                .data_keys_in(&txn)
                .await?
                .seal(REVIEWS_TABLE, "note", id, note.as_bytes())?,
        )
    };
    audit_reviews::ActiveModel {
        id: Set(id),
        workplace_id: Set(tenant.workplace_id().uuid()),
        entry_id: Set(entry),
        reviewer_id: Set(identity.user_id.uuid()),
        reviewed_at: Set(now),
        note: Set(sealed),
    }
    .insert(&txn)
    .await?;
    tenant.touch(EntityType::AuditLog, [entry]);
    txn.commit().await
}

/// The file formats of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// The filtered log as a file (newest first, at most [`MAX_EXPORT`] entries). The export is
/// itself recorded, before the file is handed over.
pub async fn export(
    tenant: &TenantDb,
    filter: &Filter,
    format: ExportFormat,
    now: DateTime<Utc>,
) -> Result<String> {
    let identity = tenant.person()?;
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    let entries = query(tenant, filter, MAX_EXPORT).await?;
    let txn = tenant.begin().await?;
    crate::platform::security_events::store_and_log(
        &txn,
        &SecurityEvent::new(EventKind::AuditLogExported, now)
            .in_workplace(tenant.workplace_id())
            .by(identity.user_id),
    )
    .await?;
    tenant.touch(EntityType::AuditLog, []);
    txn.commit().await?;
    match format {
        ExportFormat::Json => {
            serde_json::to_string_pretty(&entries).map_err(|err| Error::Internal(err.to_string()))
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let header = [
                "seq",
                "occurred_at",
                "request_id",
                "category",
                "action",
                "severity",
                "outcome",
                "actor_id",
                "entity_type",
                "entity_ids",
                "entity_count",
                "network_tag",
                "account_tag",
                "hash",
                "reviewed_at",
            ];
            let io = |err: csv::Error| Error::Internal(err.to_string());
            writer.write_record(header).map_err(io)?;
            for entry in &entries {
                let ids: Vec<String> = entry.entity_ids.iter().map(Uuid::to_string).collect();
                writer
                    .write_record([
                        entry.seq.to_string(),
                        entry.occurred_at.to_rfc3339(),
                        entry.request_id.clone().unwrap_or_default(),
                        entry.category.clone(),
                        entry.action.clone(),
                        entry.severity.code().to_owned(),
                        entry.outcome.code().to_owned(),
                        entry.actor.map(|a| a.to_string()).unwrap_or_default(),
                        entry.entity_type.clone().unwrap_or_default(),
                        ids.join(" "),
                        entry.entity_count.to_string(),
                        entry.network_tag.clone().unwrap_or_default(),
                        entry.account_tag.clone().unwrap_or_default(),
                        entry.hash.clone(),
                        entry
                            .review
                            .as_ref()
                            .map(|r| r.reviewed_at.to_rfc3339())
                            .unwrap_or_default(),
                    ])
                    .map_err(io)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|err| Error::Internal(err.to_string()))?;
            String::from_utf8(bytes).map_err(|err| Error::Internal(err.to_string()))
        }
    }
}

/// How a workplace keeps and watches its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub retention_days: i32,
    pub review_interval_days: i32,
    /// Failed sign-ins for one account, or from one network, within 15 minutes.
    pub failed_sign_in_limit: i32,
    /// Refusals for one person within 10 minutes.
    pub denial_limit: i32,
    /// Exports by one person within an hour.
    pub export_limit: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retention_days: 365,
            review_interval_days: 30,
            failed_sign_in_limit: 10,
            denial_limit: 20,
            export_limit: 5,
        }
    }
}

impl Settings {
    fn validate(&self) -> Result<()> {
        let check = |field: &'static str, value: i32, min: i32, max: i32| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(Error::Invalid {
                    field,
                    reason: format!("choose a whole number from {min} to {max}"),
                })
            }
        };
        check("retention_days", self.retention_days, 30, 3650)?;
        check("review_interval_days", self.review_interval_days, 1, 365)?;
        check("failed_sign_in_limit", self.failed_sign_in_limit, 3, 1000)?;
        check("denial_limit", self.denial_limit, 3, 1000)?;
        check("export_limit", self.export_limit, 1, 1000)
    }
}

/// A new settings row for `workplace`: `settings`, the monitor at `monitored_seq`.
pub(crate) fn new_settings_row(
    workplace: WorkplaceId,
    settings: Settings,
    monitored_seq: i64,
    review_reminded_at: Option<DateTime<Utc>>,
) -> audit_settings::ActiveModel {
    audit_settings::ActiveModel {
        workplace_id: Set(workplace.uuid()),
        retention_days: Set(settings.retention_days),
        review_interval_days: Set(settings.review_interval_days),
        failed_sign_in_limit: Set(settings.failed_sign_in_limit),
        denial_limit: Set(settings.denial_limit),
        export_limit: Set(settings.export_limit),
        monitored_seq: Set(monitored_seq),
        review_reminded_at: Set(review_reminded_at),
    }
}

/// The workplace's settings as stored (the defaults if it never saved any).
pub(crate) async fn settings_in(tenant: &TenantDb, conn: &impl sea_orm::ConnectionTrait) -> Result<Settings> {
    Ok(settings_from(
        tenant
            .select::<audit_settings::Entity>()
            .one(conn)
            .await?
            .as_ref(),
    ))
}

pub(crate) fn settings_from(row: Option<&audit_settings::Model>) -> Settings {
    row.map(|row| Settings {
        retention_days: row.retention_days,
        review_interval_days: row.review_interval_days,
        failed_sign_in_limit: row.failed_sign_in_limit,
        denial_limit: row.denial_limit,
        export_limit: row.export_limit,
    })
    .unwrap_or_default()
}

pub async fn settings(tenant: &TenantDb) -> Result<Settings> {
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let settings = settings_in(tenant, &txn).await?;
    txn.commit().await?;
    Ok(settings)
}

/// Saves the settings: Owners (and roles with `settings`) only, since they decide what is
/// watched. The change itself raises an alert for the other auditors to see.
pub async fn save_settings(tenant: &TenantDb, new: Settings) -> Result<()> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    new.validate()?;
    let txn = tenant.begin().await?;
    let existing = tenant.select::<audit_settings::Entity>().one(&txn).await?;
    match existing {
        Some(row) => {
            let mut row: audit_settings::ActiveModel = row.into();
            row.retention_days = Set(new.retention_days);
            row.review_interval_days = Set(new.review_interval_days);
            row.failed_sign_in_limit = Set(new.failed_sign_in_limit);
            row.denial_limit = Set(new.denial_limit);
            row.export_limit = Set(new.export_limit);
            row.update(&txn).await?;
        }
        None => {
            new_settings_row(tenant.workplace_id(), new, 0, None)
                .insert(&txn)
                .await?;
        }
    }
    tenant.touch(EntityType::Settings, [tenant.workplace_id().uuid()]);
    txn.commit().await
}

/// Whether a review is due: the newest review mark against the configured interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewStatus {
    pub last_review: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
}

pub(crate) async fn review_status_in(
    conn: &impl sea_orm::ConnectionTrait,
    workplace: WorkplaceId,
    interval_days: i32,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<ReviewStatus> {
    let last: Option<DateTime<Utc>> = audit_reviews::Entity::find()
        .select_only()
        .column_as(audit_reviews::Column::ReviewedAt.max(), "last")
        .filter(audit_reviews::Column::WorkplaceId.eq(workplace.uuid()))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(conn)
        .await?
        .flatten();
    let due_at = last.unwrap_or(created_at) + Duration::days(i64::from(interval_days));
    Ok(ReviewStatus {
        last_review: last,
        due_at,
        overdue: now >= due_at,
    })
}

pub async fn review_status(tenant: &TenantDb, now: DateTime<Utc>) -> Result<ReviewStatus> {
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let settings = settings_in(tenant, &txn).await?;
    let created = crate::platform::entities::workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .map(|w| w.created_at)
        .unwrap_or(now);
    let status = review_status_in(
        &txn,
        tenant.workplace_id(),
        settings.review_interval_days,
        created,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(status)
}
