//! Data-subject requests, handled by HR on the workplace's instruction: a copy of everything
//! Candor holds about a person (as JSON for portability, and readable), restriction of
//! processing, and erasure. Every request is recorded — received when, due one month later,
//! carried out when and by whom — and the register shows what is open and overdue.
//!
//! What erasure leaves: survey answers and comments carry no person (only a team and a tenure
//! band, or a comment's one-way secret), so they stay as anonymous figures that cannot be linked
//! back; rounds keep their counts. The access log keeps bare ids of a person who no longer exists.

use chrono::{DateTime, Months, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;

use crate::{
    platform::{
        entities::{
            department_grants, passkeys, round_participants, rounds, sessions, subject_requests,
            totp_factors, trusted_devices, users,
        },
        ids::UserId,
        policy::{require, Action, Identity, Resource},
        tenant::TenantDb,
    },
    Error, Result,
};

/// What a person asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RequestKind {
    /// A copy of their data (access and portability).
    Access,
    Restriction,
    /// The end of a restriction.
    LiftRestriction,
    Erasure,
}

impl RequestKind {
    pub const ALL: [RequestKind; 4] = [
        RequestKind::Access,
        RequestKind::Restriction,
        RequestKind::LiftRestriction,
        RequestKind::Erasure,
    ];

    pub fn key(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Restriction => "restriction",
            RequestKind::LiftRestriction => "lift",
            RequestKind::Erasure => "erasure",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Access => "Copy of their data",
            RequestKind::Restriction => "Restrict processing",
            RequestKind::LiftRestriction => "Lift the restriction",
            RequestKind::Erasure => "Erasure",
        }
    }
}

/// The deadline for answering a request received at `received`: one month (GDPR Art. 12(3)).
pub fn due_for(received: DateTime<Utc>) -> DateTime<Utc> {
    received
        .checked_add_months(Months::new(1))
        .unwrap_or(received + chrono::Duration::days(31))
}

/// One entry of the register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub id: uuid::Uuid,
    pub kind: RequestKind,
    pub subject: UserId,
    /// None once the person was erased.
    pub subject_name: Option<String>,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub recorded_by: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

impl Request {
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.done_at.is_none() && now > self.due_at
    }
}

fn allowed(tenant: &TenantDb) -> Result<()> {
    tenant.require(Action::HandleDataRequests, Resource::Workplace)
}

/// The person a request is about, if the scope's person may handle it: the same rule as every other
/// change to a person — only someone who could give the person their role acts on them (an HR
/// admin handles employees and managers, not another HR admin or an Auditor).
async fn subject(
    tenant: &TenantDb,
    identity: &Identity,
    person: UserId,
) -> Result<crate::organisation::people::Person> {
    allowed(tenant)?;
    let found = crate::organisation::people::get(tenant, person).await?;
    require(
        identity,
        Action::AssignRole(found.role.reach()),
        Resource::Workplace,
    )?;
    Ok(found)
}

