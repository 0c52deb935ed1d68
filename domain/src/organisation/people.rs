//! People in a workplace: invitations (a single-use link, 7 days), roles, departments, start
//! dates and status (invited, active, suspended, left), and managers' department grants.
//!
//! Lists are filtered and paginated after opening the workplace's people (see
//! [`super::directory`]), because names and emails are sealed fields that the database cannot
//! search.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::{
    access::{
        accounts::normalise_email,
        auth::session::SecretToken,
        roles::{self, WorkplaceRoles},
    },
    platform::{
        crypto::TenantKeys,
        entities::{department_grants, departments, email_tokens, sessions, users, workplaces},
        ids::{DepartmentId, UserId},
        policy::{Action, Resource, Role, RoleKey, Scope},
        tenant::TenantDb,
        user_fields,
    },
    Error, Result,
};

pub const INVITATION_LIFETIME: Duration = Duration::days(7);
/// The list's types live with the directory that serves it.
pub use super::directory::{Filter, Page, Person, PAGE_SIZE};
use crate::platform::entities::email_tokens::INVITATION;

/// Where a person's account stands (stored through the entity's derive).
pub use crate::platform::entities::users::Status;

impl Status {
    pub const ALL: [Status; 4] = [Status::Invited, Status::Active, Status::Suspended, Status::Left];

