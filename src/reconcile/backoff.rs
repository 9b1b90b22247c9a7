//! Per-object backoff of heals (pure): the first heal is immediate; an object that drifts again soon after
//! being healed (another controller fighting rekube over a field) waits 1 s, then 2 s, 4 s… up to 5 min
//! before the next heal, so a fight can never become a hot loop. A quiet spell resets it.

use std::time::{Duration, Instant};

/// The delay after the first heal of a streak; it doubles with each heal of the streak.
pub const BASE: Duration = Duration::from_secs(1);
/// The longest delay between two heals of one object.
pub const MAX: Duration = Duration::from_secs(300);
/// A heal this long (beyond its delay) after the previous one starts a new streak.
pub const QUIET: Duration = Duration::from_secs(10);

/// The heal history of one object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    /// Heals in the current streak.
    streak: u32,
    last: Option<Instant>,
}

impl Backoff {
    /// How long after the previous heal the next one may run, for a streak of `streak` heals.
    pub fn delay(streak: u32) -> Duration {
        if streak == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl(streak - 1).unwrap_or(u32::MAX);
        BASE.saturating_mul(factor).min(MAX)
    }

    /// When the next heal may run (`None`: now).
    pub fn next_allowed(&self) -> Option<Instant> {
        self.last.map(|l| l + Backoff::delay(self.streak))
    }

    /// True when a heal may run at `now`.
    pub fn allows(&self, now: Instant) -> bool {
        self.next_allowed().is_none_or(|t| now >= t)
    }

    /// Records a heal at `now`: it continues the streak when it comes soon after the previous one.
    pub fn record(&mut self, now: Instant) {
        let continued = self.last.is_some_and(|l| {
            now.saturating_duration_since(l) < Backoff::delay(self.streak) + QUIET
        });
        self.streak = if continued {
            self.streak.saturating_add(1)
        } else {
            1
        };
        self.last = Some(now);
    }

    pub fn streak(&self) -> u32 {
        self.streak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_maximum() {
        let cases = [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 4),
            (9, 256),
            (10, 300),
            (40, 300),
        ];
        for (streak, secs) in cases {
            assert_eq!(
                Backoff::delay(streak),
                Duration::from_secs(secs),
                "{streak}"
            );
        }
    }

    #[test]
    fn a_fight_backs_off_and_a_quiet_spell_resets() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        assert!(b.allows(t0), "the first heal is immediate");
        b.record(t0);
        assert!(!b.allows(t0 + Duration::from_millis(500)));
        assert!(b.allows(t0 + Duration::from_secs(1)));
        b.record(t0 + Duration::from_secs(1));
        assert_eq!(b.streak(), 2);
        assert!(!b.allows(t0 + Duration::from_secs(2)));
        assert!(b.allows(t0 + Duration::from_secs(3)));
        // Long after the streak: immediate again, and a new streak.
        let later = t0 + Duration::from_secs(60);
        assert!(b.allows(later));
        b.record(later);
        assert_eq!(b.streak(), 1);
    }

    #[test]
    fn heals_in_a_tight_loop_are_few() {
        // Someone reverts rekube every 100 ms for a minute: rekube heals a handful of times, not 600.
        let t0 = Instant::now();
        let mut b = Backoff::default();
        let mut heals = 0;
        for i in 0..600 {
            let now = t0 + Duration::from_millis(100 * i);
            if b.allows(now) {
                b.record(now);
                heals += 1;
            }
        }
        assert!(heals <= 8, "{heals} heals");
    }
}
