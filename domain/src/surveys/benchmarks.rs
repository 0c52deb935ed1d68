//! Benchmarks across workplaces. A workplace that opts in contributes, per built-in question,
//! its whole-workplace figure over recently closed rounds (the mean, or the eNPS score) — and
//! only where at least its own minimum group answered. Each contribution is computed inside its
//! workplace's scope; only the platform figure leaves it. Opted-in workplaces see that figure
//! beside their own; no answer, count or single workplace's figure ever crosses workplaces.
//!
//! Counting contributors is not enough: free workplaces are easy to create, so four made-up
//! ones beside a victim, or the difference between two publications around one join, would
//! give one workplace's figure away from an exact average. The platform figures are therefore
//! published with differential privacy for one workplace's whole contribution — every question
//! it answers at once: a publication spends [`EPSILON`], shared evenly by the questions it
//! draws ([`per_question_epsilon`]); per question the sum of the (clamped) contributions and
//! their number each get Laplace noise (half of that share each), the figure is their ratio, and
//! the number of workplaces is shown only as that noisy count. Figures are republished at most
//! every [`REPUBLISH_DAYS`] days, so no single join or leave is ever shown alone. A round counts
//! for [`WINDOW_DAYS`] after it opens, so it takes part in at most `WINDOW_DAYS /
//! REPUBLISH_DAYS` publications; a ledger of publications keeps the spending over any
//! [`WINDOW_DAYS`] within [`BUDGET`], whatever the schedule.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::OnConflict, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

use super::{QuestionId, QuestionKind};
use crate::{
    platform::{
        entities::{answers, benchmark_publications, benchmarks, rounds, workplaces},
        ids::WorkplaceId,
        policy::{Action, Resource},
        tenant::TenantDb,
    },
    Database, Error, Result,
};

/// A platform figure is published only when the noisy number of workplaces is at least this.
pub const MIN_WORKPLACES: usize = 5;
/// Rounds that opened within this many days (and have closed) count.
pub const WINDOW_DAYS: i64 = 90;
/// Differential privacy spent by one publication for one workplace's whole contribution (all
/// its questions together).
pub const EPSILON: f64 = 1.0;
/// The most one workplace's contribution may cost over any [`WINDOW_DAYS`], all questions
/// together.
pub const BUDGET: f64 = 3.0;

/// How many built-in questions have a platform figure (the 1–5 scales and eNPS).
pub fn published_questions() -> usize {
    super::library::QUESTIONS
        .iter()
        .filter(|q| matches!(q.kind(), QuestionKind::Scale { .. } | QuestionKind::Enps))
        .count()
}

/// The share of [`EPSILON`] one question's figure spends in a publication.
pub fn per_question_epsilon() -> f64 {
    EPSILON / published_questions().max(1) as f64
}
/// A question's figure is published again at most this often.
pub const REPUBLISH_DAYS: i64 = 30;

/// The noise a publication adds, as the Security page and results state it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise {
    pub epsilon: f64,
    /// Laplace scale of the noise on the sum of contributions (its range over ε/2).
    pub sum_scale: f64,
    /// Laplace scale of the noise on the number of workplaces (1 over ε/2).
    pub count_scale: f64,
}

/// The range a contribution is clamped to: a mean on 1–5, or an eNPS score.
fn range_of(enps: bool) -> (f64, f64) {
    if enps {
        (-100.0, 100.0)
    } else {
        (1.0, 5.0)
    }
}

/// The noise for a question's figure.
pub fn noise(enps: bool) -> Noise {
    let (low, high) = range_of(enps);
    let epsilon = per_question_epsilon();
    Noise {
        epsilon,
        sum_scale: (high - low) / (epsilon / 2.0),
        count_scale: 1.0 / (epsilon / 2.0),
    }
}

fn laplace(scale: f64, rng: &mut impl rand::Rng) -> f64 {
    use rand_distr::{Distribution, Exp};
    // Laplace(b) is the difference of two independent Exp(1/b) draws.
    match Exp::new(1.0 / scale) {
        Ok(exp) => exp.sample(rng) - exp.sample(rng),
        Err(_) => 0.0,
    }
}

/// The noisy figure and noisy number of workplaces from `contributions` (one per workplace).
fn draw(contributions: &[f64], enps: bool, rng: &mut impl rand::Rng) -> (f64, f64) {
    let (low, high) = range_of(enps);
    let noise = noise(enps);
    let sum: f64 = contributions.iter().map(|c| c.clamp(low, high) - low).sum();
    let count = contributions.len() as f64 + laplace(noise.count_scale, rng);
    let noisy_sum = sum + laplace(noise.sum_scale, rng);
    let figure = if count > 0.0 {
        (low + noisy_sum / count).clamp(low, high)
    } else {
        low
    };
    (figure, count)
}

