//! Foreign keys that later migrations share: a row that belongs to another row (its workplace,
//! its round, its comment) goes when that row goes.

use sea_orm_migration::prelude::*;

/// `table.column` references `target.id`, deleted with it.
pub fn cascading(
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Alias::new(target), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}
