//! Incidents and personal-data breach notices, recorded by Candor's operators (on the server,
//! with `candor incident …`; operators have no account in the application). An incident is
//! opened, marked a personal-data breach once verified — the 24-hour clock for notifying the
//! affected workplaces starts then — linked to the workplaces it affects, and notified: the
//! notice (nature, likely impact, mitigation, contact) is emailed to each affected workplace's
//! Owners and shown to them as a banner in Candor. Analysis notes follow. Every step is a
//! security event in the instance's audit chain, and the notice also in each workplace's.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::{
    platform::{
        entities::{incident_workplaces, incidents, workplaces},
        ids::WorkplaceId,
        security_events::{EventKind, SecurityEvent},
        tenant::TenantDb,
    },
    Database, Error, Result,
};

/// How long after a breach is verified the affected workplaces must have been told.
pub const NOTIFICATION_WINDOW: Duration = Duration::hours(24);
/// How long a notice stays on the Owners' Home after it was sent, unless the incident is closed.
const BANNER_DAYS: i64 = 30;

fn text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::Invalid {
            field,
            reason: "is required".into(),
        });
    }
    if value.chars().count() > max {
        return Err(Error::Invalid {
            field,
            reason: format!("at most {max} characters"),
        });
    }
    Ok(value.to_owned())
}

async fn find(db: &Database, id: uuid::Uuid) -> Result<incidents::Model> {
    incidents::Entity::find_by_id(id)
        .one(db.connection())
        .await?
        .ok_or(Error::NotFound)
}

async fn log(db: &Database, kind: EventKind, id: uuid::Uuid, now: DateTime<Utc>) -> Result<()> {
    let event = SecurityEvent::new(kind, now).about("incident", Some(id));
    crate::platform::security_events::store_and_log(db.connection(), &event).await
}

/// Records a new incident; returns its id.
pub async fn open(db: &Database, title: &str, nature: &str, now: DateTime<Utc>) -> Result<uuid::Uuid> {
    let id = uuid::Uuid::new_v4();
    incidents::ActiveModel {
        id: Set(id),
        title: Set(text("title", title, 200)?),
        nature: Set(text("nature", nature, 4000)?),
        opened_at: Set(now),
        breach_verified_at: Set(None),
        likely_impact: Set(None),
        mitigation: Set(None),
        contact: Set(None),
        notified_at: Set(None),
        analysis: Set(None),
        closed_at: Set(None),
    }
    .insert(db.connection())
    .await?;
    log(db, EventKind::IncidentOpened, id, now).await?;
    Ok(id)
}

/// Marks the incident a personal-data breach, verified at `verified_at`; returns the deadline
/// for notifying the affected workplaces.
pub async fn mark_breach(
    db: &Database,
    id: uuid::Uuid,
    verified_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let found = find(db, id).await?;
    if verified_at > now || verified_at < found.opened_at {
        return Err(Error::Invalid {
            field: "verified",
            reason: "must lie between the incident's opening and now".into(),
        });
    }
    if found.breach_verified_at.is_some() {
        return Err(Error::Conflict(
            "This incident is already marked a personal-data breach.".into(),
        ));
    }
    incidents::ActiveModel {
        id: Set(id),
        breach_verified_at: Set(Some(verified_at)),
        ..Default::default()
    }
    .update(db.connection())
    .await?;
    log(db, EventKind::BreachVerified, id, now).await?;
    Ok(verified_at + NOTIFICATION_WINDOW)
}

/// Links the incident to the workplaces it affects (already linked ones are kept once).
pub async fn affect(db: &Database, id: uuid::Uuid, affected: &[WorkplaceId]) -> Result<usize> {
    find(db, id).await?;
    let mut added = 0;
    for workplace in affected {
        workplaces::Entity::find_by_id(workplace.uuid())
            .one(db.connection())
            .await?
            .ok_or(Error::NotFound)?;
        let tenant = TenantDb::for_system(db, *workplace, "incident");
        let txn = tenant.begin().await?;
        let linked = tenant
            .select::<incident_workplaces::Entity>()
            .filter(incident_workplaces::Column::IncidentId.eq(id))
            .one(&*txn)
            .await?;
        if linked.is_none() {
            incident_workplaces::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                incident_id: Set(id),
                workplace_id: Set(workplace.uuid()),
                notified_at: Set(None),
            }
            .insert(&*txn)
            .await?;
            added += 1;
        }
        txn.commit().await?;
    }
    Ok(added)
}

