//! How numbers and lines read in every report: grouped thousands, percentages that never
//! round a small rate to 0, durations in a readable unit, lines wrapped at word boundaries to
//! the terminal. Below everything that prints, importing nothing of racedemo's.

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage: whole from 10% up, two significant digits below (3.4%, 0.30%,
/// 0.015%), so that small rates are never shown as 0.0%.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 || p >= 10.0 {
        return format!("{p:.0}%");
    }
    let decimals = (1 - p.log10().floor() as i32).max(1) as usize;
    format!("{p:.decimals$}%")
}

/// A rate per second, scaled: "3.46 M", "12.3 k", "52.0".
pub fn per_second(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2} M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1} k", rate / 1e3)
    } else {
        format!("{rate:.1}")
    }
}

/// A duration in the unit that keeps three significant figures readable.
pub fn duration(ns: u64) -> String {
    let ns = ns as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Nanoseconds per operation, with two decimals while they are few.
pub fn nanos(ns: f64) -> String {
    if ns < 100.0 {
        format!("{ns:.2} ns")
    } else {
        duration(ns.round() as u64)
    }
}

/// Seconds as a person says them: "0.4 s", "12 s", "2m 5s".
pub fn seconds(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else {
        let whole = s.round() as u64;
        format!("{}m {}s", whole / 60, whole % 60)
    }
}

/// Wraps every line of `text` longer than `width` columns at word boundaries, continuing it
/// under where its text starts: after a `note: `, or after the last gap of two or more spaces
/// (a label's, a table column's) in the first two thirds of the line. Colour codes take no
/// width; words are split at spaces only, never at a hyphen in a file name or flag.
pub fn wrap_lines(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if textwrap::core::display_width(line) <= width {
            out.push_str(line);
            continue;
        }
        let indent = " ".repeat(hanging_indent(line, width));
        let options = textwrap::Options::new(width)
            .subsequent_indent(&indent)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
            .break_words(false)
            .word_separator(textwrap::WordSeparator::AsciiSpace);
        out.push_str(&textwrap::fill(line, options));
    }
    out
}

/// The column a wrapped line continues at.
fn hanging_indent(line: &str, width: usize) -> usize {
    let plain = strip_colour(line);
    let half = width * 2 / 3;
    if let Some(rest) = plain.trim_start().strip_prefix("note: ") {
        return plain.len() - rest.len();
    }
    // The end of the last run of two or more spaces that starts before two thirds of the width.
    let chars: Vec<char> = plain.chars().collect();
    let mut indent = 0;
    let mut i = 0;
    while i < chars.len().min(half) {
        if chars[i] == ' ' {
            let start = i;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            if i - start >= 2 || start == 0 {
                indent = i;
            }
        } else {
            i += 1;
        }
    }
    if indent > half { 0 } else { indent }
}

/// `line` without ANSI colour codes (ESC [ ... m).
fn strip_colour(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_durations_scaled() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(duration(999), "999 ns");
        assert_eq!(duration(12_340), "12.3 µs");
        assert_eq!(duration(9_800_000), "9.8 ms");
        assert_eq!(duration(1_000), "1.0 µs");
        assert_eq!(duration(1_000_000), "1.0 ms");
        assert_eq!(duration(1_000_000_000), "1.00 s");
        assert_eq!(duration(2_500_000_000), "2.50 s");
        assert_eq!(nanos(2.345), "2.35 ns");
    }

    #[test]
    fn percentages_keep_a_decimal_only_when_small() {
        assert_eq!(percent(0.034), "3.4%");
        assert_eq!(percent(0.0031), "0.31%");
        assert_eq!(percent(0.00015), "0.015%");
        assert_eq!(percent(0.099), "9.9%");
        assert_eq!(percent(0.97), "97%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(1.0), "100%");
    }

    #[test]
    fn long_lines_wrap_at_words_under_their_text() {
        let note = "note: no trial lost an update, and that does not mean the code is safe";
        assert_eq!(
            wrap_lines(note, 30),
            "note: no trial lost an update,\n      and that does not mean\n      the code is safe"
        );
        let row = "  unsafe    load the counter, add 1, store it back";
        assert_eq!(
            wrap_lines(row, 32),
            "  unsafe    load the counter,\n            add 1, store it back"
        );
        // Short lines and line breaks stay as they are; a word is never split.
        assert_eq!(wrap_lines("a\n\nb c", 80), "a\n\nb c");
        assert!(
            wrap_lines(&"x".repeat(50), 20)
                .lines()
                .all(|l| l == "x".repeat(50))
        );
        // Colour takes no width.
        let red = "\u{1b}[31mnote:\u{1b}[0m one two three four";
        assert_eq!(wrap_lines(red, 20).lines().nth(1), Some("      four"));
    }

    #[test]
    fn seconds_read_as_said() {
        assert_eq!(seconds(0.42), "0.4 s");
        assert_eq!(seconds(12.4), "12 s");
        assert_eq!(seconds(125.0), "2m 5s");
    }
}
