//! Second factors: authenticator apps (TOTP), passkeys and security keys (WebAuthn), and the
//! single-use recovery codes issued with the first of them. An account always keeps at least
//! one factor: the last one cannot be removed.
//!
//! WebAuthn ceremonies take two requests; their state waits in the database in between (so any
//! server process can finish them), bound to the session that started them, used once, and
//! expired after [`CEREMONY_LIFETIME`].

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    access::auth::{
        passkey::{self, RelyingParty},
        recovery, totp,
    },
    platform::{
        crypto::{key_version, Keyring, TenantKeys},
        entities::{passkeys, recovery_codes, totp_factors, users, webauthn_ceremonies},
        ids::WorkplaceId,
    },
    Database, Error, Result,
};
use zeroize::Zeroizing;

/// How long a started passkey ceremony can be finished (the browser's own timeout is 5 minutes).
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
const ENROL_PASSKEY: &str = "enrol_passkey";
const CHECK_PASSKEY: &str = "check_passkey";
const PASSKEY_SIGN_IN: &str = "passkey_sign_in";
const MAX_FACTOR_NAME: usize = 60;

/// Options for the browser and the id to finish the ceremony with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ceremony {
    pub id: Uuid,
    pub options_json: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorKind {
    AuthenticatorApp,
    Passkey,
}

/// A factor as its owner sees it on the sign-in methods page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Factor {
    pub id: Uuid,
    pub kind: FactorKind,
    pub name: String,
    pub added_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Factors {
    pub factors: Vec<Factor>,
    pub recovery_codes_left: u64,
}

fn factor_name(name: &str, fallback: &str) -> Result<String> {
    if name.trim().is_empty() {
        return Ok(fallback.to_owned());
    }
    crate::platform::text::one_line(name, "name", MAX_FACTOR_NAME)
}

async fn confirmed_factor_count(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<u64> {
    let apps = totp_factors::Entity::find()
        .filter(totp_factors::Column::UserId.eq(user_id))
        .filter(totp_factors::Column::ConfirmedAt.is_not_null())
        .count(conn)
        .await?;
    let keys = passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user_id))
        .count(conn)
        .await?;
    Ok(apps + keys)
}

/// Whether the account has a confirmed second factor.
pub async fn has_second_factor(db: &Database, user_id: Uuid) -> Result<bool> {
    Ok(confirmed_factor_count(db.connection(), user_id).await? > 0)
}

