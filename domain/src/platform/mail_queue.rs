//! The mail queue: requests and jobs never talk to the mail server. They queue their email here
//! (sealed under the instance's mail key, with the recipient's blind index) and return at once;
//! the sender (`candor serve` runs one) delivers it, most urgent first, at the configured rate.
//!
//! A message is delivered at least once: the sender claims it for [`CLAIM`] before sending, so a
//! process that dies mid-send leaves it to be tried again. Accepted mail is deleted. A refusal
//! the mail server calls permanent, or [`MAX_ATTEMPTS`] failures, make it a dead letter: kept
//! (still sealed) for [`DEAD_LETTER_DAYS`] days for the operator (`candor mail`), who can send it
//! again or discard it. Log lines and stored errors name the kind of mail and the SMTP reply
//! code, never the recipient or the text.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    ExprTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{
    platform::{
        entities::mail_queue,
        ids::WorkplaceId,
        mail::{Mail, Mailer, SendFailure},
    },
    Database, Error, Result,
};

/// How long a sender holds a message it is sending before another may try it.
pub const CLAIM: Duration = Duration::minutes(10);
/// Failures after which a message becomes a dead letter.
pub const MAX_ATTEMPTS: i32 = 12;
/// How long dead letters are kept for the operator.
pub const DEAD_LETTER_DAYS: i64 = 14;
/// The longest wait between two attempts.
const LONGEST_BACKOFF: Duration = Duration::hours(2);
/// Rows per INSERT: twelve columns each, well inside both backends' limits on bound values.
const INSERT_BATCH: usize = 500;

const QUEUED: &str = "queued";
/// Where a workplace's queued mail is sealed (bound to its row).
const TABLE: &str = "mail_queue";
const MESSAGE: &str = "message";
const DEAD: &str = "dead";

/// How soon an email must go out: the sender always takes the most urgent due message first, so
/// a sign-in notice never waits behind ten thousand reminders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Someone is waiting for it now.
    Immediate = 0,
    /// A person must be told today.
    Soon = 1,
    /// Survey mailings.
    Bulk = 2,
}

/// What an email is: its priority, and what the operator's listing calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    AddressVerification,
    SignInNotice,
    PasswordReset,
    AddressChange,
    SupportQuestion,
    Invitation,
    BreachNotice,
    SubprocessorNotice,
    DeletionNotice,
    AuditNotice,
    OperatorAlert,
    CheckIn,
    CheckInReminder,
}

impl MailKind {
    const ALL: [MailKind; 13] = [
        MailKind::AddressVerification,
        MailKind::SignInNotice,
        MailKind::PasswordReset,
        MailKind::AddressChange,
        MailKind::SupportQuestion,
        MailKind::Invitation,
        MailKind::BreachNotice,
        MailKind::SubprocessorNotice,
        MailKind::DeletionNotice,
        MailKind::AuditNotice,
        MailKind::OperatorAlert,
        MailKind::CheckIn,
        MailKind::CheckInReminder,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MailKind::AddressVerification => "address verification",
            MailKind::SignInNotice => "sign-in notice",
            MailKind::PasswordReset => "password reset",
            MailKind::AddressChange => "address change",
            MailKind::SupportQuestion => "support question",
            MailKind::Invitation => "invitation",
            MailKind::BreachNotice => "breach notice",
            MailKind::SubprocessorNotice => "subprocessor notice",
            MailKind::DeletionNotice => "deletion notice",
            MailKind::AuditNotice => "audit notice",
            MailKind::OperatorAlert => "operator alert",
            MailKind::CheckIn => "check-in",
            MailKind::CheckInReminder => "check-in reminder",
        }
    }

    pub fn priority(self) -> Priority {
        match self {
            MailKind::AddressVerification
            | MailKind::SignInNotice
            | MailKind::PasswordReset
            | MailKind::AddressChange
            | MailKind::SupportQuestion
            | MailKind::OperatorAlert => Priority::Immediate,
            MailKind::Invitation
            | MailKind::BreachNotice
            | MailKind::SubprocessorNotice
            | MailKind::DeletionNotice
            | MailKind::AuditNotice => Priority::Soon,
            MailKind::CheckIn | MailKind::CheckInReminder => Priority::Bulk,
        }
    }

    fn from_label(label: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.label() == label)
            .ok_or_else(|| Error::Internal(format!("the mail queue holds an unknown kind {label:?}")))
    }
}

