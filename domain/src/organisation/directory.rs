//! The people directory: a workplace's people with their names and addresses opened, sorted by
//! name, for the people list to filter, search and page. Names and addresses are sealed, so the
//! database cannot search them; opening every one on each request costs hundreds of
//! milliseconds at 100,000 people. A [`Directory`] keeps each workplace's opened list in memory
//! and checks one number per request, `workplaces.people_version`, which a database trigger
//! moves on every change to the workplace's people, whoever makes it (another request, a job,
//! the command line, another process). A changed version means the list is opened again.
//!
//! What is kept is what the people page shows anyway. A list nobody asked for in
//! [`IDLE_FOR`] is dropped, and at most [`MOST_WORKPLACES`] lists are kept.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::NaiveDate;
use sea_orm::{EntityTrait, QuerySelect};

use crate::{
    access::roles::WorkplaceRoles,
    platform::{
        entities::{
            departments,
            users::{self, Status},
            workplaces,
        },
        ids::{DepartmentId, UserId, WorkplaceId},
        policy::{RoleDefinition, Scope},
        tenant::TenantDb,
        tree::subtree,
        user_fields,
    },
    Error, Result,
};

/// A list unused this long is dropped, with the opened names in it.
pub const IDLE_FOR: Duration = Duration::from_secs(10 * 60);
/// The most workplaces whose lists are kept; the least recently used goes first.
pub const MOST_WORKPLACES: usize = 16;

/// People a page shows.
pub const PAGE_SIZE: usize = 25;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: RoleDefinition,
    pub department: Option<DepartmentId>,
    pub start_date: Option<NaiveDate>,
    pub status: Status,
    /// Processing restricted on their request (see `privacy`).
    pub restricted: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Part of a name or email address, any case.
    pub search: String,
    /// This department and everything below it.
    pub department: Option<DepartmentId>,
    pub status: Option<Status>,
    /// From 1.
    pub page: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub people: Vec<Person>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
}

/// One person as the list shows them, opened. Its debug output shows no name or address.
#[derive(Clone)]
struct Listed {
    id: uuid::Uuid,
    name: String,
    email: String,
    /// The name in lower case: what the list is sorted and searched by.
    name_lower: String,
    role: String,
    custom_role_id: Option<uuid::Uuid>,
    department: Option<DepartmentId>,
    start_date: Option<NaiveDate>,
    status: Status,
    restricted: bool,
}

/// A workplace's opened people at one version, sorted by name.
pub struct Snapshot {
    version: i64,
    people: Vec<Listed>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.version)
            .field("people", &self.people.len())
            .finish()
    }
}

impl Snapshot {
    /// What the opened list takes in memory, about: for the operator and the benchmarks.
    pub fn approximate_bytes(&self) -> usize {
        self.people
            .iter()
            .map(|p| {
                std::mem::size_of::<Listed>()
                    + p.name.capacity()
                    + p.email.capacity()
                    + p.name_lower.capacity()
                    + p.role.capacity()
            })
            .sum::<usize>()
            + std::mem::size_of::<Self>()
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }
}

/// A workplace's kept list: loaded by one request at a time, the others wait for it.
#[derive(Default)]
struct Slot {
    snapshot: tokio::sync::Mutex<Option<Arc<Snapshot>>>,
    used: Mutex<Option<Instant>>,
}

/// Opened people lists per workplace, shared by every request of this process; cheap to clone.
#[derive(Clone, Default)]
pub struct Directory {
    slots: Arc<Mutex<HashMap<WorkplaceId, Arc<Slot>>>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").finish_non_exhaustive()
    }
}

