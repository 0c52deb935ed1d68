//! Rules against guessing, as pure functions of the recorded failures and the current time (the
//! failures themselves live in the database so that every server process sees them).
//!
//! - Per network address: too many failures within a window block it for a while
//!   (default 10 in 5 minutes → 15 minutes).
//! - Per account: each failure beyond a few free ones adds a delay before the next attempt,
//!   growing in steps up to a cap, forgotten after a quiet period — slow for a guesser, never a
//!   permanent lock-out for the real person.

use std::net::{IpAddr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};

/// What one address is throttled as: an IPv4 address itself (an IPv4-mapped IPv6 address as
/// that IPv4 address), an IPv6 address by its /64 — one customer's network, inside which anyone
/// can pick a new address for every request.
pub fn throttled_network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Refuse until this time (answered with 429 and Retry-After).
    WaitUntil(DateTime<Utc>),
}

impl Decision {
    /// Whole seconds until a retry is allowed (at least 1 while blocked).
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> Option<u64> {
        match self {
            Decision::Allow => None,
            Decision::WaitUntil(until) => {
                Some(u64::try_from((*until - now).num_seconds().max(1)).unwrap_or(1))
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressRule {
    pub max_failures: usize,
    pub window: Duration,
    pub block: Duration,
}

impl Default for AddressRule {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::minutes(5),
            block: Duration::minutes(15),
        }
    }
}

impl AddressRule {
    /// How far back failures matter: a block can start at most `window` before its last failure.
    pub fn lookback(&self) -> Duration {
        self.window + self.block
    }

    /// `failures` are the address's failure times (any order) within [`Self::lookback`].
    pub fn decide(&self, failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Decision {
        if self.max_failures == 0 {
            return Decision::Allow;
        }
        let mut times: Vec<_> = failures.iter().copied().filter(|t| *t <= now).collect();
        times.sort();
        // The latest failure that completed a full window of failures starts the block.
        let mut blocked_until = None;
        for (i, last) in times.iter().enumerate() {
            if i + 1 >= self.max_failures {
                let first = times[i + 1 - self.max_failures];
                if *last - first < self.window {
                    blocked_until = Some(*last + self.block);
                }
            }
        }
        match blocked_until {
            Some(until) if until > now => Decision::WaitUntil(until),
            _ => Decision::Allow,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountRule {
    /// Failures allowed before delays begin.
    pub free_failures: u32,
    /// Added to the delay by each further failure.
    pub increment: Duration,
    pub max_wait: Duration,
    /// After this long without a failure the count starts again.
    pub reset_after: Duration,
}

impl Default for AccountRule {
    fn default() -> Self {
        Self {
            free_failures: 3,
            increment: Duration::seconds(30),
            max_wait: Duration::minutes(15),
            reset_after: Duration::hours(12),
        }
    }
}

/// An account's consecutive failures (since its last success or the last reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountFailures {
    pub count: u32,
    pub last: DateTime<Utc>,
}

impl AccountRule {
    /// The failure record after one more failure at `now`.
    pub fn record_failure(&self, previous: Option<AccountFailures>, now: DateTime<Utc>) -> AccountFailures {
        match previous {
            Some(prev) if now - prev.last < self.reset_after => AccountFailures {
                count: prev.count.saturating_add(1),
                last: now,
            },
            _ => AccountFailures { count: 1, last: now },
        }
    }

    /// The delay that `failures` impose on the next attempt.
    pub fn wait(&self, failures: u32) -> Duration {
        let extra = i32::try_from(failures.saturating_sub(self.free_failures)).unwrap_or(i32::MAX);
        (self.increment * extra).min(self.max_wait)
    }

    pub fn decide(&self, failures: Option<AccountFailures>, now: DateTime<Utc>) -> Decision {
        let Some(failures) = failures else {
            return Decision::Allow;
        };
        if now - failures.last >= self.reset_after {
            return Decision::Allow;
        }
        let until = failures.last + self.wait(failures.count);
        if until > now {
            Decision::WaitUntil(until)
        } else {
            Decision::Allow
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let network = |text: &str| throttled_network(text.parse().unwrap()).to_string();
        assert_eq!(network("203.0.113.7"), "203.0.113.7");
        assert_eq!(network("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(network("2001:db8:7:1:ffff::1"), "2001:db8:7:1::");
        assert_eq!(network("2001:db8:7:1::2"), network("2001:db8:7:1:abcd::9"));
        assert_ne!(network("2001:db8:7:1::1"), network("2001:db8:7:2::1"));
    }

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn secs(s: i64) -> Duration {
        Duration::seconds(s)
    }

    #[test]
    fn ten_failures_in_five_minutes_block_an_address_for_fifteen() {
        let rule = AddressRule::default();
        let failures: Vec<_> = (0..10).map(|i| t0() + secs(i * 20)).collect();
        let last = failures[9];
        assert_eq!(
            rule.decide(&failures[..9], last),
            Decision::Allow,
            "nine are not enough"
        );
        assert_eq!(
            rule.decide(&failures, last),
            Decision::WaitUntil(last + Duration::minutes(15))
        );
        assert_eq!(rule.decide(&failures, last).retry_after_secs(last), Some(900));
        assert_eq!(
            rule.decide(&failures, last + Duration::minutes(15)),
            Decision::Allow,
            "the block ends"
        );
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_block() {
        let rule = AddressRule::default();
        let failures: Vec<_> = (0..20).map(|i| t0() + secs(i * 40)).collect();
        assert_eq!(rule.decide(&failures, t0() + secs(20 * 40)), Decision::Allow);
    }

    #[test]
    fn account_delays_grow_in_steps_up_to_the_cap() {
        let rule = AccountRule::default();
        assert_eq!(rule.wait(1), Duration::zero());
        assert_eq!(rule.wait(3), Duration::zero());
        assert_eq!(rule.wait(4), secs(30));
        assert_eq!(rule.wait(6), secs(90));
        assert_eq!(rule.wait(1_000), Duration::minutes(15));
        assert_eq!(rule.wait(u32::MAX), Duration::minutes(15));
    }

    #[test]
    fn an_account_is_never_locked_for_good() {
        let rule = AccountRule::default();
        let mut failures = None;
        let mut now = t0();
        for _ in 0..500 {
            failures = Some(rule.record_failure(failures, now));
            now += secs(1);
        }
        let last = failures.map(|f| f.last).unwrap_or(now);
        assert_eq!(
            rule.decide(failures, now),
            Decision::WaitUntil(last + Duration::minutes(15))
        );
        assert_eq!(
            rule.decide(failures, last + Duration::minutes(15)),
            Decision::Allow
        );
    }

    #[test]
    fn twelve_quiet_hours_reset_the_count() {
        let rule = AccountRule::default();
        let mut failures = None;
        for i in 0..6 {
            failures = Some(rule.record_failure(failures, t0() + secs(i)));
        }
        assert_eq!(failures.map(|f| f.count), Some(6));
        let later = t0() + Duration::hours(12) + secs(10);
        assert_eq!(rule.decide(failures, later), Decision::Allow);
        assert_eq!(rule.record_failure(failures, later).count, 1);
    }
}
