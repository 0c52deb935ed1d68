//! Watching the log: monitoring rules that raise alerts (stored, shown to Owners and Auditors,
//! emailed to them), review reminders, retention, and anchors of each chain's head in the server
//! log. All run from the job runner and take the time as an argument.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;
use uuid::Uuid;

use super::review::settings_from;
use crate::platform::audit::{is_audit_relevant, Category, EntityType, Entry, Outcome};
use crate::{
    platform::{
        entities::{audit_alerts, audit_log, audit_settings, users, workplaces},
        ids::{UserId, WorkplaceId},
        policy::{self, Action, Resource},
        security_events::{EventKind, SecurityEvent, Severity},
        tenant::TenantDb,
    },
    Database, Error, Result,
};

/// New entries one run looks at per workplace; the rest wait for the next run.
const BATCH: u64 = 5_000;
const SIGN_IN_ACTIONS: &[&str] = &[
    "account/log_in",
    "account/second_factor",
    "factors/finish_passkey_sign_in",
];
const SECURED_ACCOUNT_ACTIONS: &[&str] = &["account/secure_account", "people/secure_account"];
const EXPORT_ACTIONS: &[&str] = &[
    "results/export",
    "audit/export",
    "privacy/export",
    "page:/people/:id/data",
];

/// What a monitoring rule watches for. Codes are stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    AccountSignInFailures,
    NetworkSignInFailures,
    AdminNewNetwork,
    MassExport,
    DenialBurst,
    AuditRelevantChange,
    /// Someone said an account may be compromised (its owner, or an HR admin about it).
    AccountSecured,
}

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::AccountSignInFailures => "sign_in.failures_for_account",
            Rule::NetworkSignInFailures => "sign_in.failures_from_network",
            Rule::AdminNewNetwork => "sign_in.admin_new_network",
            Rule::MassExport => "data.mass_export",
            Rule::DenialBurst => "access.denial_burst",
            Rule::AuditRelevantChange => "settings.audit_relevant_change",
            Rule::AccountSecured => "account.secured_as_compromised",
        }
    }

    pub fn from_code(code: &str) -> Option<Rule> {
        [
            Rule::AccountSignInFailures,
            Rule::NetworkSignInFailures,
            Rule::AdminNewNetwork,
            Rule::MassExport,
            Rule::DenialBurst,
            Rule::AuditRelevantChange,
            Rule::AccountSecured,
        ]
        .into_iter()
        .find(|rule| rule.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Rule::AccountSignInFailures => "many failed sign-ins for one account",
            Rule::NetworkSignInFailures => "many failed sign-ins from one network",
            Rule::AdminNewNetwork => "a person with admin rights signed in from a new network",
            Rule::MassExport => "many exports by one person",
            Rule::DenialBurst => "a burst of refused requests (probing)",
            Rule::AuditRelevantChange => "a change to audit-relevant settings or rights",
            Rule::AccountSecured => "an account was secured because it may be compromised",
        }
    }

    fn window(self) -> Duration {
        match self {
            Rule::AccountSignInFailures | Rule::NetworkSignInFailures => Duration::minutes(15),
            Rule::DenialBurst => Duration::minutes(10),
            Rule::MassExport => Duration::hours(1),
            Rule::AdminNewNetwork | Rule::AuditRelevantChange | Rule::AccountSecured => Duration::zero(),
        }
    }

    fn severity(self) -> Severity {
        match self {
            Rule::AuditRelevantChange => Severity::Info,
            Rule::AdminNewNetwork | Rule::AccountSecured => Severity::Warning,
            _ => Severity::Critical,
        }
    }
}

/// An alert as Owners and Auditors see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: Uuid,
    pub raised_at: DateTime<Utc>,
    pub rule: String,
    pub label: String,
    pub severity: Severity,
    pub count: i32,
    pub window_minutes: i32,
    pub actor: Option<UserId>,
    pub network_tag: Option<String>,
    pub account_tag: Option<String>,
    pub entry_seq: i64,
    pub acknowledged: Option<(UserId, DateTime<Utc>)>,
}

fn to_alert(row: audit_alerts::Model) -> Result<Alert> {
    Ok(Alert {
        id: row.id,
        raised_at: row.raised_at,
        label: Rule::from_code(&row.rule).map_or_else(|| row.rule.clone(), |rule| rule.label().to_owned()),
        rule: row.rule,
        severity: Severity::from_stored(&row.severity)?,
        count: row.count,
        window_minutes: row.window_minutes,
        actor: row.actor_id.map(UserId::from_uuid),
        network_tag: row.network_tag,
        account_tag: row.account_tag,
        entry_seq: row.entry_seq,
        acknowledged: row
            .acknowledged_by
            .zip(row.acknowledged_at)
            .map(|(by, at)| (UserId::from_uuid(by), at)),
    })
}

