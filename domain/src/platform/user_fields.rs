//! A person's name and email address as stored: sealed with their workplace's data key, the
//! address also as a blind index for sign-in and duplicate checks. Every read and write of those
//! two fields goes through here.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::{
    platform::{
        crypto::{Keyring, Personal, TenantKeys},
        entities::users,
        ids::WorkplaceId,
    },
    Error, Result,
};

const TABLE: &str = "users";
/// What this module seals, as the Security page lists it.
pub(crate) const SEALED: &[&str] = &["people's names", "email addresses"];
const NAME: &str = "name";
const EMAIL: &str = "email";

/// The opened name and address of a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Opened {
    pub name: Personal,
    pub email: Personal,
}

/// The columns that store a name and address.
pub(crate) struct Sealed {
    pub email_index: Vec<u8>,
    pub email: Vec<u8>,
    pub name: Vec<u8>,
}

impl Sealed {
    /// Sets the sealed columns (and the emptied legacy ones) on a row.
    pub(crate) fn apply(self, row: &mut users::ActiveModel, id: uuid::Uuid) {
        row.email_index = Set(Some(self.email_index));
        row.email_sealed = Set(Some(self.email));
        row.name_sealed = Set(Some(self.name));
        row.legacy_email = Set(id.to_string());
        row.legacy_display_name = Set(String::new());
    }
}

pub(crate) fn seal(
    keyring: &Keyring,
    keys: &TenantKeys,
    id: uuid::Uuid,
    name: &str,
    email: &str,
) -> Result<Sealed> {
    Ok(Sealed {
        email_index: keyring.email_index(email),
        email: keys.seal(TABLE, EMAIL, id, email.as_bytes())?,
        name: keys.seal(TABLE, NAME, id, name.as_bytes())?,
    })
}

fn open_field(keys: &TenantKeys, id: uuid::Uuid, column: &str, sealed: Option<&[u8]>) -> Result<Personal> {
    let sealed = sealed.ok_or_else(|| Error::Internal(format!("{TABLE}.{column} of {id} is not sealed")))?;
    keys.open_text(TABLE, column, id, sealed)
}

/// Opens a person's name and address with their workplace's keys.
pub(crate) fn open_with(keys: &TenantKeys, row: &users::Model) -> Result<Opened> {
    Ok(Opened {
        name: open_field(keys, row.id, NAME, row.name_sealed.as_deref())?,
        email: open_field(keys, row.id, EMAIL, row.email_sealed.as_deref())?,
    })
}

/// Opens fields given as columns (for partial models).
pub(crate) fn open_columns(
    keys: &TenantKeys,
    id: uuid::Uuid,
    name: Option<&[u8]>,
    email: Option<&[u8]>,
) -> Result<Opened> {
    Ok(Opened {
        name: open_field(keys, id, NAME, name)?,
        email: open_field(keys, id, EMAIL, email)?,
    })
}

/// Opens a person's fields, loading their workplace's keys through `conn`.
pub(crate) async fn open(
    keyring: &Keyring,
    conn: &impl ConnectionTrait,
    row: &users::Model,
    now: DateTime<Utc>,
) -> Result<Opened> {
    let keys = keyring
        .tenant(conn, WorkplaceId::from_uuid(row.workplace_id), now)
        .await?;
    open_with(&keys, row)
}

/// The names of the people `ids` of `tenant`'s workplace (people of other workplaces, or gone,
/// are simply absent), read through `conn`.
pub(crate) async fn names_of(
    tenant: &crate::platform::tenant::TenantDb,
    conn: &impl ConnectionTrait,
    ids: &[uuid::Uuid],
) -> Result<std::collections::HashMap<uuid::Uuid, String>> {
    let keys = tenant.data_keys_in(conn).await?;
    let mut names = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for row in tenant
            .select::<users::Entity>()
            .filter(users::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            names.insert(row.id, open_with(&keys, &row)?.name.into_exposed());
        }
    }
    Ok(names)
}

/// The account holding a normalised address, anywhere in Candor.
pub(crate) async fn find_by_email(
    keyring: &Keyring,
    conn: &impl ConnectionTrait,
    normalised: &str,
) -> Result<Option<users::Model>> {
    Ok(users::Entity::find()
        .filter(users::Column::EmailIndex.eq(keyring.email_index(normalised)))
        .one(conn)
        .await?)
}

/// Seals every row still holding plaintext from before migration 11 and empties its legacy
/// columns. Runs at start, once the master key is known; returns how many rows it sealed.
pub(crate) async fn seal_legacy_rows(
    keyring: &Keyring,
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<usize> {
    let rows = users::Entity::find()
        .filter(users::Column::EmailIndex.is_null())
        .all(conn)
        .await?;
    let count = rows.len();
    for row in rows {
        let keys = keyring
            .tenant(conn, WorkplaceId::from_uuid(row.workplace_id), now)
            .await?;
        let sealed = seal(
            keyring,
            &keys,
            row.id,
            &row.legacy_display_name,
            &row.legacy_email,
        )?;
        let id = row.id;
        let mut changed: users::ActiveModel = row.into();
        sealed.apply(&mut changed, id);
        changed.update(conn).await?;
    }
    Ok(count)
}