impl Directory {
    /// A directory that drops idle lists only when it is next used (tests, commands).
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory with a sweeper on the current Tokio runtime: every minute, used or not, it
    /// drops idle lists and lists whose people changed or whose workplace is gone, so an
    /// erased person's name is not kept for more than a minute whether anyone looks or not.
    /// The sweeper stops when the directory is dropped.
    pub fn start(db: crate::Database) -> Self {
        let directory = Self::default();
        let slots = Arc::downgrade(&directory.slots);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                let Some(slots) = slots.upgrade() else {
                    return;
                };
                sweep(
                    &mut slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
                    Instant::now(),
                );
                if let Err(err) = drop_outdated(&db, &slots).await {
                    tracing::warn!(error = %err, "the people directory could not check its kept lists");
                }
            }
        });
        directory
    }

    /// People the caller may see, filtered, sorted by name and paginated: from the kept list
    /// when the workplace's people have not changed since it was opened.
    pub async fn list(&self, tenant: &TenantDb, scope: &Scope, filter: &Filter) -> Result<Page> {
        let snapshot = self.snapshot(tenant).await?;
        page(tenant, &snapshot, scope, filter).await
    }

    /// The workplace's departments with how many people each holds, counted from the kept
    /// list rather than by reading every person's row again.
    pub async fn departments(&self, tenant: &TenantDb) -> Result<Vec<super::departments::Department>> {
        let snapshot = self.snapshot(tenant).await?;
        let mut counts = std::collections::BTreeMap::new();
        for department in snapshot.people.iter().filter_map(|p| p.department) {
            *counts.entry(department.uuid()).or_insert(0u64) += 1;
        }
        super::departments::list_counted(tenant, &counts).await
    }

    /// The workplace's opened list as of now.
    pub async fn snapshot(&self, tenant: &TenantDb) -> Result<Arc<Snapshot>> {
        // Read before the people: a change in between makes the next request open them again,
        // never keeps an older list under a newer version.
        let version = people_version(tenant).await?;
        let slot = self.slot(tenant.workplace_id());
        let mut kept = slot.snapshot.lock().await;
        // Versions only grow (a restore moves them past every earlier time), so a list opened
        // at a later version by a request that went first serves this one too.
        if let Some(snapshot) = kept
            .as_ref()
            .filter(|s| s.version == version || (version > 0 && s.version > version))
        {
            return Ok(snapshot.clone());
        }
        let snapshot = Arc::new(open(tenant, version).await?);
        *kept = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// The workplace's slot, made on first use; drops idle and surplus slots on the way.
    fn slot(&self, workplace: WorkplaceId) -> Arc<Slot> {
        let now = Instant::now();
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sweep(&mut slots, now);
        if !slots.contains_key(&workplace) && slots.len() >= MOST_WORKPLACES {
            if let Some(oldest) = slots
                .iter()
                .min_by_key(|(_, slot)| slot.last_used())
                .map(|(workplace, _)| *workplace)
            {
                slots.remove(&oldest);
            }
        }
        let slot = slots.entry(workplace).or_default().clone();
        *slot
            .used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(now);
        slot
    }
}

/// Drops the kept lists whose workplace's people changed since, or whose workplace is gone.
async fn drop_outdated(db: &crate::Database, slots: &Mutex<HashMap<WorkplaceId, Arc<Slot>>>) -> Result<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let kept: Vec<(WorkplaceId, i64)> = {
        let slots = slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        slots
            .iter()
            .filter_map(|(workplace, slot)| {
                let snapshot = slot.snapshot.try_lock().ok()?;
                Some((*workplace, snapshot.as_ref()?.version))
            })
            .collect()
    };
    if kept.is_empty() {
        return Ok(());
    }
    let current: HashMap<uuid::Uuid, i64> = workplaces::Entity::find()
        .select_only()
        .column(workplaces::Column::Id)
        .column_as(sea_orm::sea_query::Expr::cust("people_version"), "people_version")
        .filter(workplaces::Column::Id.is_in(kept.iter().map(|(workplace, _)| workplace.uuid())))
        .into_tuple::<(uuid::Uuid, i64)>()
        .all(db.connection())
        .await?
        .into_iter()
        .collect();
    let mut slots = slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (workplace, version) in kept {
        if current.get(&workplace.uuid()) != Some(&version) {
            slots.remove(&workplace);
        }
    }
    Ok(())
}

/// Drops the lists nobody used for [`IDLE_FOR`].
fn sweep(slots: &mut HashMap<WorkplaceId, Arc<Slot>>, now: Instant) {
    slots.retain(|_, slot| {
        slot.last_used()
            .is_none_or(|used| now.duration_since(used) < IDLE_FOR)
    });
}

