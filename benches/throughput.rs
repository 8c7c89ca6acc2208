//! Per-increment cost of racedemo's strategies and of the scenario interpreter, each beside a
//! minimal hand-written loop doing the same operation, measured in the same run and printed as
//! ratios. `cargo bench` runs it; no test asserts a time.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::thread;
use std::time::Instant;

use racedemo::counter::{CounterSpec, CounterWorkload};
use racedemo::harness::{self, Plan, StartMode, Workload};
use racedemo::scenario::{Grade, Overrides, Scenario, library};
use racedemo::strategy::{
    Atomic, Locked, LockedRwLock, LockedSemaphore, LockedSpin, Optimistic, Racy,
};
use racedemo::window::WindowSpec;

const THREADS: usize = 2;
const ITERATIONS: u64 = 1_000_000;
const TRIALS: u64 = 31;

fn main() {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let plan = Plan {
        trials: TRIALS,
        duration: None,
        start: StartMode::Barrier,
        seed: 1,
        first_trial: 0,
        cpus,
    };
    let spec = CounterSpec {
        threads: THREADS,
        iterations: ITERATIONS,
        window: WindowSpec::default(),
    };
    println!(
        "racedemo throughput: {THREADS} threads x {ITERATIONS} increments, median of {TRIALS} trials, {cpus} logical CPUs"
    );
    println!(
        "{:<34} {:>12} {:>12} {:>8}",
        "", "racedemo", "minimal", "ratio"
    );

    let unsafe_ns = row(
        "unsafe (load, store)",
        harnessed(&CounterWorkload::<Racy>::new(spec), &plan),
        minimal(racy_loop),
    );
    row(
        "locked (std Mutex)",
        harnessed(&CounterWorkload::<Locked>::new(spec), &plan),
        minimal(mutex_loop),
    );
    // The other locks of `locked --lock`: the RwLock beside a minimal one; the semaphore and
    // the spin lock, which have no std counterpart, beside the minimal Mutex loop, so the
    // ratio says what they cost against a plain Mutex.
    row(
        "locked:rwlock (std RwLock)",
        harnessed(&CounterWorkload::<LockedRwLock>::new(spec), &plan),
        minimal(rwlock_loop),
    );
    row(
        "locked:semaphore (vs Mutex)",
        harnessed(&CounterWorkload::<LockedSemaphore>::new(spec), &plan),
        minimal(mutex_loop),
    );
    row(
        "locked:spin (vs Mutex)",
        harnessed(&CounterWorkload::<LockedSpin>::new(spec), &plan),
        minimal(mutex_loop),
    );
    row(
        "atomic (fetch_add)",
        harnessed(&CounterWorkload::<Atomic>::new(spec), &plan),
        minimal(fetch_add_loop),
    );
    row(
        "optimistic (compare_exchange)",
        harnessed(&CounterWorkload::<Optimistic>::new(spec), &plan),
        minimal(cas_loop),
    );

    let scenario = Scenario::load(library::find("counter-racy").expect("built in")).expect("valid");
    let program = scenario
        .compile(Overrides {
            threads: Some(THREADS as u64),
            iterations: Some(ITERATIONS),
            ..Overrides::default()
        })
        .expect("compiles");
    let interpreted = harnessed(&program, &plan);
    println!(
        "{:<34} {:>9.2} ns {:>9.2} ns {:>7.2}x  (scenario over built-in unsafe)",
        "scenario counter-racy",
        interpreted,
        unsafe_ns,
        interpreted / unsafe_ns
    );

    // Tiny trials: 2 threads x 1 increment, as many trials as possible.
    let tiny_plan = Plan {
        trials: TINY_TRIALS,
        ..plan
    };
    let tiny = CounterSpec {
        iterations: 1,
        ..spec
    };
    println!();
    println!("tiny trials: {THREADS} threads x 1 increment, {TINY_TRIALS} trials");
    println!(
        "{:<34} {:>14} {:>14} {:>10}",
        "", "trials/s", "differing/s", "differing"
    );
    tiny_row("unsafe", &CounterWorkload::<Racy>::new(tiny), &tiny_plan, 2);
    tiny_row(
        "locked",
        &CounterWorkload::<Locked>::new(tiny),
        &tiny_plan,
        2,
    );
    tiny_row(
        "atomic",
        &CounterWorkload::<Atomic>::new(tiny),
        &tiny_plan,
        2,
    );
    let program = scenario
        .compile(Overrides {
            threads: Some(THREADS as u64),
            iterations: Some(1),
            ..Overrides::default()
        })
        .expect("compiles");
    let (mut trials, mut differing) = (0u64, 0u64);
    let info = harness::run(&program, &tiny_plan, |t| {
        trials += 1;
        differing += u64::from(program.grade(&t.outcome) != Grade::Acceptable);
    })
    .expect("threads start");
    print_tiny("scenario counter-racy", trials, differing, info.wall_ns);

    // Weak-memory shapes, from the library and as litmus files: "differing" is the trials
    // that showed the weak outcome (graded interesting).
    println!();
    println!("weak outcomes and more threads than CPUs ({cpus} logical CPUs)");
    for (name, file, trials) in [
        (
            "scenario store-buffering-relaxed",
            "store-buffering-relaxed",
            TINY_TRIALS,
        ),
        ("litmus c/SB", "scenarios/litmus/c/SB.litmus", TINY_TRIALS),
        (
            "litmus x86/SB",
            "scenarios/litmus/x86/SB.litmus",
            TINY_TRIALS,
        ),
        (
            "scenario iriw-relaxed (4 threads)",
            "iriw-relaxed",
            1_000_000,
        ),
    ] {
        let scenario = Scenario::load(library::find(file).expect("found")).expect("valid");
        let program = &scenario.program;
        let (mut trials_run, mut differing) = (0u64, 0u64);
        let plan = Plan {
            trials,
            ..tiny_plan
        };
        let info = harness::run(program, &plan, |t| {
            trials_run += 1;
            differing += u64::from(program.grade(&t.outcome) != Grade::Acceptable);
        })
        .expect("threads start");
        print_tiny(name, trials_run, differing, info.wall_ns);
    }
    for threads in [3, 4] {
        let spec = CounterSpec { threads, ..tiny };
        tiny_row(
            &format!("unsafe ({threads} threads)"),
            &CounterWorkload::<Racy>::new(spec),
            &tiny_plan,
            threads as u64,
        );
    }

    stores();
}

