//! The hash chain. Each entry's hash covers the previous entry's hash and every stored field, so
//! changing, removing or reordering any entry breaks every link after it; the chain's head
//! (`audit_chains`) and the anchors written to the server log make a cut-off tail visible too.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{clean_code, Entry, MAX_LISTED_IDS};
use crate::{
    platform::{
        entities::{audit_chains, audit_log},
        ids::WorkplaceId,
    },
    Error, Result,
};

const GENESIS: [u8; 32] = [0; 32];
/// Entries read per query while verifying.
const VERIFY_PAGE: u64 = 5_000;

fn chain_of(workplace: Option<WorkplaceId>) -> Uuid {
    workplace.map(WorkplaceId::uuid).unwrap_or(Uuid::nil())
}

/// Microseconds: both backends keep them exactly, so a stored time hashes as it was written.
fn stored_time(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(time.timestamp_micros()).unwrap_or(time)
}

/// The hash of one stored row, from its fields and the previous hash.
fn hash_row(row: &audit_log::Model) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"candor-audit-v1");
    hasher.update(&row.prev_hash);
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u32).to_be_bytes());
        hasher.update(bytes);
    };
    field(row.id.as_bytes());
    field(row.chain_id.as_bytes());
    field(
        row.workplace_id
            .map(|id| *id.as_bytes())
            .as_ref()
            .map_or(&[][..], |b| &b[..]),
    );
    field(&row.seq.to_be_bytes());
    field(&row.occurred_at.timestamp_micros().to_be_bytes());
    field(row.request_id.as_deref().unwrap_or("").as_bytes());
    field(row.category.as_bytes());
    field(row.action.as_bytes());
    field(row.severity.as_bytes());
    field(row.outcome.as_bytes());
    field(
        row.actor_id
            .map(|id| *id.as_bytes())
            .as_ref()
            .map_or(&[][..], |b| &b[..]),
    );
    field(row.entity_type.as_deref().unwrap_or("").as_bytes());
    field(row.entity_ids.as_deref().unwrap_or("").as_bytes());
    field(&row.entity_count.to_be_bytes());
    field(row.network_tag.as_deref().unwrap_or("").as_bytes());
    field(row.account_tag.as_deref().unwrap_or("").as_bytes());
    hasher.finalize().to_vec()
}

fn to_row(entry: &Entry, chain_id: Uuid, seq: i64, prev_hash: Vec<u8>) -> audit_log::Model {
    let listed: Vec<String> = entry
        .entity_ids
        .iter()
        .take(MAX_LISTED_IDS)
        .map(Uuid::to_string)
        .collect();
    let mut row = audit_log::Model {
        id: Uuid::new_v4(),
        chain_id,
        workplace_id: entry.workplace.map(WorkplaceId::uuid),
        seq,
        occurred_at: stored_time(entry.occurred_at),
        request_id: entry.request_id.as_deref().map(|id| clean_code(id, 64)),
        category: entry.category.code().to_owned(),
        action: clean_code(&entry.action, 64),
        severity: entry.severity.code().to_owned(),
        outcome: entry.outcome.code().to_owned(),
        actor_id: entry.actor.map(crate::platform::ids::UserId::uuid),
        entity_type: entry.entity_type.as_deref().map(|t| clean_code(t, 64)),
        entity_ids: (!listed.is_empty()).then(|| listed.join(" ")),
        entity_count: i32::try_from(entry.entity_count.max(entry.entity_ids.len())).unwrap_or(i32::MAX),
        network_tag: entry.network_tag.as_deref().map(|t| clean_code(t, 16)),
        account_tag: entry.account_tag.as_deref().map(|t| clean_code(t, 16)),
        prev_hash,
        hash: Vec::new(),
    };
    row.hash = hash_row(&row);
    row
}

/// The head of `workplace`'s chain (None: the instance's), locked until the transaction ends on
/// PostgreSQL (SQLite's write transactions already run one at a time). Created on first use.
async fn lock_head(
    conn: &impl ConnectionTrait,
    chain_id: Uuid,
    workplace: Option<Uuid>,
) -> Result<audit_chains::Model> {
    if let Some(head) = audit_chains::Entity::find_by_id(chain_id)
        .lock_exclusive()
        .one(conn)
        .await?
    {
        return Ok(head);
    }
    // Two first appends may race on PostgreSQL: one inserts, the other waits on the key, then
    // both lock the row that exists.
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO audit_chains (chain_id, workplace_id, last_seq, last_hash, first_seq, first_prev_hash) \
             VALUES ($1, $2, 0, $3, 1, $4) ON CONFLICT (chain_id) DO NOTHING"
        }
        _ => {
            "INSERT INTO audit_chains (chain_id, workplace_id, last_seq, last_hash, first_seq, first_prev_hash) \
             VALUES (?, ?, 0, ?, 1, ?) ON CONFLICT (chain_id) DO NOTHING"
        }
    };
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [
            chain_id.into(),
            workplace.into(),
            GENESIS.to_vec().into(),
            GENESIS.to_vec().into(),
        ],
    ))
    .await?;
    audit_chains::Entity::find_by_id(chain_id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal("the audit chain head could not be created".into()))
}

