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
//! [`release`] chooses what to show: of the candidates with at least the minimum, largest
//! first, each one the guard accepts together with those already kept; so the smallest give
//! way (the next-smallest cell is hidden, as complementary suppression does on a tree).

use std::collections::BTreeMap;

/// Whether some linear combination of `released` (each a list of atom indices) describes
/// between 1 and `minimum − 1` respondents, given `counts` respondents per atom.
pub fn isolates_a_few(counts: &[u32], released: &[Vec<usize>], minimum: u32) -> bool {
    let measure = Measure::plain(counts, minimum);
    gap(&measure.counts, released, measure.minimum) > 0
}

/// What the guard counts per atom, and the smallest count a block may have (below it, but
/// above zero, the block is "a few").
#[derive(Clone, Debug)]
pub struct Measure {
    counts: Vec<u64>,
    minimum: u64,
}

impl Measure {
    pub fn plain(counts: &[u32], minimum: u32) -> Self {
        Self {
            counts: counts.iter().map(|n| u64::from(*n)).collect(),
            minimum: u64::from(minimum.max(1)),
        }
    }

    /// Respondents, where a block of people who were asked and of whom nobody answered also
    /// counts as a few: otherwise "5 of 10" next to "5 of 5" would say that the other five,
    /// named by their band or team, all stayed silent. (Each answer weighs `SCALE`, each
    /// silent atom 1, so a block is small exactly when it has fewer than the minimum
    /// respondents and either some respondent or some silent atom.)
    pub fn respondents_or_silence(answered: &[u32], asked: &[u32], minimum: u32) -> Self {
        const SCALE: u64 = 1 << 24;
        Self {
            counts: answered
                .iter()
                .enumerate()
                .map(|(atom, n)| {
                    let silent = *n == 0 && asked.get(atom).copied().unwrap_or(0) > 0;
                    u64::from(*n) * SCALE + u64::from(silent)
                })
                .collect(),
            minimum: u64::from(minimum.max(1)) * SCALE,
        }
    }
}

/// rank(rows on small and large blocks) − rank(rows on large blocks): how many independent
/// directions reach small blocks without touching large ones (0: safe).
fn gap(counts: &[u64], released: &[Vec<usize>], minimum: u64) -> usize {
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
    let mut blocks: BTreeMap<Vec<usize>, u64> = BTreeMap::new();
    for (atom, signature) in signatures {
        let n = counts.get(atom).copied().unwrap_or(0);
        let block = blocks.entry(signature).or_default();
        *block = block.saturating_add(n);
    }
    // Rows over blocks (each block a column), and whether each block is large.
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); released.len()];
    let mut large = Vec::with_capacity(blocks.len());
    let mut any_small = false;
    // A block nobody in answers for is left out: a combination may weigh it as it likes.
    for (column, (signature, n)) in blocks.iter().filter(|(_, n)| **n > 0).enumerate() {
        for row in signature {
            rows[*row].push(column);
        }
        large.push(*n >= minimum);
        any_small |= *n < minimum;
    }
    if !any_small {
        return 0;
    }
    let on_large: Vec<Vec<usize>> = rows
        .iter()
        .map(|row| row.iter().copied().filter(|c| large[*c]).collect())
        .collect();
    rank(rows) - rank(on_large)
}

/// Arithmetic modulo the Mersenne prime 2⁶¹ − 1: exact, and a 0/1 matrix has the same rank
/// over it as over the rationals unless the prime divides every largest non-zero minor.
const PRIME: u64 = (1 << 61) - 1;

fn times(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(PRIME)) as u64
}

fn inverse(a: u64) -> u64 {
    // Fermat: a^(p−2).
    let (mut base, mut exponent, mut result) = (a, PRIME - 2, 1);
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = times(result, base);
        }
        base = times(base, base);
        exponent >>= 1;
    }
    result
}

