//! Text rendering of `--explain`: a lost update as a short timeline.

use std::io::{self, Write};

use super::{Paint, Text, thousands};
use crate::explain::{ATTEMPTS, Action, Explanation};
use crate::strategy::StrategyKind;

impl Text {
    pub(super) fn explanation(
        &self,
        strategy: StrategyKind,
        e: &Explanation,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let who = e.who;
        let recorded = match e.recorded_per_thread {
            1 => format!("the first increment of each {who}"),
            n => format!("the first {} increments of each {who}", thousands(n)),
        };
        let head = format!("explain ({}):", strategy.name());
        // The recorded trials ran after the counted ones and are not among them: a lost update
        // here can sit under a summary that counted none.
        let extra = match (e.counted, e.attempt) {
            (true, n) => format!("trial {n}, one of those counted"),
            (false, 1) => {
                "one more trial, recorded after the counted ones and not among them".to_string()
            }
            (false, n) => {
                format!("{n} more trials, recorded after the counted ones and not among them")
            }
        };
        if e.lost_update {
            let which = if e.attempt == 1 || e.counted {
                "it"
            } else {
                "the last"
            };
            writeln!(
                out,
                "{} {extra} ({recorded}); {which} lost an update like this:",
                self.paint(&head, Paint::Bold),
            )?;
        } else if e.counted && (e.steps.is_empty() || strategy.is_racy()) {
            return writeln!(
                out,
                "{} no two {} read the same value in {recorded} of any trial; try --yield \
                 or more --iterations",
                self.paint(&head, Paint::Bold),
                if who == "process" {
                    "processes"
                } else {
                    "threads"
                }
            );
        } else if e.steps.is_empty() || strategy.is_racy() {
            return writeln!(
                out,
                "{} {ATTEMPTS} more trials, recorded after the counted ones and not counted: no \
                 two threads read the same value in {recorded}; try --yield or more \
                 --iterations",
                self.paint(&head, Paint::Bold)
            );
        } else {
            writeln!(
                out,
                "{} {extra}: no update lost; two increments in a row:",
                self.paint(&head, Paint::Bold)
            )?;
        }
        let times: Vec<String> = e
            .steps
            .iter()
            .map(|s| {
                s.ns.map_or(String::new(), |ns| format!("+{} ns", thousands(ns)))
            })
            .collect();
        let width = times.iter().map(String::len).max().unwrap_or(0);
        for (i, (step, time)) in e.steps.iter().zip(&times).enumerate() {
            let verb = match step.action {
                Action::Read => "read ",
                Action::Wrote => "wrote",
            };
            let gap = if width == 0 { "" } else { "  " };
            let mut line = format!(
                "  {time:>width$}{gap}{who} {} {verb} {}",
                step.thread,
                thousands(step.value)
            );
            if e.lost_update && i == e.steps.len() - 1 {
                let earlier = e.steps[2].thread;
                let lost =
                    format!("   <- the same value again: {who} {earlier}'s increment is lost");
                line.push_str(&self.paint(&lost, Paint::Bad));
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        let ended = format!(
            "That trial ended at {} of {}.",
            thousands(e.final_value),
            thousands(e.expected)
        );
        if e.lost_update {
            writeln!(
                out,
                "Two increments ran and the counter went up by one. {ended}"
            )
        } else {
            writeln!(
                out,
                "Each read saw the write before it, so every increment counts. {ended}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::Step;

    fn render(strategy: StrategyKind, e: &Explanation) -> String {
        let mut out = Vec::new();
        Text {
            color: false,
            width: 80,
        }
        .explanation(strategy, e, &mut out)
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn step(ns: Option<u64>, thread: usize, action: Action, value: u64) -> Step {
        Step {
            ns,
            thread,
            action,
            value,
        }
    }

    #[test]
    fn a_lost_update_is_told_as_a_timeline() {
        let e = Explanation {
            attempt: 1,
            recorded_per_thread: 50_000,
            lost_update: true,
            steps: vec![
                step(Some(0), 3, Action::Read, 41),
                step(Some(18), 5, Action::Read, 41),
                step(Some(35), 3, Action::Wrote, 42),
                step(Some(1_052), 5, Action::Wrote, 42),
            ],
            final_value: 61_237,
            expected: 100_000,
            who: "thread",
            counted: false,
        };
        assert_eq!(
            render(StrategyKind::Unsafe, &e),
            "\
explain (unsafe): one more trial, recorded after the counted ones and not among them (the first 50,000 increments of each thread); it lost an update like this:
      +0 ns  thread 3 read  41
     +18 ns  thread 5 read  41
     +35 ns  thread 3 wrote 42
  +1,052 ns  thread 5 wrote 42   <- the same value again: thread 3's increment is lost
Two increments ran and the counter went up by one. That trial ended at 61,237 of 100,000.
"
        );
    }

    #[test]
    fn a_correct_strategy_shows_a_handoff_and_a_quiet_race_says_so() {
        let handoff = Explanation {
            attempt: 1,
            recorded_per_thread: 1_000,
            lost_update: false,
            steps: vec![
                step(None, 1, Action::Read, 6),
                step(None, 1, Action::Wrote, 7),
                step(None, 2, Action::Read, 7),
                step(None, 2, Action::Wrote, 8),
            ],
            final_value: 2_000,
            expected: 2_000,
            who: "thread",
            counted: false,
        };
        assert_eq!(
            render(StrategyKind::Locked, &handoff),
            "\
explain (locked): one more trial, recorded after the counted ones and not among them: no update lost; two increments in a row:
  thread 1 read  6
  thread 1 wrote 7
  thread 2 read  7
  thread 2 wrote 8
Each read saw the write before it, so every increment counts. That trial ended at 2,000 of 2,000.
"
        );
        let quiet = Explanation {
            steps: Vec::new(),
            ..handoff
        };
        assert!(
            render(StrategyKind::Unsafe, &quiet)
                .starts_with("explain (unsafe): 20 more trials, recorded after the counted ones and not counted: no two threads read the same value in the first 1,000 increments of each thread")
        );
    }
}