/// How many workplaces (by the noisy count) a figure needs before it is worth showing: at least
/// [`MIN_WORKPLACES`], and enough that the noise on the mean is about a tenth of the scale or
/// less. Below that a figure would mostly be noise.
pub fn workplaces_needed() -> u32 {
    let needed = (10.0 * noise(false).count_scale).ceil();
    (needed as u32).max(MIN_WORKPLACES as u32)
}

/// The figure to publish from `contributions` (one per workplace), with noise; None when the
/// noisy number of workplaces is below [`workplaces_needed`]. Returns (figure, noisy count).
pub fn publish(contributions: &[f64], enps: bool, rng: &mut impl rand::Rng) -> Option<(f64, u32)> {
    let (figure, count) = draw(contributions, enps, rng);
    if count < f64::from(workplaces_needed()) {
        return None;
    }
    Some((figure, count.round() as u32))
}

/// The platform figure for one built-in question.
#[derive(Clone, Debug, PartialEq)]
pub struct Benchmark {
    /// The mean on 1–5, or the eNPS score, with noise.
    pub value: f64,
    /// About how many workplaces contributed (itself with noise).
    pub workplaces: u32,
    pub computed_at: DateTime<Utc>,
}

/// What one workplace contributes: its figure per built-in question.
async fn contribution(tenant: &TenantDb, now: DateTime<Utc>) -> Result<BTreeMap<String, f64>> {
    let txn = tenant.begin_read().await?;
    let recent: Vec<(uuid::Uuid, uuid::Uuid)> = tenant
        .select::<rounds::Entity>()
        .select_only()
        .column(rounds::Column::Id)
        .column(rounds::Column::SurveyId)
        .filter(rounds::Column::ClosedAt.is_not_null())
        // Strictly within the window: a round is in at most WINDOW_DAYS / REPUBLISH_DAYS draws.
        .filter(rounds::Column::OpensAt.gt(now - Duration::days(WINDOW_DAYS)))
        .into_tuple()
        .all(&txn)
        .await?;
    if recent.is_empty() {
        txn.commit().await?;
        return Ok(BTreeMap::new());
    }
    let (minimum, _) = super::minimum_group_sizes(tenant, &txn).await?;
    // Built-in questions of the surveys those rounds belong to, by id.
    let mut library: BTreeMap<QuestionId, (String, QuestionKind)> = BTreeMap::new();
    let mut surveys: Vec<uuid::Uuid> = recent.iter().map(|(_, survey)| *survey).collect();
    surveys.sort();
    surveys.dedup();
    for survey in surveys {
        for question in super::questions_in(tenant, &txn, survey).await? {
            if let (Some(key), QuestionKind::Scale { .. } | QuestionKind::Enps) =
                (&question.library_key, &question.kind)
            {
                library.insert(question.id, (key.clone(), question.kind));
            }
        }
    }
    let counts: Vec<(QuestionId, i32, i64)> = tenant
        .select::<answers::Entity>()
        .select_only()
        .column(answers::Column::QuestionId)
        .column(answers::Column::Value)
        .column_as(answers::Column::Id.count(), "n")
        .filter(answers::Column::RoundId.is_in(recent.iter().map(|(round, _)| *round)))
        .filter(answers::Column::QuestionId.is_in(library.keys().copied()))
        .group_by(answers::Column::QuestionId)
        .group_by(answers::Column::Value)
        .into_tuple()
        .all(&txn)
        .await?;
    txn.commit().await?;
    // Per built-in question: answers per value, over every survey that asked it.
    let mut per_key: BTreeMap<String, (bool, BTreeMap<i32, u64>)> = BTreeMap::new();
    for (question, value, n) in counts {
        let Some((key, kind)) = library.get(&question) else {
            continue;
        };
        let entry = per_key
            .entry(key.clone())
            .or_insert_with(|| (matches!(kind, QuestionKind::Enps), BTreeMap::new()));
        *entry.1.entry(value).or_default() += u64::try_from(n).unwrap_or(0);
    }
    Ok(per_key
        .into_iter()
        .filter_map(|(key, (enps, values))| {
            let total: u64 = values.values().sum();
            // Too few answers to speak for the workplace: no contribution.
            if total < u64::from(minimum) {
                return None;
            }
            let figure = if enps {
                let promoters: u64 = values.iter().filter(|(v, _)| **v >= 9).map(|(_, n)| n).sum();
                let detractors: u64 = values.iter().filter(|(v, _)| **v <= 6).map(|(_, n)| n).sum();
                (promoters as f64 - detractors as f64) * 100.0 / total as f64
            } else {
                values.iter().map(|(v, n)| f64::from(*v) * *n as f64).sum::<f64>() / total as f64
            };
            Some((key, figure))
        })
        .collect())
}

