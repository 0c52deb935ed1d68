use sea_orm::entity::prelude::*;

/// An incident the operators recorded (see migration 25).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub nature: String,
    pub opened_at: DateTimeUtc,
    pub breach_verified_at: Option<DateTimeUtc>,
    pub likely_impact: Option<String>,
    pub mitigation: Option<String>,
    pub contact: Option<String>,
    pub notified_at: Option<DateTimeUtc>,
    pub analysis: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