/// What the notice tells the Owners, besides the incident's nature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub likely_impact: String,
    pub mitigation: String,
    pub contact: String,
}

/// What notifying did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notified {
    pub workplaces: usize,
    pub emails: usize,
    pub deadline: DateTime<Utc>,
    /// How late the notice went out, if it missed the 24 hours.
    pub late_by: Option<Duration>,
}

/// Sends the breach notice to every affected workplace not told yet: by email to its active
/// Owners, and as a banner on their Home.
pub async fn notify(
    db: &Database,
    id: uuid::Uuid,
    notice: Notice,
    mail: &crate::platform::mail_queue::MailQueue,
    link: &str,
    now: DateTime<Utc>,
) -> Result<Notified> {
    let found = find(db, id).await?;
    let verified = found.breach_verified_at.ok_or_else(|| {
        Error::Conflict("Mark the incident a personal-data breach (with when it was verified) first.".into())
    })?;
    let notice = Notice {
        likely_impact: text("impact", &notice.likely_impact, 4000)?,
        mitigation: text("mitigation", &notice.mitigation, 4000)?,
        contact: text("contact", &notice.contact, 400)?,
    };
    // The operator's view across workplaces: which ones this incident names. Each workplace's
    // own rows are then read and written through its tenant scope.
    let affected = incident_workplaces::Entity::find()
        .filter(incident_workplaces::Column::IncidentId.eq(id))
        .filter(incident_workplaces::Column::NotifiedAt.is_null())
        .all(db.connection())
        .await?;
    if affected.is_empty() && found.notified_at.is_none() {
        return Err(Error::Conflict("Choose the affected workplaces first.".into()));
    }
    incidents::ActiveModel {
        id: Set(id),
        likely_impact: Set(Some(notice.likely_impact.clone())),
        mitigation: Set(Some(notice.mitigation.clone())),
        contact: Set(Some(notice.contact.clone())),
        notified_at: Set(Some(found.notified_at.unwrap_or(now))),
        ..Default::default()
    }
    .update(db.connection())
    .await?;
    let mut emails = 0;
    for row in &affected {
        let workplace = WorkplaceId::from_uuid(row.workplace_id);
        let tenant = TenantDb::for_system(db, workplace, "breach notice");
        let notices = crate::organisation::people::owner_contacts(&tenant)
            .await?
            .into_iter()
            .map(|(email, name)| {
                breach_notice_mail(&email, &name, &found.title, &found.nature, &notice, link)
            })
            .collect();
        // Queued before the workplace is marked told: a failure here leaves it to be told again.
        emails += mail
            .enqueue_all(
                Some(workplace),
                crate::platform::mail_queue::MailKind::BreachNotice,
                notices,
                now,
            )
            .await?;
        let txn = tenant.begin().await?;
        incident_workplaces::ActiveModel {
            id: Set(row.id),
            notified_at: Set(Some(now)),
            ..Default::default()
        }
        .update(&*txn)
        .await?;
        let event = SecurityEvent::new(EventKind::BreachNotified, now)
            .in_workplace(workplace)
            .about("incident", Some(id));
        crate::platform::security_events::store_and_log(&*txn, &event).await?;
        txn.commit().await?;
    }
    log(db, EventKind::BreachNotified, id, now).await?;
    let deadline = verified + NOTIFICATION_WINDOW;
    Ok(Notified {
        workplaces: affected.len(),
        emails,
        deadline,
        late_by: (now > deadline).then(|| now - deadline),
    })
}

/// Adds post-incident analysis (appended, dated).
pub async fn add_analysis(db: &Database, id: uuid::Uuid, note: &str, now: DateTime<Utc>) -> Result<()> {
    let found = find(db, id).await?;
    let note = text("analysis", note, 8000)?;
    let entry = format!("{}: {note}", now.format("%Y-%m-%d %H:%M UTC"));
    let analysis = match found.analysis {
        Some(before) => format!("{before}\n\n{entry}"),
        None => entry,
    };
    incidents::ActiveModel {
        id: Set(id),
        analysis: Set(Some(analysis)),
        ..Default::default()
    }
    .update(db.connection())
    .await?;
    log(db, EventKind::IncidentAnalysed, id, now).await
}

