//! Password policy and hashing, after OWASP ASVS 5.0: length is what counts (at least 12 by
//! default, never below 8, up to 256 allowed), no composition rules, and a password is refused
//! when `zxcvbn` scores it below 3 or it is on the bundled list of common passwords. Hashes are
//! argon2id PHC strings. Hashing runs on a few dedicated threads at the lowest CPU priority,
//! behind a semaphore: a flood of sign-ins queues for them instead of taking cores from page
//! rendering, and the scheduler prefers rendering whenever both want a core.

use std::{
    collections::HashSet,
    sync::{Arc, LazyLock},
};

use argon2::{
    password_hash::{phc::PasswordHash, PasswordHasher as _, PasswordVerifier as _},
    Algorithm, Argon2, Params, Version,
};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::{Error, Result};

/// The longest password accepted; far above what people type, low enough to bound hashing work.
pub const MAX_LENGTH: usize = 256;
/// The lowest minimum a workplace may configure.
pub const LOWEST_MIN_LENGTH: usize = 8;
/// zxcvbn scores run 0–4; below this a password is refused.
pub const MIN_SCORE: u8 = 3;
/// zxcvbn's work grows with length; the rest of a very long password only adds strength.
const SCORED_PREFIX_CHARS: usize = 100;

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../../data/common-passwords.txt")
        .lines()
        .collect()
});

/// Whether `password` is on the bundled list of common passwords (case-insensitive).
pub fn is_common(password: &str) -> bool {
    COMMON_PASSWORDS.contains(password.to_lowercase().as_str())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 12 }
    }
}

/// What the policy thinks of a password: shown live while typing and enforced on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StrengthReport {
    /// zxcvbn's score, 0 (guessable) to 4 (very hard to guess).
    pub score: u8,
    pub acceptable: bool,
    /// Why it is refused, in words a person can act on (empty when acceptable).
    pub problems: Vec<String>,
    /// zxcvbn's suggestions for a stronger password.
    pub suggestions: Vec<String>,
}

impl PasswordPolicy {
    /// A policy with the given minimum length, which may not go below [`LOWEST_MIN_LENGTH`].
    pub fn with_min_length(min_length: usize) -> Result<Self> {
        if !(LOWEST_MIN_LENGTH..=64).contains(&min_length) {
            return Err(Error::Invalid {
                field: "minimum password length",
                reason: format!("must be between {LOWEST_MIN_LENGTH} and 64"),
            });
        }
        Ok(Self { min_length })
    }

    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// Rates `password`; `user_inputs` (name, email, workplace) count against it.
    pub fn evaluate(&self, password: &str, user_inputs: &[&str]) -> StrengthReport {
        let length = password.chars().count();
        let mut problems = Vec::new();
        if length < self.min_length {
            problems.push(format!(
                "Use at least {} characters (this has {length}).",
                self.min_length
            ));
        }
        if length > MAX_LENGTH {
            problems.push(format!("Use at most {MAX_LENGTH} characters."));
        }
        let scored: String = password.chars().take(SCORED_PREFIX_CHARS).collect();
        let personal = personal_words(user_inputs);
        let personal: Vec<&str> = personal.iter().map(String::as_str).collect();
        let entropy = zxcvbn::zxcvbn(&scored, &personal);
        let score = u8::from(entropy.score());
        let mut suggestions = Vec::new();
        if let Some(feedback) = entropy.feedback() {
            if let Some(warning) = feedback.warning() {
                suggestions.push(warning.to_string());
            }
            suggestions.extend(feedback.suggestions().iter().map(ToString::to_string));
        }
        let lowered = password.to_lowercase();
        if personal
            .iter()
            .any(|word| word.chars().count() >= 4 && lowered.contains(word))
        {
            problems.push("Leave your name, email address and workplace out of the password.".to_owned());
        }
        if is_common(password) {
            problems.push("This is one of the most common passwords; choose another.".to_owned());
        } else if score < MIN_SCORE && length >= self.min_length && problems.is_empty() {
            problems.push("This password is too easy to guess.".to_owned());
        }
        StrengthReport {
            score,
            acceptable: problems.is_empty(),
            problems,
            suggestions,
        }
    }

