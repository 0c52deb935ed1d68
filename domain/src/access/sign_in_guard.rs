//! Applies the throttling rules of [`crate::access::auth::throttle`] to the failures stored in the
//! database, so the limits hold across every server process.
//!
//! Three limits: per network address (many failures → a temporary block), per account (growing
//! delays, never a permanent lock-out), and per account for second-factor codes (a tight window).
//! Accounts are keyed by a keyed hash of the normalised email, so unknown addresses are throttled
//! exactly like known ones and the throttle reveals nothing. Network addresses and emails are
//! stored only as HMACs under the instance's index key: a plain hash of an IPv4 address or a
//! known email could be reversed by trying them all.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    access::auth::{
        session::hex_sha256,
        throttle::{throttled_network, AccountFailures, AccountRule, AddressRule, Decision},
    },
    platform::entities::{account_throttles, throttle_events},
    Backend, Database, Error, Result,
};

/// An attempt let through by an `admit_*` check, already counted as a failure: concurrent
/// attempts each see the others, so a burst cannot pass the limit between a check and its count.
/// Hand it back to [`SignInGuard::attempt_succeeded`] when the password or code was right.
#[derive(Debug)]
#[must_use = "a successful attempt must be given back, or it stays counted as a failure"]
pub struct Admitted {
    event: Uuid,
    account: Option<String>,
}

/// Serialises admissions for `subjects` until the transaction ends. SQLite already does: a write
/// transaction holds the database's write lock from its start. On PostgreSQL, an advisory lock
/// per subject, taken in one order so two admissions never wait on each other in a cycle.
async fn lock_subjects(conn: &impl ConnectionTrait, backend: Backend, subjects: &[&str]) -> Result<()> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    let mut subjects = subjects.to_vec();
    subjects.sort_unstable();
    subjects.dedup();
    for subject in subjects {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [subject.into()],
        ))
        .await?;
    }
    Ok(())
}

const ADDRESS: &str = "address";
const CODE: &str = "code";
const MAIL: &str = "mail";
const HELP: &str = "help";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInGuard {
    pub address: AddressRule,
    pub account: AccountRule,
    /// Wrong second-factor codes per account.
    pub codes: AddressRule,
    /// Requests that send mail (signup, password reset) per network address.
    pub mail: AddressRule,
    /// Questions to the operators' support inbox per account.
    pub help: AddressRule,
}

impl Default for SignInGuard {
    fn default() -> Self {
        Self {
            address: AddressRule::default(),
            account: AccountRule::default(),
            codes: AddressRule {
                max_failures: 5,
                window: Duration::minutes(5),
                block: Duration::minutes(5),
            },
            mail: AddressRule {
                max_failures: 10,
                window: Duration::hours(1),
                block: Duration::hours(1),
            },
            help: AddressRule {
                max_failures: 5,
                window: Duration::hours(1),
                block: Duration::hours(1),
            },
        }
    }
}

fn address_subject(db: &Database, address: IpAddr) -> Result<String> {
    Ok(db.keyring()?.pseudonym(
        "throttle/address",
        throttled_network(address).to_string().as_bytes(),
    ))
}

fn account_subject(db: &Database, email: &str) -> Result<String> {
    Ok(db
        .keyring()?
        .pseudonym("throttle/account", email.trim().to_lowercase().as_bytes()))
}

/// An account, for per-account buckets (codes, help questions).
fn code_subject(user_id: Uuid) -> String {
    hex_sha256(user_id.as_bytes())
}

fn failures_of(row: &account_throttles::Model) -> AccountFailures {
    AccountFailures {
        count: u32::try_from(row.failures).unwrap_or(0),
        last: row.last_failure_at,
    }
}

fn refuse(decisions: &[Decision], now: DateTime<Utc>) -> Result<()> {
    match decisions.iter().filter_map(|d| d.retry_after_secs(now)).max() {
        Some(retry_after_secs) => Err(Error::RateLimited { retry_after_secs }),
        None => Ok(()),
    }
}