/// The wait after the `attempts`-th failure: one minute, doubling, at most [`LONGEST_BACKOFF`].
pub fn backoff(attempts: i32) -> Duration {
    let doublings = std::cmp::min(u32::try_from(attempts.saturating_sub(1)).unwrap_or(0), 16);
    std::cmp::min(Duration::minutes(1i64 << doublings), LONGEST_BACKOFF)
}

/// What one call of [`MailQueue::deliver_next`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The mail server accepted a message.
    Sent,
    /// A message failed and waits for its next attempt.
    Retrying,
    /// A message failed for good and is now a dead letter.
    Dead,
    /// Another sender claimed the message first.
    Taken,
    /// Nothing is due; the earliest waiting message is due then.
    Idle { next_due: Option<DateTime<Utc>> },
}

/// Totals of [`MailQueue::deliver_due`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
}

/// A dead letter as the operator sees it: what it was and why it failed, the recipient's domain
/// only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: Uuid,
    pub kind: &'static str,
    pub recipient_domain: String,
    pub attempts: i32,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub dead_at: DateTime<Utc>,
}

/// The queue at a glance, for the operator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    /// Waiting messages per kind, most urgent first.
    pub waiting: Vec<(&'static str, u64)>,
    pub oldest_waiting_since: Option<DateTime<Utc>>,
    /// Waiting messages that failed at least once.
    pub failing: u64,
    pub dead: Vec<DeadLetter>,
}

/// The queue's handle: cheap to clone; every clone wakes the same sender.
#[derive(Clone)]
pub struct MailQueue {
    db: Database,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for MailQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailQueue").finish_non_exhaustive()
    }
}

impl MailQueue {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Queues one email of `workplace` (None: the operator's own mail, or a workplace that no
    /// longer exists). An address that cannot be mailed is refused here, not at delivery.
    pub async fn enqueue(
        &self,
        workplace: Option<WorkplaceId>,
        kind: MailKind,
        mail: Mail,
        now: DateTime<Utc>,
    ) -> Result<()> {
        Mailer::check_address(&mail.to)?;
        self.insert(workplace, kind, vec![mail], now).await.map(|_| ())
    }

    /// Queues a mailing of `workplace` in one transaction; addresses that cannot be mailed are
    /// skipped (and counted in the log). Returns how many were queued.
    pub async fn enqueue_all(
        &self,
        workplace: Option<WorkplaceId>,
        kind: MailKind,
        mails: Vec<Mail>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        self.insert(workplace, kind, mailable(kind, mails), now).await
    }

    /// Queues a mailing of `workplace` inside the caller's transaction `conn`: the mail exists
    /// if and only if what it tells of commits. Call [`MailQueue::wake`] after the commit.
    pub async fn enqueue_in(
        &self,
        conn: &impl ConnectionTrait,
        workplace: WorkplaceId,
        kind: MailKind,
        mails: Vec<Mail>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let rows = self
            .sealed_rows(conn, Some(workplace), kind, mailable(kind, mails), now)
            .await?;
        write_rows(conn, rows).await
    }

    /// Tells this process's sender that mail was queued (after [`MailQueue::enqueue_in`]'s
    /// transaction commits).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    async fn insert(
        &self,
        workplace: Option<WorkplaceId>,
        kind: MailKind,
        mails: Vec<Mail>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        if mails.is_empty() {
            return Ok(0);
        }
        let rows = self
            .sealed_rows(self.db.connection(), workplace, kind, mails, now)
            .await?;
        let txn = self.db.connection().begin().await?;
        let queued = write_rows(&txn, rows).await?;
        txn.commit().await?;
        self.wake();
        Ok(queued)
    }