/// Chains `entries` onto their workplaces' chains through `conn` (the caller's transaction, so
/// the entries commit or roll back with the change they record).
pub(crate) async fn append(conn: &impl ConnectionTrait, entries: &[Entry]) -> Result<()> {
    let mut chains: Vec<Option<WorkplaceId>> = entries.iter().map(|e| e.workplace).collect();
    chains.sort_by_key(|w| w.map(WorkplaceId::uuid));
    chains.dedup();
    for workplace in chains {
        let chain_id = chain_of(workplace);
        let head = lock_head(conn, chain_id, workplace.map(WorkplaceId::uuid)).await?;
        let (mut seq, mut prev) = (head.last_seq, head.last_hash.clone());
        let mut rows = Vec::new();
        for entry in entries.iter().filter(|e| e.workplace == workplace) {
            seq += 1;
            let row = to_row(entry, chain_id, seq, prev);
            prev = row.hash.clone();
            rows.push(audit_log::ActiveModel::from(row));
        }
        audit_log::Entity::insert_many(rows).exec(conn).await?;
        let mut head: audit_chains::ActiveModel = head.into();
        head.last_seq = Set(seq);
        head.last_hash = Set(prev);
        head.update(conn).await?;
    }
    Ok(())
}

use crate::platform::text::hex;

/// A chain position someone wrote down earlier (from the server log), to check that the chain
/// still runs through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub workplace: Option<WorkplaceId>,
    pub seq: i64,
    pub hash: String,
}

impl std::str::FromStr for Anchor {
    type Err = Error;

