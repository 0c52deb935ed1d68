//! Group commit: requests hand their writes to one task per kind, which stores everything that
//! arrived while it was busy in one go and answers each request only once that is committed.
//! Under load many requests share a commit (one turn at SQLite's single writer, one fsync);
//! alone, a write waits for nothing but its own transaction.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use crate::{Error, Result};

/// A write handed to the writer, with where its outcome goes.
struct Waiting<T, O> {
    item: T,
    outcome: oneshot::Sender<Result<O>>,
}

/// The handle requests give their writes to; cheap to clone.
pub struct GroupWriter<T, O> {
    waiting: mpsc::Sender<Waiting<T, O>>,
    /// What is written, for the refusal when the writer is gone ("check-ins").
    what: &'static str,
}

impl<T, O> Clone for GroupWriter<T, O> {
    fn clone(&self) -> Self {
        Self {
            waiting: self.waiting.clone(),
            what: self.what,
        }
    }
}

impl<T, O> std::fmt::Debug for GroupWriter<T, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").field("what", &self.what).finish()
    }
}

impl<T: Send + 'static, O: Send + 'static> GroupWriter<T, O> {
    /// Starts the writer on the current Tokio runtime; it stops when every handle is dropped.
    /// `store` writes a batch of at most `most_per_batch` and returns one outcome per item, in
    /// order; at most `queue` writes wait, and one more is refused as busy.
    pub fn start<Store, Stored>(what: &'static str, most_per_batch: usize, queue: usize, store: Store) -> Self
    where
        Store: Fn(Vec<T>) -> Stored + Send + 'static,
        Stored: Future<Output = Vec<Result<O>>> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(queue);
        tokio::spawn(write_batches(what, receiver, most_per_batch, store));
        Self {
            waiting: sender,
            what,
        }
    }

    /// Writes `item` together with whatever else is waiting; answers once it is committed (or
    /// refused).
    pub async fn write(&self, item: T) -> Result<O> {
        let (outcome, answer) = oneshot::channel();
        // A full queue refuses at once: better "try again" now than an answer after the
        // request's timeout for a write made later.
        self.waiting
            .try_send(Waiting { item, outcome })
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => Error::Busy { retry_after_secs: 1 },
                mpsc::error::TrySendError::Closed(_) => self.unavailable(),
            })?;
        answer.await.map_err(|_| self.unavailable())?
    }

    /// [`GroupWriter::write`] for what must be written even under load (the access log of a
    /// request that has already run): a full queue is waited out, not refused.
    pub async fn write_when_room(&self, item: T) -> Result<O> {
        let (outcome, answer) = oneshot::channel();
        self.waiting
            .send(Waiting { item, outcome })
            .await
            .map_err(|_| self.unavailable())?;
        answer.await.map_err(|_| self.unavailable())?
    }

    fn unavailable(&self) -> Error {
        Error::Unavailable(format!("{} cannot be stored right now", self.what))
    }
}

/// The writer: takes the first waiting write, then every other already waiting (up to
/// `most_per_batch`), stores them together, answers each, and starts again.
async fn write_batches<T, O, Store, Stored>(
    what: &'static str,
    mut receiver: mpsc::Receiver<Waiting<T, O>>,
    most_per_batch: usize,
    store: Store,
) where
    T: Send + 'static,
    O: Send + 'static,
    Store: Fn(Vec<T>) -> Stored,
    Stored: Future<Output = Vec<Result<O>>> + Send + 'static,
{
    let mut batch = Vec::with_capacity(most_per_batch);
    loop {
        if receiver.recv_many(&mut batch, most_per_batch).await == 0 {
            return;
        }
        let (items, outcomes): (Vec<T>, Vec<_>) = batch
            .drain(..)
            .map(|waiting| (waiting.item, waiting.outcome))
            .unzip();
        let count = items.len();
        // In a task of its own, so that a panic fails this batch and not the writer.
        let mut results = match tokio::spawn(store(items)).await {
            Ok(results) => results,
            Err(err) => {
                tracing::error!(error = %err, what, "a group write failed");
                Vec::new()
            }
        };
        results.resize_with(count, || Err(Error::Internal(format!("storing {what} failed"))));
        for (outcome, result) in outcomes.into_iter().zip(results) {
            // A request that gave up (its client went away) no longer listens; what it handed
            // over is stored all the same.
            let _ = outcome.send(result);
        }
    }
}
