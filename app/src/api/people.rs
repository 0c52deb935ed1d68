//! People server functions: the list (search, filters, pages), a person's record and what they
//! can see, invitations (send, resend, revoke, accept), status, role, department and grants.
//! Each authenticates the caller and calls the domain, which asks the policy through the
//! tenant scope.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ids::{DepartmentId, PersonId, RoleKey};
use crate::{error::ApiError, model::PersonStatus};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub id: PersonId,
    pub name: String,
    pub email: String,
    pub department: Option<String>,
    pub role: String,
    pub status: PersonStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleList {
    pub people: Vec<PersonRow>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub can_manage: bool,
    /// Active departments, in tree order with indented labels, for filters and forms.
    pub departments: Vec<Choice>,
    /// Roles the caller may give.
    pub roles: Vec<Choice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub id: PersonId,
    pub name: String,
    pub email: String,
    pub department_id: Option<DepartmentId>,
    pub department: Option<String>,
    pub role_key: RoleKey,
    pub role: String,
    pub status: PersonStatus,
    pub start_date: Option<String>,
    /// Sentences saying what this person can see and do, and why.
    pub access: Vec<String>,
    pub grants: Vec<DepartmentId>,
    /// The role's results (and view of people) are limited to granted departments.
    pub uses_grants: bool,
    pub can_manage: bool,
    /// The record is the caller's own.
    pub is_self: bool,
    /// Processing restricted on their request.
    pub restricted: bool,
    /// The caller may carry out data-protection requests about them.
    pub can_handle_requests: bool,
    pub departments: Vec<Choice>,
    pub roles: Vec<Choice>,
}

/// A row of an uploaded CSV file, as read, with what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowView {
    pub line: usize,
    pub name: String,
    pub email: String,
    pub department: String,
    pub role: String,
    pub start_date: String,
    pub errors: Vec<String>,
}

/// A checked file: how many rows, how many with problems, and the rows to show (those with
/// problems first, at most [`ImportCheck::ROWS_SHOWN`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCheck {
    pub rows: Vec<ImportRowView>,
    pub total: usize,
    pub with_problems: usize,
    pub valid: bool,
}

impl ImportCheck {
    /// A 10,000-row file is checked whole but shown in part.
    pub const ROWS_SHOWN: usize = 200;
}

/// An import that has started; `people/import_progress` follows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStarted {
    pub id: String,
    pub total: usize,
}

/// How far an import is; `outcome` once it is done (how many were invited, or why none were).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgressView {
    pub invited: usize,
    pub total: usize,
    pub outcome: Option<Result<usize, ApiError>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationGreeting {
    pub name: String,
    pub email: String,
    pub workplace_name: String,
}

