//! The trail of one request (or one job's work on a workplace): who, which action, and the
//! entities touched so far. The tenant scope writes it into the log with each change it
//! commits; [`Trail::finish`] writes the rest before the answer leaves.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Category, EntityType, Entry, Outcome, Severity};
use crate::{
    platform::ids::{UserId, WorkplaceId},
    Clock,
};

/// Server functions whose every call is a security event: signing in and out, credentials,
/// rights, invitations, settings and exports.
const SECURITY_ACTIONS: &[&str] = &[
    "account/sign_up",
    "account/verify_email",
    "account/log_in",
    "account/second_factor",
    "account/confirm_authenticator",
    "account/log_out",
    "account/end_session",
    "account/end_other_sessions",
    "account/request_password_reset",
    "account/reset_password",
    "factors/finish_passkey_enrolment",
    "factors/finish_passkey_check",
    "factors/finish_passkey_sign_in",
    "factors/remove",
    "factors/new_recovery_codes",
    "factors/change_password",
    "people/invite",
    "people/resend_invitation",
    "people/revoke_invitation",
    "people/set_status",
    "people/set_role",
    "people/set_grants",
    "people/correct_details",
    "people/correct_own_name",
    "people/reset_factors",
    "people/secure_account",
    "account/secure_account",
    "people/import",
    "people/accept_invitation",
    "roles/create",
    "roles/update",
    "roles/delete",
    "settings/save_sign_in",
    "settings/delete_workplace",
    "settings/save_group_sizes",
    "settings/save_benchmarks",
    "settings/grant_support",
    "settings/revoke_support",
    "results/export",
    "audit/export",
    "audit/save_settings",
    "audit/review",
    "audit/acknowledge",
    "privacy/export",
    "privacy/copy_delivered",
    "privacy/erase",
    "privacy/restrict",
    "page:/people/:id/data",
];

/// Changes an auditor must see first: who may sign in how, what is suppressed, what is watched.
const AUDIT_RELEVANT_ACTIONS: &[&str] = &[
    "settings/save_sign_in",
    "settings/save_group_sizes",
    "settings/delete_workplace",
    "settings/grant_support",
    "audit/save_settings",
    "people/reset_factors",
    "roles/update",
    "roles/delete",
    // A new address is how someone signs in from then on.
    "people/correct_details",
    // Irreversible: a person's account and data are gone.
    "privacy/erase",
];

pub(crate) fn is_audit_relevant(action: &str) -> bool {
    AUDIT_RELEVANT_ACTIONS.contains(&action)
}

/// Server functions logged under another's name because they are the same act by another way:
/// the check-in form posted without its script is a submission like the script's, and the log
/// must not show who answered which way (next to a comment's wording, that could name them).
const LOGGED_AS: &[(&str, &str)] = &[("check_ins/send", "check_ins/submit")];

fn logged_as(action: &str) -> &str {
    LOGGED_AS
        .iter()
        .find(|(called, _)| *called == action)
        .map_or(action, |(_, logged)| logged)
}

#[derive(Debug)]
struct State {
    request_id: Option<String>,
    action: String,
    /// A background job's trail writes only what it touched; a request's always leaves one entry.
    system: bool,
    actor: Option<UserId>,
    workplace: Option<WorkplaceId>,
    touched: BTreeMap<EntityType, Vec<Uuid>>,
    network_tag: Option<String>,
    account_tag: Option<String>,
    written: usize,
    coarse: bool,
    anonymous: bool,
    /// A server-rendered page: the server functions it runs in-process share this trail. It
    /// leaves an entry when someone signed in asked or something was read, never for an
    /// anonymous visitor of a public page.
    page: bool,
    /// The worst status a server function of this request ended with (a page answers 200
    /// even when one of its data loads was refused).
    noted_status: u16,
}

/// Cheap to clone; every clone is the same trail.
#[derive(Clone, Debug)]
pub struct Trail {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
}

