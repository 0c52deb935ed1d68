use sea_orm::entity::prelude::*;

/// Platform figures per built-in question; instance-wide, holding nothing of any one workplace.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "benchmarks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub library_key: String,
    pub value: f64,
    pub workplaces: i32,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
