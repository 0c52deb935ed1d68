//! Accounts: workplace signup, email verification, password sign-in, database-held sessions and
//! TOTP enrolment with recovery codes. Every function takes the current time as a parameter.
//!
//! Answers never reveal whether an email address has an account: signup reports the same outcome
//! to the caller's client either way, and password sign-in spends the same hashing work when the
//! address is unknown.

use crate::platform::entities::users::Status as AccountStatus;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    access::auth::{
        context::SignInContext,
        password::{PasswordHasher, PasswordPolicy, Verified},
        session::{SecretToken, SessionPolicy, SessionState},
    },
    platform::entities::{email_tokens, sessions, users, workplaces},
    Database, Error, Result,
};

/// A person who can sign in. Others are `invited`, `suspended` or `left`.
/// How long an email verification link stays valid.
pub const VERIFICATION_LINK_LIFETIME: Duration = Duration::hours(24);
const VERIFY_EMAIL: &str = "verify_email";
const RESET_PASSWORD: &str = "reset_password";
/// How long a password-reset link stays valid.
pub const RESET_LINK_LIFETIME: Duration = Duration::minutes(30);

#[derive(Clone, Debug)]
pub struct SignupInput {
    pub workplace_name: String,
    pub display_name: String,
    pub email: String,
    pub password: String,
}

/// What happened; the client sees the same answer in both cases ("check your inbox").
#[derive(Debug)]
pub enum SignupOutcome {
    /// A new workplace and owner account; email this verification token.
    Created {
        user_id: Uuid,
        workplace_id: Uuid,
        verification_token: SecretToken,
    },
    /// The address already has an account; tell its owner by email instead.
    AlreadyRegistered { user_id: Uuid },
}

/// Trims and lower-cases an email address and checks its shape.
pub fn normalise_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let invalid = |reason: &str| Error::Invalid {
        field: "email",
        reason: reason.to_owned(),
    };
    if email.chars().count() > 254 {
        return Err(invalid("is longer than 254 characters"));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(invalid("needs an @, like name@example.com"));
    };
    let well_formed = !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !well_formed {
        return Err(invalid("is not an email address like name@example.com"));
    }
    Ok(email)
}

/// The account with this address (normalised first); `None` for unknown or malformed addresses.
async fn user_by_email(db: &Database, email: &str) -> Result<Option<users::Model>> {
    let Ok(email) = normalise_email(email) else {
        return Ok(None);
    };
    crate::platform::user_fields::find_by_email(db.keyring()?, db.connection(), &email).await
}

