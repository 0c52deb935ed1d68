use sea_orm::entity::prelude::*;

/// An Owner's request to delete the workplace after its grace period (see migration 26).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "workplace_terminations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workplace_id: Uuid,
    pub requested_by: Uuid,
    pub requested_at: DateTimeUtc,
    pub delete_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
