use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub token_hash: String,
    /// When a second factor was given in person (sign-in or a later confirmation).
    pub second_factor_at: Option<DateTimeUtc>,
    /// When a remembered device stood in for the second factor at sign-in: signed in, but not
    /// a confirmation for credential changes.
    pub device_vouched_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// Keyed pseudonym of the browser family and network prefix, for comparisons.
    pub context_index: Option<String>,
    /// The browser family and network prefix, sealed with the workplace's data key.
    pub context_sealed: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