#[cfg(feature = "ssr")]
pub(crate) use ssr::role_access;
#[cfg(feature = "ssr")]
use ssr::{record, run_import, send_invitations};

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    //! What the people server functions share on the server only.

    use std::collections::BTreeMap;

    use domain::{
        organisation::{departments::Department, people::Status},
        platform::{
            ids::DepartmentId,
            policy::{Permission, RoleDefinition},
            tenant::TenantDb,
        },
    };

    use super::*;

    /// A start date as a form sends it: empty for none, else `YYYY-MM-DD`.
    pub fn optional_date(text: &str) -> Result<Option<chrono::NaiveDate>, domain::Error> {
        match text.trim() {
            "" => Ok(None),
            text => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| domain::Error::Invalid {
                    field: "start date",
                    reason: "is not a date like 2026-03-01".into(),
                }),
        }
    }

    /// The browser's name for a person's status.
    pub fn person_status(status: Status) -> PersonStatus {
        match status {
            Status::Invited => PersonStatus::Invited,
            Status::Active => PersonStatus::Active,
            Status::Suspended => PersonStatus::Suspended,
            Status::Left => PersonStatus::Left,
        }
    }

    /// The domain's status for the browser's name.
    pub fn domain_status(status: PersonStatus) -> Status {
        match status {
            PersonStatus::Invited => Status::Invited,
            PersonStatus::Active => Status::Active,
            PersonStatus::Suspended => Status::Suspended,
            PersonStatus::Left => Status::Left,
        }
    }

    /// Active departments in tree order, labels indented by depth.
    pub fn department_choices(all: &[Department]) -> Vec<Choice> {
        let mut children: BTreeMap<Option<DepartmentId>, Vec<&Department>> = BTreeMap::new();
        for d in all.iter().filter(|d| !d.archived) {
            children.entry(d.parent).or_default().push(d);
        }
        for list in children.values_mut() {
            list.sort_by_key(|d| d.name.to_lowercase());
        }
        fn walk(
            parent: Option<DepartmentId>,
            depth: usize,
            children: &BTreeMap<Option<DepartmentId>, Vec<&Department>>,
            out: &mut Vec<Choice>,
        ) {
            for d in children.get(&parent).into_iter().flatten() {
                out.push(Choice {
                    value: d.id.to_string(),
                    label: format!("{}{}", "— ".repeat(depth), d.name),
                });
                walk(Some(d.id), depth + 1, children, out);
            }
        }
        let mut out = Vec::new();
        walk(None, 0, &children, &mut out);
        out
    }

    pub fn names(all: &[Department]) -> BTreeMap<DepartmentId, String> {
        all.iter().map(|d| (d.id, d.name.clone())).collect()
    }

    /// The workplace's roles (built-in and its own) the caller may give.
    pub async fn assignable_roles(tenant: &TenantDb) -> Result<Vec<Choice>, domain::Error> {
        Ok(domain::access::roles::assignable(tenant)
            .await?
            .into_iter()
            .map(|role| Choice {
                value: role.key.to_string(),
                label: role.name,
            })
            .collect())
    }

    /// Sentences saying what a role lets its holder see and do.
    pub fn role_access(role: &RoleDefinition) -> Vec<String> {
        let mut access: Vec<String> = role
            .permissions
            .iter()
            .map(|p| {
                match p {
                    Permission::Settings => "Changes workplace settings.",
                    Permission::Billing => "Manages the plan and invoices.",
                    Permission::People => "Manages departments, people and invitations.",
                    Permission::Surveys => "Creates and runs surveys.",
                    Permission::Results if role.results_limited_to_grants => {
                        "Sees results and people only for the departments granted below (and everything inside them)."
                    }
                    Permission::Results => "Sees results for the whole workplace.",
                    Permission::Audit => "Reviews the access log and security events.",
                    Permission::Roles => "Defines roles and gives any role, including Owner.",
                }
                .to_owned()
            })
            .collect();
        if access.is_empty() {
            access.push(
                "Answers check-ins and sees only their own record. No access to other people's data.".into(),
            );
        }
        access
    }

    pub(super) async fn record(
        who: &domain::platform::policy::Identity,
        tenant: &domain::platform::tenant::TenantDb,
        id: domain::platform::ids::UserId,
    ) -> Result<PersonRecord, ApiError> {
        use domain::platform::policy::{allows, require, Action, Resource};
        let found = domain::organisation::people::get(tenant, id).await?;
        require(
            who,
            Action::ViewPerson,
            Resource::Person {
                id,
                department: found.department,
            },
        )?;
        let can_manage = allows(who, Action::ManagePeople, Resource::Workplace);
        let departments = domain::organisation::departments::list(tenant).await?;
        let names = names(&departments);
        let grants = domain::organisation::people::grants(tenant, id).await?;
        let mut access = role_access(&found.role);
        access.insert(0, format!("Role: {}.", found.role.name));
        Ok(PersonRecord {
            restricted: found.restricted,
            can_handle_requests: allows(who, Action::HandleDataRequests, Resource::Workplace),
            id: found.id.into(),
            department_id: found.department.map(Into::into),
            department: found.department.and_then(|d| names.get(&d).cloned()),
            role_key: found.role.key.into(),
            role: found.role.name.clone(),
            status: person_status(found.status),
            start_date: found.start_date.map(|d| d.to_string()),
            access,
            grants: grants.iter().map(|d| (*d).into()).collect(),
            uses_grants: found.role.results_limited_to_grants,
            can_manage,
            is_self: found.id == who.user_id,
            departments: department_choices(&departments),
            roles: assignable_roles(tenant).await?,
            name: found.name,
            email: found.email,
        })
    }

    /// Queues the invitation emails of `workplace`, all in one go.
    /// Makes an import's invitations in a task of its own and mails them; `job` tells the page
    /// how far it is and how it ended (a panic included). The request's trail logged that the
    /// file was accepted; the invitations are logged by their commits, and a failure after the
    /// answer left gets an entry of its own.
    pub(super) fn run_import(
        state: crate::state::AppState,
        tenant: domain::platform::tenant::TenantDb,
        prepared: domain::organisation::people_import::Prepared,
        now: chrono::DateTime<chrono::Utc>,
        job: std::sync::Arc<crate::imports::ImportJob>,
    ) {
        let trail = crate::request::trail();
        let importing = tokio::spawn({
            let job = std::sync::Arc::clone(&job);
            async move {
                let outcome = match prepared.invite(&tenant, now, job.progress()).await {
                    Ok(invitations) => send_invitations(&state, tenant.workplace_id(), &invitations)
                        .await
                        .map(|()| invitations.len()),
                    Err(err) => Err(ApiError::from(err)),
                };
                if let (Err(err), Some(trail)) = (&outcome, trail) {
                    if let Err(unlogged) = state.access_log.finish(&trail, err.status).await {
                        tracing::error!(code = unlogged.code(), "a failed import could not be logged");
                    }
                }
                outcome
            }
        });
        tokio::spawn(async move {
            let outcome = importing.await.unwrap_or_else(|_| {
                Err(ApiError::from(domain::Error::Internal(
                    "the import stopped".into(),
                )))
            });
            job.finish(outcome);
        });
    }

    pub(super) async fn send_invitations(
        state: &crate::state::AppState,
        workplace: domain::platform::ids::WorkplaceId,
        invitations: &[domain::organisation::people::Invitation],
    ) -> Result<(), ApiError> {
        let mails = invitations
            .iter()
            .map(|invitation| {
                let link = format!(
                    "{}/invitation?token={}",
                    state.public_url,
                    invitation.token.expose()
                );
                domain::organisation::messages::invitation(
                    &invitation.email,
                    &invitation.name,
                    &invitation.workplace_name,
                    &link,
                )
            })
            .collect();
        let queued = state
            .mail
            .enqueue_all(
                Some(workplace),
                domain::platform::mail_queue::MailKind::Invitation,
                mails,
                state.clock.now(),
            )
            .await?;
        // An address the mail library refuses is the HR admin's to correct: say so.
        if queued < invitations.len() {
            return Err(domain::Error::Invalid {
                field: "email",
                reason: format!(
                    "{} of the addresses cannot be mailed; correct them and resend the invitations",
                    invitations.len() - queued
                ),
            }
            .into());
        }
        Ok(())
    }
}

