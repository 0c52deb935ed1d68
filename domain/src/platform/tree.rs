//! The department tree's shape: which departments lie below which. Manager grants cover
//! subtrees and results group by them, so the policy and every feature read it the same way.

use std::collections::{BTreeMap, BTreeSet};

use crate::platform::ids::DepartmentId;

/// `roots` and every department below them, from `(id, parent)` pairs.
pub fn subtree(
    edges: impl IntoIterator<Item = (DepartmentId, Option<DepartmentId>)>,
    roots: impl IntoIterator<Item = DepartmentId>,
) -> BTreeSet<DepartmentId> {
    let mut children: BTreeMap<DepartmentId, Vec<DepartmentId>> = BTreeMap::new();
    for (id, parent) in edges {
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(id);
        }
    }
    let mut seen = BTreeSet::new();
    let mut queue: Vec<DepartmentId> = roots.into_iter().collect();
    while let Some(next) = queue.pop() {
        if seen.insert(next) {
            queue.extend(children.get(&next).into_iter().flatten().copied());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtrees_follow_children_and_survive_cycles() {
        let (a, b, c, d) = (
            DepartmentId::new(),
            DepartmentId::new(),
            DepartmentId::new(),
            DepartmentId::new(),
        );
        let edges = [(a, None), (b, Some(a)), (c, Some(b)), (d, None)];
        assert_eq!(subtree(edges, [a]), [a, b, c].into_iter().collect());
        assert_eq!(subtree(edges, [b]), [b, c].into_iter().collect());
        assert_eq!(subtree(edges, [d]), [d].into_iter().collect());
        // Corrupt data with a loop still terminates.
        let looped = [(a, Some(b)), (b, Some(a))];
        assert_eq!(subtree(looped, [a]), [a, b].into_iter().collect());
    }
}
