//! The department tree as a round sees it: today's tree while the round is open, the tree
//! frozen with the round once it closed. Results walk it; releases store it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::suppression::Group;
use crate::platform::{entities::departments, ids::DepartmentId};

/// The department tree as results walk it: names, parents, tree order.
pub(crate) struct Tree {
    pub(crate) names: BTreeMap<DepartmentId, (String, Option<DepartmentId>)>,
    /// Parents before their children, siblings by name.
    pub(crate) ordered: Vec<DepartmentId>,
}

impl Tree {
    pub(crate) fn new(rows: &[departments::Model]) -> Self {
        Self::from_parts(rows.iter().map(|d| {
            (
                DepartmentId::from_uuid(d.id),
                d.name.clone(),
                d.parent_id.map(DepartmentId::from_uuid),
            )
        }))
    }

    /// A tree from (department, name, parent) triples: today's, or one frozen with a round.
    pub(crate) fn from_parts(
        parts: impl IntoIterator<Item = (DepartmentId, String, Option<DepartmentId>)>,
    ) -> Self {
        let names: BTreeMap<DepartmentId, (String, Option<DepartmentId>)> = parts
            .into_iter()
            .map(|(id, name, parent)| (id, (name, parent)))
            .collect();
        let mut ordered = Vec::new();
        let mut stack: Vec<DepartmentId> = {
            let mut top: Vec<DepartmentId> = names
                .iter()
                .filter(|(_, (_, parent))| parent.is_none_or(|p| !names.contains_key(&p)))
                .map(|(id, _)| *id)
                .collect();
            top.sort_by(|a, b| names[b].0.cmp(&names[a].0));
            top
        };
        while let Some(next) = stack.pop() {
            ordered.push(next);
            let mut children: Vec<DepartmentId> = names
                .iter()
                .filter(|(_, (_, parent))| *parent == Some(next))
                .map(|(id, _)| *id)
                .collect();
            children.sort_by(|a, b| names[b].0.cmp(&names[a].0));
            stack.extend(children);
        }
        Self { names, ordered }
    }

    fn edges(&self) -> impl Iterator<Item = (DepartmentId, Option<DepartmentId>)> + '_ {
        self.names.iter().map(|(id, (_, parent))| (*id, *parent))
    }

    /// The department and everything below it.
    pub(crate) fn members(&self, department: DepartmentId) -> BTreeSet<Option<DepartmentId>> {
        crate::platform::tree::subtree(self.edges(), [department])
            .into_iter()
            .map(Some)
            .collect()
    }

    pub(crate) fn name(&self, group: Group) -> String {
        match group {
            Group::Workplace => "Whole workplace".to_owned(),
            Group::Department(id) => self
                .names
                .get(&id)
                .map(|(name, _)| name.clone())
                .unwrap_or_default(),
        }
    }

    pub(crate) fn depth(&self, group: Group) -> usize {
        let Group::Department(mut id) = group else {
            return 0;
        };
        let mut depth = 1;
        while let Some(parent) = self.names.get(&id).and_then(|(_, parent)| *parent) {
            depth += 1;
            id = parent;
        }
        depth
    }
}

/// A department as it stood when the round closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FrozenDepartment {
    pub id: uuid::Uuid,
    pub name: String,
    pub parent: Option<uuid::Uuid>,
}

/// `tree` as stored with a round.
pub(crate) fn freeze_tree(tree: &Tree) -> Vec<FrozenDepartment> {
    tree.ordered
        .iter()
        .map(|d| {
            let (name, parent) = tree.names.get(d).cloned().unwrap_or_default();
            FrozenDepartment {
                id: d.uuid(),
                name,
                parent: parent.map(DepartmentId::uuid),
            }
        })
        .collect()
}

/// A tree stored with a round, as a tree again.
pub(crate) fn thaw_tree(departments: &[FrozenDepartment]) -> Tree {
    Tree::from_parts(departments.iter().map(|d| {
        (
            DepartmentId::from_uuid(d.id),
            d.name.clone(),
            d.parent.map(DepartmentId::from_uuid),
        )
    }))
}