#[server(prefix = "/api", endpoint = "people/list")]
pub async fn people(
    search: String,
    department: DepartmentId,
    status: Option<PersonStatus>,
    page: usize,
) -> Result<PeopleList, ApiError> {
    use domain::platform::policy::{allows, people_scope, Action, Resource};
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    if search.chars().count() > 200 {
        return Err(domain::Error::Invalid {
            field: "search",
            reason: "is longer than 200 characters".into(),
        }
        .into());
    }
    let status = status.map(ssr::domain_status);
    let filter = domain::organisation::people::Filter {
        search,
        department: department.parse_optional()?,
        status,
        page,
    };
    let listed = state
        .directory
        .list(&tenant, &people_scope(&who), &filter)
        .await?;
    let departments = state.directory.departments(&tenant).await?;
    let names = ssr::names(&departments);
    Ok(PeopleList {
        people: listed
            .people
            .into_iter()
            .map(|p| PersonRow {
                id: p.id.into(),
                department: p.department.and_then(|d| names.get(&d).cloned()),
                name: p.name,
                email: p.email,
                role: p.role.name,
                status: ssr::person_status(p.status),
            })
            .collect(),
        total: listed.total,
        page: listed.page,
        pages: listed.pages,
        can_manage: allows(&who, Action::ManagePeople, Resource::Workplace),
        departments: ssr::department_choices(&departments),
        roles: ssr::assignable_roles(&tenant).await?,
    })
}

#[server(prefix = "/api", endpoint = "people/get")]
pub async fn person(id: PersonId) -> Result<PersonRecord, ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    record(&who, &tenant, id.parse()?).await
}

/// The caller's own record: name, department, role and what that lets them see.
#[server(prefix = "/api", endpoint = "people/mine")]
pub async fn my_profile() -> Result<PersonRecord, ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_identity(&state).await?;
    record(&who, &tenant, who.user_id).await
}

#[server(prefix = "/api", endpoint = "people/invite")]
pub async fn invite_person(
    name: String,
    email: String,
    department: DepartmentId,
    role: RoleKey,
    start_date: String,
) -> Result<String, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let start_date = ssr::optional_date(&start_date)?;
    let invitation = domain::organisation::people::invite(
        &tenant,
        domain::organisation::people::NewPerson {
            name,
            email,
            department: department.parse_optional()?,
            role: role.parse()?,
            start_date,
        },
        state.clock.now(),
    )
    .await?;
    send_invitations(&state, tenant.workplace_id(), std::slice::from_ref(&invitation)).await?;
    Ok(invitation.person.to_string())
}

