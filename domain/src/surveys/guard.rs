//! The release guard: before figures about a set of people leave Candor, check them together
//! with everything already released about the same answers — no combination of released
//! aggregates, added and subtracted with any weights, may describe a set of 1 to minimum − 1
//! people.
//!
//! People are counted in *atoms*: the smallest sets results ever distinguish (the respondents
//! of one department, say). A released aggregate is a sum over a set of atoms (its figure is
//! the sum of their answers, its count the number of their respondents). Whatever anyone can
//! derive is a linear combination of released rows, so it is constant on each *block* — the
//! atoms no released row tells apart. A derivable figure is dangerous when it reaches some
//! small block (1 to minimum − 1 respondents) while leaving every large block out; such a
//! combination exists exactly when the small blocks add to the rank of the released rows
//! restricted to the large blocks. That is what [`isolates_a_few`] computes. It is
//! conservative: it also refuses combinations with weights other than 0 and 1 (a difference
//! of two small blocks), which is the safe side to err on.
//!
//! [`release`] chooses what to show: every candidate with at least the minimum, then, while
//! the guard refuses, it hides the smallest candidate whose absence helps (the next-smallest
//! cell, as complementary suppression does on a tree).

use std::collections::BTreeMap;

/// Whether some linear combination of `released` (each a list of atom indices) describes
/// between 1 and `minimum − 1` respondents, given `counts` respondents per atom.
pub fn isolates_a_few(counts: &[u32], released: &[Vec<usize>], minimum: u32) -> bool {
    gap(counts, released, minimum) > 0
}

/// rank(rows on small and large blocks) − rank(rows on large blocks): how many independent
/// directions reach small blocks without touching large ones (0: safe).
fn gap(counts: &[u32], released: &[Vec<usize>], minimum: u32) -> usize {
    let minimum = minimum.max(1);
    // Each atom's signature: which released rows contain it.
    let mut signatures: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (row, atoms) in released.iter().enumerate() {
        for atom in atoms {
            let signature = signatures.entry(*atom).or_default();
            if signature.last() != Some(&row) {
                signature.push(row);
            }
        }
    }
    // Blocks: atoms with the same (non-empty) signature, and their respondents together.
    let mut blocks: BTreeMap<Vec<usize>, u32> = BTreeMap::new();
    for (atom, signature) in signatures {
        let n = counts.get(atom).copied().unwrap_or(0);
        *blocks.entry(signature).or_default() += n;
    }
    let mut large = Vec::new();
    let mut small = Vec::new();
    for (signature, n) in blocks {
        if n >= minimum {
            large.push(signature);
        } else if n > 0 {
            small.push(signature);
        }
    }
    if small.is_empty() {
        return 0;
    }
    // Columns are blocks; a row has 1 where the released aggregate covers the block.
    let column = |rows: usize, block: &Vec<usize>| {
        let mut c = vec![0.0; rows];
        for r in block {
            c[*r] = 1.0;
        }
        c
    };
    let rows = released.len();
    let large_columns: Vec<Vec<f64>> = large.iter().map(|b| column(rows, b)).collect();
    let mut all_columns = large_columns.clone();
    all_columns.extend(small.iter().map(|b| column(rows, b)));
    rank(all_columns) - rank(large_columns)
}

