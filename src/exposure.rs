//! Adaptive exposure: trials long enough for the threads to run at the same time, and, when a
//! race is expected, trials that go on until one shows.
//!
//! On a busy machine (a CI runner with a neighbour on the other core) a trial of a million
//! increments spans a few scheduler time slices: one thread runs it from start to end while the
//! other waits for a CPU, and nothing is lost. The overlap of every trial says so; here racedemo
//! acts on it. Before the counted trials it runs a few probe trials; while any of them did not
//! overlap (or, for a racy workload, did not race) it makes the trials four times longer, so
//! that a trial spans several time slices. The probes are never counted: the report's trials
//! all ran at the chosen size, and the header says what was changed and why.
//!
//! Generic over the workload: the caller says how to build one of a given size and what
//! counts as a race.

use std::io;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::expect::Searched;
use crate::harness::{self, Plan, RunInfo, Workload};
use crate::stats;

/// Probe trials at each size.
pub const PROBES: u64 = 5;
/// A probe trial whose threads ran together for less than this share of it did not overlap.
pub const MIN_OVERLAP: f64 = 0.5;
/// A probe trial shorter than this spans only a few scheduler time slices (a few
/// milliseconds each), so whether its threads overlapped is luck: a thread that waits for a
/// CPU for one slice misses most of the trial. At 5 ms, 2 threads x 1,000,000 increments
/// beside a busy core (trials of 5-17 ms, a quarter of them with one thread alone) passed
/// five probes about one run in ten and then missed half its trials.
pub const MIN_TRIAL: Duration = Duration::from_millis(15);
/// Each lengthening multiplies the size by this.
const GROWTH: u64 = 4;
/// Trials are never made more than this many times longer than the starting size.
const MAX_GROWTH: u64 = 64;
/// Once a probe trial takes this long, trials are long enough for any scheduler: lengthening
/// further would only make the run slow.
const LONG_ENOUGH: Duration = Duration::from_millis(250);
/// How long `--expect race` keeps running trials, when no planned one raced, by default.
pub const DEFAULT_RACE_BUDGET: Duration = Duration::from_secs(10);

/// Trials made longer than asked, and why: in the header, the JSON and the notes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lengthened {
    /// The size the trials would have had (increments per thread, or a scenario's iterations).
    pub from: u64,
    /// The size they ran at.
    pub to: u64,
    /// The shortest probe trial at `from`, in milliseconds.
    pub trial_ms: f64,
    /// The probes' mean overlap at `from`.
    pub overlap: f64,
    /// How many of the [`PROBES`] at `from` showed the race.
    pub raced: u64,
    pub probes: u64,
}

impl Lengthened {
    /// Why, in words: "at that size a trial took 2.1 ms, the threads overlapped 3% and 1 of 5
    /// probe trials raced"
    fn why(&self) -> String {
        format!(
            "a trial took {:.1} ms, the threads overlapped {} and {} of {} probe trials raced",
            self.trial_ms,
            crate::format::percent(self.overlap),
            self.raced,
            self.probes
        )
    }

    /// For a report's header: "from 1,000,000: at that size a trial took …"
    pub fn header(&self) -> String {
        format!(
            "from {}: at that size {}",
            crate::format::thousands(self.from),
            self.why()
        )
    }

    /// "trials lengthened to 16,000,000 increments: at 1,000,000 a trial took …"
    pub fn describe(&self, unit: &str) -> String {
        format!(
            "trials lengthened to {} {unit}: at {} {}",
            crate::format::thousands(self.to),
            crate::format::thousands(self.from),
            self.why()
        )
    }
}

/// What one probe trial showed.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub overlap: f64,
    pub raced: bool,
    pub elapsed_ns: u64,
}