/// Replaces the account's recovery codes with a new set and returns it (shown once).
async fn issue_recovery_codes(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<String>> {
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    let (codes, hashes) = recovery::generate();
    for hash in hashes {
        recovery_codes::ActiveModel {
            id: Set(Uuid::new_v4()),
            user_id: Set(user_id),
            code_hash: Set(hash),
            used_at: Set(None),
        }
        .insert(conn)
        .await?;
    }
    Ok(codes)
}

/// A new set of recovery codes; the old ones stop working.
pub async fn regenerate_recovery_codes(db: &Database, user_id: Uuid) -> Result<Vec<String>> {
    let txn = db.connection().begin().await?;
    let codes = issue_recovery_codes(&txn, user_id).await?;
    txn.commit().await?;
    Ok(codes)
}

/// The account's factors, oldest first, and how many recovery codes are unused.
pub async fn list_factors(db: &Database, user_id: Uuid) -> Result<Factors> {
    let conn = db.connection();
    let mut factors: Vec<Factor> = totp_factors::Entity::find()
        .filter(totp_factors::Column::UserId.eq(user_id))
        .filter(totp_factors::Column::ConfirmedAt.is_not_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|app| Factor {
            id: app.id,
            kind: FactorKind::AuthenticatorApp,
            name: app.name,
            added_at: app.confirmed_at.unwrap_or(app.created_at),
            last_used_at: None,
        })
        .collect();
    factors.extend(
        passkeys::Entity::find()
            .filter(passkeys::Column::UserId.eq(user_id))
            .order_by_asc(passkeys::Column::CreatedAt)
            .all(conn)
            .await?
            .into_iter()
            .map(|key| Factor {
                id: key.id,
                kind: FactorKind::Passkey,
                name: key.name,
                added_at: key.created_at,
                last_used_at: key.last_used_at,
            }),
    );
    factors.sort_by_key(|f| f.added_at);
    let recovery_codes_left = recovery_codes::Entity::find()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .count(conn)
        .await?;
    Ok(Factors {
        factors,
        recovery_codes_left,
    })
}

/// Removes one of the account's own factors, from the session `session`; refuses the last one.
/// Another account's factor is not found. Every other session and remembered device of the
/// account ends (whoever held the removed factor is signed out); returns how many sessions
/// ended.
pub async fn remove_factor(
    db: &Database,
    session: &crate::access::accounts::SessionInfo,
    factor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64> {
    let user_id = session.user_id;
    let txn = db.connection().begin().await?;
    // One factor change per account at a time (PostgreSQL row lock; SQLite has one writer).
    users::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let apps = totp_factors::Entity::delete_many()
        .filter(totp_factors::Column::Id.eq(factor_id))
        .filter(totp_factors::Column::UserId.eq(user_id))
        .filter(totp_factors::Column::ConfirmedAt.is_not_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let keys = passkeys::Entity::delete_many()
        .filter(passkeys::Column::Id.eq(factor_id))
        .filter(passkeys::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if apps + keys == 0 {
        return Err(Error::NotFound);
    }
    // Counted after the delete, inside the transaction: two removals racing cannot both pass.
    if confirmed_factor_count(&txn, user_id).await? == 0 {
        txn.rollback().await?;
        return Err(Error::Conflict(
            "This is your only second factor. Add another one before removing it.".into(),
        ));
    }
    crate::access::trusted_devices::forget_all(&txn, user_id).await?;
    let ended = crate::access::accounts::end_sessions_but(&txn, user_id, session.session_id, now).await?;
    txn.commit().await?;
    Ok(ended)
}

/// For a person who lost every factor, on their workplace's say-so: removes their factors and
/// recovery codes and ends their sessions. Their next sign-in (password) leads to enrolment.
pub async fn reset_for_person(
    tenant: &crate::platform::tenant::TenantDb,
    person: crate::platform::ids::UserId,
    now: DateTime<Utc>,
) -> Result<()> {
    use crate::platform::policy::{Action, Resource};
    // Only someone who may change this person's account: the right to manage people and to give
    // the role they hold (an HR admin cannot reset an Owner's factors).
    tenant.require(Action::ManagePeople, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let user = tenant
        .select::<users::Entity>()
        .filter(users::Column::Id.eq(person.uuid()))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let role = crate::access::roles::WorkplaceRoles::load(&txn, tenant.workplace_id())
        .await?
        .resolve(&user.role, user.custom_role_id)?;
    tenant.require(Action::AssignRole(role.reach()), Resource::Workplace)?;
    totp_factors::Entity::delete_many()
        .filter(totp_factors::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    passkeys::Entity::delete_many()
        .filter(passkeys::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    crate::platform::entities::sessions::Entity::update_many()
        .col_expr(
            crate::platform::entities::sessions::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(crate::platform::entities::sessions::Column::UserId.eq(user.id))
        .filter(crate::platform::entities::sessions::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    crate::access::trusted_devices::forget_all(&txn, user.id).await?;
    txn.commit().await?;
    tracing::warn!(workplace = %tenant.workplace_id(), person = %person, "second factors reset by an administrator");
    Ok(())
}

// ---- WebAuthn ceremonies ----

async fn store_ceremony(
    conn: &impl ConnectionTrait,
    purpose: &str,
    user_id: Option<Uuid>,
    session_id: Option<Uuid>,
    state_json: String,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    // Abandoned ceremonies go first; the table only ever holds minutes of them.
    webauthn_ceremonies::Entity::delete_many()
        .filter(webauthn_ceremonies::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?;
    let id = Uuid::new_v4();
    webauthn_ceremonies::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        session_id: Set(session_id),
        purpose: Set(purpose.to_owned()),
        state: Set(state_json),
        expires_at: Set(now + CEREMONY_LIFETIME),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

fn ceremony_gone() -> Error {
    Error::Invalid {
        field: "passkey",
        reason: "That passkey request has expired or was already used. Try again.".into(),
    }
}

/// Claims a ceremony once: deleted as it is read, and only for the session that started it.
async fn take_ceremony(
    conn: &impl ConnectionTrait,
    id: Uuid,
    purpose: &str,
    session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<webauthn_ceremonies::Model> {
    let row = webauthn_ceremonies::Entity::find_by_id(id)
        .filter(webauthn_ceremonies::Column::Purpose.eq(purpose))
        .one(conn)
        .await?
        .filter(|row| row.session_id == session_id)
        .ok_or_else(ceremony_gone)?;
    let claimed = webauthn_ceremonies::Entity::delete_many()
        .filter(webauthn_ceremonies::Column::Id.eq(id))
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 || row.expires_at <= now {
        return Err(ceremony_gone());
    }
    Ok(row)
}

async fn stored_passkeys(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<passkeys::Model>> {
    Ok(passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user_id))
        .all(conn)
        .await?)
}

fn parsed(rows: &[passkeys::Model]) -> Result<Vec<webauthn_rs::prelude::Passkey>> {
    rows.iter()
        .map(|row| passkey::parse_stored(&row.credential))
        .collect()
}

/// Starts adding a passkey to the account of `session_id`.
pub async fn begin_passkey_enrolment(
    db: &Database,
    rp: &RelyingParty,
    user_id: Uuid,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Ceremony> {
    let conn = db.connection();
    let user = users::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or(Error::Unauthenticated)?;
    let existing = parsed(&stored_passkeys(conn, user_id).await?)?;
    let opened = crate::platform::user_fields::open(db.keyring()?, conn, &user, now).await?;
    let challenge = rp.start_registration(user.id, opened.email.expose(), opened.name.expose(), &existing)?;
    let id = store_ceremony(
        conn,
        ENROL_PASSKEY,
        Some(user_id),
        Some(session_id),
        challenge.state_json,
        now,
    )
    .await?;
    Ok(Ceremony {
        id,
        options_json: challenge.options_json,
    })
}

/// Verifies and stores the new passkey. Returns recovery codes when it is the account's first
/// factor (shown once), `None` otherwise.
#[allow(clippy::too_many_arguments)]
pub async fn finish_passkey_enrolment(
    db: &Database,
    rp: &RelyingParty,
    user_id: Uuid,
    session_id: Uuid,
    ceremony_id: Uuid,
    response_json: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<Vec<String>>> {
    let name = factor_name(name, "Passkey")?;
    // Claimed outside the transaction: a failed attempt uses the ceremony up too.
    let ceremony = take_ceremony(db.connection(), ceremony_id, ENROL_PASSKEY, Some(session_id), now).await?;
    if ceremony.user_id != Some(user_id) {
        return Err(ceremony_gone());
    }
    let new = rp.finish_registration(&ceremony.state, response_json)?;
    let txn = db.connection().begin().await?;
    let first = confirmed_factor_count(&txn, user_id).await? == 0;
    let duplicate = passkeys::Entity::find()
        .filter(passkeys::Column::CredentialId.eq(&new.credential_id))
        .one(&txn)
        .await?
        .is_some();
    if duplicate {
        return Err(Error::Conflict("This passkey is already registered.".into()));
    }
    passkeys::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        credential_id: Set(new.credential_id),
        name: Set(name),
        credential: Set(new.credential_json),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let codes = if first {
        Some(issue_recovery_codes(&txn, user_id).await?)
    } else {
        None
    };
    txn.commit().await?;
    Ok(codes)
}

/// Starts proving a passkey of the account: the second sign-in step, or confirming a change.
pub async fn begin_passkey_check(
    db: &Database,
    rp: &RelyingParty,
    user_id: Uuid,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Ceremony> {
    let conn = db.connection();
    let keys = parsed(&stored_passkeys(conn, user_id).await?)?;
    let challenge = rp.start_authentication(&keys)?;
    let id = store_ceremony(
        conn,
        CHECK_PASSKEY,
        Some(user_id),
        Some(session_id),
        challenge.state_json,
        now,
    )
    .await?;
    Ok(Ceremony {
        id,
        options_json: challenge.options_json,
    })
}

async fn record_passkey_use(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    credential_id: &str,
    updated: Option<webauthn_rs::prelude::Passkey>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut update = passkeys::Entity::update_many()
        .col_expr(passkeys::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(passkeys::Column::UserId.eq(user_id))
        .filter(passkeys::Column::CredentialId.eq(credential_id));
    if let Some(updated) = updated {
        update = update.col_expr(
            passkeys::Column::Credential,
            sea_orm::sea_query::Expr::value(passkey::store(&updated)?),
        );
    }
    update.exec(conn).await?;
    Ok(())
}

/// Verifies the passkey assertion for a ceremony from [`begin_passkey_check`].
pub async fn finish_passkey_check(
    db: &Database,
    rp: &RelyingParty,
    user_id: Uuid,
    session_id: Uuid,
    ceremony_id: Uuid,
    response_json: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let conn = db.connection();
    let ceremony = take_ceremony(conn, ceremony_id, CHECK_PASSKEY, Some(session_id), now).await?;
    if ceremony.user_id != Some(user_id) {
        return Err(ceremony_gone());
    }
    let keys = parsed(&stored_passkeys(conn, user_id).await?)?;
    let (used, updated) = rp.finish_authentication(&ceremony.state, response_json, &keys)?;
    record_passkey_use(conn, user_id, &used, updated, now).await
}

/// Starts a sign-in with a discoverable passkey: no email address typed.
pub async fn begin_passkey_sign_in(db: &Database, rp: &RelyingParty, now: DateTime<Utc>) -> Result<Ceremony> {
    let challenge = rp.start_discoverable()?;
    let id = store_ceremony(
        db.connection(),
        PASSKEY_SIGN_IN,
        None,
        None,
        challenge.state_json,
        now,
    )
    .await?;
    Ok(Ceremony {
        id,
        options_json: challenge.options_json,
    })
}

/// Verifies a discoverable sign-in and returns the account. A passkey with user verification
/// is both factors at once. The credential itself is the secret, so saying that it is unknown
/// reveals nothing about which accounts exist.
pub async fn finish_passkey_sign_in(
    db: &Database,
    rp: &RelyingParty,
    ceremony_id: Uuid,
    response_json: &str,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let conn = db.connection();
    let ceremony = take_ceremony(conn, ceremony_id, PASSKEY_SIGN_IN, None, now).await?;
    let (user_handle, credential_id) = rp.identify(response_json)?;
    let row = passkeys::Entity::find()
        .filter(passkeys::Column::CredentialId.eq(&credential_id))
        .filter(passkeys::Column::UserId.eq(user_handle))
        .one(conn)
        .await?
        .ok_or_else(|| Error::Invalid {
            field: "passkey",
            reason: "This passkey is not registered with Candor (it may have been removed). \
                     Sign in with your email and password."
                .into(),
        })?;
    let key = passkey::parse_stored(&row.credential)?;
    let updated = rp.finish_discoverable(&ceremony.state, response_json, &key)?;
    let verified = users::Entity::find_by_id(row.user_id)
        .one(conn)
        .await?
        .is_some_and(|user| {
            user.email_verified_at.is_some()
                && user.status == crate::platform::entities::users::Status::Active
        });
    if !verified {
        return Err(Error::Invalid {
            field: "passkey",
            reason: "This account cannot sign in: its address is not confirmed yet, or it is suspended."
                .into(),
        });
    }
    record_passkey_use(conn, row.user_id, &credential_id, updated, now).await?;
    Ok(row.user_id)
}

// ---- Authenticator apps (TOTP) and recovery codes ----

/// Starts TOTP enrolment: a new secret, replacing any unconfirmed one.
pub async fn begin_totp_enrolment(
    db: &Database,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<totp::Enrolment> {
    let conn = db.connection();
    let user = users::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let keys = db
        .keyring()?
        .tenant(conn, WorkplaceId::from_uuid(user.workplace_id), now)
        .await?;
    let secret = Zeroizing::new(totp::new_secret()?);
    let opened = crate::platform::user_fields::open_with(&keys, &user)?;
    let enrolment = totp::enrolment(&secret, opened.email.expose())?;
    let id = Uuid::new_v4();
    let txn = conn.begin().await?;
    totp_factors::Entity::delete_many()
        .filter(totp_factors::Column::UserId.eq(user_id))
        .filter(totp_factors::Column::ConfirmedAt.is_null())
        .exec(&txn)
        .await?;
    totp_factors::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        name: Set("Authenticator app".into()),
        legacy_secret: Set(Vec::new()),
        secret_sealed: Set(Some(keys.seal(TOTP_TABLE, TOTP_SECRET, id, &secret)?)),
        last_used_step: Set(None),
        confirmed_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(enrolment)
}

/// What this module seals, as the Security page lists it.
pub(crate) const SEALED: &[&str] = &["authenticator app seeds"];

/// Where an authenticator's seed is sealed: bound to its row, under its person's workplace key.
const TOTP_TABLE: &str = "totp_factors";
const TOTP_SECRET: &str = "secret";

/// The data keys of the workplace `user_id` belongs to.
async fn keys_of_person(
    db: &Database,
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<std::sync::Arc<TenantKeys>> {
    let workplace: Uuid = users::Entity::find_by_id(user_id)
        .select_only()
        .column(users::Column::WorkplaceId)
        .into_tuple()
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    db.keyring()?
        .tenant(conn, WorkplaceId::from_uuid(workplace), now)
        .await
}

/// An authenticator's seed, opened. A seed that does not open (recorded as a security event by
/// the keyring) is an internal error naming the row, never its content.
fn open_seed(keys: &TenantKeys, factor: &totp_factors::Model) -> Result<Zeroizing<Vec<u8>>> {
    let sealed = factor
        .secret_sealed
        .as_deref()
        .ok_or_else(|| Error::Internal(format!("authenticator {} is not sealed yet", factor.id)))?;
    keys.open(TOTP_TABLE, TOTP_SECRET, factor.id, sealed)
        .map(Zeroizing::new)
        .map_err(|err| Error::Internal(format!("totp_factors.secret of {}: {err}", factor.id)))
}

/// Seals every authenticator seed still stored in clear from before migration 32 and empties
/// its legacy column. Runs at start, once the master key is known; returns how many it sealed.
pub(crate) async fn seal_legacy_totp_seeds(
    keyring: &Keyring,
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<usize> {
    let rows = totp_factors::Entity::find()
        .filter(totp_factors::Column::SecretSealed.is_null())
        .all(conn)
        .await?;
    let count = rows.len();
    for factor in rows {
        let Some(person) = users::Entity::find_by_id(factor.user_id).one(conn).await? else {
            continue;
        };
        let keys = keyring
            .tenant(conn, WorkplaceId::from_uuid(person.workplace_id), now)
            .await?;
        let sealed = keys.seal(TOTP_TABLE, TOTP_SECRET, factor.id, &factor.legacy_secret)?;
        let mut changed: totp_factors::ActiveModel = factor.into();
        changed.secret_sealed = Set(Some(sealed));
        changed.legacy_secret = Set(Vec::new());
        changed.update(conn).await?;
    }
    Ok(count)
}

/// Reseals under key version `target` the authenticator seeds of `people` not yet under it
/// (part of a data-key rotation); returns how many it changed.
pub(crate) async fn reseal_totp_seeds(
    conn: &impl ConnectionTrait,
    keys: &TenantKeys,
    people: &[Uuid],
    target: u32,
) -> Result<u64> {
    let factors = totp_factors::Entity::find()
        .filter(totp_factors::Column::UserId.is_in(people.iter().copied()))
        .all(conn)
        .await?;
    let mut changed = 0;
    for factor in factors {
        // Seeds still in clear are sealed at start, under the current key.
        let Some(sealed) = factor.secret_sealed.as_deref() else {
            continue;
        };
        if key_version(sealed) == Ok(target) {
            continue;
        }
        let seed = open_seed(keys, &factor)?;
        totp_factors::Entity::update_many()
            .col_expr(
                totp_factors::Column::SecretSealed,
                sea_orm::sea_query::Expr::value(Some(keys.seal(
                    TOTP_TABLE,
                    TOTP_SECRET,
                    factor.id,
                    &seed,
                )?)),
            )
            .filter(totp_factors::Column::Id.eq(factor.id))
            .exec(conn)
            .await?;
        changed += 1;
    }
    Ok(changed)
}

fn wrong_code() -> Error {
    Error::Invalid {
        field: "code",
        reason: "That code is not valid. Check your app and try the current code.".into(),
    }
}

fn step_i64(step: u64) -> Result<i64> {
    i64::try_from(step).map_err(|_| Error::Internal("TOTP step out of range".into()))
}

/// Confirms enrolment with a code from the app. Returns recovery codes (shown once) when this
/// is the account's first factor, `None` when it adds to existing ones.
pub async fn confirm_totp_enrolment(
    db: &Database,
    user_id: Uuid,
    code: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<Vec<String>>> {
    let name = factor_name(name, "Authenticator app")?;
    let txn = db.connection().begin().await?;
    let pending = totp_factors::Entity::find()
        .filter(totp_factors::Column::UserId.eq(user_id))
        .filter(totp_factors::Column::ConfirmedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| Error::Conflict("There is no authenticator app set-up in progress.".into()))?;
    let keys = keys_of_person(db, &txn, user_id, now).await?;
    let unix = u64::try_from(now.timestamp()).unwrap_or_default();
    let step = totp::verify(&open_seed(&keys, &pending)?, code, unix, None)?.ok_or_else(wrong_code)?;
    let first = confirmed_factor_count(&txn, user_id).await? == 0;
    let mut confirmed: totp_factors::ActiveModel = pending.into();
    confirmed.confirmed_at = Set(Some(now));
    confirmed.last_used_step = Set(Some(step_i64(step)?));
    confirmed.name = Set(name);
    confirmed.update(&txn).await?;
    let codes = if first {
        Some(issue_recovery_codes(&txn, user_id).await?)
    } else {
        None
    };
    txn.commit().await?;
    Ok(codes)
}

/// The second sign-in step with an app code. Refuses wrong codes and replays alike.
pub async fn check_totp(db: &Database, user_id: Uuid, code: &str, now: DateTime<Utc>) -> Result<bool> {
    let conn = db.connection();
    let factors = totp_factors::Entity::find()
        .filter(totp_factors::Column::UserId.eq(user_id))
        .filter(totp_factors::Column::ConfirmedAt.is_not_null())
        .all(conn)
        .await?;
    if factors.is_empty() {
        return Ok(false);
    }
    let keys = keys_of_person(db, conn, user_id, now).await?;
    let unix = u64::try_from(now.timestamp()).unwrap_or_default();
    for factor in factors {
        let last = factor.last_used_step.and_then(|s| u64::try_from(s).ok());
        if let Some(step) = totp::verify(&open_seed(&keys, &factor)?, code, unix, last)? {
            // Only advance the step if nobody else used it meanwhile (two tabs, two servers).
            let updated = totp_factors::Entity::update_many()
                .col_expr(
                    totp_factors::Column::LastUsedStep,
                    sea_orm::sea_query::Expr::value(step_i64(step)?),
                )
                .filter(totp_factors::Column::Id.eq(factor.id))
                .filter(match factor.last_used_step {
                    Some(previous) => totp_factors::Column::LastUsedStep.eq(previous),
                    None => totp_factors::Column::LastUsedStep.is_null(),
                })
                .exec(conn)
                .await?;
            return Ok(updated.rows_affected == 1);
        }
    }
    Ok(false)
}

/// The second sign-in step with a recovery code, which is then used up.
pub async fn use_recovery_code(
    db: &Database,
    user_id: Uuid,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(wanted) = recovery::hash(typed) else {
        return Ok(false);
    };
    let updated = recovery_codes::Entity::update_many()
        .col_expr(
            recovery_codes::Column::UsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .filter(recovery_codes::Column::CodeHash.eq(wanted))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .exec(db.connection())
        .await?;
    Ok(updated.rows_affected == 1)
}
