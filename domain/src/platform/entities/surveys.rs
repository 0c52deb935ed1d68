use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "surveys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workplace_id: Uuid,
    pub title: String,
    pub status: Status,
    pub cadence: Cadence,
    pub window_days: i32,
    pub first_round_at: DateTimeUtc,
    pub next_round_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Where a survey stands. Stored as its lowercase name; any other stored value fails to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum Status {
    Active,
    Paused,
    Closed,
}

/// How often a survey runs. Stored as its lowercase name; any other stored value fails to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum Cadence {
    Once,
    Weekly,
    Fortnightly,
    Monthly,
}

serialised_as_stored_text!(Status);

serialised_as_stored_text!(Cadence);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
