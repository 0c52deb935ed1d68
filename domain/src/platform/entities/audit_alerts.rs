use sea_orm::entity::prelude::*;

/// An alert a monitoring rule raised.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "audit_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workplace_id: Uuid,
    pub raised_at: DateTimeUtc,
    pub rule: String,
    pub severity: String,
    pub count: i32,
    pub window_minutes: i32,
    pub actor_id: Option<Uuid>,
    pub network_tag: Option<String>,
    pub account_tag: Option<String>,
    pub entry_seq: i64,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
