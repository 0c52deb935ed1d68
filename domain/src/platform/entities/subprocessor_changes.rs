use sea_orm::entity::prelude::*;

/// A change to the subprocessor list, as it was announced (see migration 27).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "subprocessor_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subprocessor_id: Uuid,
    pub kind: String,
    pub summary: String,
    pub effective_on: Date,
    pub announced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
