//! A scenario file as written: the TOML schema, with the position of every value that can be
//! wrong, so errors can name file:line:column.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

/// A scenario file, field by field. Unknown fields are errors: a typo must not be ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// The title; scenarios are looked up by their file name.
    pub name: String,
    /// One line: what goes wrong.
    pub summary: String,
    /// What happens, why, and how to fix it; `scenario show` prints it.
    pub explanation: String,
    /// Threads of each group that does not set its own (`--threads` overrides it).
    pub threads: Option<Spanned<u64>>,
    /// Repeats of each group's ops, for groups that do not set their own (`--iterations`).
    pub iterations: Option<Spanned<u64>>,
    /// Trials to run by default (`--trials`).
    pub trials: Option<Spanned<u64>>,
    /// What a run must show: `correct`, `race` or `any`.
    pub expect: Option<Spanned<String>>,
    /// How long a thread may wait for a lock before the trial counts as a deadlock.
    pub watchdog_ms: Option<Spanned<u64>>,
    /// Shared integer variables and their initial values, in the order outcomes list them.
    #[serde(default)]
    pub shared: IndexMap<String, Spanned<i64>>,
    /// Named locks (mutexes whose waits the watchdog bounds).
    #[serde(default)]
    pub locks: Vec<Spanned<String>>,
    /// Condition variables, each tied to one of the locks: `ready = "m"`.
    #[serde(default)]
    pub condvars: IndexMap<String, Spanned<String>>,
    /// Counting semaphores and their initial counts.
    #[serde(default)]
    pub semaphores: IndexMap<String, Spanned<i64>>,
    /// Bounded semaphores (Python's `BoundedSemaphore`): a release above the initial count
    /// ends the releasing thread, and the trial, as `over-released`.
    #[serde(default)]
    pub bounded_semaphores: IndexMap<String, Spanned<i64>>,
    /// Reader-writer locks: many readers or one writer.
    #[serde(default)]
    pub rwlocks: Vec<Spanned<String>>,
    /// Whether a `wait` may return without a notify, as real condition variables may
    /// (`--spurious-wakeups` turns it on for one run).
    pub spurious_wakeups: Option<bool>,
    /// Thread groups.
    #[serde(default)]
    pub group: Vec<Group>,
    pub check: Spanned<Check>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: Spanned<String>,
    pub threads: Option<Spanned<u64>>,
    pub iterations: Option<Spanned<u64>>,
    pub ops: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Must hold after every trial, over final shared values (and single-thread groups'
    /// registers as `group.reg`); a trial that breaks it is forbidden.
    pub invariant: Option<Spanned<String>>,
    /// What a trial's outcome is: names of shared variables or `group.reg`. Default: every
    /// shared variable.
    pub outcome: Option<Vec<Spanned<String>>>,
    /// The grade of outcomes no rule matches.
    pub default: Option<Spanned<String>>,
    /// Grades for outcome patterns, first match wins.
    #[serde(default)]
    pub grade: Vec<GradeRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRule {
    /// Comma-separated values or `*`, one per outcome name: `0, 0`.
    #[serde(rename = "match")]
    pub pattern: Spanned<String>,
    pub grade: Spanned<String>,
    /// What this outcome means, for the report.
    pub means: Option<String>,
    /// With `grade = "forbidden"`: the memory model that forbids it (`sc`, `tso`, `rc11`),
    /// when a weaker one allows it. Without it, a forbidden outcome must be forbidden by
    /// every model racedemo computes.
    pub model: Option<Spanned<String>>,
}

/// Line and column (1-based, columns in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    // An offset computed inside an escaped string may not fall on a character boundary.
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The offset of the first character inside a string value whose span (quotes included)
/// starts at `start`.
pub fn string_content_start(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or("");
    if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        start + 3
    } else if rest.starts_with('"') || rest.starts_with('\'') {
        start + 1
    } else {
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let text = "a = 1\nbb = \"xé\"\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 11), (2, 6));
        assert_eq!(string_content_start(text, 11), 12);
        // Inside the two-byte é: the column of the é itself.
        assert_eq!(line_col(text, 14), (2, 8));
    }
}