/// Publishes the platform figures that are due (none published for [`REPUBLISH_DAYS`] days and
/// budget left), from the workplaces that opted in; returns how many questions were drawn (each
/// spends [`EPSILON`]). A question whose noisy count falls below [`MIN_WORKPLACES`] shows no
/// figure until its next draw.
pub async fn recompute(db: &Database, now: DateTime<Utc>) -> Result<usize> {
    use sea_orm::TransactionTrait;
    // A system job across workplaces: which workplaces opted in is read outside any of them.
    let opted: Vec<uuid::Uuid> = workplaces::Entity::find()
        .select_only()
        .column(workplaces::Column::Id)
        .filter(workplaces::Column::BenchmarkOptIn.eq(true))
        .into_tuple()
        .all(db.connection())
        .await?;
    let mut figures: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for workplace in opted {
        let tenant = TenantDb::for_system(db, WorkplaceId::from_uuid(workplace), "benchmark contribution");
        for (key, figure) in contribution(&tenant, now).await? {
            figures.entry(key).or_default().push(figure);
        }
    }
    let conn = db.connection();
    let txn = conn.begin().await?;
    let ledger = benchmark_publications::Entity::find()
        .filter(benchmark_publications::Column::PublishedAt.gt(now - Duration::days(WINDOW_DAYS)))
        .all(&txn)
        .await?;
    // Seeded from the thread's generator; unlike it, this one may be held across awaits.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_rng(&mut rand::rng());
    let mut published = 0;
    for question in super::library::QUESTIONS {
        let enps = match question.kind() {
            QuestionKind::Enps => true,
            QuestionKind::Scale { .. } => false,
            QuestionKind::Choice { .. } | QuestionKind::Text => continue,
        };
        let key = question.key.to_owned();
        let spent: Vec<&benchmark_publications::Model> =
            ledger.iter().filter(|p| p.library_key == key).collect();
        let recently = spent
            .iter()
            .any(|p| p.published_at > now - Duration::days(REPUBLISH_DAYS));
        // Each question holds its share of the budget, so the questions together hold BUDGET.
        let total: f64 = spent.iter().map(|p| p.epsilon).sum();
        let share = per_question_epsilon();
        if recently || total + share > BUDGET / published_questions().max(1) as f64 + 1e-9 {
            continue;
        }
        let contributions = figures.remove(&key).unwrap_or_default();
        if contributions.is_empty() {
            benchmarks::Entity::delete_by_id(key.clone()).exec(&txn).await?;
            continue;
        }
        // Spent whether or not the noisy count lets it through: the draw itself looked.
        benchmark_publications::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            library_key: Set(key.clone()),
            published_at: Set(now),
            epsilon: Set(share),
        }
        .insert(&txn)
        .await?;
        published += 1;
        let Some((value, workplaces)) = publish(&contributions, enps, &mut rng) else {
            benchmarks::Entity::delete_by_id(key.clone()).exec(&txn).await?;
            continue;
        };
        benchmarks::Entity::insert(benchmarks::ActiveModel {
            library_key: Set(key.clone()),
            value: Set(value),
            workplaces: Set(i32::try_from(workplaces).unwrap_or(i32::MAX)),
            computed_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(benchmarks::Column::LibraryKey)
                .update_columns([
                    benchmarks::Column::Value,
                    benchmarks::Column::Workplaces,
                    benchmarks::Column::ComputedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(published)
}

async fn opted_in(tenant: &TenantDb, conn: &impl sea_orm::ConnectionTrait) -> Result<bool> {
    Ok(workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?
        .benchmark_opt_in)
}

/// The platform figures by built-in question key, for a workplace that opted in (none
/// otherwise: seeing them is the other half of contributing).
pub(crate) async fn for_workplace(
    tenant: &TenantDb,
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<BTreeMap<String, Benchmark>> {
    if !opted_in(tenant, conn).await? {
        return Ok(BTreeMap::new());
    }
    // The platform figures are instance-wide rows: nothing in them belongs to one workplace.
    Ok(benchmarks::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            (
                row.library_key,
                Benchmark {
                    value: row.value,
                    workplaces: u32::try_from(row.workplaces).unwrap_or(0),
                    computed_at: row.computed_at,
                },
            )
        })
        .collect())
}

/// Whether the workplace takes part in benchmarks (the `settings` permission).
pub async fn opt_in(tenant: &TenantDb) -> Result<bool> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let on = opted_in(tenant, &txn).await?;
    txn.commit().await?;
    Ok(on)
}

/// Opts the workplace in or out; out takes effect for the platform figures at the next
/// recomputation.
pub async fn set_opt_in(tenant: &TenantDb, on: bool) -> Result<()> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let row = workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut changed: workplaces::ActiveModel = row.into();
    changed.benchmark_opt_in = Set(on);
    changed.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws repeat from run to run: a failure can be replayed.
    fn seeded(seed: u64) -> rand::rngs::StdRng {
        <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed)
    }

    /// One workplace's whole contribution, every question of a publication together, costs
    /// EPSILON; over a window the ledger holds it to BUDGET.
    #[test]
    fn one_publication_costs_epsilon_for_all_questions_together() {
        let shares: f64 = (0..published_questions()).map(|_| per_question_epsilon()).sum();
        assert!((shares - EPSILON).abs() < 1e-9);
        assert!(published_questions() > 1);
        // A round counts in at most this many draws, each republished no sooner than allowed.
        let draws = (WINDOW_DAYS + REPUBLISH_DAYS - 1) / REPUBLISH_DAYS;
        assert!(draws as f64 * EPSILON <= BUDGET + 1e-9);
    }

    /// Four free workplaces with known figures beside a victim: the attacker solves the average
    /// for the victim. Such a platform is too small to be published at all; even the noisy draw
    /// itself, were it shown, would be no better than a guess over the scale.
    #[test]
    fn sybils_cannot_solve_for_a_victim() {
        let mut rng = seeded(1);
        let (sybils, victim) = ([3.0, 3.0, 3.0, 3.0], 1.0);
        let mut all = sybils.to_vec();
        all.push(victim);
        let shown = (0..2000)
            .filter(|_| publish(&all, false, &mut rng).is_some())
            .count();
        assert!(shown < 5, "{shown}");
        let mut close = 0;
        let mut tries = 0;
        for _ in 0..2000 {
            let (figure, count) = draw(&all, false, &mut rng);
            if count < 1.0 {
                continue;
            }
            tries += 1;
            // The attacker's best reading: the figure times the count, minus what they put in.
            let guess = figure * count.round() - sybils.iter().sum::<f64>();
            if (guess - victim).abs() < 0.5 {
                close += 1;
            }
        }
        assert!(tries > 200, "{tries}");
        // A uniform guess over 1–5 lands within 0.5 a quarter of the time; the attack must do
        // no better.
        assert!(f64::from(close) / f64::from(tries) < 0.25, "{close} of {tries}");
    }

    /// A workplace joins between two publications of a large platform: new × (n + 1) − old × n
    /// no longer gives its figure.
    #[test]
    fn the_difference_of_two_publications_hides_a_newcomer() {
        let mut rng = seeded(2);
        let before: Vec<f64> = (0..400).map(|i| 2.0 + f64::from(i % 5) * 0.5).collect();
        let newcomer = 5.0;
        let mut after = before.clone();
        after.push(newcomer);
        let mut close = 0;
        let mut tries = 0;
        for _ in 0..2000 {
            let (Some((old, n_old)), Some((new, n_new))) = (
                publish(&before, false, &mut rng),
                publish(&after, false, &mut rng),
            ) else {
                continue;
            };
            tries += 1;
            let guess = new * f64::from(n_new) - old * f64::from(n_old);
            if (guess - newcomer).abs() < 0.5 {
                close += 1;
            }
        }
        assert!(tries > 200);
        assert!(f64::from(close) / f64::from(tries) < 0.25, "{close} of {tries}");
    }

    #[test]
    fn figures_stay_on_their_scale_and_small_platforms_show_nothing() {
        let mut rng = seeded(3);
        for _ in 0..500 {
            if let Some((figure, _)) = publish(&[5.0; 400], false, &mut rng) {
                assert!((1.0..=5.0).contains(&figure));
            }
            if let Some((score, _)) = publish(&[-100.0; 400], true, &mut rng) {
                assert!((-100.0..=100.0).contains(&score));
            }
        }
        // One workplace, or a handful: the noisy count almost never reaches what is needed.
        for n in [1, 5, 20] {
            let shown = (0..1000)
                .filter(|_| publish(&vec![3.0; n], false, &mut rng).is_some())
                .count();
            assert!(shown < 10, "{n} workplaces: {shown}");
        }
        // With a thousand, the figure is useful: within 0.25 of the truth nearly always.
        let good = (0..1000)
            .filter_map(|_| publish(&[3.0; 1000], false, &mut rng))
            .filter(|(figure, _)| (figure - 3.0).abs() < 0.25)
            .count();
        assert!(good > 900, "{good}");
    }
}
