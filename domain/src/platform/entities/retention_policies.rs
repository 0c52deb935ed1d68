use sea_orm::entity::prelude::*;

/// A workplace's retention policy (see migration 26); None keeps the data until removed by hand.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "retention_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workplace_id: Uuid,
    pub people_left_months: Option<i32>,
    pub comments_months: Option<i32>,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<Uuid>,
    pub last_applied_at: Option<DateTimeUtc>,
    pub last_people_erased: i64,
    pub last_comments_deleted: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
