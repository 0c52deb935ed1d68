//! Facts about the running instance: what a customer needs to trust the service, on the public
//! Security page, and the operational detail (versions, key dates, backup sizes, whether
//! row-level security binds the database role) for signed-in Owners only.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::ApiError, transport::TransportMode};
#[cfg(feature = "ssr")]
use ssr::*;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceFacts {
    pub transport: TransportMode,
    pub database_backend: String,
    /// How personal fields are encrypted at rest.
    pub field_cipher: Option<String>,
    pub password_hashing: String,
    pub sign_in: String,
    pub sessions: String,
    pub tenant_separation: String,
    pub backups: String,
    pub restore_drills: String,
    /// Default retention and how a workplace ends.
    #[serde(default)]
    pub retention: String,
    /// When results appear and what protects them over time.
    #[serde(default)]
    pub anonymity: String,
    /// The differential privacy of platform benchmarks.
    #[serde(default)]
    pub benchmarks: String,
}

/// When the instance last backed up and last proved a restore, for a workplace's Owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceOperations {
    pub last_backup: String,
    pub last_drill: String,
}

/// Public: the Security page is readable without signing in and shows no tenant data, and
/// nothing an attacker would plan with (versions, key dates, backup sizes and times, whether
/// row-level security binds the database role): the operator has those from the CLI and the
/// server log, and a workplace's Owner sees when backups and restore drills last ran
/// ([`operational_facts`]).
#[server(prefix = "/api", endpoint = "instance/security_facts")]
pub async fn security_facts() -> Result<InstanceFacts, ApiError> {
    let state = crate::state::app_state()?;
    let db = domain::operations::instance::database_facts(&state.db).await?;
    let encryption = domain::operations::instance::encryption_facts(&state.db).await?;
    let field_cipher = format!(
        "{} for {}. Each workplace has its own data key, stored only wrapped by a master key that is never in the database, and each value is bound to its workplace, table, column and row. Email lookups use a keyed blind index (HMAC-SHA-256).",
        encryption.cipher,
        in_words(&encryption.sealed_fields),
    );
    let tenant_separation = match db.backend {
        "SQLite" => "Every query is scoped to one workplace by Candor (SQLite has no row-level security; PostgreSQL adds it)",
        _ => "Every query is scoped to one workplace by Candor, and PostgreSQL row-level security policies check it again for each transaction",
    }
    .to_owned();
    let (backups, restore_drills) = backup_policy(&state);
    let retention = format!(
        "Each workplace sets its own periods; until it does, people who left are erased after {} months and comments \
         {} months after their round closed, applied daily. Access log entries are kept {} days by default. A \
         workplace's deletion waits {} days (cancellable by its Owners), then removes every row and destroys its keys, \
         and the Owners receive a deletion certificate.",
        domain::compliance::retention::DEFAULT_PEOPLE_LEFT_MONTHS,
        domain::compliance::retention::DEFAULT_COMMENTS_MONTHS,
        domain::compliance::audit_log::review::Settings::default().retention_days,
        domain::compliance::workplace_deletion::DEFAULT_GRACE_DAYS,
    );
    let anonymity = "A round's results are released once, when it closes, on the teams and minimum group size of \
         that moment, and never recomputed; while it is open only participation shows, in steps of the minimum. \
         Before release, every figure is checked together with the others so that no sum or difference of them \
         describes fewer people than the minimum. Answers wait sealed in a ballot box while the round is open and \
         are stored in a shuffled batch when it closes, with no link to who gave them; comment authors reading or \
         answering replies are logged without their name, after the day has ended."
        .to_owned();
    let noise = |enps| domain::surveys::benchmarks::noise(enps);
    let benchmarks = format!(
        "Published with differential privacy for one workplace's whole contribution: ε = {} per publication for \
         all {} questions together (ε = {:.3} each), Laplace noise of scale {:.0} on the sum of 1–5 means ({:.0} for \
         eNPS) and {:.0} on the number of workplaces, which is shown only with that noise. A figure shows only once \
         that noisy number reaches {}. Figures are republished at most every {} days, and one workplace's \
         contribution costs at most ε = {} in any {} days.",
        domain::surveys::benchmarks::EPSILON,
        domain::surveys::benchmarks::published_questions(),
        domain::surveys::benchmarks::per_question_epsilon(),
        noise(false).sum_scale,
        noise(true).sum_scale,
        noise(false).count_scale,
        domain::surveys::benchmarks::workplaces_needed(),
        domain::surveys::benchmarks::REPUBLISH_DAYS,
        domain::surveys::benchmarks::BUDGET,
        domain::surveys::benchmarks::WINDOW_DAYS,
    );
    Ok(InstanceFacts {
        backups,
        restore_drills,
        retention,
        anonymity,
        benchmarks,
        transport: state.transport,
        database_backend: db.backend.to_owned(),
        field_cipher: Some(field_cipher),
        password_hashing: {
            let cost = state.hasher.cost();
            format!(
                "argon2id, {} KiB memory, {} passes, {} lane{}; at least {} characters, common and guessable passwords refused",
                cost.memory_kib,
                cost.passes,
                cost.lanes,
                if cost.lanes == 1 { "" } else { "s" },
                state.password_policy.min_length()
            )
        },
        sign_in: {
            let rule = state.sign_in_guard.address;
            let block = if rule.max_failures == 0 {
                "address blocking is off".to_owned()
            } else {
                format!(
                    "{} failures from one address within {} minutes block it for {} minutes",
                    rule.max_failures,
                    rule.window.num_minutes(),
                    rule.block.num_minutes()
                )
            };
            let factors = if state.relying_party.available() {
                "a passkey (WebAuthn, user verification required), an authenticator app or a recovery code"
            } else {
                "an authenticator app or a recovery code; passkeys need a domain name"
            };
            format!("Password and a second factor ({factors}) for every account; {block}")
        },
        tenant_separation,
        sessions: format!(
            "End after {} idle minutes or {} hours; the browser holds a random token, the database only its hash",
            state.session_policy.idle.num_minutes(),
            state.session_policy.absolute.num_hours()
        ),
    })
}