/// The workplace's newest alerts, newest first.
pub async fn alerts(tenant: &TenantDb, limit: u64) -> Result<Vec<Alert>> {
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let rows = tenant
        .select::<audit_alerts::Entity>()
        .order_by_desc(audit_alerts::Column::RaisedAt)
        .limit(limit.min(200))
        .all(&txn)
        .await?;
    txn.commit().await?;
    tenant.touch(EntityType::Alert, rows.iter().map(|row| row.id));
    rows.into_iter().map(to_alert).collect()
}

/// How many alerts nobody has acknowledged yet (for the banner).
pub async fn open_alert_count(tenant: &TenantDb) -> Result<u64> {
    let identity = tenant.person()?;
    use sea_orm::PaginatorTrait;
    if !policy::allows(identity, Action::ViewAudit, Resource::Workplace) {
        return Ok(0);
    }
    let txn = tenant.begin_read().await?;
    let count = tenant
        .select::<audit_alerts::Entity>()
        .filter(audit_alerts::Column::AcknowledgedAt.is_null())
        .count(&txn)
        .await?;
    txn.commit().await?;
    Ok(count)
}

pub async fn acknowledge(tenant: &TenantDb, alert: Uuid, now: DateTime<Utc>) -> Result<()> {
    let identity = tenant.person()?;
    tenant.require(Action::ViewAudit, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let row = tenant
        .select::<audit_alerts::Entity>()
        .filter(audit_alerts::Column::Id.eq(alert))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    if row.acknowledged_at.is_none() {
        let mut row: audit_alerts::ActiveModel = row.into();
        row.acknowledged_by = Set(Some(identity.user_id.uuid()));
        row.acknowledged_at = Set(Some(now));
        row.update(&txn).await?;
    }
    tenant.touch(EntityType::Alert, [alert]);
    txn.commit().await
}

/// The key a rule counts by, for one entry.
fn key_of(rule: Rule, entry: &audit_log::Model) -> Option<String> {
    match rule {
        Rule::AccountSignInFailures => entry.account_tag.clone().or_else(|| {
            entry
                .entity_ids
                .as_deref()
                .and_then(|ids| ids.split(' ').next())
                .map(str::to_owned)
        }),
        Rule::NetworkSignInFailures => entry.network_tag.clone(),
        Rule::DenialBurst | Rule::MassExport | Rule::AdminNewNetwork => {
            entry.actor_id.map(|id| id.to_string())
        }
        Rule::AuditRelevantChange | Rule::AccountSecured => Some(entry.id.to_string()),
    }
}

fn matches(rule: Rule, entry: &audit_log::Model) -> bool {
    let outcome = entry.outcome.as_str();
    match rule {
        Rule::AccountSignInFailures | Rule::NetworkSignInFailures => {
            SIGN_IN_ACTIONS.contains(&entry.action.as_str()) && outcome == Outcome::Unauthenticated.code()
        }
        Rule::DenialBurst => outcome == Outcome::Denied.code(),
        Rule::MassExport => EXPORT_ACTIONS.contains(&entry.action.as_str()) && outcome == Outcome::Ok.code(),
        Rule::AdminNewNetwork => entry.action == "account/log_in" && outcome == Outcome::Ok.code(),
        Rule::AuditRelevantChange => is_audit_relevant(&entry.action) && outcome == Outcome::Ok.code(),
        Rule::AccountSecured => {
            SECURED_ACCOUNT_ACTIONS.contains(&entry.action.as_str()) && outcome == Outcome::Ok.code()
        }
    }
}

struct Raised {
    rule: Rule,
    count: usize,
    entry: audit_log::Model,
}

/// Applies every rule to `fresh` entries, counting within `recent` (which includes them).
async fn evaluate(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
    roles: &crate::access::roles::WorkplaceRoles,
    settings: &super::review::Settings,
    fresh: &[audit_log::Model],
    recent: &[audit_log::Model],
    already: &BTreeSet<(String, String)>,
) -> Result<Vec<Raised>> {
    let limit = |rule: Rule| -> usize {
        let value = match rule {
            Rule::AccountSignInFailures | Rule::NetworkSignInFailures => settings.failed_sign_in_limit,
            Rule::DenialBurst => settings.denial_limit,
            Rule::MassExport => settings.export_limit,
            Rule::AdminNewNetwork | Rule::AuditRelevantChange | Rule::AccountSecured => 1,
        };
        usize::try_from(value.max(1)).unwrap_or(1)
    };
    let mut raised = Vec::new();
    let mut seen: BTreeSet<(String, String)> = already.clone();
    let rules = [
        Rule::AccountSignInFailures,
        Rule::NetworkSignInFailures,
        Rule::DenialBurst,
        Rule::MassExport,
        Rule::AdminNewNetwork,
        Rule::AuditRelevantChange,
        Rule::AccountSecured,
    ];
    let mut admin_cache: HashMap<Uuid, bool> = HashMap::new();
    for entry in fresh {
        for rule in rules {
            if !matches(rule, entry) {
                continue;
            }
            let Some(key) = key_of(rule, entry) else { continue };
            if seen.contains(&(rule.code().to_owned(), key.clone())) {
                continue;
            }
            let count = match rule {
                Rule::AdminNewNetwork => {
                    let (Some(actor), Some(network)) = (entry.actor_id, entry.network_tag.as_deref()) else {
                        continue;
                    };
                    let is_admin = match admin_cache.get(&actor) {
                        Some(known) => *known,
                        None => {
                            let person = tenant
                                .select::<users::Entity>()
                                .filter(users::Column::Id.eq(actor))
                                .one(conn)
                                .await?;
                            let admin = match person {
                                Some(person) => policy::has_admin_rights(
                                    &roles.resolve(&person.role, person.custom_role_id)?,
                                ),
                                None => false,
                            };
                            admin_cache.insert(actor, admin);
                            admin
                        }
                    };
                    if !is_admin {
                        continue;
                    }
                    let earlier = tenant
                        .select::<audit_log::Entity>()
                        .filter(audit_log::Column::Seq.lt(entry.seq))
                        .filter(audit_log::Column::ActorId.eq(actor))
                        .filter(audit_log::Column::Action.eq("account/log_in"))
                        .filter(audit_log::Column::Outcome.eq(Outcome::Ok.code()))
                        .all(conn)
                        .await?;
                    // The very first sign-in is not news; a network never seen before is.
                    if earlier.is_empty() || earlier.iter().any(|e| e.network_tag.as_deref() == Some(network))
                    {
                        continue;
                    }
                    1
                }
                // One entry is the news.
                Rule::AuditRelevantChange | Rule::AccountSecured => 1,
                _ => {
                    let since = entry.occurred_at - rule.window();
                    recent
                        .iter()
                        .filter(|other| {
                            other.seq <= entry.seq
                                && other.occurred_at > since
                                && matches(rule, other)
                                && key_of(rule, other).as_deref() == Some(key.as_str())
                        })
                        .count()
                }
            };
            if count >= limit(rule) {
                seen.insert((rule.code().to_owned(), key));
                raised.push(Raised {
                    rule,
                    count,
                    entry: entry.clone(),
                });
            }
        }
    }
    Ok(raised)
}

/// What one monitoring run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonitorRun {
    pub alerts: Vec<(WorkplaceId, Rule)>,
    pub reminders: usize,
}