/// Stores a new single-use email token for `purpose` and returns it.
async fn issue_email_token(
    conn: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    purpose: &str,
    lifetime: Duration,
    now: DateTime<Utc>,
) -> Result<SecretToken> {
    let token = SecretToken::generate();
    email_tokens::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        purpose: Set(purpose.to_owned()),
        token_hash: Set(token.hash()),
        expires_at: Set(now + lifetime),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// Creates a workplace and its first account in one transaction.
pub async fn sign_up(
    db: &Database,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    input: SignupInput,
    now: DateTime<Utc>,
) -> Result<SignupOutcome> {
    let workplace_name = crate::platform::text::one_line(&input.workplace_name, "workplace name", 200)?;
    let display_name = crate::platform::text::one_line(&input.display_name, "your name", 200)?;
    let email = normalise_email(&input.email)?;
    policy.check(&input.password, &[&display_name, &email, &workplace_name])?;
    // Hash before looking the address up, so both outcomes take the same time.
    let password_hash = hasher.hash(&input.password).await?;

    let conn = db.connection();
    let keyring = db.keyring()?;
    if let Some(existing) = crate::platform::user_fields::find_by_email(keyring, conn, &email).await? {
        return Ok(SignupOutcome::AlreadyRegistered { user_id: existing.id });
    }
    let workplace_id = Uuid::new_v4();
    let user_id = Uuid::new_v4();
    let txn = db.begin_write().await?;
    workplaces::ActiveModel {
        id: Set(workplace_id),
        name: Set(workplace_name),
        status: Set("active".into()),
        created_at: Set(now),
        // Both factors at every sign-in until an Owner or HR admin decides otherwise.
        remember_device_days: Set(0),
        minimum_group_size: Set(workplaces::DEFAULT_MINIMUM_GROUP_SIZE),
        comment_minimum_group_size: Set(workplaces::DEFAULT_MINIMUM_GROUP_SIZE),
        // Benchmarks are a choice a workplace makes, never a default.
        benchmark_opt_in: Set(false),
        tenure_bounds: Set(workplaces::DEFAULT_TENURE_BOUNDS.to_owned()),
        // The default allowance until the operator sets one.
        invitations_per_day: Set(None),
    }
    .insert(&txn)
    .await?;
    // The workplace's first data key is made here, in the same transaction as the workplace.
    let keys = keyring
        .tenant(
            &txn,
            crate::platform::ids::WorkplaceId::from_uuid(workplace_id),
            now,
        )
        .await?;
    let mut user = users::ActiveModel {
        id: Set(user_id),
        workplace_id: Set(workplace_id),
        password_hash: Set(password_hash),
        email_verified_at: Set(None),
        created_at: Set(now),
        // Whoever creates a workplace owns it (and holds every HR admin permission).
        role: Set(crate::platform::policy::Role::Owner.key().to_owned()),
        custom_role_id: Set(None),
        department_id: Set(None),
        start_date: Set(None),
        status: Set(AccountStatus::Active),
        ..Default::default()
    };
    crate::platform::user_fields::seal(keyring, &keys, user_id, &display_name, &email)?
        .apply(&mut user, user_id);
    let inserted = user.insert(&txn).await;
    if let Err(err) = inserted {
        // Another signup with the same address won the race: same answer as above.
        txn.rollback().await?;
        return match crate::platform::user_fields::find_by_email(keyring, conn, &email).await? {
            Some(existing) => Ok(SignupOutcome::AlreadyRegistered { user_id: existing.id }),
            None => Err(err.into()),
        };
    }
    let token = issue_email_token(&txn, user_id, VERIFY_EMAIL, VERIFICATION_LINK_LIFETIME, now).await?;
    txn.commit().await?;
    Ok(SignupOutcome::Created {
        user_id,
        workplace_id,
        verification_token: token,
    })
}

/// Uses a single-use email token, unless someone used it meanwhile (two tabs, two servers).
async fn claim_email_token(conn: &impl sea_orm::ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let claimed = email_tokens::Entity::update_many()
        .col_expr(email_tokens::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(email_tokens::Column::Id.eq(id))
        .filter(email_tokens::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(link_invalid());
    }
    Ok(())
}

fn link_invalid() -> Error {
    Error::Invalid {
        field: "link",
        reason: "This link is no longer valid: links work once and expire. Ask for a new one.".into(),
    }
}

/// Marks the address verified through a single-use link. Returns the account.
pub async fn verify_email(db: &Database, presented: &str, now: DateTime<Utc>) -> Result<Uuid> {
    let token = SecretToken::parse(presented).ok_or_else(link_invalid)?;
    let txn = db.begin_write().await?;
    let Some(row) = email_tokens::Entity::find()
        .filter(email_tokens::Column::TokenHash.eq(token.hash()))
        .filter(email_tokens::Column::Purpose.eq(VERIFY_EMAIL))
        .one(&txn)
        .await?
    else {
        return Err(link_invalid());
    };
    if row.used_at.is_some() || row.expires_at <= now {
        return Err(link_invalid());
    }
    let user_id = row.user_id;
    claim_email_token(&txn, row.id, now).await?;
    let Some(user) = users::Entity::find_by_id(user_id).one(&txn).await? else {
        return Err(link_invalid());
    };
    if user.email_verified_at.is_none() {
        let mut verified: users::ActiveModel = user.into();
        verified.email_verified_at = Set(Some(now));
        verified.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(user_id)
}

/// The first sign-in step. `None` for any failure (unknown address, wrong password, unverified
/// address), so callers cannot tell them apart.
pub async fn check_password(
    db: &Database,
    hasher: &PasswordHasher,
    email: &str,
    password: &str,
) -> Result<Option<Uuid>> {
    let conn = db.connection();
    let Some(user) = user_by_email(db, email)
        .await?
        .filter(|user| user.status == AccountStatus::Active)
    else {
        // Unknown, invited (no password yet), suspended or gone: spend the same work as a
        // real check, and answer the same.
        let _ = hasher.hash(password).await?;
        return Ok(None);
    };
    let verdict = hasher.verify(password, &user.password_hash).await?;
    if verdict == Verified::No || user.email_verified_at.is_none() {
        return Ok(None);
    }
    let user_id = user.id;
    if verdict == Verified::YesButRehash {
        // The password was right: a stronger hash that cannot be made now waits for the next
        // sign-in (a busy hasher must not turn a right password into an uncounted attempt).
        match hasher.hash(password).await {
            Ok(stronger) => {
                let mut upgraded: users::ActiveModel = user.into();
                upgraded.password_hash = Set(stronger);
                upgraded.update(conn).await?;
            }
            Err(err) => tracing::warn!(
                code = err.code(),
                "a password hash was not strengthened this time"
            ),
        }
    }
    Ok(Some(user_id))
}

/// Who an invitation link is for, to greet them on the page where they accept it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationDetails {
    pub name: String,
    pub email: String,
    pub workplace_name: String,
    /// Whose invitation it is, for the access log (the token holder is not signed in).
    pub person: crate::platform::ids::UserId,
    pub workplace: crate::platform::ids::WorkplaceId,
}

async fn pending_invitation(
    conn: &impl sea_orm::ConnectionTrait,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<(email_tokens::Model, users::Model, workplaces::Model)> {
    let token = SecretToken::parse(presented).ok_or_else(link_invalid)?;
    let row = email_tokens::Entity::find()
        .filter(email_tokens::Column::TokenHash.eq(token.hash()))
        .filter(email_tokens::Column::Purpose.eq(email_tokens::INVITATION))
        .one(conn)
        .await?
        .filter(|row| row.used_at.is_none() && row.expires_at > now)
        .ok_or_else(link_invalid)?;
    let user = users::Entity::find_by_id(row.user_id)
        .one(conn)
        .await?
        .filter(|user| user.status == AccountStatus::Invited)
        .ok_or_else(link_invalid)?;
    let workplace = workplaces::Entity::find_by_id(user.workplace_id)
        .one(conn)
        .await?
        .ok_or_else(link_invalid)?;
    Ok((row, user, workplace))
}

pub async fn invitation_details(
    db: &Database,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<InvitationDetails> {
    let (_, user, workplace) = pending_invitation(db.connection(), presented, now).await?;
    let opened = crate::platform::user_fields::open(db.keyring()?, db.connection(), &user, now).await?;
    Ok(InvitationDetails {
        name: opened.name.into_exposed(),
        email: opened.email.into_exposed(),
        workplace_name: workplace.name,
        person: crate::platform::ids::UserId::from_uuid(user.id),
        workplace: crate::platform::ids::WorkplaceId::from_uuid(workplace.id),
    })
}

/// Accepts an invitation: sets the password, confirms the address (the link proves it) and
/// activates the account. Returns it; signing in continues with second-factor enrolment.
pub async fn accept_invitation(
    db: &Database,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    presented: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let conn = db.connection();
    let (row, user, workplace) = pending_invitation(conn, presented, now).await?;
    let opened = crate::platform::user_fields::open(db.keyring()?, conn, &user, now).await?;
    policy.check(
        password,
        &[opened.name.expose(), opened.email.expose(), &workplace.name],
    )?;
    let password_hash = hasher.hash(password).await?;
    let txn = db.begin_write().await?;
    claim_email_token(&txn, row.id, now).await?;
    let user_id = user.id;
    let mut accepted: users::ActiveModel = user.into();
    accepted.password_hash = Set(password_hash);
    accepted.email_verified_at = Set(Some(now));
    accepted.status = Set(AccountStatus::Active);
    accepted.update(&txn).await?;
    txn.commit().await?;
    Ok(user_id)
}

/// What a signed-in person sees about their own account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub display_name: String,
    pub email: String,
    pub workplace_name: String,
}

pub async fn profile(db: &Database, user_id: Uuid) -> Result<Profile> {
    let conn = db.connection();
    let user = users::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let workplace = workplaces::Entity::find_by_id(user.workplace_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let opened = crate::platform::user_fields::open(db.keyring()?, conn, &user, chrono::Utc::now()).await?;
    Ok(Profile {
        display_name: opened.name.into_exposed(),
        email: opened.email.into_exposed(),
        workplace_name: workplace.name,
    })
}

/// Starts a password reset: a single-use token for the account with this address, or `None` when
/// there is none (callers answer the same either way).
pub async fn request_password_reset(
    db: &Database,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, SecretToken)>> {
    let conn = db.connection();
    let Some(user) = user_by_email(db, email).await? else {
        return Ok(None);
    };
    let opened = crate::platform::user_fields::open(db.keyring()?, conn, &user, now).await?;
    let token = issue_email_token(conn, user.id, RESET_PASSWORD, RESET_LINK_LIFETIME, now).await?;
    Ok(Some((opened.email.into_exposed(), token)))
}

/// Starts a password reset after the request has answered: the address is looked up, a token
/// issued and the link mailed in the background, so the answer takes the same time whether or
/// not the address has an account (and however slow the mail server is). The address must be
/// well-formed; what happens next is logged by outcome only, never with the address.
pub fn request_password_reset_in_background(
    db: &Database,
    mail: &crate::platform::mail_queue::MailQueue,
    public_url: &str,
    email: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let email = normalise_email(email)?;
    let db_for_lookup = db.clone();
    mail_reset_link_in_background(mail, public_url, now, async move {
        request_password_reset(&db_for_lookup, &email, now).await
    });
    Ok(())
}

/// Mails a reset link to the account `user_id` in the background: how a secured account that
/// tried to sign in gets to choose its new password.
pub fn mail_reset_link_to_account_in_background(
    db: &Database,
    mail: &crate::platform::mail_queue::MailQueue,
    public_url: &str,
    user_id: Uuid,
    now: DateTime<Utc>,
) {
    let db_for_lookup = db.clone();
    mail_reset_link_in_background(mail, public_url, now, async move {
        let conn = db_for_lookup.connection();
        let Some(user) = users::Entity::find_by_id(user_id).one(conn).await? else {
            return Ok(None);
        };
        let opened = crate::platform::user_fields::open(db_for_lookup.keyring()?, conn, &user, now).await?;
        let token = issue_email_token(conn, user.id, RESET_PASSWORD, RESET_LINK_LIFETIME, now).await?;
        Ok(Some((opened.email.into_exposed(), token)))
    });
}

/// Queues the link `issue` makes (to the address it names), after the request has answered.
fn mail_reset_link_in_background(
    mail: &crate::platform::mail_queue::MailQueue,
    public_url: &str,
    now: DateTime<Utc>,
    issue: impl std::future::Future<Output = Result<Option<(String, SecretToken)>>> + Send + 'static,
) {
    use tracing::Instrument;
    let (mail, public_url) = (mail.clone(), public_url.to_owned());
    tokio::spawn(
        async move {
            let sent = async {
                let Some((to, token)) = issue.await? else {
                    return Ok(());
                };
                let link = format!("{public_url}/reset-password?token={}", token.expose());
                mail.enqueue(
                    None,
                    crate::platform::mail_queue::MailKind::PasswordReset,
                    crate::access::messages::reset_password(&to, &link),
                    now,
                )
                .await
            }
            .await;
            if let Err(err) = sent {
                tracing::warn!(code = err.code(), error = %err, "a password reset link could not be sent");
            }
        }
        .in_current_span(),
    );
}

/// Sets a new password through a reset link, ends every session of the account and returns it.
/// Signing in afterwards still needs the second factor: a reset never bypasses it.
pub async fn reset_password(
    db: &Database,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    presented: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let token = SecretToken::parse(presented).ok_or_else(link_invalid)?;
    let conn = db.connection();
    let row = email_tokens::Entity::find()
        .filter(email_tokens::Column::TokenHash.eq(token.hash()))
        .filter(email_tokens::Column::Purpose.eq(RESET_PASSWORD))
        .one(conn)
        .await?
        .filter(|row| row.used_at.is_none() && row.expires_at > now)
        .ok_or_else(link_invalid)?;
    let user = users::Entity::find_by_id(row.user_id)
        .one(conn)
        .await?
        .ok_or_else(link_invalid)?;
    let workplace = workplaces::Entity::find_by_id(user.workplace_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let opened = crate::platform::user_fields::open(db.keyring()?, conn, &user, now).await?;
    policy.check(
        new_password,
        &[opened.name.expose(), opened.email.expose(), &workplace.name],
    )?;
    if user.password_change_required_at.is_some()
        && hasher.verify(new_password, &user.password_hash).await? != Verified::No
    {
        return Err(Error::Invalid {
            field: "new password",
            reason: "must differ from the old one, which someone else may know".into(),
        });
    }
    let password_hash = hasher.hash(new_password).await?;
    let txn = db.begin_write().await?;
    claim_email_token(&txn, row.id, now).await?;
    let user_id = user.id;
    let mut updated: users::ActiveModel = user.into();
    updated.password_hash = Set(password_hash);
    // A new password chosen through the emailed link settles a required change too.
    updated.password_change_required_at = Set(None);
    // Following the emailed link also proves the address.
    if updated.email_verified_at.as_ref().is_none() {
        updated.email_verified_at = Set(Some(now));
    }
    updated.update(&txn).await?;
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    crate::access::trusted_devices::forget_all(&txn, user_id).await?;
    txn.commit().await?;
    Ok(user_id)
}

/// Changes the password of a signed-in account after checking the current one, from the
/// session `session`, and ends every other session and remembered device of the account
/// (whoever knew the old password is signed out). Returns how many sessions ended. The caller
/// has already required a recent second factor.
pub async fn change_password(
    db: &Database,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    session: &SessionInfo,
    current_password: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let conn = db.connection();
    let user = users::Entity::find_by_id(session.user_id)
        .one(conn)
        .await?
        .ok_or(Error::Unauthenticated)?;
    if hasher.verify(current_password, &user.password_hash).await? == Verified::No {
        return Err(Error::Invalid {
            field: "current password",
            reason: "is not your current password".into(),
        });
    }
    let workplace = workplaces::Entity::find_by_id(user.workplace_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let opened = crate::platform::user_fields::open(db.keyring()?, conn, &user, chrono::Utc::now()).await?;
    policy.check(
        new_password,
        &[opened.name.expose(), opened.email.expose(), &workplace.name],
    )?;
    let user_id = user.id;
    let password_hash = hasher.hash(new_password).await?;
    let txn = db.begin_write().await?;
    let mut changed: users::ActiveModel = user.into();
    changed.password_hash = Set(password_hash);
    changed.update(&txn).await?;
    crate::access::trusted_devices::forget_all(&txn, user_id).await?;
    let ended = end_sessions_but(&txn, user_id, session.session_id, now).await?;
    txn.commit().await?;
    Ok(ended)
}

/// Secures an account that may be compromised, in the caller's transaction: every session ends
/// (the one asking too), every remembered device is forgotten, and no sign-in succeeds until a
/// new password is chosen through an emailed reset link (see [`refuse_if_secured`]). Returns
/// how many sessions ended.
pub(crate) async fn require_new_password(
    conn: &impl sea_orm::ConnectionTrait,
    workplace: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64> {
    let marked = crate::platform::tenant::TenantDb::update_in::<users::Entity>(
        crate::platform::ids::WorkplaceId::from_uuid(workplace),
    )
    .col_expr(
        users::Column::PasswordChangeRequiredAt,
        sea_orm::sea_query::Expr::value(now),
    )
    .filter(users::Column::Id.eq(user_id))
    .exec(conn)
    .await?;
    if marked.rows_affected == 0 {
        return Err(Error::NotFound);
    }
    // A reset link asked for before (perhaps by whoever has the password) no longer works.
    email_tokens::Entity::delete_many()
        .filter(email_tokens::Column::UserId.eq(user_id))
        .filter(email_tokens::Column::Purpose.eq(RESET_PASSWORD))
        .exec(conn)
        .await?;
    crate::access::trusted_devices::forget_all(conn, user_id).await?;
    // No session has the nil id: every one ends.
    end_sessions_but(conn, user_id, Uuid::nil(), now).await
}

/// "My account may be compromised", said by the person themself: [`require_new_password`] on
/// their own account. They are signed out here too, and choose a new password through the link
/// emailed when they next try to sign in. Returns how many sessions ended.
pub async fn secure_own_account(db: &Database, session: &SessionInfo, now: DateTime<Utc>) -> Result<u64> {
    let txn = db.begin_write().await?;
    let ended = require_new_password(&txn, session.workplace_id, session.user_id, now).await?;
    txn.commit().await?;
    Ok(ended)
}

/// Refuses to sign in an account secured as possibly compromised: its next password comes only
/// through the emailed reset link — the address is the channel whoever secured it still trusts —
/// never through a sign-in that a stolen password, factor or remembered device could complete.
pub async fn refuse_if_secured(db: &Database, user_id: Uuid) -> Result<()> {
    let secured = users::Entity::find_by_id(user_id)
        .one(db.connection())
        .await?
        .is_some_and(|user| user.password_change_required_at.is_some());
    if secured {
        return Err(Error::PasswordChangeRequired);
    }
    Ok(())
}

/// A signed-in session as the request handlers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub workplace_id: Uuid,
    /// The second factor was given in this session.
    pub second_factor: bool,
    /// When the second factor was last given (sign-in or a later confirmation).
    pub second_factor_at: Option<DateTime<Utc>>,
    /// The account was secured as possibly compromised: this session may only choose a new
    /// password (after its second factor) until it has.
    pub password_change_required: bool,
}

/// How recently the second factor must have been given before a credential change.
pub const REAUTHENTICATION_WINDOW: Duration = Duration::minutes(10);

impl SessionInfo {
    /// Whether this session may change credentials now without confirming the second factor
    /// again.
    pub fn recently_confirmed(&self, now: DateTime<Utc>) -> bool {
        self.second_factor_at
            .is_some_and(|at| at <= now && now - at <= REAUTHENTICATION_WINDOW)
    }
}

/// Starts a session after the password step (second factor still to come).
pub async fn start_session(
    db: &Database,
    user_id: Uuid,
    context: &SignInContext,
    now: DateTime<Utc>,
) -> Result<SecretToken> {
    Ok(start_session_with_id(db, user_id, context, now).await?.1)
}

/// [`start_session`], also returning the new session's id.
pub(crate) async fn start_session_with_id(
    db: &Database,
    user_id: Uuid,
    context: &SignInContext,
    now: DateTime<Utc>,
) -> Result<(Uuid, SecretToken)> {
    // Whatever proved who it is, a secured account starts nothing before its new password.
    refuse_if_secured(db, user_id).await?;
    let token = SecretToken::generate();
    let conn = db.connection();
    let keyring = db.keyring()?;
    let keys = crate::access::context_fields::keys_of_user(keyring, conn, user_id).await?;
    let id = Uuid::new_v4();
    sessions::ActiveModel {
        context_index: Set(Some(crate::access::context_fields::index(keyring, context))),
        context_sealed: Set(Some(crate::access::context_fields::seal(&keys, id, context)?)),
        id: Set(id),
        user_id: Set(user_id),
        token_hash: Set(token.hash()),
        second_factor_at: Set(None),
        device_vouched_at: Set(None),
        created_at: Set(now),
        last_seen_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok((id, token))
}

/// Looks a presented cookie value up and marks the session as seen (at most once a minute, see
/// [`TOUCH_AT_MOST_EVERY`]). Expired, revoked or unknown tokens are `None`.
pub async fn resolve_session(
    db: &Database,
    policy: &SessionPolicy,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionInfo>> {
    Ok(resolve_signed_in(db, policy, presented, now)
        .await?
        .map(|signed_in| signed_in.session))
}

/// A live session together with the account it belongs to, as one request reads them.
#[derive(Clone)]
pub struct SignedIn {
    pub session: SessionInfo,
    /// The account row read with the session, so that the policy's view of the person
    /// ([`crate::access::identity::of_signed_in`]) needs no second read of it.
    pub(crate) account: users::Model,
}

/// The account row holds the password hash and sealed fields: never printed.
impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// [`resolve_session`] with the account: the session and its account in one statement, since
/// every signed-in request asks for both.
pub async fn resolve_signed_in(
    db: &Database,
    policy: &SessionPolicy,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Option<SignedIn>> {
    use sea_orm::{JoinType, QuerySelect};
    let Some(token) = SecretToken::parse(presented) else {
        return Ok(None);
    };
    let conn = db.connection();
    let account_of_session: sea_orm::RelationDef = sessions::Entity::belongs_to(users::Entity)
        .from(sessions::Column::UserId)
        .to(users::Column::Id)
        .into();
    let Some((session, Some(account))) = sessions::Entity::find()
        .join(JoinType::InnerJoin, account_of_session)
        .select_also(users::Entity)
        .filter(sessions::Column::TokenHash.eq(token.hash()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if session.revoked_at.is_some() {
        return Ok(None);
    }
    if policy.state(session.created_at, session.last_seen_at, now) != SessionState::Active {
        let mut ended: sessions::ActiveModel = session.into();
        ended.revoked_at = Set(Some(now));
        ended.update(conn).await?;
        return Ok(None);
    }
    let info = SessionInfo {
        session_id: session.id,
        user_id: account.id,
        workplace_id: account.workplace_id,
        second_factor: session.second_factor_at.is_some() || session.device_vouched_at.is_some(),
        // Only a factor given in person confirms a credential change.
        second_factor_at: session.second_factor_at,
        password_change_required: account.password_change_required_at.is_some(),
    };
    if now - session.last_seen_at >= TOUCH_AT_MOST_EVERY {
        let mut touched: sessions::ActiveModel = session.into();
        touched.last_seen_at = Set(now);
        touched.update(conn).await?;
    }
    Ok(Some(SignedIn {
        session: info,
        account,
    }))
}

/// How often a session in use is marked as seen. Every request writing the row would make every
/// page load and call a database write (on SQLite, a turn at its one writer); the idle timeout
/// counts from the last mark, so a session in use may end up to this much before it would
/// have with a mark on every request.
pub const TOUCH_AT_MOST_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// Records the second factor and issues a new token for the now more privileged session; the
/// old token stops working.
pub async fn complete_second_factor(
    db: &Database,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<SecretToken> {
    upgrade_session(db, session_id, SecondStep::Factor, now).await
}

/// Finishes a sign-in whose second step was a remembered device on its usual network: signed
/// in, but with no recent second factor, so credential and administrative changes still ask
/// for one.
pub async fn complete_with_remembered_device(
    db: &Database,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<SecretToken> {
    upgrade_session(db, session_id, SecondStep::RememberedDevice, now).await
}

enum SecondStep {
    Factor,
    RememberedDevice,
}

async fn upgrade_session(
    db: &Database,
    session_id: Uuid,
    step: SecondStep,
    now: DateTime<Utc>,
) -> Result<SecretToken> {
    let conn = db.connection();
    let session = sessions::Entity::find_by_id(session_id)
        .one(conn)
        .await?
        .ok_or(Error::Unauthenticated)?;
    let token = SecretToken::generate();
    let mut upgraded: sessions::ActiveModel = session.into();
    upgraded.token_hash = Set(token.hash());
    match step {
        SecondStep::Factor => upgraded.second_factor_at = Set(Some(now)),
        SecondStep::RememberedDevice => upgraded.device_vouched_at = Set(Some(now)),
    }
    upgraded.last_seen_at = Set(now);
    upgraded.update(conn).await?;
    Ok(token)
}

/// A live session as its owner sees it on the sessions page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: Uuid,
    pub device: String,
    pub network_prefix: String,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The account's live sessions, most recently used first.
pub async fn list_sessions(
    db: &Database,
    policy: &SessionPolicy,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<SessionSummary>> {
    let conn = db.connection();
    let keys = crate::access::context_fields::keys_of_user(db.keyring()?, conn, user_id).await?;
    let mut live = Vec::new();
    for s in sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .filter(|s| policy.state(s.created_at, s.last_seen_at, now) == SessionState::Active)
    {
        let context = crate::access::context_fields::open(&keys, s.id, s.context_sealed.as_deref())?;
        live.push(SessionSummary {
            id: s.id,
            device: context.device,
            network_prefix: context.network_prefix,
            started_at: s.created_at,
            last_seen_at: s.last_seen_at,
        });
    }
    live.sort_by_key(|s| std::cmp::Reverse(s.last_seen_at));
    Ok(live)
}

/// Ends one of the account's own sessions; another account's session id is not found.
pub async fn end_own_session(
    db: &Database,
    user_id: Uuid,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let updated = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(sessions::Column::Id.eq(session_id))
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db.connection())
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Ends every session of the account except `keep`; returns how many ended.
pub async fn end_other_sessions(db: &Database, user_id: Uuid, keep: Uuid, now: DateTime<Utc>) -> Result<u64> {
    end_sessions_but(db.connection(), user_id, keep, now).await
}

/// Ends every live session of the account except `keep` (the one making a change).
pub(crate) async fn end_sessions_but(
    conn: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    keep: Uuid,
    now: DateTime<Utc>,
) -> Result<u64> {
    let updated = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::Id.ne(keep))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(updated.rows_affected)
}

/// How long an ended session's row (with its sealed sign-in place) is kept: long enough to
/// tell a usual place from a new one at the next sign-in, and for the person's own copy.
pub const ENDED_SESSIONS_KEPT: Duration = Duration::days(90);

/// Deletes the rows of sessions that ended (signed out, revoked, idle or past their lifetime
/// under `policy`) more than [`ENDED_SESSIONS_KEPT`] ago; returns how many. The daily data
/// retention job runs it.
pub async fn purge_ended_sessions(db: &Database, policy: &SessionPolicy, now: DateTime<Utc>) -> Result<u64> {
    use sea_orm::sea_query::Condition;
    let before = now - ENDED_SESSIONS_KEPT;
    let deleted = sessions::Entity::delete_many()
        .filter(
            Condition::any()
                .add(sessions::Column::RevokedAt.lt(before))
                .add(sessions::Column::LastSeenAt.lt(before - policy.idle))
                .add(sessions::Column::CreatedAt.lt(before - policy.absolute)),
        )
        .exec(db.connection())
        .await?;
    Ok(deleted.rows_affected)
}

/// A sign-in the account has not been seen from before, to tell its owner about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSignIn {
    pub email: String,
    pub device: String,
    pub network_prefix: String,
}

/// Whether the session's context (device and network prefix) is new for its account: `Some`
/// when earlier sessions completed sign-in only from other contexts, `None` for a known context
/// or the account's very first sign-in.
pub async fn new_sign_in_context(db: &Database, session_id: Uuid) -> Result<Option<NewSignIn>> {
    let conn = db.connection();
    let session = sessions::Entity::find_by_id(session_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let earlier = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(session.user_id))
        .filter(sessions::Column::Id.ne(session.id))
        .filter(sessions::Column::SecondFactorAt.is_not_null())
        .all(conn)
        .await?;
    let known = earlier.is_empty()
        || earlier
            .iter()
            .any(|s| s.context_index.is_some() && s.context_index == session.context_index);
    if known {
        return Ok(None);
    }
    let user = users::Entity::find_by_id(session.user_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let keyring = db.keyring()?;
    let keys = keyring
        .tenant(
            conn,
            crate::platform::ids::WorkplaceId::from_uuid(user.workplace_id),
            chrono::Utc::now(),
        )
        .await?;
    let opened = crate::platform::user_fields::open_with(&keys, &user)?;
    let context = crate::access::context_fields::open(&keys, session.id, session.context_sealed.as_deref())?;
    Ok(Some(NewSignIn {
        email: opened.email.into_exposed(),
        device: context.device,
        network_prefix: context.network_prefix,
    }))
}

pub async fn end_session(db: &Database, session_id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let conn = db.connection();
    if let Some(session) = sessions::Entity::find_by_id(session_id).one(conn).await? {
        let mut ended: sessions::ActiveModel = session.into();
        ended.revoked_at = Set(Some(now));
        ended.update(conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").ok().as_deref(),
            Some("ada@example.com")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@.com",
            "a da@example.com",
            "ada@example.com.",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }
}
