use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "survey_questions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workplace_id: Uuid,
    pub survey_id: Uuid,
    pub position: i32,
    pub kind: Kind,
    pub prompt: String,
    pub library_key: Option<String>,
    pub choices: Option<String>,
    pub low_label: Option<String>,
    pub high_label: Option<String>,
}

/// What a question is answered with; its details (labels, options) are in the other columns.
/// Stored as its lowercase name; any other stored value fails to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
pub enum Kind {
    Scale,
    Enps,
    Choice,
    Text,
}

serialised_as_stored_text!(Kind);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl super::TenantScoped for Entity {
    fn workplace_column() -> Column {
        Column::WorkplaceId
    }
}
