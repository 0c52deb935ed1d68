use sea_orm::entity::prelude::*;

/// A deleted workplace whose backup key must leave the backup store (see migration 23).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "backup_shreds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub shredded_workplace_id: Uuid,
    pub requested_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
