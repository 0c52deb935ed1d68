//! Which groups' results may be shown. Results are released per department subtree; a group is
//! shown only with at least the workplace's minimum of respondents. Hiding small groups is not
//! enough: a parent's figure minus the figures of its visible descendants is the figure of
//! whoever is left, so every such remainder must also be empty or at least the minimum — where
//! it is not, the next-smallest visible group is hidden too (complementary suppression).
//!
//! The shown groups form a tree (each is a subtree of departments), so every figure anyone can
//! derive from them by adding and subtracting is a union of "cells": each shown group minus its
//! nearest shown descendants. Keeping every cell empty or at least the minimum keeps every
//! derivable figure about at least that many people.

use std::collections::{BTreeMap, BTreeSet};

use crate::platform::ids::DepartmentId;

/// A department as suppression sees it: its parent and how many respondents belong to it
/// directly (not through a sub-department).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCount {
    pub department: DepartmentId,
    pub parent: Option<DepartmentId>,
    pub direct: u32,
}

/// A node of the results tree: the whole workplace, or a department subtree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Workplace,
    Department(DepartmentId),
}

/// The groups whose figures may be shown, given respondent counts per department, the people
/// with no department (`unassigned`, counted in the workplace only) and the minimum size.
pub fn shown_groups(counts: &[GroupCount], unassigned: u32, minimum: u32) -> BTreeSet<Group> {
    let minimum = minimum.max(1);
    let children = children_of(counts);
    let mut totals = BTreeMap::new();
    let workplace_total = unassigned
        + children
            .get(&Group::Workplace)
            .into_iter()
            .flatten()
            .map(|child| subtree_total(*child, counts, &children, &mut totals))
            .sum::<u32>();
    totals.insert(Group::Workplace, workplace_total);
    // Primary suppression: too few respondents.
    let mut shown: BTreeSet<Group> = totals
        .iter()
        .filter(|(_, total)| **total >= minimum)
        .map(|(group, _)| *group)
        .collect();
    // Complementary suppression, until no shown group leaves a small remainder.
    loop {
        let mut changed = false;
        for group in shown.clone() {
            if !shown.contains(&group) {
                continue;
            }
            loop {
                let frontier = frontier(group, &shown, &children);
                let covered: u32 = frontier.iter().map(|g| totals[g]).sum();
                let remainder = totals[&group] - covered;
                if remainder == 0 || remainder >= minimum {
                    break;
                }
                // Hide the smallest shown group under this one (ties: the first by id).
                let Some(smallest) = frontier.iter().min_by_key(|g| (totals[*g], **g)).copied() else {
                    break;
                };
                shown.remove(&smallest);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    shown
}

fn children_of(counts: &[GroupCount]) -> BTreeMap<Group, Vec<Group>> {
    let known: BTreeSet<DepartmentId> = counts.iter().map(|c| c.department).collect();
    let mut children: BTreeMap<Group, Vec<Group>> = BTreeMap::new();
    for count in counts {
        // A parent outside the list (archived, say) makes the department a top-level one.
        let parent = match count.parent {
            Some(parent) if known.contains(&parent) => Group::Department(parent),
            _ => Group::Workplace,
        };
        children
            .entry(parent)
            .or_default()
            .push(Group::Department(count.department));
    }
    children
}

fn subtree_total(
    group: Group,
    counts: &[GroupCount],
    children: &BTreeMap<Group, Vec<Group>>,
    totals: &mut BTreeMap<Group, u32>,
) -> u32 {
    if let Some(total) = totals.get(&group) {
        return *total;
    }
    let direct = match group {
        Group::Department(id) => counts.iter().find(|c| c.department == id).map_or(0, |c| c.direct),
        Group::Workplace => 0,
    };
    let below: u32 = children
        .get(&group)
        .into_iter()
        .flatten()
        .map(|child| subtree_total(*child, counts, children, totals))
        .sum();
    totals.insert(group, direct + below);
    direct + below
}

/// The nearest shown groups below `group`.
fn frontier(group: Group, shown: &BTreeSet<Group>, children: &BTreeMap<Group, Vec<Group>>) -> Vec<Group> {
    let mut found = Vec::new();
    let mut stack: Vec<Group> = children.get(&group).cloned().unwrap_or_default();
    while let Some(next) = stack.pop() {
        if shown.contains(&next) {
            found.push(next);
        } else if let Some(below) = children.get(&next) {
            stack.extend(below.iter().copied());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(n: u128) -> DepartmentId {
        DepartmentId::from_uuid(uuid::Uuid::from_u128(n))
    }

    fn count(id: u128, parent: Option<u128>, direct: u32) -> GroupCount {
        GroupCount {
            department: dept(id),
            parent: parent.map(dept),
            direct,
        }
    }

    fn shown_departments(shown: &BTreeSet<Group>) -> Vec<u128> {
        shown
            .iter()
            .filter_map(|g| match g {
                Group::Department(id) => Some(id.uuid().as_u128()),
                Group::Workplace => None,
            })
            .collect()
    }

    /// The same rule, checked from the outside: every cell (a shown group minus its nearest
    /// shown descendants) is empty or at least the minimum.
    fn every_cell_is_safe(counts: &[GroupCount], unassigned: u32, minimum: u32) {
        let shown = shown_groups(counts, unassigned, minimum);
        let children = children_of(counts);
        let mut totals = BTreeMap::new();
        for c in counts {
            subtree_total(Group::Department(c.department), counts, &children, &mut totals);
        }
        let top: u32 = children
            .get(&Group::Workplace)
            .into_iter()
            .flatten()
            .map(|g| totals[g])
            .sum();
        totals.insert(Group::Workplace, top + unassigned);
        for group in &shown {
            assert!(
                totals[group] >= minimum,
                "{group:?} is shown with {}",
                totals[group]
            );
            let covered: u32 = frontier(*group, &shown, &children)
                .iter()
                .map(|g| totals[g])
                .sum();
            let cell = totals[group] - covered;
            assert!(cell == 0 || cell >= minimum, "{group:?} leaves a cell of {cell}");
        }
    }

    #[test]
    fn groups_below_the_minimum_are_hidden_and_their_complement_too() {
        struct Case {
            name: &'static str,
            counts: Vec<GroupCount>,
            unassigned: u32,
            minimum: u32,
            workplace_shown: bool,
            departments: Vec<u128>,
        }
        let cases = [
            Case {
                // The example: parent 6 = A 5 + B 1. B is hidden, and A too, else
                // 6 − 5 would give B's figure.
                name: "parent 6, child A 5, child B 1",
                counts: vec![count(1, None, 0), count(2, Some(1), 5), count(3, Some(1), 1)],
                unassigned: 0,
                minimum: 5,
                workplace_shown: true,
                departments: vec![1],
            },
            Case {
                name: "both children large enough",
                counts: vec![count(1, None, 0), count(2, Some(1), 5), count(3, Some(1), 6)],
                unassigned: 0,
                minimum: 5,
                workplace_shown: true,
                departments: vec![1, 2, 3],
            },
            Case {
                // Hiding the 1-person child leaves a remainder of 1 plus the parent's own 0:
                // the next-smallest (5) goes, the 7 stays: 13 − 7 = 6 ≥ 5.
                name: "three children, one tiny",
                counts: vec![
                    count(1, None, 0),
                    count(2, Some(1), 5),
                    count(3, Some(1), 7),
                    count(4, Some(1), 1),
                ],
                unassigned: 0,
                minimum: 5,
                workplace_shown: true,
                departments: vec![1, 3],
            },
            Case {
                // People directly in the parent count as a hidden remainder too.
                name: "two people directly in the parent",
                counts: vec![count(1, None, 2), count(2, Some(1), 5), count(3, Some(1), 5)],
                unassigned: 0,
                minimum: 5,
                workplace_shown: true,
                departments: vec![1, 3],
            },
            Case {
                name: "too few overall",
                counts: vec![count(1, None, 4)],
                unassigned: 0,
                minimum: 5,
                workplace_shown: false,
                departments: vec![],
            },
            Case {
                // The workplace minus its only shown department is the 3 people without one.
                name: "people without a department",
                counts: vec![count(1, None, 6)],
                unassigned: 3,
                minimum: 5,
                workplace_shown: true,
                departments: vec![],
            },
            Case {
                // A hidden middle level: the grandchild is the parent's frontier.
                name: "deep tree",
                counts: vec![
                    count(1, None, 0),
                    count(2, Some(1), 0),
                    count(3, Some(2), 5),
                    count(4, Some(2), 2),
                    count(5, Some(1), 6),
                ],
                unassigned: 0,
                minimum: 5,
                workplace_shown: true,
                departments: vec![1, 2, 5],
            },
            Case {
                name: "minimum of three",
                counts: vec![count(1, None, 0), count(2, Some(1), 3), count(3, Some(1), 3)],
                unassigned: 0,
                minimum: 3,
                workplace_shown: true,
                departments: vec![1, 2, 3],
            },
        ];
        for case in cases {
            let shown = shown_groups(&case.counts, case.unassigned, case.minimum);
            assert_eq!(
                shown.contains(&Group::Workplace),
                case.workplace_shown,
                "{}",
                case.name
            );
            assert_eq!(shown_departments(&shown), case.departments, "{}", case.name);
            every_cell_is_safe(&case.counts, case.unassigned, case.minimum);
        }
    }

    proptest::proptest! {
        #[test]
        fn no_shown_group_leaves_a_small_remainder(
            shape in proptest::collection::vec((0usize..8, 0u32..9), 1..12),
            unassigned in 0u32..6,
            minimum in 3u32..=10,
        ) {
            // Department i's parent is one of the departments before it (or none).
            let counts: Vec<GroupCount> = shape
                .iter()
                .enumerate()
                .map(|(i, (parent, direct))| {
                    let parent = (i > 0 && *parent < i).then(|| *parent as u128 + 1);
                    count(i as u128 + 1, parent, *direct)
                })
                .collect();
            every_cell_is_safe(&counts, unassigned, minimum);
        }
    }
}