/// When backups and restore drills last ran (times only; sizes would tell the instance's
/// volume), for a workplace's Owner. Anyone else gets nothing rather than an error: the public
/// Security page asks on every visit, and a refusal there is nothing to log as one.
#[server(prefix = "/api", endpoint = "instance/operations")]
pub async fn operational_facts() -> Result<Option<InstanceOperations>, ApiError> {
    use domain::platform::policy::{allows, Action, Resource};
    let state = crate::state::app_state()?;
    let Some(who) = crate::session::signed_in_identity(&state).await? else {
        return Ok(None);
    };
    if !allows(&who, Action::ViewOperations, Resource::Workplace) {
        return Ok(None);
    }
    let when = |time: chrono::DateTime<chrono::Utc>| time.format("%Y-%m-%d %H:%M UTC").to_string();
    let Some(_) = state.backups else {
        return Ok(Some(InstanceOperations {
            last_backup: "No backups are configured".to_owned(),
            last_drill: "None".to_owned(),
        }));
    };
    let facts = domain::operations::backup::facts(&state.db)
        .await
        .map_err(|err| domain::Error::Internal(err.to_string()))?;
    // The last success, and a failure only when it came after it.
    let latest = |ok: Option<chrono::DateTime<chrono::Utc>>,
                  failed: Option<chrono::DateTime<chrono::Utc>>,
                  describe_ok: &dyn Fn(String) -> String,
                  none_yet: &str,
                  failure: &str| {
        let mut text = ok
            .map(|at| describe_ok(when(at)))
            .unwrap_or_else(|| none_yet.to_owned());
        if let Some(failed) = failed.filter(|failed| ok.is_none_or(|ok| *failed > ok)) {
            text.push_str(&format!("; {failure} {}", when(failed)));
        }
        text
    };
    let last_backup = latest(
        facts.last_backup_at,
        facts.last_backup_failed_at,
        &|at| at,
        "No backup taken yet",
        "the latest attempt failed at",
    );
    let last_drill = latest(
        facts.last_drill_passed_at,
        facts.last_drill_failed_at,
        &|at| format!("Last passed {at}"),
        "None has passed yet",
        "the latest drill failed at",
    );
    Ok(Some(InstanceOperations {
        last_backup,
        last_drill,
    }))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubprocessorView {
    pub name: String,
    pub purpose: String,
    pub location: String,
    pub data_categories: String,
    pub from_date: String,
    /// The last day, once its end is announced.
    pub until_date: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubprocessorsView {
    pub current: Vec<SubprocessorView>,
    pub planned: Vec<SubprocessorView>,
    pub changes: Vec<crate::api::account::SubprocessorChangeView>,
    pub notice_days: i64,
}

/// The operator's subprocessors and every announced change: public, like the Security page.
#[server(prefix = "/api", endpoint = "instance/subprocessors")]
pub async fn subprocessors() -> Result<SubprocessorsView, ApiError> {
    use domain::compliance::subprocessors as list;
    let state = crate::state::app_state()?;
    let listing = list::list(&state.db, state.clock.now().date_naive()).await?;
    let view = |entry: list::Subprocessor| SubprocessorView {
        name: entry.name,
        purpose: entry.purpose,
        location: entry.location,
        data_categories: entry.data_categories,
        from_date: entry.from_date.to_string(),
        until_date: entry.until_date.map(|d| d.to_string()),
    };
    Ok(SubprocessorsView {
        current: listing.current.into_iter().map(view).collect(),
        planned: listing.planned.into_iter().map(view).collect(),
        changes: listing
            .changes
            .into_iter()
            .map(crate::api::account::SubprocessorChangeView::from_domain)
            .collect(),
        notice_days: list::NOTICE_DAYS,
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    //! What this file's server functions share on the server only.

    /// The backup schedule and restore drills as configured (not when they last ran).
    pub(super) fn backup_policy(state: &crate::state::AppState) -> (String, String) {
        let Some(policy) = state.backups else {
            let none = "Not configured on this instance (the operator sets CANDOR_BACKUP_DIR and CANDOR_BACKUP_RECIPIENT)";
            return (none.to_owned(), "None: no backups to restore".to_owned());
        };
        let every = if policy.interval_hours % 24 == 0 {
            match policy.interval_hours / 24 {
                1 => "Daily".to_owned(),
                days => format!("Every {days} days"),
            }
        } else if policy.interval_hours == 1 {
            "Hourly".to_owned()
        } else {
            format!("Every {} hours", policy.interval_hours)
        };
        let key = if policy.drills_here {
            "to the operator's backup key (this server holds its private half to run the restore drills)"
        } else {
            "to the operator's backup key, whose private half is not on this server"
        };
        let backups = format!(
            "{every}, encrypted (age: X25519 and ChaCha20-Poly1305) {key}, to storage apart from the database; each workplace's part under its own key, destroyed when the workplace is deleted; kept {} days, then deleted",
            policy.retention_days
        );
        let restore_drills = format!(
            "Every {} days the newest backup is restored into a scratch database and compared with the backup row by row",
            policy.drill_days
        );
        (backups, restore_drills)
    }

    /// "a", "a and b", "a, b and c".
    pub(super) fn in_words(items: &[&str]) -> String {
        match items {
            [] => String::new(),
            [only] => (*only).to_owned(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }
}