impl SignInGuard {
    async fn recent(
        &self,
        db: &Database,
        bucket: &str,
        subject: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>> {
        recent_on(db.connection(), bucket, subject, since).await
    }

    async fn record_event(
        &self,
        db: &Database,
        bucket: &str,
        subject: String,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.record_event_on(db.connection(), bucket, subject, now)
            .await?;
        Ok(())
    }

    /// Stores one event and forgets those that can no longer matter; returns its id.
    async fn record_event_on(
        &self,
        conn: &impl ConnectionTrait,
        bucket: &str,
        subject: String,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let id = Uuid::new_v4();
        throttle_events::ActiveModel {
            id: Set(id),
            bucket: Set(bucket.to_owned()),
            subject: Set(subject),
            occurred_at: Set(now),
        }
        .insert(conn)
        .await?;
        let horizon = now
            - self
                .address
                .lookback()
                .max(self.codes.lookback())
                .max(self.mail.lookback())
                .max(self.help.lookback());
        throttle_events::Entity::delete_many()
            .filter(throttle_events::Column::OccurredAt.lt(horizon))
            .exec(conn)
            .await?;
        Ok(id)
    }

    /// Counts one more failure for the account `subject` (its row as read is `existing`).
    async fn count_account_failure(
        &self,
        conn: &impl ConnectionTrait,
        subject: String,
        existing: Option<account_throttles::Model>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let previous = existing.as_ref().map(failures_of);
        let next = self.account.record_failure(previous, now);
        let failures = i32::try_from(next.count).unwrap_or(i32::MAX);
        match existing {
            Some(row) => {
                let mut row: account_throttles::ActiveModel = row.into();
                row.failures = Set(failures);
                row.last_failure_at = Set(next.last);
                row.update(conn).await?;
            }
            None => {
                account_throttles::ActiveModel {
                    subject: Set(subject),
                    failures: Set(failures),
                    last_failure_at: Set(next.last),
                }
                .insert(conn)
                .await?;
            }
        }
        Ok(())
    }

    /// Lets a password attempt from `address` for `email` through unless either is throttled,
    /// and counts it as a failure at once, in one serialised step.
    pub async fn admit_password_attempt(
        &self,
        db: &Database,
        address: IpAddr,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Admitted> {
        let (address, account) = (address_subject(db, address)?, account_subject(db, email)?);
        let txn = db.begin_write().await?;
        lock_subjects(&txn, db.backend(), &[&address, &account]).await?;
        let failures = recent_on(&txn, ADDRESS, &address, now - self.address.lookback()).await?;
        let existing = account_throttles::Entity::find_by_id(account.clone())
            .one(&txn)
            .await?;
        let decided = refuse(
            &[
                self.address.decide(&failures, now),
                self.account.decide(existing.as_ref().map(failures_of), now),
            ],
            now,
        );
        if let Err(refused) = decided {
            txn.rollback().await?;
            return Err(refused);
        }
        let event = self.record_event_on(&txn, ADDRESS, address, now).await?;
        self.count_account_failure(&txn, account.clone(), existing, now)
            .await?;
        txn.commit().await?;
        Ok(Admitted {
            event,
            account: Some(account),
        })
    }

    /// Lets a second-factor code for `user_id` through unless the account is throttled, and
    /// counts it as a failure at once, in one serialised step.
    pub async fn admit_code_attempt(
        &self,
        db: &Database,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Admitted> {
        let subject = code_subject(user_id);
        let txn = db.begin_write().await?;
        lock_subjects(&txn, db.backend(), &[&subject]).await?;
        let failures = recent_on(&txn, CODE, &subject, now - self.codes.lookback()).await?;
        if let Err(refused) = refuse(&[self.codes.decide(&failures, now)], now) {
            txn.rollback().await?;
            return Err(refused);
        }
        let event = self.record_event_on(&txn, CODE, subject, now).await?;
        txn.commit().await?;
        Ok(Admitted { event, account: None })
    }

    /// The admitted attempt could not be judged (the server was busy, or failed): it no longer
    /// counts, as if it had not been made — a flood that fills the queue adds no delay to anyone.
    pub async fn attempt_abandoned(&self, db: &Database, admitted: Admitted) -> Result<()> {
        give_back(db, admitted, AccountRecord::TakeOneBack).await
    }

    /// The admitted attempt was right: it no longer counts as a failure, and a correct
    /// password clears the account's delays.
    pub async fn attempt_succeeded(&self, db: &Database, admitted: Admitted) -> Result<()> {
        give_back(db, admitted, AccountRecord::Clear).await
    }
}

/// What giving an admitted attempt back does to its account's record of failures.
enum AccountRecord {
    TakeOneBack,
    Clear,
}

async fn give_back(db: &Database, admitted: Admitted, record: AccountRecord) -> Result<()> {
    let txn = db.begin_write().await?;
    throttle_events::Entity::delete_by_id(admitted.event)
        .exec(&txn)
        .await?;
    if let Some(account) = admitted.account {
        match record {
            AccountRecord::Clear => {
                account_throttles::Entity::delete_by_id(account)
                    .exec(&txn)
                    .await?;
            }
            AccountRecord::TakeOneBack => {
                account_throttles::Entity::update_many()
                    .col_expr(
                        account_throttles::Column::Failures,
                        sea_orm::sea_query::ExprTrait::sub(
                            sea_orm::sea_query::Expr::col(account_throttles::Column::Failures),
                            1,
                        ),
                    )
                    .filter(account_throttles::Column::Subject.eq(account))
                    .filter(account_throttles::Column::Failures.gt(0))
                    .exec(&txn)
                    .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}

async fn recent_on(
    conn: &impl ConnectionTrait,
    bucket: &str,
    subject: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>> {
    Ok(throttle_events::Entity::find()
        .filter(throttle_events::Column::Bucket.eq(bucket))
        .filter(throttle_events::Column::Subject.eq(subject))
        .filter(throttle_events::Column::OccurredAt.gt(since))
        .all(conn)
        .await?
        .into_iter()
        .map(|event| event.occurred_at)
        .collect())
}

impl SignInGuard {
    /// Refuses a sign-in that names no account (a passkey) while `address` is throttled.
    pub async fn check_address(&self, db: &Database, address: IpAddr, now: DateTime<Utc>) -> Result<()> {
        let failures = self
            .recent(
                db,
                ADDRESS,
                &address_subject(db, address)?,
                now - self.address.lookback(),
            )
            .await?;
        refuse(&[self.address.decide(&failures, now)], now)
    }

    /// Counts a failed sign-in that names no account against `address` alone (a shared account
    /// bucket would let anyone's failures slow everyone's passkey sign-in).
    pub async fn record_address_failure(
        &self,
        db: &Database,
        address: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.record_event(db, ADDRESS, address_subject(db, address)?, now)
            .await
    }

    /// Refuses a password attempt from `address` for `email` while either is throttled.
    pub async fn check_password_attempt(
        &self,
        db: &Database,
        address: IpAddr,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let failures = self
            .recent(
                db,
                ADDRESS,
                &address_subject(db, address)?,
                now - self.address.lookback(),
            )
            .await?;
        let account = account_throttles::Entity::find_by_id(account_subject(db, email)?)
            .one(db.connection())
            .await?
            .as_ref()
            .map(failures_of);
        refuse(
            &[
                self.address.decide(&failures, now),
                self.account.decide(account, now),
            ],
            now,
        )
    }

    /// Counts a request that sends mail (signup, password reset) and refuses it once the address
    /// has sent too many, so Candor cannot be used to flood inboxes.
    pub async fn admit_mail_request(&self, db: &Database, address: IpAddr, now: DateTime<Utc>) -> Result<()> {
        let subject = address_subject(db, address)?;
        let earlier = self
            .recent(db, MAIL, &subject, now - self.mail.lookback())
            .await?;
        refuse(&[self.mail.decide(&earlier, now)], now)?;
        self.record_event(db, MAIL, subject, now).await
    }

    /// Counts a question to the support inbox and refuses it once the account has asked too
    /// many within the hour, so nobody can flood the operators' inbox through Candor.
    pub async fn admit_help_question(&self, db: &Database, user_id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let subject = code_subject(user_id);
        let earlier = self
            .recent(db, HELP, &subject, now - self.help.lookback())
            .await?;
        refuse(&[self.help.decide(&earlier, now)], now)?;
        self.record_event(db, HELP, subject, now).await
    }
}
