//! Inviting many people at once from a CSV file: a preview with an error per row, then an
//! all-or-nothing import.
//!
//! Columns (a header row, any order, any case): `name`, `email`, `department`, `role`,
//! `start_date`. Departments are named as on the departments page, or by path
//! ("Operations / Warehouse") when a name is not unique. Roles are Employee or Manager (or any
//! role the importer may give). Dates are YYYY-MM-DD.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    access::accounts::normalise_email,
    organisation::{
        departments,
        people::{self, Invitation, InviteProgress, NewPerson},
    },
    platform::{
        ids::DepartmentId,
        policy::{Action, Resource, Role, RoleDefinition},
        tenant::TenantDb,
    },
    Error, Result,
};
use chrono::{DateTime, NaiveDate, Utc};

/// A whole workplace of up to this many in one file.
pub const MAX_ROWS: usize = 10_000;
/// About a hundred bytes a row.
pub const MAX_BYTES: usize = 1024 * 1024;
const COLUMNS: [&str; 5] = ["name", "email", "department", "role", "start_date"];

/// One data row as read, with what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub name: String,
    pub email: String,
    pub department: String,
    pub role: String,
    pub start_date: String,
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    pub rows: Vec<Row>,
}

impl Preview {
    pub fn is_valid(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(|row| row.errors.is_empty())
    }
}

fn file_error(reason: impl Into<String>) -> Error {
    Error::Invalid {
        field: "file",
        reason: reason.into(),
    }
}

/// Department names and paths ("A / B") that name exactly one active department.
fn department_names(all: &[departments::Department]) -> BTreeMap<String, Option<DepartmentId>> {
    let by_id: BTreeMap<DepartmentId, &departments::Department> = all.iter().map(|d| (d.id, d)).collect();
    let path = |d: &departments::Department| {
        let mut parts = vec![d.name.clone()];
        let mut parent = d.parent;
        // Bounded by the number of departments, in case stored data ever holds a loop.
        for _ in 0..all.len() {
            let Some(above) = parent.and_then(|p| by_id.get(&p)) else {
                break;
            };
            parts.push(above.name.clone());
            parent = above.parent;
        }
        parts.reverse();
        parts.join(" / ")
    };
    let mut names: BTreeMap<String, Option<DepartmentId>> = BTreeMap::new();
    for d in all.iter().filter(|d| !d.archived) {
        for key in [d.name.to_lowercase(), path(d).to_lowercase()] {
            names
                .entry(key)
                .and_modify(|found| {
                    if *found != Some(d.id) {
                        *found = None; // ambiguous
                    }
                })
                .or_insert(Some(d.id));
        }
    }
    names
}

/// Reads and checks the file against the workplace, without changing anything, for someone who
/// may manage people; a row giving a role they may not give is an error of that row.
pub async fn preview(tenant: &TenantDb, text: &str) -> Result<Preview> {
    tenant.require(Action::ManagePeople, Resource::Workplace)?;
    let (preview, _) = check(tenant, text).await?;
    Ok(preview)
}