const TINY_TRIALS: u64 = 4_000_000;

fn tiny_row<W: Workload<Outcome = u64>>(name: &str, workload: &W, plan: &Plan, expected: u64) {
    let (mut trials, mut differing) = (0u64, 0u64);
    let info = harness::run(workload, plan, |t| {
        trials += 1;
        differing += u64::from(t.outcome != expected);
    })
    .expect("threads start");
    print_tiny(name, trials, differing, info.wall_ns);
}

fn print_tiny(name: &str, trials: u64, differing: u64, wall_ns: u64) {
    let per_s = |n: u64| n as f64 * 1e9 / wall_ns as f64;
    println!(
        "{name:<34} {:>12.2} M {:>12.2} M {:>9.1}%",
        per_s(trials) / 1e6,
        per_s(differing) / 1e6,
        100.0 * differing as f64 / trials as f64
    );
}

fn row(name: &str, ours: f64, minimal: f64) -> f64 {
    println!(
        "{name:<34} {ours:>9.2} ns {minimal:>9.2} ns {:>7.2}x",
        ours / minimal
    );
    ours
}

/// Median wall-clock ns per increment of a workload run through racedemo's harness.
fn harnessed<W: Workload>(workload: &W, plan: &Plan) -> f64 {
    let mut per_op = Vec::new();
    harness::run(workload, plan, |trial| {
        per_op.push(trial.elapsed_ns as f64 / (THREADS as u64 * ITERATIONS) as f64)
    })
    .expect("threads start");
    median(per_op)
}

/// Median ns per increment of `body` run by THREADS threads released together by a spin barrier.
fn minimal<C: Default + Sync>(body: fn(&C, u64)) -> f64 {
    let mut per_op = Vec::new();
    for _ in 0..TRIALS {
        let counter = C::default();
        let arrived = AtomicUsize::new(0);
        let go = AtomicBool::new(false);
        let spans: Vec<(Instant, Instant)> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        arrived.fetch_add(1, Ordering::AcqRel);
                        while !go.load(Ordering::Acquire) {
                            std::hint::spin_loop();
                        }
                        let start = Instant::now();
                        body(&counter, ITERATIONS);
                        (start, Instant::now())
                    })
                })
                .collect();
            while arrived.load(Ordering::Acquire) < THREADS {
                std::hint::spin_loop();
            }
            go.store(true, Ordering::Release);
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let first = spans.iter().map(|s| s.0).min().unwrap();
        let last = spans.iter().map(|s| s.1).max().unwrap();
        per_op.push(
            last.duration_since(first).as_nanos() as f64 / (THREADS as u64 * ITERATIONS) as f64,
        );
    }
    median(per_op)
}

