//! Tenure bands: how long people have worked here, in the bands a workplace chooses (whole years,
//! e.g. "under 1 year, 1–2, 2–5, 5 or more"). Results by tenure are cut at close, in the round's
//! release and through the same guard as the teams, using the bands then in force.

use chrono::NaiveDate;

use crate::{
    platform::{
        policy::{Action, Resource},
        tenant::TenantDb,
    },
    Error, Result,
};

/// The bands a workplace starts with: boundaries at 1, 2 and 5 years.
pub const DEFAULT_BOUNDS: &[u32] = &[1, 2, 5];
/// The most boundaries (so at most one band more, plus "start date not recorded").
pub const MAX_BOUNDS: usize = 6;
/// The highest boundary, in years.
pub const MAX_YEARS: u32 = 50;

/// A workplace's tenure bands, as ascending boundaries in whole years.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenureBands {
    bounds: Vec<u32>,
}

impl Default for TenureBands {
    fn default() -> Self {
        Self {
            bounds: DEFAULT_BOUNDS.to_vec(),
        }
    }
}

impl TenureBands {
    /// Checks boundaries given by a person: 1 to [`MAX_BOUNDS`] whole years, strictly
    /// ascending, each from 1 to [`MAX_YEARS`].
    pub fn new(bounds: Vec<u32>) -> Result<Self> {
        let invalid = |reason: String| Error::Invalid {
            field: "tenure bands",
            reason,
        };
        if bounds.is_empty() || bounds.len() > MAX_BOUNDS {
            return Err(invalid(format!("give 1 to {MAX_BOUNDS} boundaries, in years")));
        }
        if bounds.iter().any(|b| !(1..=MAX_YEARS).contains(b)) {
            return Err(invalid(format!(
                "each boundary is a whole number of years from 1 to {MAX_YEARS}"
            )));
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(invalid(
                "boundaries go up, each larger than the one before".into(),
            ));
        }
        Ok(Self { bounds })
    }

    /// Reads boundaries as stored ("1,2,5"); anything unreadable gives the defaults.
    pub(crate) fn from_stored(text: &str) -> Self {
        let parsed: Option<Vec<u32>> = text.split(',').map(|part| part.trim().parse().ok()).collect();
        parsed
            .and_then(|bounds| Self::new(bounds).ok())
            .unwrap_or_default()
    }

    pub(crate) fn to_stored(&self) -> String {
        self.bounds
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn bounds(&self) -> &[u32] {
        &self.bounds
    }

    /// How many bands there are with a known start date (the last is "N years or more").
    pub fn len(&self) -> usize {
        self.bounds.len() + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The band of someone with `years` whole years here; None: start date not recorded.
    pub fn band_of(&self, years: Option<u32>) -> Option<usize> {
        let years = years?;
        Some(self.bounds.iter().take_while(|b| years >= **b).count())
    }

    /// What band `index` is called on the results page.
    pub fn label(&self, band: Option<usize>) -> String {
        let Some(index) = band else {
            return "Start date not recorded".into();
        };
        let years = |n: u32| {
            if n == 1 {
                "1 year".to_owned()
            } else {
                format!("{n} years")
            }
        };
        match (
            index.checked_sub(1).and_then(|i| self.bounds.get(i)),
            self.bounds.get(index),
        ) {
            (None, Some(high)) => format!("Under {}", years(*high)),
            (Some(low), Some(high)) => format!("{low} to {}", years(*high)),
            (Some(low), None) => format!("{} or more", years(*low)),
            (None, None) => "Any time".into(),
        }
    }
}

/// Whole years from `start` to `on` (None: no start date recorded; a start after `on` counts
/// as under a year).
pub fn whole_years(start: Option<NaiveDate>, on: NaiveDate) -> Option<u32> {
    let start = start?;
    Some(on.years_since(start).unwrap_or(0))
}

/// The workplace's tenure bands (the `settings` permission).
pub async fn bands(tenant: &TenantDb) -> Result<TenureBands> {
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin_read().await?;
    let bands = bands_in(tenant, &txn).await?;
    txn.commit().await?;
    Ok(bands)
}

pub(crate) async fn bands_in(tenant: &TenantDb, conn: &impl sea_orm::ConnectionTrait) -> Result<TenureBands> {
    use sea_orm::EntityTrait;
    let row = crate::platform::entities::workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(TenureBands::from_stored(&row.tenure_bounds))
}

/// Sets the workplace's tenure bands. Like the minimum group sizes, a change applies to rounds
/// that close afterwards: a closed round keeps the cuts it released.
pub async fn set_bands(tenant: &TenantDb, bands: &TenureBands) -> Result<()> {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    tenant.require(Action::ManageSettings, Resource::Workplace)?;
    let txn = tenant.begin().await?;
    let row = crate::platform::entities::workplaces::Entity::find_by_id(tenant.workplace_id().uuid())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut changed: crate::platform::entities::workplaces::ActiveModel = row.into();
    changed.tenure_bounds = Set(bands.to_stored());
    changed.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_workplaces_start_with_the_default_bands() {
        assert_eq!(
            TenureBands::default().to_stored(),
            crate::platform::entities::workplaces::DEFAULT_TENURE_BOUNDS
        );
    }

    #[test]
    fn bands_follow_whole_years_and_read_well() {
        let bands = TenureBands::default();
        let on = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        let band = |y, m, d| bands.band_of(whole_years(NaiveDate::from_ymd_opt(y, m, d), on));
        assert_eq!(band(2026, 1, 1), Some(0));
        assert_eq!(band(2025, 11, 23), Some(1));
        assert_eq!(band(2025, 11, 24), Some(0));
        assert_eq!(band(2022, 11, 22), Some(2));
        assert_eq!(band(2021, 11, 23), Some(3));
        assert_eq!(
            band(2030, 1, 1),
            Some(0),
            "a start in the future counts as under a year"
        );
        assert_eq!(bands.band_of(None), None);
        let labels: Vec<String> = (0..bands.len()).map(|i| bands.label(Some(i))).collect();
        assert_eq!(
            labels,
            ["Under 1 year", "1 to 2 years", "2 to 5 years", "5 years or more"]
        );
        assert_eq!(bands.label(None), "Start date not recorded");
    }

    #[test]
    fn bands_given_by_a_person_are_checked() {
        assert!(TenureBands::new(vec![2, 4]).is_ok());
        for bad in [
            vec![],
            vec![0],
            vec![3, 2],
            vec![2, 2],
            vec![51],
            vec![1, 2, 3, 4, 5, 6, 7],
        ] {
            assert!(TenureBands::new(bad.clone()).is_err(), "{bad:?}");
        }
        assert_eq!(TenureBands::from_stored("1, 3").bounds(), [1, 3]);
        assert_eq!(TenureBands::from_stored("nonsense"), TenureBands::default());
        assert_eq!(
            TenureBands::from_stored(&TenureBands::default().to_stored()),
            TenureBands::default()
        );
    }
}
