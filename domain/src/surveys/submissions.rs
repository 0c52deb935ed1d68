//! Group commit for check-ins: every submission of this process goes to one writer, which
//! stores all that arrived while it was busy in one transaction per workplace (one commit, a
//! few statements) and answers each request only after that transaction committed. Under
//! load, many people's check-ins share one commit; alone, a submission waits for nothing but
//! its own transaction.
//!
//! A batch also hides who is who: its people are marked answered and its ballots written in
//! one transaction, the ballots in a shuffled order (see [`super::answering::store_together`]).

use super::answering::{self, CommentSecret, Submission};
use crate::{platform::group_commit::GroupWriter, Result};

/// The most submissions one transaction stores; more wait for the next.
const MOST_PER_TRANSACTION: usize = 256;
/// Submissions that may wait for the writer; one more is refused as busy.
const WAITING: usize = 4096;

/// The handle requests give their submissions to; cheap to clone.
#[derive(Clone, Debug)]
pub struct SubmissionWriter {
    writer: GroupWriter<Submission, Vec<CommentSecret>>,
}

impl SubmissionWriter {
    /// Starts the writer on the current Tokio runtime; it stops when every handle is dropped.
    pub fn start() -> Self {
        Self {
            writer: GroupWriter::start(
                "check-ins",
                MOST_PER_TRANSACTION,
                WAITING,
                answering::store_together,
            ),
        }
    }

    /// Stores one person's check-in together with whatever else is waiting; answers once it is
    /// committed (or refused). Returns a secret per comment.
    pub async fn submit(&self, submission: Submission) -> Result<Vec<CommentSecret>> {
        submission.coarsen_trail();
        self.writer.write(submission).await
    }
}