async fn subject_row(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    person: UserId,
) -> Result<users::Model> {
    tenant
        .select::<users::Entity>()
        .filter(users::Column::Id.eq(person.uuid()))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Records a request received at `received_at` (not in the future, at most a month back); it
/// stays open until it is carried out.
pub async fn record(
    tenant: &TenantDb,
    person: UserId,
    kind: RequestKind,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<uuid::Uuid> {
    let identity = tenant.person()?;
    subject(tenant, identity, person).await?;
    if received_at > now {
        return Err(Error::Invalid {
            field: "received",
            reason: "a request cannot be received in the future".into(),
        });
    }
    if received_at < now - chrono::Duration::days(366) {
        return Err(Error::Invalid {
            field: "received",
            reason: "more than a year ago: record requests as they arrive".into(),
        });
    }
    tenant.touch(crate::platform::audit::EntityType::Person, [person.uuid()]);
    let txn = tenant.begin().await?;
    subject_row(tenant, &*txn, person).await?;
    let id = uuid::Uuid::new_v4();
    subject_requests::ActiveModel {
        id: Set(id),
        workplace_id: Set(tenant.workplace_id().uuid()),
        subject_id: Set(person.uuid()),
        kind: Set(kind.key().to_owned()),
        received_at: Set(received_at),
        due_at: Set(due_for(received_at)),
        recorded_by: Set(identity.user_id.uuid()),
        done_at: Set(None),
        done_by: Set(None),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Marks the person's open requests of `kind` done, or records one done now when none was open.
async fn carried_out(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    identity: &Identity,
    person: UserId,
    kind: RequestKind,
    now: DateTime<Utc>,
) -> Result<()> {
    let open = tenant
        .select::<subject_requests::Entity>()
        .filter(subject_requests::Column::SubjectId.eq(person.uuid()))
        .filter(subject_requests::Column::Kind.eq(kind.key()))
        .filter(subject_requests::Column::DoneAt.is_null())
        .all(conn)
        .await?;
    if open.is_empty() {
        subject_requests::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            workplace_id: Set(tenant.workplace_id().uuid()),
            subject_id: Set(person.uuid()),
            kind: Set(kind.key().to_owned()),
            received_at: Set(now),
            due_at: Set(due_for(now)),
            recorded_by: Set(identity.user_id.uuid()),
            done_at: Set(Some(now)),
            done_by: Set(Some(identity.user_id.uuid())),
        }
        .insert(conn)
        .await?;
    }
    for row in open {
        subject_requests::ActiveModel {
            id: Set(row.id),
            done_at: Set(Some(now)),
            done_by: Set(Some(identity.user_id.uuid())),
            ..Default::default()
        }
        .update(conn)
        .await?;
    }
    Ok(())
}

/// Everything Candor holds about a person, as they would receive it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonalData {
    pub exported_at: DateTime<Utc>,
    pub workplace: String,
    pub person: Profile,
    pub sessions: Vec<SessionRecord>,
    pub second_factors: Vec<FactorRecord>,
    pub remembered_devices: Vec<DeviceRecord>,
    /// Departments whose results a manager role lets them see.
    pub results_access: Vec<String>,
    /// Rounds they were asked in, and whether they answered (never what).
    pub participation: Vec<ParticipationRecord>,
    pub requests: Vec<RequestRecord>,
    /// What is not here, and why.
    pub not_included: Vec<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub id: uuid::Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub department: Option<String>,
    pub start_date: Option<chrono::NaiveDate>,
    pub status: String,
    pub account_created_at: DateTime<Utc>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub processing_restricted_since: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    pub signed_in_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Browser family and network, as recorded when signing in.
    pub signed_in_from: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FactorRecord {
    pub kind: &'static str,
    pub name: String,
    pub added_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub remembered_at: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParticipationRecord {
    pub survey: String,
    pub round: i32,
    pub opened_at: DateTime<Utc>,
    pub answered: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    pub kind: &'static str,
    pub received_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

const NOT_INCLUDED: [&str; 3] = [
    "Survey answers and comments: they are stored without any link to a person, so Candor cannot tell which are yours.",
    "Passwords, second-factor secrets and recovery codes: stored only as one-way hashes or sealed secrets that are never shown.",
    "The access log: it records ids and actions, no personal data, and is kept for the workplace's security review.",
];

/// Records that `person` was given the copy of their data: their open requests for a copy are
/// carried out (or, with none open, one is recorded as carried out now).
pub async fn copy_delivered(tenant: &TenantDb, person: UserId, now: DateTime<Utc>) -> Result<()> {
    let identity = tenant.person()?;
    subject(tenant, identity, person).await?;
    let txn = tenant.begin().await?;
    subject_row(tenant, &*txn, person).await?;
    carried_out(tenant, &*txn, identity, person, RequestKind::Access, now).await?;
    txn.commit().await?;
    Ok(())
}

/// A copy of everything about `person` (access and portability). Reading it changes nothing:
/// handing it over is recorded with [`copy_delivered`].
pub async fn export(tenant: &TenantDb, person: UserId, now: DateTime<Utc>) -> Result<PersonalData> {
    let identity = tenant.person()?;
    let found = subject(tenant, identity, person).await?;
    let txn = tenant.begin().await?;
    let row = subject_row(tenant, &*txn, person).await?;
    let workplace = crate::platform::entities::workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&*txn)
        .await?
        .ok_or(Error::NotFound)?
        .name;
    let departments = crate::organisation::departments::list(tenant).await?;
    let department_name = |id: Option<crate::platform::ids::DepartmentId>| {
        id.and_then(|id| departments.iter().find(|d| d.id == id).map(|d| d.name.clone()))
    };
    let keys = tenant.data_keys_in(&*txn).await?;
    let mut session_rows = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(person.uuid()))
        .order_by_desc(sessions::Column::CreatedAt)
        .all(&*txn)
        .await?;
    session_rows.truncate(500);
    let sessions = session_rows
        .into_iter()
        .map(|s| SessionRecord {
            signed_in_at: s.created_at,
            last_seen_at: s.last_seen_at,
            ended_at: s.revoked_at,
            signed_in_from: crate::access::context_fields::open(&keys, s.id, s.context_sealed.as_deref())
                .ok()
                .filter(|place| !place.device.is_empty())
                .map(|place| format!("{}, network {}", place.device, place.network_prefix)),
        })
        .collect();
    let mut second_factors: Vec<FactorRecord> = totp_factors::Entity::find()
        .filter(totp_factors::Column::UserId.eq(person.uuid()))
        .all(&*txn)
        .await?
        .into_iter()
        .map(|f| FactorRecord {
            kind: "authenticator app",
            name: f.name,
            added_at: f.created_at,
            last_used_at: None,
        })
        .collect();
    second_factors.extend(
        passkeys::Entity::find()
            .filter(passkeys::Column::UserId.eq(person.uuid()))
            .all(&*txn)
            .await?
            .into_iter()
            .map(|p| FactorRecord {
                kind: "passkey",
                name: p.name,
                added_at: p.created_at,
                last_used_at: p.last_used_at,
            }),
    );
    let remembered_devices = trusted_devices::Entity::find()
        .filter(trusted_devices::Column::UserId.eq(person.uuid()))
        .all(&*txn)
        .await?
        .into_iter()
        .map(|d| DeviceRecord {
            remembered_at: d.created_at,
            until: d.expires_at,
        })
        .collect();
    let results_access = tenant
        .select::<department_grants::Entity>()
        .filter(department_grants::Column::UserId.eq(person.uuid()))
        .all(&*txn)
        .await?
        .into_iter()
        .filter_map(|g| {
            department_name(Some(crate::platform::ids::DepartmentId::from_uuid(
                g.department_id,
            )))
        })
        .collect();
    let participation = crate::surveys::answering::participation_of(tenant, person)
        .await?
        .into_iter()
        .map(|p| ParticipationRecord {
            survey: p.title,
            round: p.number,
            opened_at: p.opens_at,
            answered: p.answered,
        })
        .collect();
    let requests = tenant
        .select::<subject_requests::Entity>()
        .filter(subject_requests::Column::SubjectId.eq(person.uuid()))
        .order_by_asc(subject_requests::Column::ReceivedAt)
        .all(&*txn)
        .await?
        .into_iter()
        .map(|r| RequestRecord {
            kind: RequestKind::from_key(&r.kind).map_or("unknown", RequestKind::key),
            received_at: r.received_at,
            done_at: r.done_at,
        })
        .collect();
    txn.commit().await?;
    Ok(PersonalData {
        exported_at: now,
        workplace,
        person: Profile {
            id: person.uuid(),
            name: found.name,
            email: found.email,
            role: found.role.name,
            department: department_name(found.department),
            start_date: found.start_date,
            status: found.status.key().to_owned(),
            account_created_at: row.created_at,
            email_verified_at: row.email_verified_at,
            processing_restricted_since: row.restricted_at,
        },
        sessions,
        second_factors,
        remembered_devices,
        results_access,
        participation,
        requests,
        not_included: NOT_INCLUDED.to_vec(),
    })
}

/// Restricts (or, with `restricted` false, lifts the restriction of) processing: the person is
/// kept but asked in no new round and sent no survey emails.
pub async fn set_restricted(
    tenant: &TenantDb,
    person: UserId,
    restricted: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let identity = tenant.person()?;
    subject(tenant, identity, person).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [person.uuid()]);
    let txn = tenant.begin().await?;
    let row = subject_row(tenant, &*txn, person).await?;
    if row.restricted_at.is_some() == restricted {
        return Err(Error::Conflict(
            if restricted {
                "Processing is already restricted for this person."
            } else {
                "Processing is not restricted for this person."
            }
            .into(),
        ));
    }
    users::ActiveModel {
        id: Set(row.id),
        restricted_at: Set(restricted.then_some(now)),
        ..Default::default()
    }
    .update(&*txn)
    .await?;
    let kind = if restricted {
        RequestKind::Restriction
    } else {
        RequestKind::LiftRestriction
    };
    carried_out(tenant, &*txn, identity, person, kind, now).await?;
    txn.commit().await?;
    Ok(())
}

/// What an erasure removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Erased {
    pub participations: u64,
}

/// Erases a person: their account and every personal field go (sessions, factors, devices,
/// grants and participation with them). Refused while a round that asks them is open (its
/// figures would shift under the people answering), for the caller's own account, and for the
/// workplace's last Owner.
pub async fn erase(tenant: &TenantDb, person: UserId, now: DateTime<Utc>) -> Result<Erased> {
    let identity = tenant.person()?;
    if person == identity.user_id {
        allowed(tenant)?;
        return Err(Error::Conflict(
            "You cannot erase your own account here; another HR admin or the Owner can.".into(),
        ));
    }
    subject(tenant, identity, person).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [person.uuid()]);
    let txn = tenant.begin().await?;
    let row = subject_row(tenant, &*txn, person).await?;
    let roles = crate::access::roles::WorkplaceRoles::load(&*txn, tenant.workplace_id()).await?;
    if crate::platform::policy::answers_for_workplace(&roles.resolve(&row.role, row.custom_role_id)?) {
        return Err(Error::Conflict(
            "The workplace's Owner cannot be erased; to end the whole workplace, delete it in Settings."
                .into(),
        ));
    }
    let removed = remove_account(tenant, &*txn, person).await?;
    carried_out(tenant, &*txn, identity, person, RequestKind::Erasure, now).await?;
    txn.commit().await?;
    forget_queued_mail(tenant, [removed.email]).await;
    crate::compliance::workplace_deletion::let_go_of_erased_people(tenant.database()).await;
    Ok(Erased {
        participations: removed.participations,
    })
}

