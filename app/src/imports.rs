//! People imports running in this process. Inviting thousands takes seconds, so the request that
//! starts one answers at once and the page follows it (`people/import_progress`) until it is
//! done. Kept in memory: an import belongs to the process that runs it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use domain::{organisation::people::InviteProgress, platform::ids::WorkplaceId};

use crate::error::ApiError;

/// How long a finished import's outcome stays to be read.
const KEPT_AFTER_FINISHING: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Debug, Default)]
pub struct Imports {
    running: Arc<Mutex<HashMap<uuid::Uuid, Arc<ImportJob>>>>,
}

#[derive(Debug)]
pub struct ImportJob {
    workplace: WorkplaceId,
    total: usize,
    progress: InviteProgress,
    outcome: Mutex<Option<(Instant, Result<usize, ApiError>)>>,
}

impl Imports {
    fn jobs(&self) -> std::sync::MutexGuard<'_, HashMap<uuid::Uuid, Arc<ImportJob>>> {
        // Plain data: a panic elsewhere while holding the lock leaves it usable.
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers an import of `total` people for `workplace`; its id is the page's to follow.
    pub fn start(&self, workplace: WorkplaceId, total: usize) -> (uuid::Uuid, Arc<ImportJob>) {
        let job = Arc::new(ImportJob {
            workplace,
            total,
            progress: InviteProgress::default(),
            outcome: Mutex::new(None),
        });
        let id = uuid::Uuid::new_v4();
        let mut jobs = self.jobs();
        jobs.retain(|_, job| !job.finished_long_ago());
        jobs.insert(id, Arc::clone(&job));
        (id, job)
    }

    /// The import `id` of `workplace`; another workplace's imports are not found.
    pub fn find(&self, workplace: WorkplaceId, id: uuid::Uuid) -> Option<Arc<ImportJob>> {
        self.jobs()
            .get(&id)
            .filter(|job| job.workplace == workplace)
            .cloned()
    }
}

impl ImportJob {
    fn outcome(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Result<usize, ApiError>)>> {
        self.outcome
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Where the import counts the people it has invited.
    pub fn progress(&self) -> &InviteProgress {
        &self.progress
    }

    pub fn finish(&self, outcome: Result<usize, ApiError>) {
        *self.outcome() = Some((Instant::now(), outcome));
    }

    fn finished_long_ago(&self) -> bool {
        self.outcome()
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() > KEPT_AFTER_FINISHING)
    }

    /// People invited so far, of how many.
    pub fn counts(&self) -> (usize, usize) {
        (self.progress.invited(), self.total)
    }

    /// Once done: how many were invited, or why none were.
    pub fn outcome_once_done(&self) -> Option<Result<usize, ApiError>> {
        self.outcome().as_ref().map(|(_, outcome)| outcome.clone())
    }
}
