use sea_orm::entity::prelude::*;

/// A workplace's audit settings; a workplace without a row uses the defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "audit_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workplace_id: Uuid,
    pub retention_days: i32,
    pub review_interval_days: i32,
    pub failed_sign_in_limit: i32,
    pub denial_limit: i32,
    pub export_limit: i32,
    pub monitored_seq: i64,
    pub review_reminded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