/// What [`remove_account`] removed.
pub(crate) struct Removed {
    pub participations: u64,
    /// The person's address, for [`forget_queued_mail`] once committed.
    pub email: Option<crate::platform::crypto::Personal>,
}

/// Drops mail still queued for erased people (theirs in this workplace, or of no workplace: a
/// sign-in notice, a reset link). Run after the erasure commits; a failure is logged, and the
/// mail would go out to an address the person gave, which is all it ever held.
pub(crate) async fn forget_queued_mail(
    tenant: &TenantDb,
    addresses: impl IntoIterator<Item = Option<crate::platform::crypto::Personal>>,
) {
    let db = tenant.database();
    for address in addresses.into_iter().flatten() {
        if let Err(err) =
            crate::platform::mail_queue::forget_recipient(db, tenant.workplace_id(), address.expose()).await
        {
            tracing::warn!(
                code = err.code(),
                "queued mail of an erased person could not be dropped"
            );
        }
    }
}

/// Deletes a person's account and their participation rows, unless a round asking them is still
/// open (its figures would shift under the people answering): then a conflict, and nothing
/// changes. Sessions, factors, tokens, devices and grants go with the account (foreign keys
/// cascade).
pub(crate) async fn remove_account(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    person: UserId,
) -> Result<Removed> {
    let asked: Vec<uuid::Uuid> = tenant
        .select::<round_participants::Entity>()
        .filter(round_participants::Column::UserId.eq(person.uuid()))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.round_id)
        .collect();
    for chunk in asked.chunks(500) {
        if let Some(open) = tenant
            .select::<rounds::Entity>()
            .filter(rounds::Column::Id.is_in(chunk.iter().copied()))
            .filter(rounds::Column::ClosedAt.is_null())
            .one(conn)
            .await?
        {
            return Err(Error::Conflict(format!(
                "This person is asked in round {} of a survey, open until {}. Erase them after it closes; \
                 until then you can restrict processing.",
                open.number,
                open.closes_at.format("%Y-%m-%d %H:%M UTC")
            )));
        }
    }
    let workplace = tenant.workplace_id().uuid();
    let participations = tenant
        .delete_many::<round_participants::Entity>()
        .filter(round_participants::Column::WorkplaceId.eq(workplace))
        .filter(round_participants::Column::UserId.eq(person.uuid()))
        .exec(conn)
        .await?
        .rows_affected;
    // The address, opened before the row goes: mail still queued to it is dropped after the
    // commit.
    let email = match tenant
        .select::<users::Entity>()
        .filter(users::Column::Id.eq(person.uuid()))
        .one(conn)
        .await?
    {
        Some(row) => crate::platform::user_fields::open_with(&*tenant.data_keys().await?, &row)
            .ok()
            .map(|opened| opened.email),
        None => None,
    };
    tenant
        .delete_many::<users::Entity>()
        .filter(users::Column::WorkplaceId.eq(workplace))
        .filter(users::Column::Id.eq(person.uuid()))
        .exec(conn)
        .await?;
    Ok(Removed {
        participations,
        email,
    })
}

