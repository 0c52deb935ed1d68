//! Where a session signed in from (browser family and network prefix), as stored: sealed with
//! the account's workplace key for the sessions page, and as a keyed pseudonym so that "has this
//! account signed in from here before?" is answered without opening anything.

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::{
    access::auth::context::SignInContext,
    platform::{
        crypto::{Keyring, TenantKeys},
        entities::users,
        ids::WorkplaceId,
    },
    Error, Result,
};

const TABLE: &str = "sessions";
const COLUMN: &str = "context";
/// What this module seals, as the Security page lists it.
pub(crate) const SEALED: &[&str] = &["where sessions signed in from (browser and network)"];

/// The pseudonym two equal contexts share.
pub(crate) fn index(keyring: &Keyring, context: &SignInContext) -> String {
    keyring.pseudonym(
        "sign-in-context",
        format!("{}\n{}", context.device, context.network_prefix).as_bytes(),
    )
}

pub(crate) fn seal(keys: &TenantKeys, session: Uuid, context: &SignInContext) -> Result<Vec<u8>> {
    keys.seal(
        TABLE,
        COLUMN,
        session,
        format!("{}\n{}", context.device, context.network_prefix).as_bytes(),
    )
}

/// The context of `session`; sessions from before contexts were sealed have none.
pub(crate) fn open(keys: &TenantKeys, session: Uuid, sealed: Option<&[u8]>) -> Result<SignInContext> {
    let Some(sealed) = sealed else {
        return Ok(SignInContext::default());
    };
    let bytes = keys
        .open(TABLE, COLUMN, session, sealed)
        .map_err(|err| Error::Internal(format!("{TABLE}.{COLUMN} of {session}: {err}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Internal(format!("{TABLE}.{COLUMN} of {session} is not text")))?;
    let (device, network_prefix) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    Ok(SignInContext {
        device: device.to_owned(),
        network_prefix: network_prefix.to_owned(),
    })
}

/// The data keys of the workplace `user` belongs to.
pub(crate) async fn keys_of_user(
    keyring: &Keyring,
    conn: &impl ConnectionTrait,
    user: Uuid,
) -> Result<std::sync::Arc<TenantKeys>> {
    let workplace = users::Entity::find_by_id(user)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?
        .workplace_id;
    keyring
        .tenant(conn, WorkplaceId::from_uuid(workplace), chrono::Utc::now())
        .await
}