impl Slot {
    fn last_used(&self) -> Option<Instant> {
        *self
            .used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The version of the workplace's people, moved by the database on every change to them.
async fn people_version(tenant: &TenantDb) -> Result<i64> {
    workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .select_only()
        .column_as(sea_orm::sea_query::Expr::cust("people_version"), "people_version")
        .into_tuple::<i64>()
        .one(tenant.database().connection())
        .await?
        .ok_or(Error::NotFound)
}

/// The columns a list shows: a person's record without credentials or bookkeeping.
#[derive(Clone, Debug, sea_orm::DerivePartialModel)]
#[sea_orm(entity = "users::Entity")]
struct ListedRow {
    id: uuid::Uuid,
    name_sealed: Option<Vec<u8>>,
    email_sealed: Option<Vec<u8>>,
    role: String,
    custom_role_id: Option<uuid::Uuid>,
    department_id: Option<uuid::Uuid>,
    start_date: Option<NaiveDate>,
    status: Status,
    restricted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Opens every person of the workplace, sorted by name (then id, so the order is stable).
pub(crate) async fn open(tenant: &TenantDb, version: i64) -> Result<Snapshot> {
    let txn = tenant.begin_read().await?;
    let rows = tenant
        .select::<users::Entity>()
        .into_partial_model::<ListedRow>()
        .all(&txn)
        .await?;
    let keys = tenant.data_keys_in(&txn).await?;
    txn.commit().await?;
    // Opening and sorting 100,000 people is CPU work: off the threads that serve requests.
    tokio::task::spawn_blocking(move || opened(rows, &keys, version))
        .await
        .map_err(|err| Error::Internal(format!("opening the people directory: {err}")))?
}

fn opened(
    rows: Vec<ListedRow>,
    keys: &crate::platform::crypto::TenantKeys,
    version: i64,
) -> Result<Snapshot> {
    let mut people = rows
        .into_iter()
        .map(|row| {
            let opened = user_fields::open_columns(
                keys,
                row.id,
                row.name_sealed.as_deref(),
                row.email_sealed.as_deref(),
            )?;
            let name = opened.name.into_exposed();
            Ok(Listed {
                id: row.id,
                name_lower: name.to_lowercase(),
                name,
                email: opened.email.into_exposed(),
                role: row.role,
                custom_role_id: row.custom_role_id,
                department: row.department_id.map(DepartmentId::from_uuid),
                start_date: row.start_date,
                status: row.status,
                restricted: row.restricted_at.is_some(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    people.sort_by(|a, b| a.name_lower.cmp(&b.name_lower).then(a.id.cmp(&b.id)));
    Ok(Snapshot { version, people })
}

/// One page of `snapshot` for someone who may see `scope`, after `filter`.
pub(crate) async fn page(
    tenant: &TenantDb,
    snapshot: &Snapshot,
    scope: &Scope,
    filter: &Filter,
) -> Result<Page> {
    let txn = tenant.begin_read().await?;
    let roles = WorkplaceRoles::load(&txn, tenant.workplace_id()).await?;
    let within = match filter.department {
        Some(root) => {
            let edges = tenant
                .select::<departments::Entity>()
                .all(&txn)
                .await?
                .into_iter()
                .map(|d| {
                    (
                        DepartmentId::from_uuid(d.id),
                        d.parent_id.map(DepartmentId::from_uuid),
                    )
                });
            Some(subtree(edges, [root]))
        }
        None => None,
    };
    txn.commit().await?;
    let needle = filter.search.trim().to_lowercase();
    let matching = snapshot
        .people
        .iter()
        .filter(|p| match scope {
            Scope::Everyone => true,
            Scope::Departments(set) => p.department.is_some_and(|d| set.contains(&d)),
        })
        .filter(|p| match &within {
            Some(set) => p.department.is_some_and(|d| set.contains(&d)),
            None => true,
        })
        .filter(|p| filter.status.is_none_or(|s| p.status == s))
        .filter(|p| needle.is_empty() || p.name_lower.contains(&needle) || p.email.contains(&needle))
        .collect::<Vec<&Listed>>();
    let total = matching.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = filter.page.clamp(1, pages);
    let shown = matching.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE);
    let people = shown
        .map(|p| {
            Ok(Person {
                id: UserId::from_uuid(p.id),
                name: p.name.clone(),
                email: p.email.clone(),
                role: roles.resolve(&p.role, p.custom_role_id)?,
                department: p.department,
                start_date: p.start_date,
                status: p.status,
                restricted: p.restricted,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    tenant.touch(
        crate::platform::audit::EntityType::Person,
        people.iter().map(|p| p.id.uuid()),
    );
    Ok(Page {
        people,
        total,
        page,
        pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_most_recent_lists_are_kept_and_idle_ones_go() {
        let directory = Directory::new();
        let workplaces: Vec<WorkplaceId> = (0..MOST_WORKPLACES + 4)
            .map(|_| WorkplaceId::from_uuid(uuid::Uuid::new_v4()))
            .collect();
        for workplace in &workplaces {
            directory.slot(*workplace);
        }
        let mut slots = directory.slots.lock().unwrap();
        assert_eq!(slots.len(), MOST_WORKPLACES);
        assert!(slots.contains_key(workplaces.last().unwrap()));
        assert!(
            !slots.contains_key(&workplaces[0]),
            "the least recently used went first"
        );
        sweep(&mut slots, Instant::now() + IDLE_FOR / 2);
        assert_eq!(slots.len(), MOST_WORKPLACES);
        sweep(&mut slots, Instant::now() + IDLE_FOR + Duration::from_secs(1));
        assert!(slots.is_empty());
    }
}
