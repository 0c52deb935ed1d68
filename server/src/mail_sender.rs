//! The mail queue's sender: one task per `candor serve` process hands queued email to the mail
//! server, most urgent first, at most `CANDOR_MAIL_PER_MINUTE` a minute. It sleeps while nothing
//! is due and wakes as soon as mail is queued. Several processes may each run one: a message is
//! claimed before it is sent (see `domain::platform::mail_queue`), so none is sent twice at once.

use std::{sync::Arc, time::Duration};

use domain::platform::{
    mail::Mailer,
    mail_queue::{Delivery, MailQueue},
};

/// The longest sleep while nothing is due: mail queued by another process (which cannot wake
/// this one) is found at least this often.
const IDLE_CHECK: Duration = Duration::from_secs(5);
/// How often dead letters past their keeping time are deleted.
const PURGE_EVERY: chrono::Duration = chrono::Duration::hours(1);
/// The pause after the database failed, before trying again.
const AFTER_ERROR: Duration = Duration::from_secs(5);

/// The pause between two messages for `per_minute` of them a minute.
pub fn pace(per_minute: u32) -> Duration {
    Duration::from_secs(60) / per_minute.max(1)
}

/// Starts the sender on the current runtime; it stops with the runtime.
pub fn spawn(queue: MailQueue, mailer: Mailer, per_minute: u32, clock: Arc<dyn domain::Clock>) {
    tokio::spawn(async move {
        tracing::info!(per_minute, transport = %mailer.describe(), "the mail sender is running");
        let pace = pace(per_minute);
        let mut last_purge: Option<chrono::DateTime<chrono::Utc>> = None;
        loop {
            let now = clock.now();
            match queue.deliver_next(&mailer, now).await {
                Ok(Delivery::Sent | Delivery::Retrying | Delivery::Dead) => tokio::time::sleep(pace).await,
                // Another process took it: let it get on before asking again.
                Ok(Delivery::Taken) => tokio::time::sleep(Duration::from_millis(20)).await,
                Ok(Delivery::Idle { next_due }) => {
                    // Dead letters age in days: looking once an hour is plenty.
                    if last_purge.is_none_or(|at| now - at >= PURGE_EVERY) {
                        match queue.purge_dead_letters(now).await {
                            Ok(_) => last_purge = Some(now),
                            Err(err) => {
                                tracing::warn!(code = err.code(), error = %err, "old dead letters could not be purged")
                            }
                        }
                    }
                    let until_due = next_due
                        .and_then(|due| (due - now).to_std().ok())
                        .map_or(IDLE_CHECK, |wait| wait.min(IDLE_CHECK));
                    tokio::select! {
                        () = queue.queued() => {}
                        () = tokio::time::sleep(until_due) => {}
                    }
                }
                Err(err) => {
                    tracing::error!(code = err.code(), error = %err, "the mail sender cannot read the queue");
                    tokio::time::sleep(AFTER_ERROR).await;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_spreads_the_rate_over_a_minute() {
        assert_eq!(pace(600), Duration::from_millis(100));
        assert_eq!(pace(1), Duration::from_secs(60));
        assert_eq!(pace(0), Duration::from_secs(60));
        assert_eq!(pace(60_000), Duration::from_millis(1));
    }
}