    /// The same rules as [`Self::evaluate`], as an error naming the first problem.
    pub fn check(&self, password: &str, user_inputs: &[&str]) -> Result<()> {
        let report = self.evaluate(password, user_inputs);
        match report.problems.into_iter().next() {
            None => Ok(()),
            Some(reason) => Err(Error::Invalid {
                field: "password",
                reason,
            }),
        }
    }
}

/// zxcvbn compares lower-cased words: split names and emails ("ada.lovelace@example.com") into
/// the words a person might reuse, whole inputs included.
fn personal_words(user_inputs: &[&str]) -> Vec<String> {
    let mut words = Vec::new();
    for input in user_inputs {
        let input = input.to_lowercase();
        words.extend(
            input
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_owned),
        );
        words.push(input);
    }
    words
}

/// argon2id cost parameters. The defaults are OWASP's minimum (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            passes: 2,
            lanes: 1,
        }
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, and the stored hash uses weaker parameters than today's: store a new hash.
    YesButRehash,
}

type HashJob = Box<dyn FnOnce() + Send>;

/// Threads that run hashing jobs at the lowest priority the OS grants without privileges
/// (nice 19 on Linux). They end when the last [`PasswordHasher`] clone is dropped.
#[derive(Debug)]
struct HashingThreads {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>,
}

