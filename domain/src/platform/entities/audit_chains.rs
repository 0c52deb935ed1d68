use sea_orm::entity::prelude::*;

/// The head of one audit chain: appends lock it, so entries of a chain are numbered in order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "audit_chains")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: Uuid,
    pub workplace_id: Option<Uuid>,
    pub last_seq: i64,
    pub last_hash: Vec<u8>,
    pub first_seq: i64,
    pub first_prev_hash: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
