use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workplace_id: Uuid,
    /// Emptied once sealed: holds the row id (see migration 11), never an address.
    pub legacy_email: String,
    /// Emptied once sealed: always "".
    pub legacy_display_name: String,
    pub password_hash: String,
    pub email_verified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub role: String,
    pub department_id: Option<Uuid>,
    pub start_date: Option<Date>,
    pub status: Status,
    pub custom_role_id: Option<Uuid>,
    /// HMAC of the normalised address under the instance's index key.
    pub email_index: Option<Vec<u8>>,
    pub email_sealed: Option<Vec<u8>>,
    pub name_sealed: Option<Vec<u8>>,
    /// Processing restricted on the person's request: kept, but asked in no new round.
    pub restricted_at: Option<DateTimeUtc>,
    /// When they were marked as having left; the retention policy counts from here.
    pub left_at: Option<DateTimeUtc>,
    /// Since when the account may be compromised: its next sign-in must choose a new password
    /// before anything else.
    pub password_change_required_at: Option<DateTimeUtc>,
}

/// Where an account stands. Stored as its lowercase name; a row holding any other value fails
/// to load instead of being read as some default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum Status {
    /// Asked to join; no password yet.
    Invited,
    Active,
    /// Signed out everywhere; cannot sign in until reactivated.
    Suspended,
    /// Gone from the workplace; kept until the retention policy erases them.
    Left,
}

serialised_as_stored_text!(Status);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
