use sea_orm::entity::prelude::*;

/// One backup, prune or restore drill, and how it ended (see migration 23).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "backup_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub backup_id: Option<String>,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    pub outcome: String,
    /// A short reason when it failed, never data.
    pub detail: Option<String>,
    pub bytes: i64,
    pub rows: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