    /// The rows that queue `mails`, each sealed (a workplace's keys read through `conn`).
    async fn sealed_rows(
        &self,
        conn: &impl ConnectionTrait,
        workplace: Option<WorkplaceId>,
        kind: MailKind,
        mails: Vec<Mail>,
        now: DateTime<Utc>,
    ) -> Result<Vec<mail_queue::ActiveModel>> {
        if mails.is_empty() {
            return Ok(Vec::new());
        }
        let keyring = self.db.keyring()?;
        // A workplace's mail is sealed under its data key, so deleting the workplace leaves none
        // of it readable anywhere (not even in storage not yet reclaimed); mail of no workplace
        // under the instance's mail key.
        let tenant_keys = match workplace {
            Some(workplace) => Some(keyring.tenant(conn, workplace, now).await?),
            None => None,
        };
        let mut rows = Vec::with_capacity(mails.len());
        for mail in &mails {
            let id = Uuid::new_v4();
            let plain = zeroize::Zeroizing::new(
                serde_json::to_vec(mail).map_err(|err| Error::Internal(format!("encoding mail: {err}")))?,
            );
            let message = match &tenant_keys {
                Some(keys) => keys.seal(TABLE, MESSAGE, id, &plain)?,
                None => keyring.seal_mail(id, &plain),
            };
            rows.push(mail_queue::ActiveModel {
                id: Set(id),
                workplace_id: Set(workplace.map(WorkplaceId::uuid)),
                kind: Set(kind.label().to_owned()),
                priority: Set(kind.priority() as i32),
                recipient_index: Set(recipient_index(keyring, &mail.to)),
                message: Set(message),
                state: Set(QUEUED.to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_error: Set(None),
                created_at: Set(now),
                dead_at: Set(None),
            });
        }
        Ok(rows)
    }

    /// Waits until mail is queued (at once if some was queued since the last wait).
    pub async fn queued(&self) {
        self.wake.notified().await;
    }

    /// Delivers the most urgent due message through `mailer`, if any.
    pub async fn deliver_next(&self, mailer: &Mailer, now: DateTime<Utc>) -> Result<Delivery> {
        let conn = self.db.connection();
        let Some(row) = mail_queue::Entity::find()
            .filter(mail_queue::Column::State.eq(QUEUED))
            .filter(mail_queue::Column::NextAttemptAt.lte(now))
            .order_by_asc(mail_queue::Column::Priority)
            .order_by_asc(mail_queue::Column::NextAttemptAt)
            .order_by_asc(mail_queue::Column::Id)
            .one(conn)
            .await?
        else {
            let next_due: Option<DateTime<Utc>> = mail_queue::Entity::find()
                .select_only()
                .column_as(mail_queue::Column::NextAttemptAt.min(), "next_due")
                .filter(mail_queue::Column::State.eq(QUEUED))
                .into_tuple::<Option<DateTime<Utc>>>()
                .one(conn)
                .await?
                .flatten();
            return Ok(Delivery::Idle { next_due });
        };
        // The claim: only the sender whose update still finds the row due sends it (the first
        // claim moves it [`CLAIM`] into the future, so any later one finds it not due).
        let claimed = mail_queue::Entity::update_many()
            .col_expr(mail_queue::Column::NextAttemptAt, Expr::value(now + CLAIM))
            .col_expr(
                mail_queue::Column::Attempts,
                Expr::col(mail_queue::Column::Attempts).add(1),
            )
            .filter(mail_queue::Column::Id.eq(row.id))
            .filter(mail_queue::Column::State.eq(QUEUED))
            .filter(mail_queue::Column::NextAttemptAt.lte(now))
            .exec(conn)
            .await?
            .rows_affected;
        if claimed != 1 {
            return Ok(Delivery::Taken);
        }
        let attempts = row.attempts + 1;
        let kind = MailKind::from_label(&row.kind)?;
        let outcome = match self.open(&row, now).await {
            Ok(mail) => mailer.send(mail).await,
            Err(err) => {
                tracing::error!(id = %row.id, error = %err, "a queued email cannot be opened");
                Err(SendFailure {
                    permanent: true,
                    reason: "cannot be opened".to_owned(),
                })
            }
        };
        match outcome {
            Ok(()) => {
                mail_queue::Entity::delete_by_id(row.id).exec(conn).await?;
                Ok(Delivery::Sent)
            }
            Err(failure) if failure.permanent || attempts >= MAX_ATTEMPTS => {
                // An error: the operator must look (`candor mail`), and alerting watches errors.
                tracing::error!(id = %row.id, kind = kind.label(), attempts, error = %failure.reason, "an email failed for good and is now a dead letter");
                self.fail(row.id, &failure.reason, Some(now), now).await?;
                Ok(Delivery::Dead)
            }
            Err(failure) => {
                tracing::info!(id = %row.id, kind = kind.label(), attempts, error = %failure.reason, "an email will be tried again");
                self.fail(row.id, &failure.reason, None, now + backoff(attempts))
                    .await?;
                Ok(Delivery::Retrying)
            }
        }
    }

    async fn fail(
        &self,
        id: Uuid,
        reason: &str,
        dead_at: Option<DateTime<Utc>>,
        next: DateTime<Utc>,
    ) -> Result<()> {
        mail_queue::ActiveModel {
            id: Set(id),
            state: Set(if dead_at.is_some() { DEAD } else { QUEUED }.to_owned()),
            last_error: Set(Some(reason.to_owned())),
            next_attempt_at: Set(next),
            dead_at: Set(dead_at),
            ..Default::default()
        }
        .update(self.db.connection())
        .await?;
        Ok(())
    }

    async fn open(&self, row: &mail_queue::Model, now: DateTime<Utc>) -> Result<Mail> {
        let keyring = self.db.keyring()?;
        let plain = match row.workplace_id {
            Some(workplace) => zeroize::Zeroizing::new(
                keyring
                    .tenant(self.db.connection(), WorkplaceId::from_uuid(workplace), now)
                    .await?
                    .open(TABLE, MESSAGE, row.id, &row.message)
                    .map_err(|err| Error::Internal(format!("a queued email cannot be opened: {err}")))?,
            ),
            None => keyring.open_mail(row.id, &row.message)?,
        };
        serde_json::from_slice(&plain)
            .map_err(|err| Error::Internal(format!("a queued email does not decode: {err}")))
    }

    /// Delivers every message due at `now`, one after another (the command line's `candor mail
    /// send`, and tests); messages that fail wait for their next attempt.
    pub async fn deliver_due(&self, mailer: &Mailer, now: DateTime<Utc>) -> Result<Delivered> {
        let mut delivered = Delivered::default();
        loop {
            match self.deliver_next(mailer, now).await? {
                Delivery::Sent => delivered.sent += 1,
                Delivery::Retrying => delivered.retrying += 1,
                Delivery::Dead => delivered.dead += 1,
                Delivery::Taken => {}
                Delivery::Idle { .. } => return Ok(delivered),
            }
        }
    }

    /// Deletes dead letters older than [`DEAD_LETTER_DAYS`]; returns how many.
    pub async fn purge_dead_letters(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(mail_queue::Entity::delete_many()
            .filter(mail_queue::Column::State.eq(DEAD))
            .filter(mail_queue::Column::DeadAt.lt(now - Duration::days(DEAD_LETTER_DAYS)))
            .exec(self.db.connection())
            .await?
            .rows_affected)
    }

    /// What waits, what fails, and every dead letter.
    pub async fn overview(&self, now: DateTime<Utc>) -> Result<Overview> {
        // Counted by the database: a mailing of 10,000 is one row per kind here, not 10,000.
        let per_kind: Vec<(String, i64, Option<DateTime<Utc>>)> = mail_queue::Entity::find()
            .select_only()
            .column(mail_queue::Column::Kind)
            .column_as(mail_queue::Column::Id.count(), "waiting")
            .column_as(mail_queue::Column::CreatedAt.min(), "oldest")
            .filter(mail_queue::Column::State.eq(QUEUED))
            .group_by(mail_queue::Column::Kind)
            .into_tuple()
            .all(self.db.connection())
            .await?;
        let failing = mail_queue::Entity::find()
            .filter(mail_queue::Column::State.eq(QUEUED))
            .filter(mail_queue::Column::Attempts.gt(0))
            .count(self.db.connection())
            .await?;
        let mut overview = Overview {
            failing,
            ..Overview::default()
        };
        let mut waiting = Vec::with_capacity(per_kind.len());
        for (kind, count, oldest) in per_kind {
            waiting.push((MailKind::from_label(&kind)?, u64::try_from(count).unwrap_or(0)));
            overview.oldest_waiting_since = match (overview.oldest_waiting_since, oldest) {
                (Some(known), Some(this)) => Some(std::cmp::min(known, this)),
                (known, this) => known.or(this),
            };
        }
        waiting.sort_by_key(|(kind, _)| (kind.priority(), kind.label()));
        overview.waiting = waiting.into_iter().map(|(kind, n)| (kind.label(), n)).collect();
        for row in mail_queue::Entity::find()
            .filter(mail_queue::Column::State.eq(DEAD))
            .order_by_asc(mail_queue::Column::DeadAt)
            .all(self.db.connection())
            .await?
        {
            let recipient_domain = self
                .open(&row, now)
                .await
                .ok()
                .and_then(|mail| {
                    mail.to
                        .rsplit_once('@')
                        .map(|(_, domain)| domain.trim_end_matches('>').to_owned())
                })
                .unwrap_or_else(|| "(cannot be opened)".to_owned());
            overview.dead.push(DeadLetter {
                id: row.id,
                kind: MailKind::from_label(&row.kind)?.label(),
                recipient_domain,
                attempts: row.attempts,
                last_error: row.last_error.unwrap_or_default(),
                created_at: row.created_at,
                dead_at: row.dead_at.unwrap_or(row.created_at),
            });
        }
        Ok(overview)
    }

    /// Queues dead letters again with a fresh count of attempts: `id`, or every one. Returns how
    /// many.
    pub async fn retry_dead(&self, id: Option<Uuid>, now: DateTime<Utc>) -> Result<u64> {
        let mut update = mail_queue::Entity::update_many()
            .col_expr(mail_queue::Column::State, Expr::value(QUEUED))
            .col_expr(mail_queue::Column::Attempts, Expr::value(0))
            .col_expr(mail_queue::Column::NextAttemptAt, Expr::value(now))
            .col_expr(
                mail_queue::Column::DeadAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(mail_queue::Column::State.eq(DEAD));
        if let Some(id) = id {
            update = update.filter(mail_queue::Column::Id.eq(id));
        }
        let retried = update.exec(self.db.connection()).await?.rows_affected;
        if retried > 0 {
            self.wake.notify_one();
        }
        Ok(retried)
    }

    /// Deletes a dead letter (or every one); returns how many.
    pub async fn discard_dead(&self, id: Option<Uuid>) -> Result<u64> {
        let mut delete = mail_queue::Entity::delete_many().filter(mail_queue::Column::State.eq(DEAD));
        if let Some(id) = id {
            delete = delete.filter(mail_queue::Column::Id.eq(id));
        }
        Ok(delete.exec(self.db.connection()).await?.rows_affected)
    }
}

/// Drops every message, waiting or dead, of `workplace` or of none, to `address` (a person
/// erased from `workplace`).
pub(crate) async fn forget_recipient(db: &Database, workplace: WorkplaceId, address: &str) -> Result<u64> {
    let recipient_index = recipient_index(db.keyring()?, address);
    Ok(mail_queue::Entity::delete_many()
        .filter(mail_queue::Column::RecipientIndex.eq(recipient_index))
        .filter(
            sea_orm::Condition::any()
                .add(mail_queue::Column::WorkplaceId.eq(workplace.uuid()))
                .add(mail_queue::Column::WorkplaceId.is_null()),
        )
        .exec(db.connection())
        .await?
        .rows_affected)
}

/// `mails` without those whose address cannot be mailed (counted in the log).
fn mailable(kind: MailKind, mails: Vec<Mail>) -> Vec<Mail> {
    let total = mails.len();
    let mails: Vec<Mail> = mails
        .into_iter()
        .filter(|mail| Mailer::check_address(&mail.to).is_ok())
        .collect();
    if mails.len() < total {
        tracing::warn!(
            kind = kind.label(),
            skipped = total - mails.len(),
            "addresses that cannot be mailed were skipped"
        );
    }
    mails
}

/// Inserts queued rows, [`INSERT_BATCH`] at a time; returns how many.
async fn write_rows(conn: &impl ConnectionTrait, rows: Vec<mail_queue::ActiveModel>) -> Result<usize> {
    let written = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(INSERT_BATCH).collect();
        mail_queue::Entity::insert_many(batch).exec(conn).await?;
    }
    Ok(written)
}

/// The blind index of a recipient's address in the queue: keyed like the accounts' email index
/// but for its own purpose, so a queued row cannot be joined to an account without the key.
pub(crate) fn recipient_index(keyring: &crate::platform::crypto::Keyring, address: &str) -> Vec<u8> {
    keyring
        .pseudonym("mail recipient", normalised(address).as_bytes())
        .into_bytes()
}

/// The address as accounts normalise it: trimmed, lower case.
fn normalised(address: &str) -> String {
    let address = address.trim();
    // "Name <a@b>": the address inside the brackets.
    let bare = match (address.rfind('<'), address.rfind('>')) {
        (Some(open), Some(close)) if open < close => &address[open + 1..close],
        _ => address,
    };
    bare.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_up_to_two_hours() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(5), Duration::minutes(16));
        assert_eq!(backoff(8), Duration::minutes(120));
        assert_eq!(backoff(MAX_ATTEMPTS), LONGEST_BACKOFF);
        assert_eq!(backoff(i32::MAX), LONGEST_BACKOFF);
        assert_eq!(backoff(0), Duration::minutes(1));
    }

    #[test]
    fn kinds_round_trip_through_their_labels_and_urgent_mail_comes_first() {
        for kind in MailKind::ALL {
            assert_eq!(MailKind::from_label(kind.label()).unwrap(), kind);
        }
        assert!(MailKind::from_label("newsletter").is_err());
        assert!(MailKind::SignInNotice.priority() < MailKind::Invitation.priority());
        assert!(MailKind::Invitation.priority() < MailKind::CheckInReminder.priority());
    }

    #[test]
    fn addresses_are_indexed_as_accounts_store_them() {
        assert_eq!(normalised("  Ada@Example.COM "), "ada@example.com");
        assert_eq!(normalised("Ada Lovelace <Ada@Example.com>"), "ada@example.com");
    }
}