    /// `<workplace id or "instance">:<seq>:<hash>`, as the anchor log line prints it.
    fn from_str(text: &str) -> Result<Self> {
        let invalid = || Error::Invalid {
            field: "anchor",
            reason: "write an anchor as <workplace id or instance>:<number>:<hash>".into(),
        };
        let mut parts = text.trim().splitn(3, ':');
        let (Some(chain), Some(seq), Some(hash)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        let workplace = if chain == "instance" {
            None
        } else {
            Some(chain.parse::<WorkplaceId>().map_err(|_| invalid())?)
        };
        let seq = seq.parse::<i64>().map_err(|_| invalid())?;
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        Ok(Anchor {
            workplace,
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// The first place a chain does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    /// The stored row at that place, when there is one.
    pub entry_id: Option<Uuid>,
    pub reason: String,
}

/// What verifying one chain found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    pub workplace: Option<WorkplaceId>,
    pub entries: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub head_hash: String,
    pub broken: Option<BrokenLink>,
}

/// Recomputes every chain (or only `only`'s) from its first kept entry to its head, and checks
/// `anchors` on the way.
pub(crate) async fn verify(
    conn: &sea_orm::DatabaseConnection,
    only: Option<WorkplaceId>,
    anchors: &[Anchor],
) -> Result<Vec<ChainReport>> {
    let mut heads = audit_chains::Entity::find().order_by_asc(audit_chains::Column::ChainId);
    if let Some(workplace) = only {
        heads = heads.filter(audit_chains::Column::ChainId.eq(workplace.uuid()));
    }
    let mut reports = Vec::new();
    for head in heads.all(conn).await? {
        let workplace = head.workplace_id.map(WorkplaceId::from_uuid);
        let wanted: Vec<&Anchor> = anchors.iter().filter(|a| a.workplace == workplace).collect();
        let mut report = ChainReport {
            workplace,
            entries: 0,
            first_seq: head.first_seq,
            last_seq: head.last_seq,
            head_hash: hex(&head.last_hash),
            broken: None,
        };
        report.broken = verify_chain(conn, &head, &wanted, &mut report.entries).await?;
        reports.push(report);
    }
    Ok(reports)
}

async fn verify_chain(
    conn: &impl ConnectionTrait,
    head: &audit_chains::Model,
    anchors: &[&Anchor],
    counted: &mut u64,
) -> Result<Option<BrokenLink>> {
    let (mut expected_seq, mut prev) = (head.first_seq, head.first_prev_hash.clone());
    for anchor in anchors {
        if anchor.seq < head.first_seq || anchor.seq > head.last_seq {
            return Ok(Some(BrokenLink {
                seq: anchor.seq,
                entry_id: None,
                reason: format!(
                    "the anchor at entry {} lies outside the kept chain ({}..{})",
                    anchor.seq, head.first_seq, head.last_seq
                ),
            }));
        }
    }
    loop {
        let page = audit_log::Entity::find()
            .filter(audit_log::Column::ChainId.eq(head.chain_id))
            .filter(audit_log::Column::Seq.gte(expected_seq))
            .order_by_asc(audit_log::Column::Seq)
            .limit(VERIFY_PAGE)
            .all(conn)
            .await?;
        let done = (page.len() as u64) < VERIFY_PAGE;
        for row in page {
            if row.seq > head.last_seq {
                return Ok(Some(BrokenLink {
                    seq: row.seq,
                    entry_id: Some(row.id),
                    reason: "the entry lies beyond the chain's recorded head".into(),
                }));
            }
            if row.seq != expected_seq {
                return Ok(Some(BrokenLink {
                    seq: expected_seq,
                    entry_id: None,
                    reason: format!("entry {expected_seq} is missing (next stored is {})", row.seq),
                }));
            }
            if row.prev_hash != prev {
                return Ok(Some(BrokenLink {
                    seq: row.seq,
                    entry_id: Some(row.id),
                    reason: "the entry does not chain to the one before it".into(),
                }));
            }
            let recomputed = hash_row(&row);
            if recomputed != row.hash {
                return Ok(Some(BrokenLink {
                    seq: row.seq,
                    entry_id: Some(row.id),
                    reason: "the entry was changed after it was written".into(),
                }));
            }
            if let Some(anchor) = anchors.iter().find(|a| a.seq == row.seq) {
                if hex(&row.hash) != anchor.hash {
                    return Ok(Some(BrokenLink {
                        seq: row.seq,
                        entry_id: Some(row.id),
                        reason: "the entry differs from the anchor written to the server log".into(),
                    }));
                }
            }
            *counted += 1;
            prev = row.hash;
            expected_seq += 1;
        }
        if done {
            break;
        }
    }
    if expected_seq <= head.last_seq {
        return Ok(Some(BrokenLink {
            seq: expected_seq,
            entry_id: None,
            reason: format!(
                "entries {expected_seq}..{} are missing: the chain was cut short",
                head.last_seq
            ),
        }));
    }
    if prev != head.last_hash {
        return Ok(Some(BrokenLink {
            seq: head.last_seq,
            entry_id: None,
            reason: "the chain's recorded head does not match its last entry".into(),
        }));
    }
    Ok(None)
}

/// Deletes `workplace`'s entries written before `cutoff` and moves the chain's start past them,
/// keeping the hash the first kept entry chains to. Returns how many went.
pub(crate) async fn purge_before(
    conn: &impl ConnectionTrait,
    workplace: Option<WorkplaceId>,
    cutoff: DateTime<Utc>,
) -> Result<u64> {
    let chain_id = chain_of(workplace);
    let head = lock_head(conn, chain_id, workplace.map(WorkplaceId::uuid)).await?;
    let last_old: Option<audit_log::Model> = audit_log::Entity::find()
        .filter(audit_log::Column::ChainId.eq(chain_id))
        .filter(audit_log::Column::OccurredAt.lt(cutoff))
        .order_by_desc(audit_log::Column::Seq)
        .one(conn)
        .await?;
    let Some(last_old) = last_old else {
        return Ok(0);
    };
    let deleted = audit_log::Entity::delete_many()
        .filter(audit_log::Column::ChainId.eq(chain_id))
        .filter(audit_log::Column::Seq.lte(last_old.seq))
        .exec(conn)
        .await?
        .rows_affected;
    let mut head: audit_chains::ActiveModel = head.into();
    head.first_seq = Set(last_old.seq + 1);
    head.first_prev_hash = Set(last_old.hash);
    head.update(conn).await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::audit::Category;

    fn entry() -> Entry {
        let mut entry = Entry::new("people/list", Category::Access, Utc::now());
        entry.entity_ids = vec![Uuid::new_v4(), Uuid::new_v4()];
        entry
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let row = to_row(&entry(), Uuid::new_v4(), 1, GENESIS.to_vec());
        assert_eq!(hash_row(&row), row.hash);
        type Change = Box<dyn Fn(&mut audit_log::Model)>;
        let changes: Vec<Change> = vec![
            Box::new(|r| r.action = "people/view".into()),
            Box::new(|r| r.seq = 2),
            Box::new(|r| r.outcome = "denied".into()),
            Box::new(|r| r.entity_ids = None),
            Box::new(|r| r.actor_id = Some(Uuid::new_v4())),
            Box::new(|r| r.occurred_at += chrono::Duration::microseconds(1)),
            Box::new(|r| r.prev_hash = vec![1; 32]),
            Box::new(|r| r.network_tag = Some("00".into())),
        ];
        for change in changes {
            let mut changed = row.clone();
            change(&mut changed);
            assert_ne!(hash_row(&changed), row.hash);
        }
    }

    #[test]
    fn ids_beyond_the_limit_are_counted_not_listed() {
        let mut many = entry();
        many.entity_ids = (0..150).map(|_| Uuid::new_v4()).collect();
        let row = to_row(&many, Uuid::nil(), 1, GENESIS.to_vec());
        assert_eq!(row.entity_count, 150);
        assert_eq!(
            row.entity_ids.unwrap_or_default().split(' ').count(),
            MAX_LISTED_IDS
        );
    }

    #[test]
    fn anchors_parse_from_the_log_line_form() {
        let hash = "ab".repeat(32);
        let anchor: Anchor = format!("instance:12:{hash}")
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!((anchor.workplace, anchor.seq), (None, 12));
        assert!("instance:x:00".parse::<Anchor>().is_err());
        assert!(format!("not-a-uuid:1:{hash}").parse::<Anchor>().is_err());
    }
}
