use sea_orm::entity::prelude::*;

/// Counts of a closed round (see migration 20): participation rows have no question.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "round_tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workplace_id: Uuid,
    pub round_id: Uuid,
    pub department_id: Option<Uuid>,
    pub question_id: Option<Uuid>,
    pub value: Option<i32>,
    pub answered: bool,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