/// Finds the size at which every probe trial overlaps (and races, when `raced` says so),
/// starting at `from` and lengthening by [`GROWTH`]. `make` builds the workload of a size, or
/// `None` where that size is not allowed (an overflowing counter): lengthening stops there.
/// Returns the size to run and, when it is not `from`, what changed.
pub fn calibrate<W: Workload>(
    from: u64,
    plan: &Plan,
    make: impl Fn(u64) -> Option<W>,
    raced: impl Fn(&W::Outcome) -> bool,
) -> io::Result<(u64, Option<Lengthened>)> {
    let probe_plan = Plan {
        trials: PROBES,
        duration: None,
        // Probe seeds apart from the counted trials' ones.
        seed: harness::thread_seed(plan.seed, u64::MAX, usize::MAX),
        first_trial: 0,
        ..*plan
    };
    choose(from, |size| {
        let Some(workload) = make(size) else {
            return Ok(None);
        };
        let mut probes = Vec::new();
        harness::run(&workload, &probe_plan, |t| {
            probes.push(Probe {
                overlap: t.overlap,
                raced: raced(&t.outcome),
                elapsed_ns: t.elapsed_ns,
            })
        })?;
        Ok(Some(probes))
    })
}

/// The search behind [`calibrate`], over any prober: `probe(size)` runs the probe trials at a
/// size, or says `None` where the size is not allowed.
fn choose(
    from: u64,
    mut probe: impl FnMut(u64) -> io::Result<Option<Vec<Probe>>>,
) -> io::Result<(u64, Option<Lengthened>)> {
    let mut size = from;
    let mut first: Option<(f64, f64, u64)> = None;
    let mut probes = probe(size)?;
    while let Some(shown) = probes {
        let raced = shown.iter().filter(|p| p.raced).count() as u64;
        let shortest = shown.iter().map(|p| p.elapsed_ns).min().unwrap_or(0);
        let exposed = shown.len() as u64 == PROBES
            && raced == PROBES
            && shown.iter().all(|p| p.overlap >= MIN_OVERLAP)
            && shortest >= MIN_TRIAL.as_nanos() as u64;
        let overlaps: f64 = shown.iter().map(|p| p.overlap).sum();
        let mean = stats::ratio(overlaps, shown.len() as f64);
        first.get_or_insert((shortest as f64 / 1e6, mean, raced));
        let longest = shown.iter().map(|p| p.elapsed_ns).max().unwrap_or(0);
        let next = size.saturating_mul(GROWTH);
        if exposed
            || harness::interrupted()
            || longest >= LONG_ENOUGH.as_nanos() as u64
            || next > from.saturating_mul(MAX_GROWTH)
        {
            break;
        }
        probes = probe(next)?;
        if probes.is_some() {
            size = next;
        }
    }
    let lengthened = (size != from).then(|| {
        let (trial_ms, overlap, raced) = first.unwrap_or_default();
        Lengthened {
            from,
            to: size,
            trial_ms,
            overlap,
            raced,
            probes: PROBES,
        }
    });
    Ok((size, lengthened))
}

/// Trials run after the planned ones because none of those raced and a race was expected.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Extra {
    /// Extra trials run.
    pub trials: u64,
    pub seconds: f64,
    /// Whether the last of them raced; false when the budget ran out first.
    pub raced: bool,
    pub budget_s: f64,
}

impl Extra {
    /// What the expectation's failure message needs of it.
    pub fn searched(&self) -> Searched {
        Searched {
            trials: self.trials,
            budget_s: self.budget_s,
        }
    }

    /// "no planned trial raced, so racedemo ran 7 more: the 7th raced, after 1.2 s"
    pub fn describe(&self) -> String {
        let ran = format!(
            "no planned trial raced, so racedemo ran {} more",
            crate::format::thousands(self.trials)
        );
        if self.raced {
            format!(
                "{ran}: the last of them raced, {} after the planned ones",
                crate::format::seconds(self.seconds)
            )
        } else {
            format!(
                "{ran} for {} (the --race-budget) and none raced",
                crate::format::seconds(self.budget_s)
            )
        }
    }
}