impl Trail {
    /// The trail of one server-function call.
    pub fn for_request(clock: Arc<dyn Clock>, request_id: Option<&str>, action: &str) -> Self {
        Self::new(clock, request_id.map(str::to_owned), logged_as(action), false)
    }

    /// The trail of a job or CLI command working on one workplace.
    pub fn for_system(clock: Arc<dyn Clock>, purpose: &str) -> Self {
        Self::new(clock, None, &format!("job:{purpose}"), true)
    }

    /// The trail of a server-rendered page load (`GET /people/…`): every server function the
    /// page runs while rendering reads through it, so the read is logged as if it came over
    /// `/api/`. `path` is the page's path; ids in it become `:id` (the entry names what was read
    /// by entity, not by URL).
    pub fn for_page(clock: Arc<dyn Clock>, request_id: Option<&str>, path: &str) -> Self {
        // `/people/…/data/` renders the same page as `/people/…/data`: one action for both.
        let path = match path.trim_end_matches('/') {
            "" => "/",
            trimmed => trimmed,
        };
        let route: Vec<&str> = path
            .split('/')
            .map(|segment| {
                if segment.parse::<Uuid>().is_ok() {
                    ":id"
                } else {
                    segment
                }
            })
            .collect();
        let trail = Self::new(
            clock,
            request_id.map(str::to_owned),
            &format!("page:{}", route.join("/")),
            false,
        );
        trail.state().page = true;
        trail
    }

    /// Notes how one server function of this request ended (see [`Trail::finish`]).
    pub fn note_status(&self, status: u16) {
        let mut state = self.state();
        state.noted_status = state.noted_status.max(status);
    }

    fn new(clock: Arc<dyn Clock>, request_id: Option<String>, action: &str, system: bool) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                request_id,
                action: super::clean_code(action, 64),
                system,
                actor: None,
                workplace: None,
                touched: BTreeMap::new(),
                network_tag: None,
                account_tag: None,
                written: 0,
                coarse: false,
                anonymous: false,
                page: false,
                noted_status: 0,
            })),
            clock,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The signed-in person the request acts as.
    pub fn identify(&self, actor: UserId, workplace: WorkplaceId) {
        let mut state = self.state();
        state.actor = Some(actor);
        state.workplace = Some(workplace);
    }

    /// The workplace an anonymous request concerns (a failed sign-in to one of its accounts).
    pub fn concerns(&self, workplace: WorkplaceId) {
        self.state().workplace = Some(workplace);
    }

    /// Where a sign-in came from and which account name it typed, as keyed-hash tags.
    pub fn tag(&self, network_tag: String, account_tag: Option<String>) {
        let mut state = self.state();
        state.network_tag = Some(network_tag);
        state.account_tag = account_tag;
    }

    /// Records this request at the day only and without its request id: for answering a
    /// check-in, where the moment of the answer must not point at the person who gave it.
    pub fn coarsen(&self) {
        self.state().coarse = true;
    }

    /// Records this request without who made it, at the day only: for a comment's author
    /// reading or answering its replies, where who asks is exactly what must stay unknown.
    pub fn anonymise(&self) {
        let mut state = self.state();
        state.coarse = true;
        state.anonymous = true;
    }

    /// Whether this request's entries wait for the end of their day (see [`super::pending`]).
    pub fn is_anonymous(&self) -> bool {
        self.state().anonymous
    }

    pub fn action(&self) -> String {
        self.state().action.clone()
    }

    /// The time as this request's clock reads it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn actor(&self) -> Option<UserId> {
        self.state().actor
    }

    /// Records that the request read or changed `ids` of `entity`.
    pub fn touch(&self, entity: EntityType, ids: impl IntoIterator<Item = Uuid>) {
        let mut state = self.state();
        let list = state.touched.entry(entity).or_default();
        list.extend(ids);
    }

    /// The entries for what was touched since the last call (for a request that has written
    /// nothing yet and touched nothing, one entry naming the action), for `workplace`'s chain.
    fn take(&self, outcome: Outcome, bare_if_nothing: bool) -> Vec<Entry> {
        let now = self.clock.now();
        let mut state = self.state();
        let touched = std::mem::take(&mut state.touched);
        let base = entry_for(&state, outcome, now);
        let mut entries: Vec<Entry> = touched
            .into_iter()
            .map(|(entity, mut ids)| {
                ids.sort();
                ids.dedup();
                let mut entry = base.clone();
                entry.entity_type = Some(entity.code().to_owned());
                entry.entity_count = ids.len();
                entry.entity_ids = ids;
                entry
            })
            .collect();
        if entries.is_empty()
            && bare_if_nothing
            && state.written == 0
            && !state.system
            && state.worth_an_entry()
        {
            entries.push(base);
        }
        state.written += entries.len();
        entries
    }

    /// What a transaction of `workplace` commits with: the entries so far, never from another
    /// workplace (a trail identified elsewhere writes at [`Trail::finish`] instead).
    pub(crate) fn take_for_commit(&self, workplace: WorkplaceId) -> Vec<Entry> {
        {
            let mut state = self.state();
            if state.workplace.is_none() && state.system {
                state.workplace = Some(workplace);
            }
            if state.workplace != Some(workplace) {
                return Vec::new();
            }
        }
        self.take(Outcome::Ok, true)
    }

    /// What is left to write when the request ends with `status`; a request that left nothing
    /// yet gets one entry (see `access_log::finish`).
    pub(crate) fn take_remaining(&self, status: u16) -> Vec<Entry> {
        let outcome = Outcome::from_status(status.max(self.state().noted_status));
        let mut entries = self.take(outcome, true);
        // A change committed with its entry, then failed later: say how it ended.
        if entries.is_empty() && outcome != Outcome::Ok && self.state().worth_an_entry() {
            let now = self.clock.now();
            entries.push(entry_for(&self.state(), outcome, now));
        }
        entries
    }
}