async fn check(tenant: &TenantDb, text: &str) -> Result<(Preview, Vec<NewPerson>)> {
    let may_give =
        |role: &RoleDefinition| tenant.allows(Action::AssignRole(role.reach()), Resource::Workplace);
    if text.len() > MAX_BYTES {
        return Err(file_error(format!("is larger than {} KiB", MAX_BYTES / 1024)));
    }
    if text.contains('\u{FFFD}') {
        return Err(file_error(
            "is not UTF-8 text. Save it as “CSV UTF-8” and try again.",
        ));
    }
    let text = text.trim_start_matches('\u{FEFF}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| file_error("has no readable header row"))?
        .iter()
        .map(|h| h.to_lowercase().replace(' ', "_"))
        .collect();
    let mut positions = BTreeMap::new();
    for column in COLUMNS {
        let Some(at) = header.iter().position(|h| h == column) else {
            return Err(file_error(format!(
                "needs the columns {} (missing “{column}”)",
                COLUMNS.join(", ")
            )));
        };
        positions.insert(column, at);
    }
    if let Some(unknown) = header.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(file_error(format!(
            "has a column “{unknown}” Candor does not know; the columns are {}",
            COLUMNS.join(", ")
        )));
    }
    let names = department_names(&departments::list(tenant).await?);
    // A role by its name or built-in key, any case.
    let roles: BTreeMap<String, RoleDefinition> = crate::access::roles::list(tenant)
        .await?
        .into_iter()
        .flat_map(|summary| {
            let definition = summary.definition;
            let mut names = vec![(definition.name.to_lowercase(), definition.clone())];
            if let crate::platform::policy::RoleKey::BuiltIn(role) = definition.key {
                names.push((role.key().to_owned(), definition));
            }
            names
        })
        .collect();

    let mut records = Vec::new();
    for (index, record) in reader.records().enumerate() {
        if index >= MAX_ROWS {
            return Err(file_error(format!("has more than {MAX_ROWS} rows; split it")));
        }
        records.push(record.map_err(|_| file_error(format!("line {} cannot be read", index + 2)))?);
    }
    let addresses: Vec<String> = records
        .iter()
        .filter_map(|record| positions.get("email").and_then(|at| record.get(*at)))
        .filter_map(|email| normalise_email(email).ok())
        .collect();
    // Only this workplace's own people: whether an address has an account in another
    // workplace is told at import, once the invitation allowance is spent on it.
    let taken = tenant.emails_taken(&addresses).await?;

    let mut rows = Vec::new();
    let mut people = Vec::new();
    let mut seen_emails = BTreeSet::new();
    for (index, record) in records.into_iter().enumerate() {
        let line = index + 2;
        let field = |column: &str| {
            positions
                .get(column)
                .and_then(|at| record.get(*at))
                .unwrap_or_default()
                .to_owned()
        };
        let mut row = Row {
            line,
            name: field("name"),
            email: field("email"),
            department: field("department"),
            role: field("role"),
            start_date: field("start_date"),
            errors: Vec::new(),
        };
        if row.name.is_empty() {
            row.errors.push("name is missing".into());
        } else if row.name.chars().count() > 200 {
            row.errors.push("name is longer than 200 characters".into());
        }
        let email = match normalise_email(&row.email) {
            Ok(email) => {
                if taken.here.contains(&email) {
                    row.errors
                        .push("this address already belongs to someone in your workplace".into());
                } else if !seen_emails.insert(email.clone()) {
                    row.errors.push("this address appears twice in the file".into());
                }
                email
            }
            Err(err) => {
                row.errors.push(err.public_message());
                String::new()
            }
        };
        let department = match row.department.as_str() {
            "" => None,
            named => match names.get(&named.to_lowercase()) {
                Some(Some(id)) => Some(*id),
                Some(None) => {
                    row.errors.push(format!(
                        "more than one department is called “{named}”; write its path, like “Operations / {named}”"
                    ));
                    None
                }
                None => {
                    row.errors
                        .push(format!("there is no active department “{named}”"));
                    None
                }
            },
        };
        let role = match row.role.as_str() {
            "" => Some(RoleDefinition::built_in(Role::Employee)),
            named => {
                let lower = named.to_lowercase();
                match roles.get(&lower).or_else(|| roles.get(&lower.replace(' ', "_"))) {
                    Some(role) if may_give(role) => Some(role.clone()),
                    Some(role) => {
                        row.errors
                            .push(format!("you may not give the role {}", role.name));
                        None
                    }
                    None => {
                        row.errors.push(format!("“{named}” is not a role"));
                        None
                    }
                }
            }
        };
        let start_date = match row.start_date.as_str() {
            "" => None,
            text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) => Some(date),
                Err(_) => {
                    row.errors.push(format!("“{text}” is not a date like 2026-03-01"));
                    None
                }
            },
        };
        if row.errors.is_empty() {
            if let Some(role) = role {
                people.push(NewPerson {
                    name: row.name.clone(),
                    email,
                    department,
                    role: role.key,
                    start_date,
                });
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(file_error("has a header but no people"));
    }
    Ok((Preview { rows }, people))
}

/// Imports every row or none: any row with an error refuses the whole file. Returns the
/// invitations to email.
pub async fn import(tenant: &TenantDb, text: &str, now: DateTime<Utc>) -> Result<Vec<Invitation>> {
    prepare(tenant, text, now)
        .await?
        .invite(tenant, now, &InviteProgress::default())
        .await
}

/// Whether the person may import people (and follow an import's progress).
pub fn may_import(tenant: &TenantDb) -> Result<()> {
    tenant.require(Action::ManagePeople, Resource::Workplace)
}

/// A checked file whose people are ready to be invited (see [`prepare`]).
#[derive(Debug)]
pub struct Prepared {
    people: Vec<NewPerson>,
}

/// The quick half of [`import`], for an answer while the importer waits: checks the file,
/// spends the invitation allowance and checks no address belongs elsewhere. Then
/// [`Prepared::invite`] makes the invitations, which takes seconds for thousands of people.
pub async fn prepare(tenant: &TenantDb, text: &str, now: DateTime<Utc>) -> Result<Prepared> {
    may_import(tenant)?;
    let (preview, new_people) = check(tenant, text).await?;
    if !preview.is_valid() {
        let bad = preview.rows.iter().filter(|r| !r.errors.is_empty()).count();
        return Err(file_error(format!(
            "has {bad} row(s) with errors; nothing was imported. Fix them and try again."
        )));
    }
    crate::organisation::invitation_budget::spend(tenant, new_people.len(), now).await?;
    let addresses: Vec<String> = new_people.iter().map(|person| person.email.clone()).collect();
    let elsewhere = tenant.emails_taken(&addresses).await?.elsewhere;
    if !elsewhere.is_empty() {
        let lines: Vec<String> = preview
            .rows
            .iter()
            .filter(|row| normalise_email(&row.email).is_ok_and(|email| elsewhere.contains(&email)))
            .map(|row| row.line.to_string())
            .collect();
        return Err(file_error(format!(
            "has addresses that already belong to a Candor account (line {}); nothing was imported. \
             Ask these people for another address, or remove them from the file.",
            lines.join(", ")
        )));
    }
    Ok(Prepared { people: new_people })
}

impl Prepared {
    /// How many people the file invites.
    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// Invites everyone, all or nothing (see [`people::invite_many`]), counting into `progress`.
    pub async fn invite(
        self,
        tenant: &TenantDb,
        now: DateTime<Utc>,
        progress: &InviteProgress,
    ) -> Result<Vec<Invitation>> {
        people::invite_counted(tenant, self.people, now, progress).await
    }
}
