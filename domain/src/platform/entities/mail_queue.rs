use sea_orm::entity::prelude::*;

/// An email waiting for delivery, or a dead letter (see migration 36). `message` is sealed under
/// the instance's mail key; `recipient_index` is the blind index of the address.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "mail_queue")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workplace_id: Option<Uuid>,
    pub kind: String,
    pub priority: i32,
    pub recipient_index: Vec<u8>,
    pub message: Vec<u8>,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub dead_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
