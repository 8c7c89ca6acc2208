//! racedemo's `atomic` on the real servers beside each server's own benchmark tool, measured
//! in the same run and printed as ratios: PostgreSQL's `UPDATE ... SET v = v + 1` at 8
//! connections beside `pgbench -c 8` running the same statement, Redis's `INCR` at 8 beside
//! `redis-benchmark -t incr -c 8`. Rounds alternate, so that a machine that slows down for a
//! while slows both. Servers come from RACEDEMO_TEST_POSTGRES and RACEDEMO_TEST_REDIS (default:
//! the project machine's); a server that does not answer, or a tool that is not installed, is
//! skipped with a line saying so. `cargo bench --bench servers` runs it; no test asserts a time.
//!
//! The workers are threads with a connection each: the bench binary is not racedemo and
//! cannot start worker processes, and on a server an increment's time is the round trip and
//! the server's work, which a thread and a process spend alike.

use std::process::Command;
use std::time::Duration;

use racedemo::crew::{Crew, Order, Threads};
use racedemo::store::{Place, StoreSpec};
use racedemo::strategy::StrategyKind;

const WORKERS: usize = 8;
const INCREMENTS: u64 = 2_000;
const ROUNDS: usize = 5;
/// redis-benchmark's key: racedemo's prefix, removed afterwards.
const BENCH_KEY: &str = "racedemo:bench:counter";

fn main() {
    println!(
        "racedemo on servers: atomic, {WORKERS} workers (threads, a connection each) x \
         {INCREMENTS} increments, beside the server's own tool at {WORKERS} clients; median of \
         {ROUNDS} alternating rounds"
    );
    println!(
        "{:<40} {:>12} {:>12} {:>8}",
        "", "racedemo/s", "tool/s", "ratio"
    );
    let pg = std::env::var("RACEDEMO_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".into());
    let redis =
        std::env::var("RACEDEMO_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1/".into());
    compare(
        "PostgreSQL UPDATE v = v + 1 vs pgbench",
        &pg,
        || pgbench(&pg),
        "target: 0.8x",
    );
    compare(
        "Redis INCR vs redis-benchmark",
        &redis,
        || redis_benchmark(&redis),
        "target: 0.7x",
    );
}

fn compare(name: &str, url: &str, tool: impl Fn() -> Result<f64, String>, target: &str) {
    let spec = match StoreSpec::parse(url) {
        Ok(s) => s,
        Err(e) => return println!("{name:<40} skipped: {e}"),
    };
    let mut place = match Place::open(&spec, None, racedemo::store::DEADLINE) {
        Ok(p) => p,
        Err(e) => return println!("{name:<40} skipped: {e}"),
    };
    let mut threads = Threads::new(place.address(), WORKERS).expect("connections");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        place.admin().reset().expect("reset");
        let order = Order::plain(StrategyKind::Atomic, INCREMENTS);
        let parts = threads.trial(&order).expect("a trial");
        let start = parts.iter().map(|p| p.start_ns).min().unwrap_or(0);
        let end = parts.iter().map(|p| p.end_ns).max().unwrap_or(0);
        let acknowledged: u64 = parts.iter().map(|p| p.counts.acknowledged).sum();
        ours.push(acknowledged as f64 / ((end - start) as f64 / 1e9));
        match tool() {
            Ok(rate) => theirs.push(rate),
            Err(e) => return println!("{name:<40} {:>12.0} skipped the tool: {e}", median(ours)),
        }
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "{name:<40} {ours:>12.0} {theirs:>12.0} {:>7.2}x  ({target})",
        ours / theirs
    );
}

/// pgbench's TPS for the same statement on a table of racedemo's own, made and dropped here.
fn pgbench(url: &str) -> Result<f64, String> {
    let mut db = postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
    db.batch_execute(
        "DROP TABLE IF EXISTS racedemo_pgbench;
         CREATE TABLE racedemo_pgbench (id BIGINT PRIMARY KEY, v BIGINT NOT NULL);
         INSERT INTO racedemo_pgbench VALUES (1, 0);",
    )
    .map_err(|e| e.to_string())?;
    let script = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::fs::write(
        script.path(),
        "UPDATE racedemo_pgbench SET v = v + 1 WHERE id = 1 RETURNING v;\n",
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &WORKERS.to_string(),
            "-j",
            "2",
            "-T",
            "3",
        ])
        .arg("-f")
        .arg(script.path())
        .arg(url)
        .output()
        .map_err(|e| format!("pgbench: {e}"))?;
    let _ = db.batch_execute("DROP TABLE racedemo_pgbench");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            format!(
                "no tps in pgbench's output: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// redis-benchmark's INCR requests per second at the same number of clients.
fn redis_benchmark(url: &str) -> Result<f64, String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let (host, port) = match client.get_connection_info().addr() {
        redis::ConnectionAddr::Tcp(h, p) => (h.clone(), *p),
        other => return Err(format!("not a TCP address: {other}")),
    };
    let out = Command::new("redis-benchmark")
        .args(["-h", &host, "-p", &port.to_string(), "-q"])
        .args(["-c", &WORKERS.to_string(), "-n", "100000"])
        // What `-t incr` runs, on a key of racedemo's own instead of `counter:__rand_int__`.
        .args(["INCR", BENCH_KEY])
        .output()
        .map_err(|e| format!("redis-benchmark: {e}"))?;
    if let Ok(mut c) = client.get_connection_with_timeout(Duration::from_secs(5)) {
        let _: Result<(), _> = redis::cmd("DEL").arg(BENCH_KEY).query(&mut c);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // "INCR racedemo:bench:counter: 99502.49 requests per second, p50=0.039 msec", after
    // progress lines ending in \r.
    let label = format!("INCR {BENCH_KEY}: ");
    text.rsplit(['\r', '\n'])
        .find_map(|l| l.trim().strip_prefix(label.as_str()))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no rate in redis-benchmark's output: {text}"))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
