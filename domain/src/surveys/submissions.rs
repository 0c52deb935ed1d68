//! Group commit for check-ins: every submission of this process goes to one writer, which
//! stores all that arrived while it was busy in one transaction per workplace (one commit, a
//! few statements) and answers each request only after that transaction committed. Under
//! load, many people's check-ins share one commit; alone, a submission waits for nothing but
//! its own transaction.
//!
//! A batch also hides who is who: its people are marked answered and its ballots written in
//! one transaction, the ballots in a shuffled order (see [`super::answering::store_together`]).

use tokio::sync::{mpsc, oneshot};

use super::answering::{self, CommentSecret, Submission};
use crate::{Error, Result};

/// The most submissions one transaction stores; more wait for the next.
const MOST_PER_TRANSACTION: usize = 256;
/// Submissions that may wait for the writer; one more is refused as busy.
const WAITING: usize = 4096;

/// A submission handed to the writer, with where its outcome goes.
struct Waiting {
    submission: Submission,
    outcome: oneshot::Sender<Result<Vec<CommentSecret>>>,
}

/// The handle requests give their submissions to; cheap to clone.
#[derive(Clone, Debug)]
pub struct SubmissionWriter {
    waiting: mpsc::Sender<Waiting>,
}

impl SubmissionWriter {
    /// Starts the writer on the current Tokio runtime; it stops when every handle is dropped.
    pub fn start() -> Self {
        let (sender, receiver) = mpsc::channel(WAITING);
        tokio::spawn(write_batches(receiver));
        Self { waiting: sender }
    }

    /// Stores one person's check-in together with whatever else is waiting; answers once it is
    /// committed (or refused). Returns a secret per comment.
    pub async fn submit(&self, submission: Submission) -> Result<Vec<CommentSecret>> {
        submission.coarsen_trail();
        let (outcome, answer) = oneshot::channel();
        // A full queue refuses at once: better "try again" now than an answer after the
        // request's timeout for a check-in stored later.
        self.waiting
            .try_send(Waiting { submission, outcome })
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => Error::Busy { retry_after_secs: 1 },
                mpsc::error::TrySendError::Closed(_) => {
                    Error::Unavailable("check-ins cannot be stored right now".into())
                }
            })?;
        answer
            .await
            .map_err(|_| Error::Unavailable("check-ins cannot be stored right now".into()))?
    }
}

/// The writer: takes the first waiting submission, then every other already waiting (up to
/// [`MOST_PER_TRANSACTION`]), stores them together, answers each, and starts again.
async fn write_batches(mut receiver: mpsc::Receiver<Waiting>) {
    let mut batch = Vec::with_capacity(MOST_PER_TRANSACTION);
    loop {
        if receiver.recv_many(&mut batch, MOST_PER_TRANSACTION).await == 0 {
            return;
        }
        let (submissions, outcomes): (Vec<Submission>, Vec<_>) = batch
            .drain(..)
            .map(|waiting| (waiting.submission, waiting.outcome))
            .unzip();
        let count = submissions.len();
        // In a task of its own, so that a panic fails this batch and not the writer.
        let results = match tokio::spawn(answering::store_together(submissions)).await {
            Ok(results) => results,
            Err(err) => {
                tracing::error!(error = %err, "storing check-ins failed");
                (0..count)
                    .map(|_| Err(Error::Internal("storing check-ins failed".into())))
                    .collect()
            }
        };
        for (outcome, result) in outcomes.into_iter().zip(results) {
            // A request that gave up (its client went away) no longer listens; its check-in
            // is stored all the same.
            let _ = outcome.send(result);
        }
    }
}