#[server(prefix = "/api", endpoint = "people/resend_invitation")]
pub async fn resend_invitation(id: PersonId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let invitation =
        domain::organisation::people::resend_invitation(&tenant, id.parse()?, state.clock.now()).await?;
    send_invitations(&state, tenant.workplace_id(), std::slice::from_ref(&invitation)).await
}

/// Corrects a person's name, address and start date (the right to rectification). Needs the
/// caller's second factor given in the last few minutes: a new address is how the person signs
/// in from then on. When the address changes, a pending invitation goes to the new one, and an
/// account's owner is told at both.
#[server(prefix = "/api", endpoint = "people/correct_details")]
pub async fn correct_person_details(
    id: PersonId,
    name: String,
    email: String,
    start_date: String,
) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_recent_identity(&state).await?;
    let correction = domain::organisation::people::Correction {
        name,
        email,
        start_date: ssr::optional_date(&start_date)?,
    };
    let now = state.clock.now();
    let corrected =
        domain::organisation::people::correct_details(&tenant, id.parse()?, correction, now).await?;
    if let Some(invitation) = &corrected.invitation {
        return send_invitations(&state, tenant.workplace_id(), std::slice::from_ref(invitation)).await;
    }
    let Some(previous) = corrected.previous_email else {
        return Ok(());
    };
    // Both are told: the old address learns of the change even if the new one is not theirs.
    let notices = [&previous, &corrected.email]
        .into_iter()
        .map(|to| domain::access::messages::sign_in_address_changed(to, &previous, &corrected.email))
        .collect();
    state
        .mail
        .enqueue_all(
            Some(tenant.workplace_id()),
            domain::platform::mail_queue::MailKind::AddressChange,
            notices,
            now,
        )
        .await?;
    Ok(())
}

/// Corrects the caller's own name.
#[server(prefix = "/api", endpoint = "people/correct_own_name")]
pub async fn correct_own_name(name: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::organisation::people::correct_own_name(&tenant, &name, state.clock.now()).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "people/revoke_invitation")]
pub async fn revoke_invitation(id: PersonId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    domain::organisation::people::revoke_invitation(&tenant, id.parse()?).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "people/set_status")]
pub async fn set_person_status(id: PersonId, status: PersonStatus) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let status = ssr::domain_status(status);
    domain::organisation::people::set_status(&tenant, id.parse()?, status, state.clock.now()).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "people/set_role")]
pub async fn set_person_role(id: PersonId, role: RoleKey) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    domain::organisation::people::set_role(&tenant, id.parse()?, role.parse()?).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "people/set_department")]
pub async fn set_person_department(id: PersonId, department: DepartmentId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    domain::organisation::people::set_department(&tenant, id.parse()?, department.parse_optional()?).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "people/set_grants")]
pub async fn set_person_grants(
    id: PersonId,
    // An empty list (no grants) sends no field at all.
    #[server(default)] departments: Vec<DepartmentId>,
) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_identity(&state).await?;
    let id = id.parse()?;
    let departments = departments
        .iter()
        .map(|d| d.parse())
        .collect::<Result<std::collections::BTreeSet<domain::platform::ids::DepartmentId>, _>>()?;
    domain::organisation::people::set_grants(&tenant, id, &departments, state.clock.now()).await?;
    Ok(())
}

/// For someone who lost every factor: removes their factors and recovery codes and ends their
/// sessions; they set up a new factor at their next sign-in. Needs the caller's second factor
/// given in the last few minutes. People reset their own factors on their sign-in methods page.
#[server(prefix = "/api", endpoint = "people/reset_factors")]
pub async fn reset_person_factors(id: PersonId) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let (who, tenant) = crate::session::require_recent_identity(&state).await?;
    let id: domain::platform::ids::UserId = id.parse()?;
    if id == who.user_id {
        return Err(domain::Error::Invalid {
            field: "person",
            reason: "Change your own factors on your sign-in methods page.".into(),
        }
        .into());
    }
    domain::access::factors::reset_for_person(&tenant, id, state.clock.now()).await?;
    Ok(())
}