    pub fn key(self) -> &'static str {
        match self {
            Status::Invited => "invited",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Left => "left",
        }
    }

    pub fn from_key(key: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// A person's record as the pages show it, opened.
fn person(row: users::Model, roles: &WorkplaceRoles, keys: &TenantKeys) -> Result<Person> {
    let opened = user_fields::open_columns(
        keys,
        row.id,
        row.name_sealed.as_deref(),
        row.email_sealed.as_deref(),
    )?;
    Ok(Person {
        id: UserId::from_uuid(row.id),
        role: roles.resolve(&row.role, row.custom_role_id)?,
        department: row.department_id.map(DepartmentId::from_uuid),
        start_date: row.start_date,
        status: row.status,
        name: opened.name.into_exposed(),
        email: opened.email.into_exposed(),
        restricted: row.restricted_at.is_some(),
    })
}

/// People the caller may see, filtered, sorted by name and paginated, opened for this call
/// alone (pages use a kept [`super::directory::Directory`]).
pub async fn list(tenant: &TenantDb, scope: &Scope, filter: &Filter) -> Result<Page> {
    let snapshot = super::directory::open(tenant, 0).await?;
    super::directory::page(tenant, &snapshot, scope, filter).await
}

async fn row(tenant: &TenantDb, conn: &impl sea_orm::ConnectionTrait, id: UserId) -> Result<users::Model> {
    tenant
        .select::<users::Entity>()
        .filter(users::Column::Id.eq(id.uuid()))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn get(tenant: &TenantDb, id: UserId) -> Result<Person> {
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    let txn = tenant.begin_read().await?;
    let found = row(tenant, &txn, id).await?;
    let roles = WorkplaceRoles::load(&txn, tenant.workplace_id()).await?;
    let keys = tenant.data_keys_in(&txn).await?;
    txn.commit().await?;
    person(found, &roles, &keys)
}

async fn active_department(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    department: Option<DepartmentId>,
) -> Result<()> {
    let Some(department) = department else {
        return Ok(());
    };
    let found = tenant
        .select::<departments::Entity>()
        .filter(departments::Column::Id.eq(department.uuid()))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    if found.archived_at.is_some() {
        return Err(Error::Conflict("That department is archived.".into()));
    }
    Ok(())
}

#[derive(Clone, Debug)]
pub struct NewPerson {
    pub name: String,
    pub email: String,
    pub department: Option<DepartmentId>,
    pub role: RoleKey,
    pub start_date: Option<NaiveDate>,
}

/// What an invitation email needs.
#[derive(Debug)]
pub struct Invitation {
    pub person: UserId,
    pub email: String,
    pub name: String,
    pub workplace_name: String,
    pub token: SecretToken,
}

async fn workplace_name(tenant: &TenantDb, conn: &impl sea_orm::ConnectionTrait) -> Result<String> {
    Ok(workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?
        .name)
}

async fn issue_invitation_token(
    conn: &impl sea_orm::ConnectionTrait,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<SecretToken> {
    // A new link replaces any earlier one.
    email_tokens::Entity::delete_many()
        .filter(email_tokens::Column::UserId.eq(user.uuid()))
        .filter(email_tokens::Column::Purpose.eq(INVITATION))
        .exec(conn)
        .await?;
    let token = SecretToken::generate();
    email_tokens::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        user_id: Set(user.uuid()),
        purpose: Set(INVITATION.to_owned()),
        token_hash: Set(token.hash()),
        expires_at: Set(now + INVITATION_LIFETIME),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// Invites a person: an `invited` record and a single-use link to email them, spending one
/// message of the workplace's invitation allowance.
pub async fn invite(tenant: &TenantDb, new: NewPerson, now: DateTime<Utc>) -> Result<Invitation> {
    tenant.require(Action::ManagePeople, Resource::Workplace)?;
    // Refused before the allowance is spent; `invite_in` checks the role again for imports.
    let role = roles::find(tenant, new.role).await?;
    tenant.require(Action::AssignRole(role.reach()), Resource::Workplace)?;
    // A mistyped address costs nothing; a well-formed one is spent before it is looked up.
    crate::platform::text::one_line(&new.name, "name", 200)?;
    normalise_email(&new.email)?;
    crate::organisation::invitation_budget::spend(tenant, 1, now).await?;
    let mut invited = invite_many(tenant, vec![new], now).await?;
    invited
        .pop()
        .ok_or_else(|| Error::Internal("no invitation made".into()))
}

/// Invites several people, a few hundred a transaction: all of them, or (on any error) none —
/// short of the process stopping midway, which leaves those invited so far (listed as invited,
/// nothing mailed). Spends no invitation allowance: callers that email the invitations spend it
/// first (an import), or send none (seeding a demonstration).
pub async fn invite_many(
    tenant: &TenantDb,
    new: Vec<NewPerson>,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>> {
    invite_counted(tenant, new, now, &Default::default()).await
}

/// How far a large invitation is: people invited so far.
#[derive(Debug, Default)]
pub struct InviteProgress {
    invited: std::sync::atomic::AtomicUsize,
}

impl InviteProgress {
    pub fn invited(&self) -> usize {
        self.invited.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn one_more(&self) {
        self.invited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// People invited per transaction of a large invitation: each transaction holds the write lock
/// (on SQLite, the one writer of every workplace) for a fraction of a second, so check-ins,
/// sign-ins and the access log are not held up for a whole import.
const INVITED_PER_TRANSACTION: usize = 250;

/// [`invite_many`], counting each invitation made into `progress`. All or nothing: when a
/// later transaction fails (an address taken meanwhile), the people of the earlier ones are
/// removed again before the error is returned.
pub(crate) async fn invite_counted(
    tenant: &TenantDb,
    new: Vec<NewPerson>,
    now: DateTime<Utc>,
    progress: &InviteProgress,
) -> Result<Vec<Invitation>> {
    tenant.require(Action::ManagePeople, Resource::Workplace)?;
    let mut invitations = Vec::with_capacity(new.len());
    let mut rest = new.into_iter().peekable();
    while rest.peek().is_some() {
        let some: Vec<NewPerson> = rest.by_ref().take(INVITED_PER_TRANSACTION).collect();
        match invite_in_one_transaction(tenant, some, now, progress).await {
            Ok(made) => invitations.extend(made),
            Err(err) => {
                let made: Vec<UserId> = invitations.iter().map(|i: &Invitation| i.person).collect();
                if let Err(undo) = withdraw(tenant, &made).await {
                    tracing::error!(
                        code = undo.code(),
                        people = made.len(),
                        "an import's invitations could not be withdrawn after it failed"
                    );
                }
                return Err(err);
            }
        }
    }
    Ok(invitations)
}

async fn invite_in_one_transaction(
    tenant: &TenantDb,
    new: Vec<NewPerson>,
    now: DateTime<Utc>,
    progress: &InviteProgress,
) -> Result<Vec<Invitation>> {
    let txn = tenant.begin().await?;
    let workplace_name = workplace_name(tenant, &txn).await?;
    let mut invitations = Vec::with_capacity(new.len());
    for person in new {
        invitations.push(invite_in(tenant, &txn, person, &workplace_name, now).await?);
        progress.one_more();
    }
    tenant.touch(
        crate::platform::audit::EntityType::Person,
        invitations.iter().map(|i| i.person.uuid()),
    );
    txn.commit().await?;
    Ok(invitations)
}

/// Removes people invited moments ago (still invited, nothing mailed yet).
async fn withdraw(tenant: &TenantDb, people: &[UserId]) -> Result<()> {
    for some in people.chunks(500) {
        tenant.touch(
            crate::platform::audit::EntityType::Person,
            some.iter().map(|id| id.uuid()),
        );
        let txn = tenant.begin().await?;
        tenant
            .delete_many::<users::Entity>()
            .filter(users::Column::Id.is_in(some.iter().map(|id| id.uuid())))
            .filter(users::Column::Status.eq(Status::Invited))
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
    Ok(())
}

async fn invite_in(
    tenant: &TenantDb,
    txn: &sea_orm::DatabaseTransaction,
    new: NewPerson,
    workplace_name: &str,
    now: DateTime<Utc>,
) -> Result<Invitation> {
    let name = crate::platform::text::one_line(&new.name, "name", 200)?;
    let email = normalise_email(&new.email)?;
    active_department(tenant, txn, new.department).await?;
    let role = roles::find_in(tenant, txn, new.role).await?;
    tenant.require(Action::AssignRole(role.reach()), Resource::Workplace)?;
    let (role, custom_role_id) = roles::stored(new.role);
    // Addresses are unique across Candor: one address, one account.
    let taken = tenant.emails_taken(std::slice::from_ref(&email)).await?;
    if !taken.here.is_empty() {
        return Err(already_here());
    }
    if !taken.elsewhere.is_empty() {
        return Err(address_taken());
    }
    let id = UserId::new();
    let keys = tenant.data_keys_in(txn).await?;
    let mut person = users::ActiveModel {
        id: Set(id.uuid()),
        workplace_id: Set(tenant.workplace_id().uuid()),
        // No password until the invitation is accepted; an empty hash never verifies.
        password_hash: Set(String::new()),
        email_verified_at: Set(None),
        created_at: Set(now),
        role: Set(role),
        custom_role_id: Set(custom_role_id),
        department_id: Set(new.department.map(DepartmentId::uuid)),
        start_date: Set(new.start_date),
        status: Set(Status::Invited),
        ..Default::default()
    };
    user_fields::seal(tenant.keyring()?, &keys, id.uuid(), &name, &email)?.apply(&mut person, id.uuid());
    let inserted = person.insert(txn).await;
    if let Err(err) = inserted {
        // Someone took the address meanwhile (the unique index decides).
        return Err(match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => address_taken(),
            _ => err.into(),
        });
    }
    let token = issue_invitation_token(txn, id, now).await?;
    Ok(Invitation {
        person: id,
        email,
        name,
        workplace_name: workplace_name.to_owned(),
        token,
    })
}

fn address_taken() -> Error {
    Error::Conflict("That email address already belongs to a Candor account.".into())
}

fn already_here() -> Error {
    Error::Conflict("That email address already belongs to someone in your workplace.".into())
}

fn not_invited() -> Error {
    Error::Conflict("This person has already accepted their invitation.".into())
}

/// A new link for a pending invitation; the old one stops working.
pub async fn resend_invitation(tenant: &TenantDb, id: UserId, now: DateTime<Utc>) -> Result<Invitation> {
    managed_by_actor(tenant, id).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    crate::organisation::invitation_budget::spend(tenant, 1, now).await?;
    let txn = tenant.begin().await?;
    let found = row(tenant, &txn, id).await?;
    if found.status != Status::Invited {
        return Err(not_invited());
    }
    let token = issue_invitation_token(&txn, id, now).await?;
    let workplace_name = workplace_name(tenant, &txn).await?;
    let opened = user_fields::open_with(tenant.data_keys_in(&txn).await?.as_ref(), &found)?;
    txn.commit().await?;
    Ok(Invitation {
        person: id,
        email: opened.email.into_exposed(),
        name: opened.name.into_exposed(),
        workplace_name,
        token,
    })
}

/// Withdraws a pending invitation: the record and its link are removed.
pub async fn revoke_invitation(tenant: &TenantDb, id: UserId) -> Result<()> {
    managed_by_actor(tenant, id).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    let txn = tenant.begin().await?;
    let found = row(tenant, &txn, id).await?;
    if found.status != Status::Invited {
        return Err(not_invited());
    }
    tenant
        .delete_many::<users::Entity>()
        .filter(users::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

async fn active_owners(tenant: &TenantDb, conn: &impl sea_orm::ConnectionTrait) -> Result<usize> {
    Ok(tenant
        .select::<users::Entity>()
        .filter(users::Column::Role.eq(Role::Owner.key()))
        .filter(users::Column::Status.eq(Status::Active))
        .all(conn)
        .await?
        .len())
}

fn last_owner() -> Error {
    Error::Conflict("A workplace needs at least one active Owner. Make someone else Owner first.".into())
}

/// A person's details as corrected (the right to rectification): every field as it should read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Correction {
    pub name: String,
    pub email: String,
    pub start_date: Option<NaiveDate>,
}

/// What a correction changed, so the caller can tell the people concerned.
#[derive(Debug)]
pub struct Corrected {
    /// The address before, when it changed (the person is told at both).
    pub previous_email: Option<String>,
    pub name: String,
    pub email: String,
    /// A new invitation to send, when the address of someone invited changed (the old link no
    /// longer works).
    pub invitation: Option<Invitation>,
}

/// Person `id`, if the scope's person may change them: manage people at all, and could give them their
/// role (an HR admin handles employees and managers, not another HR admin or the Owner).
pub async fn manageable(tenant: &TenantDb, id: UserId) -> Result<Person> {
    let identity = tenant.person()?;
    use crate::platform::policy::require;
    tenant.require(Action::ManagePeople, Resource::Workplace)?;
    let found = get(tenant, id).await?;
    require(
        identity,
        Action::AssignRole(found.role.reach()),
        Resource::Workplace,
    )?;
    Ok(found)
}

/// The person `id`, when this scope's actor may change them (see [`manageable`]); Candor's own
/// jobs may change anyone. Every change to someone else's account starts here.
pub(crate) async fn managed_by_actor(tenant: &TenantDb, id: UserId) -> Result<Person> {
    match tenant.actor() {
        crate::platform::tenant::Actor::Person(_) => manageable(tenant, id).await,
        crate::platform::tenant::Actor::System(_) => get(tenant, id).await,
    }
}

/// Corrects a person's name, address and start date, for an HR admin or Owner who could give
/// them their role. The name and address are sealed again and the address re-indexed; a new
/// address must be free across Candor and, since asking that is what an invitation does, spends
/// one message of the workplace's invitation allowance. The change is logged like every other
/// change to a person.
pub async fn correct_details(
    tenant: &TenantDb,
    id: UserId,
    correction: Correction,
    now: DateTime<Utc>,
) -> Result<Corrected> {
    let found = manageable(tenant, id).await?;
    let name = crate::platform::text::one_line(&correction.name, "name", 200)?;
    let email = normalise_email(&correction.email)?;
    let previous_email = (found.email != email).then(|| found.email.clone());
    if previous_email.is_some() {
        crate::organisation::invitation_budget::spend(tenant, 1, now).await?;
        let taken = tenant.emails_taken(std::slice::from_ref(&email)).await?;
        if !taken.here.is_empty() {
            return Err(already_here());
        }
        if !taken.elsewhere.is_empty() {
            return Err(address_taken());
        }
    }
    let invitation = reseal(
        tenant,
        id,
        &name,
        &email,
        Some(correction.start_date),
        previous_email.is_some(),
        now,
    )
    .await?;
    Ok(Corrected {
        previous_email,
        name,
        email,
        invitation,
    })
}

/// Corrects the signed-in person's own name (their address and start date are for HR to
/// correct: one is how they sign in, the other their employer's record).
pub async fn correct_own_name(tenant: &TenantDb, name: &str, now: DateTime<Utc>) -> Result<String> {
    let identity = tenant.person()?;
    let name = crate::platform::text::one_line(name, "name", 200)?;
    let found = get(tenant, identity.user_id).await?;
    reseal(tenant, identity.user_id, &name, &found.email, None, false, now).await?;
    Ok(name)
}

/// Seals a person's name and address again (the address re-indexed) and, when given, sets their
/// start date. When the address changed, every link mailed to the old one stops working (an
/// invitation, a password reset, a confirmation) and someone still invited gets a new
/// invitation, returned for sending.
async fn reseal(
    tenant: &TenantDb,
    id: UserId,
    name: &str,
    email: &str,
    start_date: Option<Option<NaiveDate>>,
    address_changed: bool,
    now: DateTime<Utc>,
) -> Result<Option<Invitation>> {
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    let txn = tenant.begin().await?;
    let found = row(tenant, &txn, id).await?;
    let still_invited = found.status == Status::Invited;
    let keys = tenant.data_keys_in(&txn).await?;
    let mut changed: users::ActiveModel = found.into();
    user_fields::seal(tenant.keyring()?, &keys, id.uuid(), name, email)?.apply(&mut changed, id.uuid());
    if let Some(start_date) = start_date {
        changed.start_date = Set(start_date);
    }
    changed.update(&txn).await.map_err(|err| match err.sql_err() {
        // Someone took the address meanwhile (the unique index decides).
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => address_taken(),
        _ => err.into(),
    })?;
    let mut invitation = None;
    if address_changed {
        email_tokens::Entity::delete_many()
            .filter(email_tokens::Column::UserId.eq(id.uuid()))
            .exec(&txn)
            .await?;
        if still_invited {
            invitation = Some(Invitation {
                person: id,
                email: email.to_owned(),
                name: name.to_owned(),
                workplace_name: workplace_name(tenant, &txn).await?,
                token: issue_invitation_token(&txn, id, now).await?,
            });
        }
    }
    txn.commit().await?;
    Ok(invitation)
}

/// "This account may be compromised", said by an HR admin or Owner about someone whose role they
/// could give: every session of the person ends, their remembered devices are forgotten, and no
/// sign-in goes through until they choose a new password with an emailed link; with
/// `reset_factors`, their second factors and recovery codes go too, so they set up new ones after. Returns how many sessions ended. People
/// secure their own account on their sessions page.
pub async fn secure_account(
    tenant: &TenantDb,
    id: UserId,
    reset_factors: bool,
    now: DateTime<Utc>,
) -> Result<u64> {
    let identity = tenant.person()?;
    crate::platform::policy::require(
        identity,
        crate::platform::policy::Action::ManagePeople,
        crate::platform::policy::Resource::Workplace,
    )?;
    if id == identity.user_id {
        return Err(Error::Invalid {
            field: "person",
            reason: "Secure your own account on your sessions page.".into(),
        });
    }
    let found = manageable(tenant, id).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    if found.status == Status::Invited {
        return Err(Error::Conflict(
            "This person has not accepted their invitation yet: there is no password to replace. Revoke the invitation instead."
                .into(),
        ));
    }
    let txn = tenant.begin().await?;
    row(tenant, &txn, id).await?;
    let ended =
        crate::access::accounts::require_new_password(&*txn, tenant.workplace_id().uuid(), id.uuid(), now)
            .await?;
    txn.commit().await?;
    if reset_factors {
        // After the sessions ended above, so the count says how many there were.
        crate::access::factors::reset_for_person(tenant, id, now).await?;
    }
    tracing::warn!(workplace = %tenant.workplace_id(), person = %id, reset_factors, "an account was secured as possibly compromised");
    Ok(ended)
}

/// Suspends (ending their sessions at once), reactivates, or marks as having left. The last
/// active Owner stays.
pub async fn set_status(tenant: &TenantDb, id: UserId, status: Status, now: DateTime<Utc>) -> Result<()> {
    managed_by_actor(tenant, id).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    if status == Status::Invited {
        return Err(Error::Invalid {
            field: "status",
            reason: "cannot be set back to invited".into(),
        });
    }
    let txn = tenant.begin().await?;
    let found = row(tenant, &txn, id).await?;
    if found.status == Status::Invited {
        return Err(Error::Conflict(
            "This person has not accepted their invitation yet. Revoke it instead.".into(),
        ));
    }
    if found.role == Role::Owner.key()
        && found.status == Status::Active
        && status != Status::Active
        && active_owners(tenant, &txn).await? <= 1
    {
        return Err(last_owner());
    }
    let left_before = found.status == Status::Left;
    let mut changed: users::ActiveModel = found.into();
    changed.status = Set(status);
    // The retention policy counts from the day someone left; coming back stops that clock.
    if status == Status::Left && !left_before {
        changed.left_at = Set(Some(now));
    } else if status != Status::Left {
        changed.left_at = Set(None);
    }
    changed.update(&txn).await?;
    if status != Status::Active {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
            .filter(sessions::Column::UserId.eq(id.uuid()))
            .filter(sessions::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        crate::access::trusted_devices::forget_all(&txn, id.uuid()).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Changes a person's role; the last active Owner keeps theirs. Grants stay, but count only
/// for roles whose results are limited to grants.
pub async fn set_role(tenant: &TenantDb, id: UserId, role: RoleKey) -> Result<()> {
    managed_by_actor(tenant, id).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    let txn = tenant.begin().await?;
    let found = row(tenant, &txn, id).await?;
    let given = roles::find_in(tenant, &txn, role).await?;
    // Giving a role needs the right to give that role (an HR admin cannot make an Owner).
    tenant.require(
        crate::platform::policy::Action::AssignRole(given.reach()),
        crate::platform::policy::Resource::Workplace,
    )?;
    if found.role == Role::Owner.key()
        && role != RoleKey::BuiltIn(Role::Owner)
        && found.status == Status::Active
        && active_owners(tenant, &txn).await? <= 1
    {
        return Err(last_owner());
    }
    let (role, custom_role_id) = roles::stored(role);
    let mut changed: users::ActiveModel = found.into();
    changed.role = Set(role);
    changed.custom_role_id = Set(custom_role_id);
    changed.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn set_department(tenant: &TenantDb, id: UserId, department: Option<DepartmentId>) -> Result<()> {
    managed_by_actor(tenant, id).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    let txn = tenant.begin().await?;
    let found = row(tenant, &txn, id).await?;
    active_department(tenant, &txn, department).await?;
    let mut changed: users::ActiveModel = found.into();
    changed.department_id = Set(department.map(DepartmentId::uuid));
    changed.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// The departments granted to a person (each grant covers its subtree).
pub async fn grants(tenant: &TenantDb, id: UserId) -> Result<Vec<DepartmentId>> {
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    let txn = tenant.begin().await?;
    row(tenant, &txn, id).await?;
    let granted = tenant
        .select::<department_grants::Entity>()
        .filter(department_grants::Column::UserId.eq(id.uuid()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|g| DepartmentId::from_uuid(g.department_id))
        .collect();
    txn.commit().await?;
    Ok(granted)
}

/// Replaces a person's grants with `departments` (all in this workplace).
pub async fn set_grants(
    tenant: &TenantDb,
    id: UserId,
    departments: &BTreeSet<DepartmentId>,
    now: DateTime<Utc>,
) -> Result<()> {
    managed_by_actor(tenant, id).await?;
    tenant.touch(crate::platform::audit::EntityType::Person, [id.uuid()]);
    let txn = tenant.begin().await?;
    row(tenant, &txn, id).await?;
    let known: BTreeSet<DepartmentId> = tenant
        .select::<departments::Entity>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| DepartmentId::from_uuid(d.id))
        .collect();
    if !departments.is_subset(&known) {
        return Err(Error::NotFound);
    }
    tenant
        .delete_many::<department_grants::Entity>()
        .filter(department_grants::Column::WorkplaceId.eq(tenant.workplace_id().uuid()))
        .filter(department_grants::Column::UserId.eq(id.uuid()))
        .exec(&txn)
        .await?;
    for department in departments {
        department_grants::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            workplace_id: Set(tenant.workplace_id().uuid()),
            user_id: Set(id.uuid()),
            department_id: Set(department.uuid()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Everyone active who answers for the workplace (its Owner): (address, name).
pub(crate) async fn owner_contacts(tenant: &TenantDb) -> Result<Vec<(String, String)>> {
    contacts_whose_role(tenant, crate::platform::policy::answers_for_workplace).await
}

/// Everyone active whose role `wants`: (address, name), for the emails only they receive.
pub(crate) async fn contacts_whose_role(
    tenant: &TenantDb,
    wants: impl Fn(&crate::platform::policy::RoleDefinition) -> bool,
) -> Result<Vec<(String, String)>> {
    let txn = tenant.begin_read().await?;
    let keys = tenant.data_keys_in(&txn).await?;
    let roles = crate::access::roles::WorkplaceRoles::load(&txn, tenant.workplace_id()).await?;
    let rows = tenant
        .select::<users::Entity>()
        .filter(users::Column::Status.eq(Status::Active))
        .all(&txn)
        .await?;
    txn.commit().await?;
    let mut out = Vec::new();
    for row in &rows {
        if wants(&roles.resolve(&row.role, row.custom_role_id)?) {
            let opened = crate::platform::user_fields::open_with(&keys, row)?;
            out.push((opened.email.into_exposed(), opened.name.into_exposed()));
        }
    }
    Ok(out)
}