/// The rank of a small 0/1 matrix given as columns (Gaussian elimination with partial
/// pivoting; entries stay small, so floating point is exact enough).
fn rank(mut columns: Vec<Vec<f64>>) -> usize {
    let Some(height) = columns.first().map(Vec::len) else {
        return 0;
    };
    let mut rank = 0;
    for row in 0..height {
        if rank == columns.len() {
            break;
        }
        let Some(pivot) = (rank..columns.len()).max_by(|a, b| {
            columns[*a][row]
                .abs()
                .partial_cmp(&columns[*b][row].abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        }) else {
            break;
        };
        if columns[pivot][row].abs() < 1e-9 {
            continue;
        }
        columns.swap(rank, pivot);
        let pivot_column = columns[rank].clone();
        for column in columns.iter_mut().skip(rank + 1) {
            let factor = column[row] / pivot_column[row];
            if factor != 0.0 {
                for (cell, p) in column.iter_mut().zip(&pivot_column) {
                    *cell -= factor * p;
                }
            }
        }
        rank += 1;
    }
    rank
}

/// A group that may be released: its atoms and how it ranks for hiding (smaller first).
#[derive(Clone, Debug)]
pub struct Candidate<K> {
    pub key: K,
    pub atoms: Vec<usize>,
}

/// Chooses which of `candidates` to release, given what `already` was released about the same
/// answers (rows of atoms): candidates below the minimum are never released, and while the
/// guard refuses the whole, the smallest candidate whose absence narrows the gap is hidden
/// (else the smallest of all). The result always passes [`isolates_a_few`] together with
/// `already` — unless `already` alone fails, which the caller has made impossible.
pub fn release<K: Clone + Ord>(
    counts: &[u32],
    already: &[Vec<usize>],
    candidates: &[Candidate<K>],
    minimum: u32,
) -> Vec<K> {
    release_under(&[counts], already, candidates, minimum)
}

/// [`release`] over several measures of the same atoms at once: the first decides which
/// candidates are large enough to show at all, and the result passes [`isolates_a_few`] under
/// every one of them. Figures that state how many were asked as well as how many answered
/// need both: the asked count of a block with no respondent still says that no one there
/// answered.
pub fn release_under<K: Clone + Ord>(
    measures: &[&[u32]],
    already: &[Vec<usize>],
    candidates: &[Candidate<K>],
    minimum: u32,
) -> Vec<K> {
    let Some(primary) = measures.first() else {
        return Vec::new();
    };
    let total = |c: &Candidate<K>| {
        c.atoms
            .iter()
            .map(|a| primary.get(*a).copied().unwrap_or(0))
            .sum::<u32>()
    };
    let mut kept: Vec<&Candidate<K>> = candidates.iter().filter(|c| total(c) >= minimum.max(1)).collect();
    // Smallest first, ties by key: the order in which candidates are given up.
    kept.sort_by(|a, b| total(a).cmp(&total(b)).then_with(|| a.key.cmp(&b.key)));
    let rows = |kept: &[&Candidate<K>]| -> Vec<Vec<usize>> {
        already
            .iter()
            .cloned()
            .chain(kept.iter().map(|c| c.atoms.clone()))
            .collect()
    };
    let gap_under_all =
        |rows: &[Vec<usize>]| -> usize { measures.iter().map(|counts| gap(counts, rows, minimum)).sum() };
    loop {
        let current = gap_under_all(&rows(&kept));
        if current == 0 || kept.is_empty() {
            break;
        }
        let helps = (0..kept.len()).find(|i| {
            let mut without = kept.clone();
            without.remove(*i);
            gap_under_all(&rows(&without)) < current
        });
        kept.remove(helps.unwrap_or(0));
    }
    let mut out: Vec<K> = kept.into_iter().map(|c| c.key.clone()).collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(key: u32, atoms: &[usize]) -> Candidate<u32> {
        Candidate {
            key,
            atoms: atoms.to_vec(),
        }
    }

    #[test]
    fn a_difference_of_two_released_groups_is_caught() {
        // Atoms: A 5, B 1. Released: A ∪ B (6) and A (5): their difference is B, one person.
        assert!(isolates_a_few(&[5, 1], &[vec![0, 1], vec![0]], 5));
        // Either one alone is safe.
        assert!(!isolates_a_few(&[5, 1], &[vec![0, 1]], 5));
        assert!(!isolates_a_few(&[5, 1], &[vec![0]], 5));
        // Empty remainders are safe.
        assert!(!isolates_a_few(&[5, 0], &[vec![0, 1], vec![0]], 5));
    }

    #[test]
    fn the_issue_cases_are_caught_across_time() {
        // A department move: Sales = {A 5, B 1} and C 5 released before; after B moves under
        // C, Sales = A and C ∪ B. Atoms: A, B, C.
        let before = vec![vec![0, 1], vec![2]];
        let after = vec![vec![0], vec![2, 1]];
        let counts = [5, 1, 5];
        assert!(!isolates_a_few(&counts, &before, 5));
        assert!(!isolates_a_few(&counts, &after, 5));
        let both: Vec<Vec<usize>> = before.iter().chain(&after).cloned().collect();
        assert!(isolates_a_few(&counts, &both, 5));
        // A minimum lowered from 5 to 4: Engineering = head 1 + Platform 5, Sales 2, no
        // department 2. At 5: workplace (10) and Platform; at 4: workplace and Engineering.
        let counts = [1, 5, 2, 2];
        let at_five = vec![vec![0, 1, 2, 3], vec![1]];
        let at_four = vec![vec![0, 1, 2, 3], vec![0, 1]];
        assert!(!isolates_a_few(&counts, &at_five, 4));
        assert!(!isolates_a_few(&counts, &at_four, 4));
        let both: Vec<Vec<usize>> = at_five.iter().chain(&at_four).cloned().collect();
        assert!(isolates_a_few(&counts, &both, 4));
    }

    #[test]
    fn release_hides_the_next_smallest_group() {
        // Parent 6 = A 5 + B 1: B is below the minimum, and A must go too.
        let shown = release(
            &[5, 1],
            &[],
            &[candidate(0, &[0, 1]), candidate(1, &[0]), candidate(2, &[1])],
            5,
        );
        assert_eq!(shown, vec![0]);
        // Three children 5, 7, 1: the 5 goes, the 7 stays (13 − 7 = 6).
        let shown = release(
            &[5, 7, 1],
            &[],
            &[
                candidate(0, &[0, 1, 2]),
                candidate(1, &[0]),
                candidate(2, &[1]),
                candidate(3, &[2]),
            ],
            5,
        );
        assert_eq!(shown, vec![0, 2]);
        // Under a second measure too: A 5 answered of 5 asked, B none of 1 asked. By answers
        // alone A ∪ B and A may both show; their asked counts would say B's one person did not
        // answer.
        let answered = [5, 0];
        let asked = [5, 1];
        let candidates = [candidate(0, &[0, 1]), candidate(1, &[0])];
        assert_eq!(release(&answered, &[], &candidates, 5), vec![0, 1]);
        assert_eq!(release_under(&[&answered, &asked], &[], &candidates, 5).len(), 1);
        // What was released before counts: with A ∪ B out already, A alone is refused.
        let shown = release(&[5, 1], &[vec![0, 1]], &[candidate(1, &[0])], 5);
        assert!(shown.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn whatever_is_released_passes_the_guard(
            counts in proptest::collection::vec(0u32..8, 1..7),
            sets in proptest::collection::vec(proptest::collection::vec(0usize..7, 1..5), 1..7),
            minimum in 3u32..=6,
        ) {
            let candidates: Vec<Candidate<usize>> = sets
                .iter()
                .enumerate()
                .map(|(key, atoms)| Candidate {
                    key,
                    atoms: atoms.iter().copied().filter(|a| *a < counts.len()).collect(),
                })
                .collect();
            let shown = release(&counts, &[], &candidates, minimum);
            let rows: Vec<Vec<usize>> = shown.iter().map(|k| candidates[*k].atoms.clone()).collect();
            proptest::prop_assert!(!isolates_a_few(&counts, &rows, minimum));
            // And, checked by brute force over every 0/1 set of atoms: none with 1 to
            // minimum − 1 respondents is a combination of the released rows.
            for mask in 1u32..(1 << counts.len()) {
                let people: u32 = (0..counts.len()).filter(|i| (mask >> i) & 1 == 1).map(|i| counts[i]).sum();
                if people == 0 || people >= minimum {
                    continue;
                }
                let target: Vec<f64> = (0..counts.len()).map(|i| f64::from((mask >> i) & 1)).collect();
                proptest::prop_assert!(!in_span(&rows, counts.len(), &target));
            }
        }
    }

    fn in_span(rows: &[Vec<usize>], width: usize, target: &[f64]) -> bool {
        let as_columns = |extra: Option<&[f64]>| {
            // Transpose: rank of rows equals rank of columns.
            let mut m: Vec<Vec<f64>> = rows
                .iter()
                .map(|r| {
                    let mut v = vec![0.0; width];
                    for a in r {
                        v[*a] = 1.0;
                    }
                    v
                })
                .collect();
            if let Some(t) = extra {
                m.push(t.to_vec());
            }
            m
        };
        rank(as_columns(None)) == rank(as_columns(Some(target)))
    }
}