/// The rank of a 0/1 matrix given as rows (each the columns holding a 1), by sparse Gaussian
/// elimination. Short rows are reduced first, so a team's row is reduced by the rows of the
/// groups inside it and stays short: nested groups eliminate in close to linear time.
fn rank(mut rows: Vec<Vec<usize>>) -> usize {
    rows.sort_by_key(Vec::len);
    // Pivot rows by their leading column, leading entry 1, entries sorted by column.
    let mut pivots: BTreeMap<usize, Vec<(usize, u64)>> = BTreeMap::new();
    for row in rows {
        let mut row: Vec<(usize, u64)> = row.into_iter().map(|c| (c, 1)).collect();
        row.sort_unstable();
        row.dedup_by_key(|(c, _)| *c);
        while let Some(&(lead, value)) = row.first() {
            let Some(pivot) = pivots.get(&lead) else {
                let scale = inverse(value);
                for entry in &mut row {
                    entry.1 = times(entry.1, scale);
                }
                pivots.insert(lead, row);
                break;
            };
            row = subtract_scaled(&row, pivot, value);
        }
    }
    pivots.len()
}

/// row − factor × pivot, dropping zero entries (both sorted by column).
fn subtract_scaled(row: &[(usize, u64)], pivot: &[(usize, u64)], factor: u64) -> Vec<(usize, u64)> {
    let mut out = Vec::with_capacity(row.len() + pivot.len());
    let (mut i, mut j) = (0, 0);
    while i < row.len() || j < pivot.len() {
        let next_row = row.get(i).map_or(usize::MAX, |e| e.0);
        let next_pivot = pivot.get(j).map_or(usize::MAX, |e| e.0);
        let (column, value) = if next_row < next_pivot {
            i += 1;
            (next_row, row[i - 1].1)
        } else {
            let scaled = times(pivot[j].1, factor);
            j += 1;
            if next_row == next_pivot {
                i += 1;
                (next_row, (row[i - 1].1 + PRIME - scaled) % PRIME)
            } else {
                (next_pivot, (PRIME - scaled) % PRIME)
            }
        };
        if value != 0 {
            out.push((column, value));
        }
    }
    out
}

/// A group that may be released: its key and the atoms it sums.
#[derive(Clone, Debug)]
pub struct Candidate<K> {
    pub key: K,
    pub atoms: Vec<usize>,
}

/// Chooses which of `candidates` to release, given what `already` was released about the same
/// answers (rows of atoms): candidates below the minimum are never released, and the others
/// are taken largest first while the guard accepts them. The result always passes [`isolates_a_few`] together with
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
    let checked: Vec<Measure> = measures.iter().map(|m| Measure::plain(m, minimum)).collect();
    release_checked(primary, &checked, already, candidates, minimum)
}

/// [`release_under`] with `primary` deciding which candidates are large enough to show, and
/// the result passing the guard under every one of `checked`.
pub fn release_checked<K: Clone + Ord>(
    primary: &[u32],
    checked: &[Measure],
    already: &[Vec<usize>],
    candidates: &[Candidate<K>],
    minimum: u32,
) -> Vec<K> {
    let total = |c: &Candidate<K>| {
        c.atoms
            .iter()
            .map(|a| primary.get(*a).copied().unwrap_or(0))
            .sum::<u32>()
    };
    let mut order: Vec<&Candidate<K>> = candidates.iter().filter(|c| total(c) >= minimum.max(1)).collect();
    // Largest first, ties by key: each is kept when the guard still accepts everything kept
    // with it. A candidate refused now would be refused later too (more rows only split
    // blocks), so what is kept cannot grow by another candidate: the smallest give way.
    order.sort_by(|a, b| total(b).cmp(&total(a)).then_with(|| a.key.cmp(&b.key)));
    let safe = |rows: &[Vec<usize>]| {
        checked
            .iter()
            .all(|measure| gap(&measure.counts, rows, measure.minimum) == 0)
    };
    let mut rows: Vec<Vec<usize>> = already.to_vec();
    rows.extend(order.iter().map(|c| c.atoms.clone()));
    if safe(&rows) {
        let mut out: Vec<K> = order.into_iter().map(|c| c.key.clone()).collect();
        out.sort();
        return out;
    }
    rows.truncate(already.len());
    let mut kept = Vec::new();
    for candidate in order {
        rows.push(candidate.atoms.clone());
        if safe(&rows) {
            kept.push(candidate);
        } else {
            rows.pop();
        }
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
                let target: Vec<usize> = (0..counts.len()).filter(|i| (mask >> i) & 1 == 1).collect();
                proptest::prop_assert!(!in_span(&rows, &target));
            }
        }
    }

    fn in_span(rows: &[Vec<usize>], target: &[usize]) -> bool {
        let mut with_target = rows.to_vec();
        with_target.push(target.to_vec());
        rank(rows.to_vec()) == rank(with_target)
    }
}