/// Runs more trials of `workload` after the `done` planned ones, one call to the harness at a
/// time, until one races or `budget` is spent (or the user interrupts), handing each trial to
/// `on_trial` like the planned ones. `info`, the planned trials' run, is brought up to date:
/// its wall time grows by the extra trials', and it is interrupted if they were.
pub fn until_race<W: Workload>(
    workload: &W,
    plan: &Plan,
    done: u64,
    budget: Duration,
    info: &mut RunInfo,
    raced: impl Fn(&W::Outcome) -> bool,
    on_trial: impl FnMut(harness::Trial<W::Outcome>),
) -> io::Result<Extra> {
    // Tiny trials run in batches: ask for many at a time, or each call would pay for
    // starting the workers.
    let chunk = if workload.is_tiny() { 1 << 16 } else { 1 };
    until_race_with(
        |part, on_trial| harness::run(workload, part, on_trial),
        chunk,
        plan,
        done,
        budget,
        info,
        raced,
        on_trial,
    )
}

/// [`until_race`] over any way of running trials: `run` runs a plan's trials (at most `chunk`
/// a call), handing each to the function it is given.
#[allow(clippy::too_many_arguments)]
pub fn until_race_with<O, E>(
    mut run: impl FnMut(&Plan, &mut dyn FnMut(harness::Trial<O>)) -> Result<RunInfo, E>,
    chunk: u64,
    plan: &Plan,
    done: u64,
    budget: Duration,
    info: &mut RunInfo,
    raced: impl Fn(&O) -> bool,
    mut on_trial: impl FnMut(harness::Trial<O>),
) -> Result<Extra, E> {
    let started = Instant::now();
    let (mut trials, mut found) = (0u64, false);
    while !found && !harness::interrupted() {
        let Some(left) = budget
            .checked_sub(started.elapsed())
            .filter(|d| !d.is_zero())
        else {
            break;
        };
        let part = Plan {
            trials: chunk,
            duration: Some(left),
            first_trial: done + trials,
            ..*plan
        };
        let before = trials;
        run(&part, &mut |t| {
            found |= raced(&t.outcome);
            trials += 1;
            on_trial(t);
        })?;
        if trials == before {
            break;
        }
    }
    info.wall_ns += started.elapsed().as_nanos() as u64;
    info.interrupted = harness::interrupted();
    Ok(Extra {
        trials,
        seconds: started.elapsed().as_secs_f64(),
        raced: found,
        budget_s: budget.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{StartMode, ThreadCtx};
    use crate::sync::{AtomicU64, Ordering};

    /// Probes that overlap and race from `enough` on, each `ms` long; sizes above `limit`
    /// are refused. Records the sizes probed.
    fn prober(
        enough: u64,
        limit: u64,
        ms: u64,
        probed: &mut Vec<u64>,
    ) -> impl FnMut(u64) -> io::Result<Option<Vec<Probe>>> + '_ {
        move |size| {
            if size > limit {
                return Ok(None);
            }
            probed.push(size);
            let good = size >= enough;
            let probe = Probe {
                overlap: if good { 0.9 } else { 0.03 },
                raced: good,
                elapsed_ns: ms * 1_000_000,
            };
            Ok(Some(vec![probe; PROBES as usize]))
        }
    }

    #[test]
    fn trials_grow_fourfold_until_every_probe_races_and_say_from_what() {
        let mut probed = Vec::new();
        let (size, lengthened) = choose(10, prober(100, u64::MAX, 20, &mut probed)).unwrap();
        assert_eq!((size, probed), (160, vec![10, 40, 160]));
        let l = lengthened.unwrap();
        assert_eq!((l.from, l.to, l.raced, l.probes), (10, 160, 0, PROBES));
        assert_eq!(
            l.describe("increments"),
            "trials lengthened to 160 increments: at 10 a trial took 20.0 ms, the threads \
             overlapped 3.0% and 0 of 5 probe trials raced"
        );
    }

    #[test]
    fn one_probe_that_did_not_overlap_is_enough_to_lengthen() {
        let mut sizes = Vec::new();
        let (size, _) = choose(10, |size| {
            sizes.push(size);
            let mut probes = vec![
                Probe {
                    overlap: 0.9,
                    raced: true,
                    elapsed_ns: 20_000_000,
                };
                PROBES as usize
            ];
            if size == 10 {
                probes[3].overlap = 0.49;
            }
            Ok(Some(probes))
        })
        .unwrap();
        assert_eq!((size, sizes), (40, vec![10, 40]));
    }

    #[test]
    fn trials_shorter_than_a_time_slice_are_lengthened_even_when_they_raced() {
        // Every probe overlaps and races; a trial takes 0.1 ms per unit of size.
        let (size, lengthened) = choose(10, |size| {
            let probe = Probe {
                overlap: 0.9,
                raced: true,
                elapsed_ns: size * 100_000,
            };
            Ok(Some(vec![probe; PROBES as usize]))
        })
        .unwrap();
        assert_eq!(size, 160);
        let l = lengthened.unwrap();
        assert_eq!((l.trial_ms, l.raced), (1.0, PROBES));
        assert!(
            l.header()
                .starts_with("from 10: at that size a trial took 1.0 ms")
        );
    }

    #[test]
    fn a_size_that_already_races_is_kept() {
        let mut probed = Vec::new();
        let (size, lengthened) = choose(10, prober(1, u64::MAX, 20, &mut probed)).unwrap();
        assert_eq!((size, lengthened), (10, None));
    }

    #[test]
    fn lengthening_stops_at_sixty_four_times_where_a_size_is_refused_or_a_trial_is_long() {
        let mut probed = Vec::new();
        assert_eq!(
            choose(10, prober(u64::MAX, u64::MAX, 1, &mut probed))
                .unwrap()
                .0,
            640
        );
        assert_eq!(probed, [10, 40, 160, 640]);
        let mut probed = Vec::new();
        assert_eq!(
            choose(10, prober(u64::MAX, 40, 1, &mut probed)).unwrap().0,
            40
        );
        let mut probed = Vec::new();
        assert_eq!(
            choose(10, prober(u64::MAX, u64::MAX, 300, &mut probed))
                .unwrap()
                .0,
            10
        );
    }

    /// Each thread adds 1 and sleeps; the outcome says whether the trial "raced".
    struct Sleepy {
        races: bool,
    }

    impl Workload for Sleepy {
        type State = AtomicU64;
        type Outcome = bool;
        fn threads(&self) -> usize {
            2
        }
        fn fresh(&self) -> AtomicU64 {
            AtomicU64::new(0)
        }
        fn run_thread(&self, state: &AtomicU64, _: ThreadCtx) {
            state.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_micros(200));
        }
        fn outcome(&self, _: AtomicU64) -> bool {
            self.races
        }
    }

    /// A planned run of a second, not interrupted.
    fn info() -> RunInfo {
        RunInfo {
            wall_ns: 1_000_000_000,
            batched: false,
            interrupted: false,
        }
    }

    fn plan() -> Plan {
        Plan {
            trials: 3,
            duration: None,
            start: StartMode::Barrier,
            seed: 1,
            first_trial: 0,
            cpus: 4,
        }
    }

    #[test]
    fn extra_trials_stop_at_the_first_race() {
        let mut seen = 0;
        let extra = until_race(
            &Sleepy { races: true },
            &plan(),
            3,
            Duration::from_secs(5),
            &mut info(),
            |&r| r,
            |_| seen += 1,
        )
        .unwrap();
        assert_eq!((extra.trials, extra.raced, seen), (1, true, 1));
        assert!(extra.describe().contains("the last of them raced"));
    }

    #[test]
    fn extra_trials_stop_when_the_budget_is_spent_and_say_none_raced() {
        let mut run = info();
        let extra = until_race(
            &Sleepy { races: false },
            &plan(),
            0,
            Duration::from_millis(30),
            &mut run,
            |&r| r,
            |_| (),
        )
        .unwrap();
        assert!(!extra.raced);
        assert!(extra.trials >= 1, "{extra:?}");
        // The run's wall time now holds the extra trials' too.
        assert!(run.wall_ns >= 1_030_000_000, "{run:?}");
        assert!(!run.interrupted);
        assert!(
            extra.describe().ends_with("and none raced"),
            "{}",
            extra.describe()
        );
    }
}