#[inline(never)]
fn racy_loop(c: &AtomicU64, n: u64) {
    for _ in 0..n {
        let v = c.load(Ordering::Relaxed);
        c.store(black_box(v) + 1, Ordering::Relaxed);
    }
}

#[inline(never)]
fn mutex_loop(c: &Mutex<u64>, n: u64) {
    for _ in 0..n {
        *c.lock().unwrap() += 1;
    }
}

#[inline(never)]
fn rwlock_loop(c: &RwLock<u64>, n: u64) {
    for _ in 0..n {
        *c.write().unwrap() += 1;
    }
}

#[inline(never)]
fn fetch_add_loop(c: &AtomicU64, n: u64) {
    for _ in 0..n {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Increments per trial on SQLite: long enough that a trial's start-up is noise.
const STORE_INCREMENTS: u64 = 2_000;
const STORE_TRIALS: usize = 21;

/// One worker on SQLite: racedemo's store path (a connection, the retry policy, the worker's
/// loop, a thread released by a barrier) beside a minimal rusqlite loop running the same
/// statement on a database set up the same way. Their trials alternate, so that a disk that
/// slows down for a while slows both. (Worker processes run the same loop; the bench binary
/// cannot start them, as it is not racedemo.)
fn stores() {
    use racedemo::crew::{Crew, Order, Threads};
    use racedemo::store::{Place, StoreSpec};
    use racedemo::strategy::StrategyKind;
    let mut place = Place::open(&StoreSpec::Sqlite(None), None, racedemo::store::DEADLINE)
        .expect("a temporary database");
    println!();
    println!(
        "SQLite, 1 worker x {STORE_INCREMENTS} increments, {STORE_TRIALS} trials each, \
         alternating; {}",
        place.details
    );
    println!(
        "{:<34} {:>12} {:>12} {:>8}",
        "", "racedemo", "minimal", "ratio"
    );
    let mut threads = Threads::new(place.address(), 1).expect("a connection");
    let minimal_db = MinimalSqlite::new();
    let mut trial = |strategy| {
        place.admin().reset().expect("reset");
        let order = Order::plain(strategy, STORE_INCREMENTS);
        let parts = threads.trial(&order).expect("a trial");
        let p = &parts[0];
        (p.end_ns - p.start_ns) as f64 / p.counts.acknowledged as f64
    };
    let (mut ours, mut minimal, mut racy) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..STORE_TRIALS {
        minimal.push(minimal_db.trial());
        ours.push(trial(StrategyKind::Atomic));
        racy.push(trial(StrategyKind::Unsafe));
    }
    let atomic = row("atomic (UPDATE v = v + 1)", median(ours), median(minimal));
    let unsafe_ns = median(racy);
    println!(
        "{:<34} {:>9.0} ns {:>12} {:>7.2}x  (over atomic)",
        "unsafe (SELECT, then UPDATE)",
        unsafe_ns,
        "",
        unsafe_ns / atomic
    );
}

/// A rusqlite connection running `UPDATE ... SET v = v + 1 ... RETURNING v`, nothing else.
struct MinimalSqlite {
    db: rusqlite::Connection,
    _dir: tempfile::TempDir,
}

impl MinimalSqlite {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = rusqlite::Connection::open(dir.path().join("minimal.db")).expect("opens");
        db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        let _: String = db
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .unwrap();
        db.execute_batch(
            "CREATE TABLE racedemo_counter (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
             INSERT INTO racedemo_counter VALUES (1, 0);",
        )
        .unwrap();
        MinimalSqlite { db, _dir: dir }
    }

    /// ns per increment over one trial.
    fn trial(&self) -> f64 {
        let mut add = self
            .db
            .prepare_cached("UPDATE racedemo_counter SET v = v + 1 WHERE id = ?1 RETURNING v")
            .unwrap();
        let start = Instant::now();
        for _ in 0..STORE_INCREMENTS {
            let v: i64 = add.query_row([1], |r| r.get(0)).unwrap();
            black_box(v);
        }
        start.elapsed().as_nanos() as f64 / STORE_INCREMENTS as f64
    }
}

#[inline(never)]
fn cas_loop(c: &AtomicU64, n: u64) {
    for _ in 0..n {
        let mut v = c.load(Ordering::Relaxed);
        while let Err(now) = c.compare_exchange_weak(v, v + 1, Ordering::Relaxed, Ordering::Relaxed)
        {
            v = now;
        }
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