/// Applies the rules to every workplace's entries written since the last run, stores the
/// alerts, emails them (and due review reminders) to the workplace's Owners and Auditors.
pub async fn run(
    db: &Database,
    mail: &crate::platform::mail_queue::MailQueue,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<MonitorRun> {
    use crate::platform::mail_queue::MailKind;
    let mut outcome = MonitorRun::default();
    let workplaces: Vec<(Uuid, DateTime<Utc>)> = workplaces::Entity::find()
        .select_only()
        .column(workplaces::Column::Id)
        .column(workplaces::Column::CreatedAt)
        .into_tuple()
        .all(db.connection())
        .await?;
    let link = format!("{}/audit", public_url.trim_end_matches('/'));
    for (id, created_at) in workplaces {
        let workplace = WorkplaceId::from_uuid(id);
        let tenant = TenantDb::for_system(db, workplace, "audit-monitor");
        let (raised, remind) = monitor_workplace(&tenant, created_at, now).await?;
        if raised.is_empty() && remind.is_none() {
            continue;
        }
        // Owners, Auditors, and any role the workplace gave `audit`.
        let recipients =
            crate::organisation::people::contacts_whose_role(&tenant, policy::watches_audit_log).await?;
        let mut notices = Vec::new();
        for rule in &raised {
            outcome.alerts.push((workplace, *rule));
            notices.extend(
                recipients
                    .iter()
                    .map(|(to, name)| audit_alert_mail(to, name, rule.label(), &link)),
            );
        }
        if let Some(due) = remind {
            let due = due.format("%-d %B %Y").to_string();
            let reminders: Vec<_> = recipients
                .iter()
                .map(|(to, name)| audit_review_due_mail(to, name, &due, &link))
                .collect();
            outcome.reminders += reminders.len();
            notices.extend(reminders);
        }
        // The alerts are stored already: mail that cannot be queued is logged, not retried here.
        if let Err(err) = mail
            .enqueue_all(Some(workplace), MailKind::AuditNotice, notices, now)
            .await
        {
            tracing::warn!(code = err.code(), %workplace, "audit notices could not be queued");
        }
    }
    Ok(outcome)
}

/// One workplace's part of a run, in one transaction: the alerts it raised, and the review due
/// date when a reminder should go out now.
async fn monitor_workplace(
    tenant: &TenantDb,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(Vec<Rule>, Option<DateTime<Utc>>)> {
    let workplace = tenant.workplace_id();
    let txn = tenant.begin_unlogged().await?;
    let row = tenant.select::<audit_settings::Entity>().one(&txn).await?;
    let settings = settings_from(row.as_ref());
    let monitored = row.as_ref().map_or(0, |row| row.monitored_seq);
    let fresh = tenant
        .select::<audit_log::Entity>()
        .filter(audit_log::Column::Seq.gt(monitored))
        .order_by_asc(audit_log::Column::Seq)
        .limit(BATCH)
        .all(&txn)
        .await?;
    let mut raised_rules = Vec::new();
    if let Some(first) = fresh.first() {
        let since = first.occurred_at - Duration::hours(1);
        let recent = tenant
            .select::<audit_log::Entity>()
            .filter(audit_log::Column::OccurredAt.gte(since))
            .filter(audit_log::Column::Category.eq(Category::Security.code()))
            .filter(audit_log::Column::Seq.lte(fresh.last().map_or(0, |e| e.seq)))
            .order_by_asc(audit_log::Column::Seq)
            .all(&txn)
            .await?;
        // An alert for the same rule and key within its window is not raised twice.
        let mut already = BTreeSet::new();
        for alert in tenant
            .select::<audit_alerts::Entity>()
            .filter(audit_alerts::Column::RaisedAt.gte(since))
            .all(&txn)
            .await?
        {
            let key = alert
                .account_tag
                .clone()
                .or(alert.network_tag.clone())
                .or(alert.actor_id.map(|id| id.to_string()));
            if let (Some(rule), Some(key)) = (Rule::from_code(&alert.rule), key) {
                if rule.window() > Duration::zero() && alert.raised_at + rule.window() > first.occurred_at {
                    already.insert((alert.rule.clone(), key));
                }
            }
        }
        let roles = crate::access::roles::WorkplaceRoles::load(&txn, workplace).await?;
        let raised = evaluate(tenant, &txn, &roles, &settings, &fresh, &recent, &already).await?;
        for found in &raised {
            let alert_id = Uuid::new_v4();
            let by_actor = matches!(
                found.rule,
                Rule::DenialBurst | Rule::MassExport | Rule::AdminNewNetwork
            );
            audit_alerts::ActiveModel {
                id: Set(alert_id),
                workplace_id: Set(workplace.uuid()),
                raised_at: Set(now),
                rule: Set(found.rule.code().to_owned()),
                severity: Set(found.rule.severity().code().to_owned()),
                count: Set(i32::try_from(found.count).unwrap_or(i32::MAX)),
                window_minutes: Set(i32::try_from(found.rule.window().num_minutes()).unwrap_or(0)),
                actor_id: Set(found.entry.actor_id.filter(|_| {
                    by_actor || matches!(found.rule, Rule::AuditRelevantChange | Rule::AccountSecured)
                })),
                network_tag: Set(found.entry.network_tag.clone()),
                account_tag: Set(found
                    .entry
                    .account_tag
                    .clone()
                    .filter(|_| found.rule == Rule::AccountSignInFailures)),
                entry_seq: Set(found.entry.seq),
                acknowledged_by: Set(None),
                acknowledged_at: Set(None),
            }
            .insert(&txn)
            .await?;
            crate::platform::security_events::store_and_log(
                &txn,
                &SecurityEvent::new(EventKind::AlertRaised, now)
                    .in_workplace(workplace)
                    .about(EntityType::Alert.code(), Some(alert_id)),
            )
            .await?;
            raised_rules.push(found.rule);
        }
    }
    let last_seen = fresh.last().map_or(monitored, |e| e.seq);
    let status =
        super::review::review_status_in(&txn, workplace, settings.review_interval_days, created_at, now)
            .await?;
    let reminded_at = row.as_ref().and_then(|row| row.review_reminded_at);
    let remind = status.overdue && reminded_at.is_none_or(|at| at < status.due_at);
    match row {
        Some(row) => {
            let mut row: audit_settings::ActiveModel = row.into();
            row.monitored_seq = Set(last_seen);
            if remind {
                row.review_reminded_at = Set(Some(now));
            }
            row.update(&txn).await?;
        }
        None => {
            super::review::new_settings_row(workplace, Default::default(), last_seen, remind.then_some(now))
                .insert(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok((raised_rules, remind.then_some(status.due_at)))
}

/// Deletes entries older than each workplace's retention (the instance's: a year), and records
/// each purge in the chain it shortened. Returns (chain, entries deleted) for chains that lost any.
pub async fn purge_expired(db: &Database, now: DateTime<Utc>) -> Result<Vec<(Option<WorkplaceId>, u64)>> {
    let mut purged = Vec::new();
    let ids: Vec<Uuid> = workplaces::Entity::find()
        .select_only()
        .column(workplaces::Column::Id)
        .into_tuple()
        .all(db.connection())
        .await?;
    for id in ids {
        let workplace = WorkplaceId::from_uuid(id);
        let tenant = TenantDb::for_system(db, workplace, "audit-retention");
        let txn = tenant.begin_unlogged().await?;
        let settings = super::review::settings_in(&tenant, &txn).await?;
        let cutoff = now - Duration::days(i64::from(settings.retention_days));
        let deleted = crate::platform::audit::purge_before(&txn, Some(workplace), cutoff).await?;
        if deleted > 0 {
            crate::platform::audit::append(&txn, &[purge_entry(Some(workplace), deleted, now)]).await?;
            purged.push((Some(workplace), deleted));
        }
        txn.commit().await?;
    }
    let txn = db.begin_write().await?;
    let cutoff = now - Duration::days(i64::from(super::review::Settings::default().retention_days));
    let deleted = crate::platform::audit::purge_before(&txn, None, cutoff).await?;
    if deleted > 0 {
        crate::platform::audit::append(&txn, &[purge_entry(None, deleted, now)]).await?;
        purged.push((None, deleted));
    }
    txn.commit().await?;
    for (chain, deleted) in &purged {
        let chain = chain.map_or_else(|| "instance".to_owned(), |w| w.to_string());
        tracing::info!(%chain, deleted, "audit entries past their retention deleted");
    }
    Ok(purged)
}

fn purge_entry(workplace: Option<WorkplaceId>, deleted: u64, now: DateTime<Utc>) -> Entry {
    let mut entry = Entry::new(EventKind::AuditLogPurged.code(), Category::Security, now);
    entry.workplace = workplace;
    entry.entity_type = Some(EntityType::AuditLog.code().to_owned());
    entry.entity_count = usize::try_from(deleted).unwrap_or(usize::MAX);
    entry
}

/// Writes every chain's head to the server log. Kept outside the database, these lines let
/// `candor audit verify --anchor` prove that no entry up to them was removed or rewritten.
pub async fn anchor(db: &Database) -> Result<usize> {
    let heads = crate::platform::entities::audit_chains::Entity::find()
        .all(db.connection())
        .await?;
    for head in &heads {
        let chain = head
            .workplace_id
            .map_or_else(|| "instance".to_owned(), |id| id.to_string());
        tracing::info!(
            anchor = %format!("{chain}:{}:{}", head.last_seq, crate::platform::text::hex(&head.last_hash)),
            "audit anchor"
        );
    }
    Ok(heads.len())
}

/// A monitoring rule raised an alert in the person's workplace. Says which rule, never who.
fn audit_alert_mail(to: &str, name: &str, rule: &str, link: &str) -> crate::platform::mail::Mail {
    crate::platform::mail::Mail {
        to: to.to_owned(),
        subject: format!("Candor security alert: {rule}"),
        body: format!(
            "Hello {name},\n\nCandor's monitoring raised an alert in your workplace: {rule}.\n\n\
             Review it, and the log entries behind it, here:\n\n{link}\n\n\
             You receive this because you are an Owner or Auditor of the workplace.\n\n— Candor\n"
        ),
    }
}

/// The workplace's access log is due for its regular review.
fn audit_review_due_mail(to: &str, name: &str, due: &str, link: &str) -> crate::platform::mail::Mail {
    crate::platform::mail::Mail {
        to: to.to_owned(),
        subject: "Candor: the access log is due for review".to_owned(),
        body: format!(
            "Hello {name},\n\nyour workplace reviews its access log regularly; the next review was due on \
             {due}.\n\nOpen the log and mark what you reviewed:\n\n{link}\n\n— Candor\n"
        ),
    }
}
