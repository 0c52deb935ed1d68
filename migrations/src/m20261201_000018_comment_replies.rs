//! Anonymous conversations on comments. A comment may carry the hash of a secret that only its
//! author's browser holds; whoever may read the comment can reply, and the author — presenting
//! the secret — reads the replies and answers back. Nothing links the secret to an account.
//! Replies record the day they were written, not the time, so they cannot be matched against
//! when someone was signed in.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{foreign_keys::cascading, row_level_security};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Comments {
    Table,
    ReplyTokenHash,
}

#[derive(DeriveIden)]
enum CommentReplies {
    Table,
    Id,
    WorkplaceId,
    CommentId,
    Position,
    FromAuthor,
    TextSealed,
    WrittenOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Comments::Table)
                    .add_column(string_len_null(Comments::ReplyTokenHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("comments_by_reply_token")
                    .table(Comments::Table)
                    .col(Comments::ReplyTokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommentReplies::Table)
                    .col(uuid(CommentReplies::Id).primary_key())
                    .col(uuid(CommentReplies::WorkplaceId))
                    .col(uuid(CommentReplies::CommentId))
                    .col(integer(CommentReplies::Position))
                    .col(boolean(CommentReplies::FromAuthor))
                    .col(blob(CommentReplies::TextSealed))
                    .col(date(CommentReplies::WrittenOn))
                    .foreign_key(&mut cascading(
                        CommentReplies::Table,
                        CommentReplies::WorkplaceId,
                        "workplaces",
                    ))
                    .foreign_key(&mut cascading(
                        CommentReplies::Table,
                        CommentReplies::CommentId,
                        "comments",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("comment_replies_in_order")
                    .table(CommentReplies::Table)
                    .col(CommentReplies::CommentId)
                    .col(CommentReplies::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        row_level_security::enable(manager, "comment_replies").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        row_level_security::disable(manager, "comment_replies").await?;
        manager
            .drop_table(Table::drop().table(CommentReplies::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("comments_by_reply_token")
                    .table(Comments::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Comments::Table)
                    .drop_column(Comments::ReplyTokenHash)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