/// Closes the incident; its banner goes away.
pub async fn close(db: &Database, id: uuid::Uuid, now: DateTime<Utc>) -> Result<()> {
    let found = find(db, id).await?;
    if found.closed_at.is_some() {
        return Err(Error::Conflict("This incident is already closed.".into()));
    }
    incidents::ActiveModel {
        id: Set(id),
        closed_at: Set(Some(now)),
        ..Default::default()
    }
    .update(db.connection())
    .await?;
    log(db, EventKind::IncidentClosed, id, now).await
}

/// An incident as the operator's list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub id: uuid::Uuid,
    pub title: String,
    pub opened_at: DateTime<Utc>,
    pub breach_verified_at: Option<DateTime<Utc>>,
    /// When the affected workplaces must have been told (breaches only).
    pub deadline: Option<DateTime<Utc>>,
    pub notified_at: Option<DateTime<Utc>>,
    pub workplaces: usize,
    pub closed_at: Option<DateTime<Utc>>,
    pub analysis: Option<String>,
}

pub async fn list(db: &Database) -> Result<Vec<Summary>> {
    let rows = incidents::Entity::find()
        .order_by_desc(incidents::Column::OpenedAt)
        .all(db.connection())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let workplaces = incident_workplaces::Entity::find()
            .filter(incident_workplaces::Column::IncidentId.eq(row.id))
            .all(db.connection())
            .await?
            .len();
        out.push(Summary {
            id: row.id,
            title: row.title,
            opened_at: row.opened_at,
            breach_verified_at: row.breach_verified_at,
            deadline: row.breach_verified_at.map(|at| at + NOTIFICATION_WINDOW),
            notified_at: row.notified_at,
            workplaces,
            closed_at: row.closed_at,
            analysis: row.analysis,
        });
    }
    Ok(out)
}

/// A breach notice as an affected workplace's Owners see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreachNotice {
    pub title: String,
    pub nature: String,
    pub likely_impact: String,
    pub mitigation: String,
    pub contact: String,
    pub notified_at: DateTime<Utc>,
}

/// The notices the workplace's Owners should see now: sent, not closed, at most 30 days old.
/// Others (HR admins, employees) see none.
pub async fn notices_for(tenant: &TenantDb, now: DateTime<Utc>) -> Result<Vec<BreachNotice>> {
    let identity = tenant.person()?;
    if !crate::platform::policy::answers_for_workplace(&identity.role) {
        return Ok(Vec::new());
    }
    let txn = tenant.begin_read().await?;
    let linked = tenant
        .select::<incident_workplaces::Entity>()
        .filter(incident_workplaces::Column::NotifiedAt.gte(now - Duration::days(BANNER_DAYS)))
        .all(&txn)
        .await?;
    txn.commit().await?;
    let mut out = Vec::new();
    for link in linked {
        let Some(notified_at) = link.notified_at else {
            continue;
        };
        let Some(incident) = incidents::Entity::find_by_id(link.incident_id)
            .one(tenant.database().connection())
            .await?
        else {
            continue;
        };
        if incident.closed_at.is_some() {
            continue;
        }
        out.push(BreachNotice {
            title: incident.title,
            nature: incident.nature,
            likely_impact: incident.likely_impact.unwrap_or_default(),
            mitigation: incident.mitigation.unwrap_or_default(),
            contact: incident.contact.unwrap_or_default(),
            notified_at,
        });
    }
    out.sort_by_key(|n| std::cmp::Reverse(n.notified_at));
    Ok(out)
}

/// A personal-data breach affects the person's workplace: what happened, its likely impact,
/// what was done about it, and whom to ask.
fn breach_notice_mail(
    to: &str,
    name: &str,
    title: &str,
    nature: &str,
    notice: &Notice,
    link: &str,
) -> crate::platform::mail::Mail {
    crate::platform::mail::Mail {
        to: to.to_owned(),
        subject: format!("Candor personal-data breach notice: {title}"),
        body: format!(
            "Hello {name},\n\nCandor's operators have verified a personal-data breach that affects your \
             workplace. As its Owner you are told within 24 hours.\n\nWhat happened:\n{nature}\n\n\
             Likely impact:\n{}\n\nWhat we did and will do:\n{}\n\nContact:\n{}\n\n\
             The notice is also shown when you sign in:\n\n{link}\n\n— Candor\n",
            notice.likely_impact, notice.mitigation, notice.contact
        ),
    }
}
