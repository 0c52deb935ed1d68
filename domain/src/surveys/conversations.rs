//! The anonymous conversations on comments as stored: each reply sealed like a comment, with
//! the day it was written, and the secret whose hash ties a comment to its author's browser.
//! Results show conversations under comments; `replies` lets people write them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

use crate::{
    access::auth::session::SecretToken,
    platform::{entities::comment_replies, tenant::TenantDb},
    Result,
};

pub(crate) const REPLIES: &str = "comment_replies";
pub(crate) const TEXT: &str = "text";

/// One message of a conversation: from the comment's author, or from a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub from_author: bool,
    pub text: String,
    pub written_on: NaiveDate,
}

/// A new secret for a comment: the browser's copy, and the hash the database keeps.
pub(crate) fn new_secret() -> (SecretToken, String) {
    let secret = SecretToken::generate();
    let hash = secret.hash();
    (secret, hash)
}

/// The conversations of `comment_ids`, oldest message first.
pub(crate) async fn conversations(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    comment_ids: &[uuid::Uuid],
    reader: Reader,
) -> Result<BTreeMap<uuid::Uuid, Vec<Message>>> {
    let mut out: BTreeMap<uuid::Uuid, Vec<Message>> = BTreeMap::new();
    if comment_ids.is_empty() {
        return Ok(out);
    }
    let mut rows = Vec::new();
    for chunk in comment_ids.chunks(500) {
        rows.extend(
            tenant
                .select::<comment_replies::Entity>()
                .filter(comment_replies::Column::CommentId.is_in(chunk.iter().copied()))
                .order_by_asc(comment_replies::Column::Position)
                .all(conn)
                .await?,
        );
    }
    if rows.is_empty() {
        return Ok(out);
    }
    let keys = tenant.data_keys_in(conn).await?;
    for row in rows {
        if let Reader::Others { today } = reader {
            // An author's answer that appeared the moment it was sent could be matched to who
            // was using Candor just then: readers see it from the day after it was written.
            if row.from_author && row.written_on >= today {
                continue;
            }
        }
        let text = keys.open_text(REPLIES, TEXT, row.id, &row.text_sealed)?;
        out.entry(row.comment_id).or_default().push(Message {
            from_author: row.from_author,
            text: text.into_exposed(),
            written_on: row.written_on,
        });
    }
    Ok(out)
}

/// Who reads a conversation: the comment's author (everything at once), or the people who may
/// read the comment (the author's answers from the day after they were written).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reader {
    Author,
    Others { today: NaiveDate },
}
