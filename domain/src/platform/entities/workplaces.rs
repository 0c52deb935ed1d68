use sea_orm::entity::prelude::*;

/// Results are shown for groups of at least this many respondents unless a workplace decides
/// otherwise: what a new workplace starts with.
pub const DEFAULT_MINIMUM_GROUP_SIZE: i32 = 5;
/// The tenure bands a new workplace starts with, as stored (see `surveys::tenure`).
pub const DEFAULT_TENURE_BOUNDS: &str = "1,2,5";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "workplaces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub remember_device_days: i32,
    pub minimum_group_size: i32,
    pub comment_minimum_group_size: i32,
    pub benchmark_opt_in: bool,
    /// Tenure band boundaries in whole years, ascending ("1,2,5").
    pub tenure_bounds: String,
    /// Invitation messages a day, when the operator set this workplace's allowance.
    pub invitations_per_day: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