/// [`erase`], once `confirmation` repeats the person's name exactly.
pub async fn erase_confirmed(
    tenant: &TenantDb,
    person: UserId,
    confirmation: &str,
    now: DateTime<Utc>,
) -> Result<Erased> {
    let identity = tenant.person()?;
    let found = subject(tenant, identity, person).await?;
    if confirmation.trim() != found.name {
        return Err(Error::Invalid {
            field: "confirmation",
            reason: "type the person's name exactly as shown".into(),
        });
    }
    erase(tenant, person, now).await
}

/// The copy as the JSON file a person receives.
pub fn to_json(data: &PersonalData) -> Result<String> {
    serde_json::to_string_pretty(data)
        .map_err(|err| Error::Internal(format!("cannot write the export: {err}")))
}

/// The register, newest first, with names of people who still exist.
pub async fn requests(tenant: &TenantDb) -> Result<Vec<Request>> {
    allowed(tenant)?;
    let txn = tenant.begin_read().await?;
    let rows = tenant
        .select::<subject_requests::Entity>()
        .order_by_desc(subject_requests::Column::ReceivedAt)
        .all(&txn)
        .await?;
    txn.commit().await?;
    let mut ids: Vec<uuid::Uuid> = rows
        .iter()
        .flat_map(|r| [Some(r.subject_id), Some(r.recorded_by), r.done_by])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names = crate::platform::user_fields::names_of(tenant, tenant.database().connection(), &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Request {
                id: r.id,
                kind: RequestKind::from_key(&r.kind)?,
                subject: UserId::from_uuid(r.subject_id),
                subject_name: names.get(&r.subject_id).cloned(),
                received_at: r.received_at,
                due_at: r.due_at,
                recorded_by: names.get(&r.recorded_by).cloned(),
                done_at: r.done_at,
                done_by: r.done_by.and_then(|id| names.get(&id).cloned()),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_due_one_calendar_month_after_it_arrives() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert_eq!(due_for(at("2026-12-02T10:00:00Z")), at("2027-01-02T10:00:00Z"));
        // The end of a longer month lands on the last day of the shorter one.
        assert_eq!(due_for(at("2027-01-31T10:00:00Z")), at("2027-02-28T10:00:00Z"));
    }

    #[test]
    fn kinds_round_trip_through_their_keys() {
        for kind in RequestKind::ALL {
            assert_eq!(RequestKind::from_key(kind.key()), Some(kind));
        }
        assert_eq!(RequestKind::from_key("nope"), None);
    }
}
