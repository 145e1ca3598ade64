//! The schedule: `30s`/`15m`/`6h`/`1d` durations, and the wait between
//! cycles with jitter, so several daemons (one per brand) do not hit the
//! marketplaces in step.

use std::time::Duration;

/// Time between cycles when neither `--every` nor the config says.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(6 * 3600);
/// Share of the interval a wait may vary by, either way.
pub const DEFAULT_JITTER_FRACTION: f64 = 0.1;
/// The shortest interval accepted, and the duration syntax (in
/// [`crate::model::config`], which checks `[daemon] every` when it loads).
pub use crate::model::config::{parse_duration, MIN_EVERY};

/// The wait before the next cycle: `every` ± `fraction`, drawn from `u`
/// in [0, 1) (the caller supplies randomness, tests a fixed value).
pub fn jittered(every: Duration, fraction: f64, u: f64) -> Duration {
    let f = fraction.clamp(0.0, 0.9);
    let factor = 1.0 + f * (2.0 * u.clamp(0.0, 1.0) - 1.0);
    every.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(
            parse_duration("30").unwrap_err().contains("unit"),
            "{:?}",
            parse_duration("30")
        );
        assert!(
            parse_duration("5x")
                .unwrap_err()
                .contains("unknown time unit"),
            "{:?}",
            parse_duration("5x")
        );
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let every = Duration::from_secs(100);
        assert_eq!(jittered(every, 0.1, 0.0), Duration::from_secs(90));
        assert_eq!(jittered(every, 0.1, 0.5), Duration::from_secs(100));
        assert!(jittered(every, 0.1, 0.999) <= Duration::from_secs(110));
        assert_eq!(jittered(every, 0.0, 0.9), every);
    }
}