impl HashingThreads {
    fn start(count: usize) -> Result<Self> {
        let (sender, receiver) = std::sync::mpsc::channel::<HashJob>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for index in 0..count {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("candor-hash-{index}"))
                .spawn(move || {
                    crate::platform::priority::lower_current_thread("password hashing");
                    loop {
                        let job = match receiver.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking job drops its reply (an error for its caller) and
                            // must not take the thread with it.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|err| Error::Internal(format!("cannot start hashing thread: {err}")))?;
        }
        Ok(Self {
            jobs: std::sync::Mutex::new(sender),
        })
    }

    fn submit(&self, job: HashJob) -> Result<()> {
        self.jobs
            .lock()
            .map_err(|_| Error::Internal("hashing queue poisoned".into()))?
            .send(job)
            .map_err(|_| Error::Internal("hashing threads stopped".into()))
    }
}

#[derive(Clone, Debug)]
pub struct PasswordHasher {
    cost: HashCost,
    params: Params,
    permits: Arc<Semaphore>,
    threads: Arc<HashingThreads>,
    queue: Arc<QueueLimits>,
    /// Argon2 computations started so far: a wrong password and an unknown address must cost
    /// the same number.
    computations: Arc<std::sync::atomic::AtomicU64>,
}

/// How much hashing work may wait: beyond it a request is answered "busy" at once instead of
/// queueing until its timeout, so a flood of guesses for unknown addresses cannot hold real
/// sign-ins behind it.
#[derive(Debug)]
struct QueueLimits {
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
    max_wait: std::time::Duration,
}

/// Counts a request as waiting for a hashing thread while it lives.
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl PasswordHasher {
    /// A hasher with `cost`, running at most `concurrent` hashes at a time on as many
    /// low-priority threads.
    pub fn new(cost: HashCost, concurrent: usize) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, None)
            .map_err(|err| Error::Internal(format!("argon2 parameters: {err}")))?;
        let concurrent = concurrent.max(1);
        Ok(Self {
            cost,
            params,
            permits: Arc::new(Semaphore::new(concurrent)),
            threads: Arc::new(HashingThreads::start(concurrent)?),
            queue: Arc::new(QueueLimits {
                waiting: std::sync::atomic::AtomicUsize::new(0),
                max_waiting: concurrent * Self::WAITING_PER_THREAD,
                max_wait: Self::MAX_WAIT,
            }),
            computations: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
    }

    /// How many Argon2 computations this hasher (and its clones) started.
    pub fn computations(&self) -> u64 {
        self.computations.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Requests that may wait per hashing thread before more are answered "busy".
    pub const WAITING_PER_THREAD: usize = 16;
    /// What a request refused for a full queue is told to wait before trying again.
    const BUSY_RETRY_SECS: u64 = 2;
    /// The longest a request waits for a hashing thread (well inside the request timeout).
    pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

    /// The same hasher with other queue limits (tests, and operators who tune it).
    pub fn with_queue_limits(mut self, max_waiting: usize, max_wait: std::time::Duration) -> Self {
        self.queue = Arc::new(QueueLimits {
            waiting: std::sync::atomic::AtomicUsize::new(0),
            max_waiting,
            max_wait,
        });
        self
    }

    pub fn cost(&self) -> HashCost {
        self.cost
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `password` into a PHC string with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        self.run_blocking(move || {
            argon2
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|err| Error::Internal(format!("hashing failed: {err}")))
        })
        .await
    }

    /// Checks `password` against a stored PHC string. A malformed stored hash is an internal
    /// error, never a match.
    pub async fn verify(&self, password: &str, stored: &str) -> Result<Verified> {
        let argon2 = self.argon2();
        let current = self.params.clone();
        let password = password.to_owned();
        let stored = stored.to_owned();
        self.run_blocking(move || {
            let parsed = PasswordHash::new(&stored)
                .map_err(|err| Error::Internal(format!("stored password hash unreadable: {err}")))?;
            if argon2.verify_password(password.as_bytes(), &parsed).is_err() {
                return Ok(Verified::No);
            }
            let weaker = match Params::try_from(&parsed) {
                Ok(stored_params) => {
                    parsed.algorithm.as_str() != "argon2id"
                        || stored_params.m_cost() < current.m_cost()
                        || stored_params.t_cost() < current.t_cost()
                        || stored_params.p_cost() < current.p_cost()
                }
                Err(_) => true,
            };
            Ok(if weaker {
                Verified::YesButRehash
            } else {
                Verified::Yes
            })
        })
        .await
    }

    /// `server.busy` when a hash asked for now would be refused for a full queue. Callers that
    /// write before hashing (the sign-in guard's counting) ask first, so that a flood's excess
    /// is refused without touching the database. The queue is checked again when the hash is
    /// asked for.
    pub fn has_room(&self) -> Result<()> {
        let queue = &self.queue;
        if queue.waiting.load(std::sync::atomic::Ordering::SeqCst) >= queue.max_waiting {
            return Err(Error::Busy {
                retry_after_secs: Self::BUSY_RETRY_SECS,
            });
        }
        Ok(())
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        use std::sync::atomic::Ordering;
        let queue = &self.queue;
        let waiting = Waiting(&queue.waiting);
        if queue.waiting.fetch_add(1, Ordering::SeqCst) >= queue.max_waiting {
            return Err(Error::Busy {
                retry_after_secs: Self::BUSY_RETRY_SECS,
            });
        }
        let _permit = tokio::time::timeout(queue.max_wait, self.permits.acquire())
            .await
            .map_err(|_| Error::Busy {
                retry_after_secs: queue.max_wait.as_secs().max(1),
            })?
            .map_err(|_| Error::Internal("password hasher closed".into()))?;
        drop(waiting);
        // The permit bounds the queue too: a request that gives up while waiting never
        // reaches the threads.
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.computations.fetch_add(1, Ordering::SeqCst);
        self.threads.submit(Box::new(move || {
            let _ = reply.send(work());
        }))?;
        answer
            .await
            .map_err(|_| Error::Internal("hashing job was dropped".into()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters so unit tests stay fast; production uses [`HashCost::default`].
    fn cheap() -> HashCost {
        HashCost {
            memory_kib: 64,
            passes: 1,
            lanes: 1,
        }
    }

    #[test]
    fn length_rules_follow_asvs() {
        let policy = PasswordPolicy::default();
        assert!(!policy.evaluate("Short1!", &[]).acceptable);
        assert!(
            policy
                .evaluate("correct horse battery staple lamp", &[])
                .acceptable
        );
        let long = "x".repeat(MAX_LENGTH + 1);
        assert!(policy
            .evaluate(&long, &[])
            .problems
            .iter()
            .any(|p| p.contains("at most")));
        assert!(PasswordPolicy::with_min_length(7).is_err());
        assert_eq!(
            PasswordPolicy::with_min_length(8).map(|p| p.min_length()).ok(),
            Some(8)
        );
    }

    #[test]
    fn no_composition_rules_only_strength() {
        let policy = PasswordPolicy::default();
        // All lower case, no digits or symbols, yet long and unpredictable: accepted.
        assert!(policy.check("quietly orbiting marmalade kettles", &[]).is_ok());
        // Meets any composition rule, yet predictable: refused.
        assert!(policy.check("Password123!", &[]).is_err());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(COMMON_PASSWORDS.len() >= 10_000);
        assert!(is_common("Password"));
        assert!(is_common("qwerty"));
        assert!(!is_common("quietly orbiting marmalade kettles"));
        let report = PasswordPolicy::with_min_length(8).map(|p| p.evaluate("iloveyou", &[]));
        assert!(report.is_ok_and(|r| !r.acceptable));
    }

    #[test]
    fn personal_details_weaken_a_password() {
        let policy = PasswordPolicy::default();
        let alone = policy.evaluate("margaretsmith1987", &[]);
        let with_name = policy.evaluate(
            "margaretsmith1987",
            &["Margaret", "Smith", "margaret.smith@example.com"],
        );
        assert!(with_name.score <= alone.score);
        assert!(!with_name.acceptable);
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let hasher = PasswordHasher::new(cheap(), 2).unwrap();
        let hash = hasher.hash("quietly orbiting marmalade kettles").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_eq!(
            hasher
                .verify("quietly orbiting marmalade kettles", &hash)
                .await
                .unwrap(),
            Verified::Yes
        );
        assert_eq!(
            hasher
                .verify("quietly orbiting marmalade kettle", &hash)
                .await
                .unwrap(),
            Verified::No
        );
        let again = hasher.hash("quietly orbiting marmalade kettles").await.unwrap();
        assert_ne!(hash, again, "every hash has its own salt");
    }

    #[tokio::test]
    async fn hashes_with_weaker_parameters_are_flagged_for_rehash() {
        let old = PasswordHasher::new(cheap(), 1).unwrap();
        let stronger = PasswordHasher::new(
            HashCost {
                memory_kib: 128,
                passes: 2,
                lanes: 1,
            },
            1,
        )
        .unwrap();
        let hash = old.hash("quietly orbiting marmalade kettles").await.unwrap();
        assert_eq!(
            stronger
                .verify("quietly orbiting marmalade kettles", &hash)
                .await
                .unwrap(),
            Verified::YesButRehash
        );
        assert_eq!(stronger.verify("wrong", &hash).await.unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_an_error_not_a_match() {
        let hasher = PasswordHasher::new(cheap(), 1).unwrap();
        let err = hasher.verify("anything", "$argon2id$garbage").await.unwrap_err();
        assert_eq!(err.code(), "internal");
    }

    /// While every hashing thread is taken, a few requests wait their turn; the next ones are
    /// answered "busy" (429 with a retry time) at once, and a waiting one gives up before the
    /// request timeout would.
    #[tokio::test]
    async fn a_full_hashing_queue_sheds_instead_of_waiting() {
        let hasher = PasswordHasher::new(cheap(), 1)
            .unwrap()
            .with_queue_limits(2, std::time::Duration::from_millis(200));
        let taken = Arc::clone(&hasher.permits).acquire_owned().await.unwrap();
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash("quietly orbiting marmalade kettles").await })
            })
            .collect();
        // Let both reach the queue.
        while hasher.queue.waiting.load(std::sync::atomic::Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let shed = hasher.verify("anything", "$argon2id$garbage").await.unwrap_err();
        assert_eq!((shed.code(), shed.status()), ("server.busy", 429));
        assert_eq!(shed.retry_after_secs(), Some(2));
        // The two waiting give up after the longest wait, asked to retry in a second.
        for job in waiting {
            let err = job.await.unwrap().unwrap_err();
            assert_eq!((err.code(), err.retry_after_secs()), ("server.busy", Some(1)));
        }
        // Once a thread is free again, hashing works.
        drop(taken);
        assert!(hasher.hash("quietly orbiting marmalade kettles").await.is_ok());
    }
}
