use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "security_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// None for events about the instance as a whole (a rejected master key).
    pub workplace_id: Option<Uuid>,
    pub occurred_at: DateTimeUtc,
    pub kind: String,
    pub severity: String,
    pub actor_id: Option<Uuid>,
    /// What the event is about, as `table.column` or an entity name; never a value.
    pub subject: Option<String>,
    pub subject_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
