//! What one run of a user's command came to: by default the last line it printed, or the
//! capture groups of a pattern's last match, or its exit status. A run that failed (a non-zero
//! exit, a signal, a timeout) is its own outcome unless the exit status is the outcome asked
//! for.

use regex::Regex;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    /// Killed by this signal (not by racedemo).
    Signal(i32),
    /// Past `--timeout`: its whole process group was killed.
    TimedOut,
}

impl Ended {
    /// `exit 0`, `killed by SIGSEGV`, `timeout`: as reports and JSON name it.
    pub fn describe(self) -> String {
        match self {
            Ended::Exited(code) => format!("exit {code}"),
            Ended::Signal(n) => format!("killed by {}", signal_name(n)),
            Ended::TimedOut => "timeout".into(),
        }
    }

    pub fn succeeded(self) -> bool {
        self == Ended::Exited(0)
    }
}

/// `SIGSEGV` for 11, as `kill -l` names it.
pub fn signal_name(n: i32) -> String {
    #[cfg(unix)]
    if let Ok(s) = nix::sys::signal::Signal::try_from(n) {
        return s.as_str().to_string();
    }
    format!("signal {n}")
}

/// Where a run's outcome is read from (`--outcome`).
#[derive(Debug, Clone)]
pub enum OutcomeSpec {
    /// The last line of stdout with anything on it.
    LastLine,
    /// The exit status.
    Exit,
    /// The capture groups of the last match in stdout, joined with ", " (the whole match where
    /// the pattern has no group).
    Pattern(Regex),
}

/// What a run that printed nothing is counted as.
pub const NO_OUTPUT: &str = "(no output)";
/// What a run is counted as when the pattern matched nothing.
pub const NO_MATCH: &str = "no match";

impl OutcomeSpec {
    /// `None` or `last-line`: the last line; `exit`: the status; anything else a pattern,
    /// whose error is one line with the column it is at.
    pub fn parse(text: Option<&str>) -> Result<Self, String> {
        match text {
            None | Some("last-line") => Ok(OutcomeSpec::LastLine),
            Some("exit") => Ok(OutcomeSpec::Exit),
            Some(pattern) => Regex::new(pattern)
                .map(OutcomeSpec::Pattern)
                .map_err(|e| format!("--outcome '{pattern}': {}", regex_error(&e))),
        }
    }

    /// How the report says the outcome was read.
    pub fn describe(&self) -> String {
        match self {
            OutcomeSpec::LastLine => "the last line of stdout".into(),
            OutcomeSpec::Exit => "the exit status".into(),
            OutcomeSpec::Pattern(r) => format!("the groups of the last match of /{}/", r.as_str()),
        }
    }

    /// The outcome of a run that ended as `ended` and printed `stdout`.
    pub fn of(&self, stdout: &[u8], ended: Ended) -> String {
        match (self, ended) {
            (OutcomeSpec::Exit, Ended::Exited(code)) => code.to_string(),
            (_, e) if !e.succeeded() => e.describe(),
            (OutcomeSpec::Exit, _) => unreachable!("a run that exited 0 succeeded"),
            (OutcomeSpec::LastLine, _) => escaped(stdout)
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map_or_else(|| NO_OUTPUT.to_string(), str::to_string),
            (OutcomeSpec::Pattern(r), _) => {
                let text = escaped(stdout);
                match r.captures_iter(&text).last() {
                    None => NO_MATCH.into(),
                    Some(c) if c.len() == 1 => c[0].to_string(),
                    Some(c) => c
                        .iter()
                        .skip(1)
                        .map(|g| g.map_or("", |m| m.as_str()))
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            }
        }
    }
}

/// `bytes` as text, every byte that is not UTF-8 written `\xNN`.
pub fn escaped(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A regex error on one line: what is wrong, and at which column of the pattern.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let what = lines
        .iter()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or("the pattern does not compile");
    match lines.iter().find(|l| l.trim_start().starts_with('^')) {
        Some(caret) => {
            // The pattern line above the carets is indented as much as they are.
            let column = caret.find('^').unwrap_or(0).saturating_sub(4) + 1;
            format!("{what}, at column {column}")
        }
        None => what.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_come_from_the_last_line_a_pattern_or_the_status() {
        let last = OutcomeSpec::parse(None).unwrap();
        assert_eq!(last.of(b"start\n41\n\n", Ended::Exited(0)), "41");
        assert_eq!(last.of(b"", Ended::Exited(0)), NO_OUTPUT);
        assert_eq!(last.of(b"41\n", Ended::Exited(1)), "exit 1");
        assert_eq!(last.of(b"41\n", Ended::TimedOut), "timeout");
        assert_eq!(last.of(b"ok\xff\n", Ended::Exited(0)), "ok\\xff");
        let re = OutcomeSpec::parse(Some(r"x=(-?\d+) y=(\d+)")).unwrap();
        assert_eq!(
            re.of(b"x=1 y=2\nx=-3 y=4\nend\n", Ended::Exited(0)),
            "-3, 4"
        );
        assert_eq!(re.of(b"nothing\n", Ended::Exited(0)), NO_MATCH);
        let exit = OutcomeSpec::parse(Some("exit")).unwrap();
        assert_eq!(exit.of(b"", Ended::Exited(3)), "3");
        assert_eq!(exit.of(b"", Ended::TimedOut), "timeout");
        #[cfg(unix)]
        assert_eq!(last.of(b"", Ended::Signal(11)), "killed by SIGSEGV");
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_one_line_with_its_column() {
        let e = OutcomeSpec::parse(Some("ab(c")).unwrap_err();
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("unclosed group, at column 3"), "{e}");
    }
}
