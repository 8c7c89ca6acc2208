//! What a sweep varies: one parameter of the counter workload, over a list of values.

use clap::ValueEnum;
use serde::Serialize;

/// Most points one sweep runs: past this, a typo like `1..1000000:+1` would run for days.
pub const MAX_POINTS: usize = 64;

/// The parameter a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Parameter {
    Threads,
    Iterations,
    Window,
    Processes,
}

impl Parameter {
    /// As the flag and the reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            Parameter::Threads => "threads",
            Parameter::Iterations => "iterations",
            Parameter::Window => "window",
            Parameter::Processes => "processes",
        }
    }
}

/// The values one sweep flag was given, in order (a newtype: clap reads a bare `Vec` as a flag
/// given many times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values(pub Vec<u64>);

/// [`parse_values`] for clap.
pub fn values(text: &str) -> Result<Values, String> {
    parse_values(text).map(Values)
}

/// Parses a sweep's values: numbers and ranges separated by commas.
///
/// `A..B` doubles from A up to B (`1..64`: 1, 2, 4, ..., 64), `A..B:xN` multiplies by N
/// (`10..1000000:x10`), `A..B:+N` adds N (`0..100:+25`). B is always included, so that the
/// sweep ends where it was asked to.
pub fn parse_values(text: &str) -> Result<Vec<u64>, String> {
    let mut values = Vec::new();
    for item in text.split(',').map(str::trim) {
        match item.split_once("..") {
            None => values.push(number(item)?),
            Some((from, rest)) => {
                let (to, step) = match rest.split_once(':') {
                    Some((to, step)) => (to, Step::parse(step)?),
                    None => (rest, Step::Times(2)),
                };
                let (from, to) = (number(from)?, number(to)?);
                if from > to {
                    return Err(format!("{item}: the range runs backwards"));
                }
                if from == 0 && matches!(step, Step::Times(_)) {
                    return Err(format!(
                        "{item}: a range that multiplies cannot start at 0; use :+N steps"
                    ));
                }
                let mut v = from;
                while v < to {
                    values.push(v);
                    if values.len() > MAX_POINTS {
                        break;
                    }
                    v = step.next(v);
                }
                values.push(to);
            }
        }
        if values.len() > MAX_POINTS {
            return Err(format!("more than {MAX_POINTS} values; use a larger step"));
        }
    }
    values.dedup();
    Ok(values)
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Times(u64),
    Plus(u64),
}

impl Step {
    fn parse(text: &str) -> Result<Self, String> {
        let step = |n: &str| {
            number(n).and_then(|n| {
                if n == 0 {
                    Err("a step of 0 never ends".to_string())
                } else {
                    Ok(n)
                }
            })
        };
        match (text.strip_prefix('x'), text.strip_prefix('+')) {
            (Some(n), _) => match step(n)? {
                1 => Err("a step of x1 never ends".to_string()),
                n => Ok(Step::Times(n)),
            },
            (_, Some(n)) => step(n).map(Step::Plus),
            _ => Err(format!(
                "step '{text}': write :xN to multiply or :+N to add"
            )),
        }
    }

    fn next(self, v: u64) -> u64 {
        match self {
            Step::Times(n) => v.saturating_mul(n),
            Step::Plus(n) => v.saturating_add(n),
        }
    }
}

fn number(text: &str) -> Result<u64, String> {
    let digits: String = text.trim().chars().filter(|&c| c != '_').collect();
    digits.parse().map_err(|_| {
        format!("'{text}' is not a whole number (write 1,2,4 or 1..64 or 10..1000000:x10)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges_expand_to_these_values() {
        assert_eq!(parse_values("1,2,4,8"), Ok(vec![1, 2, 4, 8]));
        assert_eq!(parse_values("1..64"), Ok(vec![1, 2, 4, 8, 16, 32, 64]));
        assert_eq!(parse_values("1..10"), Ok(vec![1, 2, 4, 8, 10]));
        assert_eq!(
            parse_values("10..1_000_000:x10"),
            Ok(vec![10, 100, 1_000, 10_000, 100_000, 1_000_000])
        );
        assert_eq!(parse_values("0..100:+25"), Ok(vec![0, 25, 50, 75, 100]));
        assert_eq!(parse_values("1, 3..3, 5"), Ok(vec![1, 3, 5]));
        assert_eq!(parse_values("7"), Ok(vec![7]));
    }

    #[test]
    fn bad_lists_say_what_is_wrong() {
        assert!(
            parse_values("1,x")
                .unwrap_err()
                .contains("'x' is not a whole number")
        );
        assert!(parse_values("8..2").unwrap_err().contains("backwards"));
        assert!(
            parse_values("0..8")
                .unwrap_err()
                .contains("cannot start at 0")
        );
        assert!(parse_values("1..8:x1").unwrap_err().contains("never ends"));
        assert!(parse_values("1..8:+0").unwrap_err().contains("never ends"));
        assert!(parse_values("1..8:*2").unwrap_err().contains(":xN"));
        assert!(
            parse_values("1..1000:+1")
                .unwrap_err()
                .contains("more than 64")
        );
        assert!(parse_values("-1").is_err());
    }
}
