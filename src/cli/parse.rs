//! Value parsers of the flags: durations, percentages, namespaces, Kubernetes versions.

/// `1.34.4`, `v1.34.4` or `1.34`: a Kubernetes version as Helm's `--kube-version` takes it.
pub fn parse_kube_version(s: &str) -> Result<String, String> {
    let v = s.trim().trim_start_matches('v');
    let parts: Vec<&str> = v.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if numeric && (2..=3).contains(&parts.len()) {
        Ok(v.to_string())
    } else {
        Err(format!(
            "invalid Kubernetes version {s:?}: expected MAJOR.MINOR.PATCH, e.g. 1.34.4"
        ))
    }
}

/// A namespace name: a DNS-1123 label.
pub fn parse_namespace(s: &str) -> Result<String, String> {
    crate::manifest::names::dns1123_label(s)
        .map(|()| s.to_string())
        .map_err(|e| format!("invalid namespace {s:?}: {e}"))
}

/// The longest duration a flag accepts: a year. Anything longer is a typo, and the arithmetic done with
/// durations (deadlines, `10 × --interval`) must never overflow.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// Parses `90s`, `5m`, `1h`, `1h30m` or a bare number of seconds, up to [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let too_long = || format!("invalid duration {s:?}: too long (at most 8760h, a year)");
    let max = MAX_DURATION.as_secs();
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let mult = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => {
                return Err(format!(
                    "invalid duration {s:?}: unit {c:?} (use s, m or h, e.g. 90s, 5m)"
                ));
            }
        };
        if num.is_empty() {
            return Err(format!(
                "invalid duration {s:?}: a number must come before {c:?}"
            ));
        }
        total = add(total, &num, mult)
            .filter(|t| *t <= max)
            .ok_or_else(too_long)?;
        num.clear();
    }
    if !num.is_empty() {
        // A bare number of seconds; digits after a unit (`5m3`) are not a duration.
        if total > 0 {
            return Err(format!("invalid duration {s:?} (use e.g. 90s, 5m, 1h30m)"));
        }
        total = add(0, &num, 1).filter(|t| *t <= max).ok_or_else(too_long)?;
    }
    if total == 0 {
        return Err(format!("invalid duration {s:?} (use e.g. 90s, 5m, 1h30m)"));
    }
    Ok(std::time::Duration::from_secs(total))
}

/// `total + digits × mult`, or `None` when it does not fit in a u64 (the caller says "too long").
fn add(total: u64, digits: &str, mult: u64) -> Option<u64> {
    let n: u64 = digits.parse().ok()?;
    total.checked_add(n.checked_mul(mult)?)
}

/// Parses `25%` or `25` into a percentage from 0 to 100.
pub fn parse_percent(s: &str) -> Result<u8, String> {
    let n = s.trim().trim_end_matches('%');
    match n.parse::<u8>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(format!("invalid percentage {s:?} (use 0% to 100%)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("5m").unwrap().as_secs(), 300);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5m3").is_err());
        assert!(parse_duration("0").is_err());
        assert_eq!(parse_duration("8760h").unwrap(), MAX_DURATION);
    }

    #[test]
    fn absurd_durations_are_refused_not_overflowed() {
        for s in [
            "18446744073709551615",
            "99999999999999999999999s",
            "5124095576030431h",
            "8761h",
            "525601m",
            "8760h1s",
        ] {
            let err = parse_duration(s).unwrap_err();
            assert!(err.contains("too long"), "{s}: {err}");
        }
    }

    #[test]
    fn percents() {
        assert_eq!(parse_percent("25%").unwrap(), 25);
        assert_eq!(parse_percent("100").unwrap(), 100);
        assert!(parse_percent("101%").is_err());
        assert!(parse_percent("-1").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        crate::cli::Cli::command().debug_assert();
    }
}
