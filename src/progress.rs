//! The one place progress is shown: a bar on stderr, hidden unless the caller decided that
//! stderr is a terminal and the user did not ask for `--quiet`. Over trials, or over time when
//! the run has a `--duration`.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Trials between two updates of the bar: cheap enough for millions of trials a second.
const UPDATE_EVERY: u64 = 256;

pub struct Progress {
    bar: ProgressBar,
    /// With a duration: each phase's length, and when the current phase began.
    time: Option<(Duration, Instant)>,
    phases_done: u64,
    trials: u64,
    pending: u64,
}

impl Progress {
    /// A bar over `phases` runs (strategies, scenarios) of `trials` trials or of `duration`.
    pub fn new(phases: u64, trials: u64, duration: Option<Duration>, visible: bool) -> Self {
        let bar = if visible {
            let len = match duration {
                Some(d) => phases.saturating_mul(d.as_millis() as u64),
                None => phases.saturating_mul(trials),
            };
            let template = match duration {
                Some(_) => {
                    "{msg:>8} [{bar:30.cyan/blue}] {elapsed} elapsed, {eta} left  {prefix} trials"
                }
                None => {
                    "{msg:>8} [{bar:30.cyan/blue}] {pos}/{len} trials  {elapsed} elapsed, ETA {eta}"
                }
            };
            let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            time: duration.map(|d| (d, Instant::now())),
            phases_done: 0,
            trials: 0,
            pending: 0,
        }
    }

    /// Starts the next phase, named on the bar.
    pub fn phase(&mut self, name: &str) {
        self.flush();
        if let Some((_, began)) = &mut self.time {
            if self.trials > 0 || self.phases_done > 0 {
                self.phases_done += 1;
            }
            *began = Instant::now();
        }
        self.bar.set_message(name.to_string());
    }

    #[inline]
    pub fn trial_done(&mut self) {
        self.pending += 1;
        if self.pending >= UPDATE_EVERY {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.bar.is_hidden() || self.pending == 0 {
            self.pending = 0;
            return;
        }
        self.trials += self.pending;
        match self.time {
            Some((phase, began)) => {
                let ms = began.elapsed().min(phase).as_millis() as u64;
                self.bar
                    .set_position(self.phases_done * phase.as_millis() as u64 + ms);
                self.bar.set_prefix(self.trials.to_string());
            }
            None => self.bar.inc(self.pending),
        }
        self.pending = 0;
    }

    /// Clears the bar, so that results never interleave with it.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
