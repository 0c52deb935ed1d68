use sea_orm::entity::prelude::*;

/// One audit entry (see migration 21). Ids, codes and keyed hashes only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub chain_id: Uuid,
    pub workplace_id: Option<Uuid>,
    pub seq: i64,
    pub occurred_at: DateTimeUtc,
    pub request_id: Option<String>,
    pub category: String,
    pub action: String,
    pub severity: String,
    pub outcome: String,
    pub actor_id: Option<Uuid>,
    pub entity_type: Option<String>,
    pub entity_ids: Option<String>,
    pub entity_count: i32,
    pub network_tag: Option<String>,
    pub account_tag: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A workplace's chain: its rows carry the workplace id (the instance's chain has none and is
/// read outside any workplace).
impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
