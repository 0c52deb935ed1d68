//! Anonymous conversations on comments. When someone comments, their browser receives a secret
//! for each comment (the database keeps only its hash); whoever may read the comment can reply,
//! and the author — presenting the secret from their browser — reads the replies and answers
//! back. No account is ever stored with a comment, a secret or a reply, so neither the readers
//! nor the database can tell who is talking. Replies are sealed like comments and carry the
//! day they were written, not the time.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};

use crate::{
    access::auth::session::SecretToken,
    platform::{
        entities::{comment_replies, comments, surveys},
        policy::{Action, Resource},
        tenant::TenantDb,
    },
    Error, Result,
};

use super::conversations::{conversations, Message, Reader, REPLIES, TEXT};
/// The longest reply, in characters (as a comment).
pub const MAX_REPLY: usize = super::answering::MAX_COMMENT;
/// The most secrets one inbox request may present.
pub const MAX_SECRETS: usize = 500;

/// A comment and its conversation, as its author sees it in their inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    /// The secret it was found by (the browser's key for it).
    pub secret: String,
    pub survey: String,
    pub round: i32,
    pub question: String,
    pub comment: String,
    pub messages: Vec<Message>,
}

fn checked_text(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid {
            field: "reply",
            reason: "write something first".into(),
        });
    }
    if text.chars().count() > MAX_REPLY {
        return Err(Error::Invalid {
            field: "reply",
            reason: format!("is longer than {MAX_REPLY} characters"),
        });
    }
    Ok(text.to_owned())
}

async fn add_message(
    tenant: &TenantDb,
    txn: &sea_orm::DatabaseTransaction,
    comment: uuid::Uuid,
    from_author: bool,
    text: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    use sea_orm::PaginatorTrait;
    let position = tenant
        .select::<comment_replies::Entity>()
        .filter(comment_replies::Column::CommentId.eq(comment))
        .count(txn)
        .await?;
    let keys = tenant.data_keys_in(txn).await?;
    let id = uuid::Uuid::new_v4();
    comment_replies::ActiveModel {
        id: Set(id),
        workplace_id: Set(tenant.workplace_id().uuid()),
        comment_id: Set(comment),
        position: Set(i32::try_from(position + 1).unwrap_or(i32::MAX)),
        from_author: Set(from_author),
        text_sealed: Set(keys.seal(REPLIES, TEXT, id, text.as_bytes())?),
        written_on: Set(now.date_naive()),
    }
    .insert(txn)
    .await
    // Two replies at the same moment take the same position: the unique index refuses one.
    .map_err(|err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict("Someone replied at the same moment; send yours again.".into())
        }
        _ => err.into(),
    })?;
    Ok(())
}

/// A reader's reply to a comment they can see on a results page (same reach, same minimums).
pub async fn reply(tenant: &TenantDb, comment: uuid::Uuid, text: &str, now: DateTime<Utc>) -> Result<()> {
    tenant.require(Action::ListResults, Resource::Workplace)?;
    let text = checked_text(text)?;
    let txn = tenant.begin_read().await?;
    let row = tenant
        .select::<comments::Entity>()
        .filter(comments::Column::Id.eq(comment))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    txn.commit().await?;
    // Readable exactly when the round's page would list it for this reader.
    if !super::comments::readable(tenant, &row).await? {
        return Err(Error::NotFound);
    }
    if row.reply_token_hash.is_none() {
        return Err(Error::Conflict(
            "This comment was written before replies existed; its author cannot receive one.".into(),
        ));
    }
    let txn = tenant.begin().await?;
    add_message(tenant, &txn, comment, false, &text, now).await?;
    txn.commit().await?;
    Ok(())
}

async fn by_secret(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    secrets: &[SecretToken],
) -> Result<Vec<(SecretToken, comments::Model)>> {
    let by_hash: BTreeMap<String, &SecretToken> = secrets.iter().map(|s| (s.hash(), s)).collect();
    let rows = tenant
        .select::<comments::Entity>()
        .filter(comments::Column::ReplyTokenHash.is_in(by_hash.keys().cloned()))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let secret = by_hash.get(row.reply_token_hash.as_deref()?)?;
            Some(((*secret).clone(), row))
        })
        .collect())
}

fn parse_secrets(secrets: &[String]) -> Result<Vec<SecretToken>> {
    if secrets.len() > MAX_SECRETS {
        return Err(Error::Invalid {
            field: "secrets",
            reason: format!("at most {MAX_SECRETS} at a time"),
        });
    }
    // Malformed secrets are skipped: a browser's storage may hold anything.
    Ok(secrets.iter().filter_map(|s| SecretToken::parse(s)).collect())
}

/// The author's inbox: the conversations of the comments whose secrets their browser holds.
/// Only those with at least one reply are listed, newest conversation first.
pub async fn inbox(tenant: &TenantDb, secrets: &[String]) -> Result<Vec<Thread>> {
    // Who asks must not show: every employee's browser calls this, secrets or not.
    tenant.anonymise_trail();
    let secrets = parse_secrets(secrets)?;
    if secrets.is_empty() {
        return Ok(Vec::new());
    }
    let txn = tenant.begin_read().await?;
    let found = by_secret(tenant, &txn, &secrets).await?;
    let ids: Vec<uuid::Uuid> = found.iter().map(|(_, row)| row.id).collect();
    let mut talks = conversations(tenant, &txn, &ids, Reader::Author).await?;
    let keys = tenant.data_keys_in(&txn).await?;
    let mut threads = Vec::new();
    for (secret, row) in found {
        let Some(messages) = talks.remove(&row.id) else {
            continue;
        };
        let round = super::rounds::find(tenant, &txn, row.round_id).await?;
        let survey = tenant
            .select::<surveys::Entity>()
            .filter(surveys::Column::Id.eq(round.survey_id))
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        let question = super::questions_in(tenant, &txn, round.survey_id)
            .await?
            .into_iter()
            .find(|q| q.id == row.question_id)
            .map(|q| q.prompt)
            .unwrap_or_default();
        threads.push(Thread {
            secret: secret.expose().to_owned(),
            survey: survey.title,
            round: round.number,
            question,
            comment: super::answering::open_comment(&keys, &row)?.into_exposed(),
            messages,
        });
    }
    txn.commit().await?;
    threads.sort_by(|a, b| {
        let last = |t: &Thread| t.messages.last().map(|m| m.written_on);
        last(b).cmp(&last(a)).then(b.round.cmp(&a.round))
    });
    Ok(threads)
}

/// The author answers a reply to their comment, presenting the comment's secret.
pub async fn answer_back(tenant: &TenantDb, secret: &str, text: &str, now: DateTime<Utc>) -> Result<()> {
    // The author is exactly who must not show in the access log.
    tenant.anonymise_trail();
    let text = checked_text(text)?;
    let secret = SecretToken::parse(secret).ok_or(Error::NotFound)?;
    let txn = tenant.begin().await?;
    let (_, row) = by_secret(tenant, &txn, std::slice::from_ref(&secret))
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound)?;
    if conversations(tenant, &txn, &[row.id], Reader::Author)
        .await?
        .is_empty()
    {
        return Err(Error::Conflict("Nobody has replied to this comment yet.".into()));
    }
    // A conversation goes on after its round has closed.
    add_message(tenant, &txn, row.id, true, &text, now).await?;
    txn.commit().await?;
    Ok(())
}
