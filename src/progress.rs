//! The one place progress is shown: a bar on stderr, hidden unless the caller decided that
//! stderr is a terminal and the user did not ask for `--quiet`.
//!
//! The bar moves by time, not by trial count: it is redrawn a few times a second (a steady
//! tick, so the elapsed time moves during a trial that lasts seconds), and the trial count
//! behind it is read at most about ten times a second, however fast trials go. Its length is
//! the run's phases (strategies, scenarios), each filled by its own trials or its own time, so
//! a phase of 20 long trials weighs as much as one of 20,000 tiny ones, and the ETA follows.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Steps of the bar per phase.
const STEPS: u64 = 1000;
/// How often the bar is redrawn, whether or not a trial ended.
const TICK: Duration = Duration::from_millis(200);
/// How often the count of finished trials is handed to the bar, at most.
const UPDATE: Duration = Duration::from_millis(100);
/// Most trials between two looks at the clock: reading it costs more than a tiny trial.
const MAX_CHECK_EVERY: u64 = 4096;

pub struct Progress {
    bar: ProgressBar,
    /// With a duration: each phase's length.
    duration: Option<Duration>,
    phases_done: u64,
    /// The current phase: its planned trials, when it began, and trials done in it.
    phase_trials: u64,
    phase_began: Instant,
    done: u64,
    /// Trials since the clock was last read, and how many to let pass between reads.
    since_check: u64,
    check_every: u64,
    last_update: Instant,
    /// What a phase is made of, as the bar counts it ("trials", "runs").
    unit: &'static str,
    /// How many of this phase's trials differed, where the caller counts them.
    differed: Option<u64>,
}

impl Progress {
    /// A bar over `phases` runs (strategies, scenarios), each of its own trials or of
    /// `duration`. `visible`: whether to draw at all.
    pub fn new(phases: u64, duration: Option<Duration>, visible: bool) -> Self {
        let bar = if visible {
            let bar = ProgressBar::with_draw_target(
                Some(phases.saturating_mul(STEPS)),
                ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>12} [{bar:30.cyan/blue}] {prefix}  {elapsed} elapsed, ETA {eta}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(TICK);
            bar
        } else {
            ProgressBar::hidden()
        };
        let now = Instant::now();
        Progress {
            bar,
            duration,
            phases_done: 0,
            phase_trials: 0,
            phase_began: now,
            done: 0,
            since_check: 0,
            check_every: 1,
            last_update: now,
            unit: "trials",
            differed: None,
        }
    }

    /// Counts in `unit` ("runs") instead of trials.
    pub fn counting(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        self
    }

    /// How many of this phase's trials differed so far, shown beside the count.
    pub fn set_differed(&mut self, differed: u64) {
        self.differed = Some(differed);
    }

    /// Starts the next phase, named on the bar; `trials` is its planned number of trials.
    pub fn phase(&mut self, name: &str, trials: u64) {
        if self.done > 0 {
            self.phases_done += 1;
        }
        self.phase_trials = trials;
        self.phase_began = Instant::now();
        self.done = 0;
        self.differed = self.differed.map(|_| 0);
        self.bar.set_message(name.to_string());
        self.draw();
    }

    /// Renames the current phase (a probe before its trials) without moving the bar.
    pub fn rename(&mut self, name: &str) {
        self.bar.set_message(name.to_string());
    }

    #[inline]
    pub fn trial_done(&mut self) {
        self.done += 1;
        self.since_check += 1;
        if self.since_check < self.check_every {
            return;
        }
        self.since_check = 0;
        let since = self.last_update.elapsed();
        // Look at the clock about every millisecond, whatever a trial costs.
        if since < Duration::from_millis(1) {
            self.check_every = (self.check_every * 2).min(MAX_CHECK_EVERY);
        } else if since > UPDATE * 2 {
            self.check_every = (self.check_every / 2).max(1);
        }
        if since >= UPDATE {
            self.draw();
        }
    }

    /// Where the bar stands: whole phases done, plus the share of this one.
    fn position(&self) -> u64 {
        let share = match self.duration {
            Some(d) => self.phase_began.elapsed().as_secs_f64() / d.as_secs_f64(),
            None if self.phase_trials == 0 => 0.0,
            None => self.done as f64 / self.phase_trials as f64,
        };
        self.phases_done * STEPS + (share.min(1.0) * STEPS as f64) as u64
    }

    fn draw(&mut self) {
        self.last_update = Instant::now();
        if self.bar.is_hidden() {
            return;
        }
        let mut trials = match self.duration {
            Some(_) => format!("{} {}", crate::format::thousands(self.done), self.unit),
            None => format!(
                "{}/{} {}",
                crate::format::thousands(self.done),
                crate::format::thousands(self.phase_trials),
                self.unit
            ),
        };
        if let Some(n) = self.differed {
            trials.push_str(&format!(", {} differing", crate::format::thousands(n)));
        }
        self.bar.set_prefix(trials);
        self.bar.set_position(self.position());
    }

    /// Clears the bar, so that results never interleave with it.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_phase_fills_its_own_share_of_the_bar() {
        let mut p = Progress::new(2, None, false);
        p.phase("unsafe", 20);
        for _ in 0..10 {
            p.done += 1;
        }
        assert_eq!(p.position(), STEPS / 2);
        p.phase("locked", 4);
        p.done = 1;
        assert_eq!(p.position(), STEPS + STEPS / 4);
        // Trials beyond the plan (looking for a race) never push past the phase.
        p.done = 40;
        assert_eq!(p.position(), 2 * STEPS);
    }

    #[test]
    fn the_clock_is_read_less_often_when_trials_are_fast() {
        let mut p = Progress::new(1, None, false);
        p.phase("unsafe", 1_000_000);
        for _ in 0..100_000 {
            p.trial_done();
        }
        assert!(p.check_every > 64, "{}", p.check_every);
        assert_eq!(p.done, 100_000);
    }
}