/// "This account may be compromised", for someone the caller manages: ends their sessions,
/// forgets their devices, requires a new password at their next sign-in and, with
/// `reset_factors`, removes their second factors. Needs the caller's second factor given in the
/// last few minutes. Returns how many sessions ended.
#[server(prefix = "/api", endpoint = "people/secure_account")]
pub async fn secure_person_account(
    id: PersonId,
    /// An unticked box sends nothing.
    #[server(default)]
    reset_factors: bool,
) -> Result<u64, ApiError> {
    let state = crate::state::app_state()?;
    let (_, tenant) = crate::session::require_recent_identity(&state).await?;
    Ok(
        domain::organisation::people::secure_account(&tenant, id.parse()?, reset_factors, state.clock.now())
            .await?,
    )
}

/// Checks an uploaded CSV file against the workplace without changing anything.
#[server(prefix = "/api", endpoint = "people/preview_import")]
pub async fn preview_import(csv: String) -> Result<ImportCheck, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let preview = domain::organisation::people_import::preview(&tenant, &csv).await?;
    let valid = preview.is_valid();
    let total = preview.rows.len();
    let mut rows = preview.rows;
    // Problems first (a stable sort: each group keeps the file's order).
    rows.sort_by_key(|row| row.errors.is_empty());
    let with_problems = rows.iter().take_while(|row| !row.errors.is_empty()).count();
    Ok(ImportCheck {
        valid,
        total,
        with_problems,
        rows: rows
            .into_iter()
            .take(ImportCheck::ROWS_SHOWN)
            .map(|row| ImportRowView {
                line: row.line,
                name: row.name,
                email: row.email,
                department: row.department,
                role: row.role,
                start_date: row.start_date,
                errors: row.errors,
            })
            .collect(),
    })
}

/// Invites everyone in the CSV file, or no one if any row has an error. Answers once the file
/// is checked; the invitations are made in the background, and `people/import_progress` says
/// how far they are.
#[server(prefix = "/api", endpoint = "people/import")]
pub async fn import_people(csv: String) -> Result<ImportStarted, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    let now = state.clock.now();
    let prepared = domain::organisation::people_import::prepare(&tenant, &csv, now).await?;
    let total = prepared.len();
    let (id, job) = state.imports.start(tenant.workplace_id(), total);
    run_import(state, tenant, prepared, now, job);
    Ok(ImportStarted {
        id: id.to_string(),
        total,
    })
}

/// How far an import of this workplace is, for someone who may import people.
#[server(prefix = "/api", endpoint = "people/import_progress")]
pub async fn import_progress(id: String) -> Result<ImportProgressView, ApiError> {
    let state = crate::state::app_state()?;
    let tenant = crate::session::require_tenant(&state).await?;
    domain::organisation::people_import::may_import(&tenant)?;
    let id = id.parse::<uuid::Uuid>().map_err(|_| domain::Error::NotFound)?;
    let job = state
        .imports
        .find(tenant.workplace_id(), id)
        .ok_or(domain::Error::NotFound)?;
    let (invited, total) = job.counts();
    Ok(ImportProgressView {
        invited,
        total,
        outcome: job.outcome_once_done(),
    })
}

/// Public (the emailed token is the credential): who the invitation is for.
#[server(prefix = "/api", endpoint = "people/invitation")]
pub async fn invitation(token: String) -> Result<InvitationGreeting, ApiError> {
    let state = crate::state::app_state()?;
    let details = domain::access::accounts::invitation_details(&state.db, &token, state.clock.now()).await?;
    // Nobody is signed in: the entry names the workplace and the invited person it was read for.
    if let Some(trail) = crate::request::trail() {
        trail.concerns(details.workplace);
        trail.touch(
            domain::platform::audit::EntityType::Person,
            [details.person.uuid()],
        );
    }
    Ok(InvitationGreeting {
        name: details.name,
        email: details.email,
        workplace_name: details.workplace_name,
    })
}

/// Public (the emailed token is the credential): sets the password and signs in with the
/// password step done; second-factor enrolment comes next.
#[server(prefix = "/api", endpoint = "people/accept_invitation")]
pub async fn accept_invitation(token: String, password: String) -> Result<(), ApiError> {
    let state = crate::state::app_state()?;
    let now = state.clock.now();
    let user_id = domain::access::accounts::accept_invitation(
        &state.db,
        &state.hasher,
        &state.password_policy,
        &token,
        &password,
        now,
    )
    .await?;
    let context = crate::session::sign_in_context(&state);
    let session = domain::access::accounts::start_session(&state.db, user_id, &context, now).await?;
    crate::session::set_session_cookie(&session, state.session_policy.absolute.num_seconds());
    Ok(())
}