impl State {
    /// Whether a request that touched nothing still leaves an entry: every server-function
    /// call does; a page load only when someone signed in made it.
    fn worth_an_entry(&self) -> bool {
        !self.page || self.actor.is_some() || self.workplace.is_some()
    }
}

fn entry_for(state: &State, outcome: Outcome, now: DateTime<Utc>) -> Entry {
    let security = SECURITY_ACTIONS.contains(&state.action.as_str()) || outcome != Outcome::Ok;
    let mut entry = Entry::new(
        &state.action,
        if security {
            Category::Security
        } else {
            Category::Access
        },
        now,
    );
    entry.workplace = state.workplace;
    entry.request_id = state.request_id.clone();
    if state.coarse {
        entry.request_id = None;
        entry.occurred_at = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now, |midnight| midnight.and_utc());
    }
    entry.actor = state.actor;
    entry.outcome = outcome;
    entry.network_tag = state.network_tag.clone();
    entry.account_tag = state.account_tag.clone();
    if state.anonymous {
        entry.actor = None;
        entry.network_tag = None;
        entry.account_tag = None;
    }
    entry.severity = match outcome {
        Outcome::Error => Severity::Critical,
        Outcome::Denied | Outcome::Throttled => Severity::Warning,
        Outcome::Unauthenticated if SECURITY_ACTIONS.contains(&state.action.as_str()) => Severity::Warning,
        _ if is_audit_relevant(&state.action) => Severity::Warning,
        _ => Severity::Info,
    };
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::clock::FixedClock;

    fn trail(action: &str) -> Trail {
        Trail::for_request(Arc::new(FixedClock::at(Utc::now())), Some("req-1"), action)
    }

    #[test]
    fn one_entry_per_entity_type_touched() {
        let trail = trail("people/list");
        let workplace = WorkplaceId::from_uuid(Uuid::new_v4());
        trail.identify(UserId::from_uuid(Uuid::new_v4()), workplace);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        trail.touch(EntityType::Person, [a, b, a]);
        trail.touch(EntityType::Department, [b]);
        let entries = trail.take_for_commit(workplace);
        assert_eq!(entries.len(), 2);
        let people = entries
            .iter()
            .find(|e| e.entity_type.as_deref() == Some("person"));
        assert_eq!(people.map(|e| e.entity_count), Some(2));
        // Written once: nothing left for the end of the request.
        assert!(trail.take(Outcome::Ok, true).is_empty());
    }

    #[test]
    fn a_request_that_touched_nothing_still_leaves_one_entry() {
        let entries = trail("account/me").take(Outcome::Ok, true);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].category, Category::Access);
    }

    #[test]
    fn failures_and_credentials_are_security_events() {
        let denied = trail("people/list").take(Outcome::Denied, true);
        assert_eq!(
            (denied[0].category, denied[0].severity),
            (Category::Security, Severity::Warning)
        );
        let failed = trail("account/log_in").take(Outcome::Unauthenticated, true);
        assert_eq!(failed[0].severity, Severity::Warning);
        let saved = trail("settings/save_sign_in").take(Outcome::Ok, true);
        assert_eq!(
            (saved[0].category, saved[0].severity),
            (Category::Security, Severity::Warning)
        );
    }

    #[test]
    fn another_workplace_never_gets_the_entries() {
        let trail = trail("people/get");
        trail.identify(
            UserId::from_uuid(Uuid::new_v4()),
            WorkplaceId::from_uuid(Uuid::new_v4()),
        );
        trail.touch(EntityType::Person, [Uuid::new_v4()]);
        assert!(trail
            .take_for_commit(WorkplaceId::from_uuid(Uuid::new_v4()))
            .is_empty());
    }

    #[test]
    fn an_anonymised_request_names_nobody_and_keeps_the_day_only() {
        let at = DateTime::parse_from_rfc3339("2026-12-05T14:37:21Z")
            .unwrap()
            .to_utc();
        let trail = Trail::for_request(
            Arc::new(FixedClock::at(at)),
            Some("req-9"),
            "check_ins/answer_reply",
        );
        let workplace = WorkplaceId::from_uuid(Uuid::new_v4());
        trail.identify(UserId::from_uuid(Uuid::new_v4()), workplace);
        trail.tag("net".into(), Some("acct".into()));
        trail.anonymise();
        let entries = trail.take_for_commit(workplace);
        assert_eq!(entries.len(), 1);
        let entry = &entries[0];
        assert_eq!(entry.actor, None);
        assert_eq!(
            (entry.network_tag.as_deref(), entry.account_tag.as_deref()),
            (None, None)
        );
        assert_eq!(entry.request_id, None);
        assert_eq!(entry.occurred_at.to_rfc3339(), "2026-12-05T00:00:00+00:00");
        assert_eq!(entry.workplace, Some(workplace));
    }

    #[test]
    fn the_check_in_form_post_is_logged_as_the_submission_it_is() {
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::at(Utc::now()));
        let posted = Trail::for_request(clock.clone(), None, "check_ins/send");
        let scripted = Trail::for_request(clock, None, "check_ins/submit");
        assert_eq!(posted.action(), scripted.action());
    }

    #[test]
    fn a_job_writes_only_what_it_touched() {
        let job = Trail::for_system(Arc::new(FixedClock::at(Utc::now())), "survey-rounds");
        let workplace = WorkplaceId::from_uuid(Uuid::new_v4());
        assert!(job.take_for_commit(workplace).is_empty());
        job.touch(EntityType::Round, [Uuid::new_v4()]);
        let entries = job.take_for_commit(workplace);
        assert_eq!(entries[0].action, "job:survey-rounds");
    }
}
