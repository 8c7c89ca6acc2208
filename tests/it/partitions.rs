//! Partitions and slow links: a TCP proxy of the tests' own ([`proxy`]) between racedemo and
//! each server (PostgreSQL, MariaDB, Redis). A stall (the connection open, nothing forwarded)
//! mid-run ends the run with exit 3 within --worker-timeout plus a few seconds, one line
//! naming the server, a valid partial JSON report, a note naming what could not be removed,
//! and no process left; a reset ends it the same way with nothing left; 1 ms of latency each
//! way still races in every trial, at the latency's pace.
//!
//! Each test runs when its server answers and skips with a notice when it does not, except
//! under RACEDEMO_REQUIRE_SERVICES=1.

use crate::common;
use crate::proxy;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::{alive, children, server, u};
use proxy::{Proxy, address_of};
use serde_json::Value;

/// How long a stalled call may go unanswered in these runs.
const TIMEOUT_S: u64 = 3;
/// What "a few seconds" after the timeout is: cleaning up on a stalled server takes two more
/// deadlines of 2 s (the old connection, then a fresh one), and a process a moment to end.
const GRACE: Duration = Duration::from_secs(9);

/// A racedemo process with its output read as it comes, so that a full pipe never stalls it.
struct Running {
    child: Child,
    out: JoinHandle<Vec<u8>>,
    err: JoinHandle<Vec<u8>>,
}

/// `racedemo ARGS` (split at white space) as a process of its own.
fn start(args: &str) -> Running {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args(args.split_whitespace())
        .env("COLUMNS", "200")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err = thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.read_to_end(&mut b);
        b
    });
    Running { child, out, err }
}

/// How a run ended: its exit status, stdout, stderr, and how long after `since` it ended.
struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    after: Duration,
}

impl Running {
    /// Waits at most `within` after `since`; a run still going then is killed and fails the
    /// test.
    fn end(mut self, since: Instant, within: Duration) -> Ended {
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if since.elapsed() > within + Duration::from_secs(20) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("still running {:?} after the fault", since.elapsed());
            }
            thread::sleep(Duration::from_millis(20));
        };
        let after = since.elapsed();
        Ended {
            code: status.code(),
            stdout: String::from_utf8_lossy(&self.out.join().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&self.err.join().unwrap()).into_owned(),
            after,
        }
    }
}

/// Waits until the run has sent and received `bytes` through the proxy: it is mid-run.
fn wait_for_traffic(proxy: &Proxy, bytes: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.bytes() < bytes {
        assert!(Instant::now() < deadline, "the run never got going");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The run's row id or key, from the report's store details.
fn slot_of(report: &Value) -> u64 {
    let details = report["workload"]["store"]["details"]
        .as_str()
        .unwrap_or("");
    details
        .split(", ")
        .find_map(|d| {
            d.strip_prefix("row id ")
                .or_else(|| d.strip_prefix("key racedemo:counter:"))
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no row or key in {details}"))
}

/// Whether the run's row or key `slot` is still on the server at `url`; removes it if so (a
/// test cleans up after racedemo where racedemo said it could not).
fn remove_if_there(kind: &str, url: &str, slot: u64) -> bool {
    match kind {
        "postgres" => {
            let mut db = postgres::Client::connect(url, postgres::NoTls).unwrap();
            let n = db
                .execute(
                    "DELETE FROM racedemo_counter WHERE id = $1",
                    &[&(slot as i64)],
                )
                .unwrap();
            n == 1
        }
        "mysql" => {
            use mysql::prelude::Queryable;
            let mut db = mysql::Conn::new(mysql::Opts::from_url(url).unwrap()).unwrap();
            db.exec_drop("DELETE FROM racedemo_counter WHERE id = ?", (slot as i64,))
                .unwrap();
            db.affected_rows() == 1
        }
        _ => {
            let mut r = redis::Client::open(url).unwrap().get_connection().unwrap();
            let n: u64 = redis::cmd("DEL")
                .arg(format!("racedemo:counter:{slot}"))
                .query(&mut r)
                .unwrap();
            n == 1
        }
    }
}

/// The one line on stderr, which must name the proxy's address (the server as racedemo sees
/// it) and what stopped.
fn assert_one_line_naming(ended: &Ended, port: u16, says: &str) {
    // A remote run's coordinator says first, as a notice, what its workers should run.
    let lines: Vec<&str> = ended
        .stderr
        .lines()
        .filter(|l| !l.starts_with("racedemo: run '"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", ended.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(&format!("127.0.0.1:{port}")),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(says), "{}", lines[0]);
}

/// A stall mid-run of `unsafe` with `crew` (`--threads 2` or `--processes 2`) on `kind`.
fn stall_ends_the_run(kind: &str, crew: &str) {
    let Some(url) = server(kind) else { return };
    let proxy = Proxy::start(&address_of(&url));
    let via = proxy.url(&url);
    let run = start(&format!(
        "unsafe --store {via} {crew} --iterations 1000000 --trials 1000 \
         --worker-timeout {TIMEOUT_S}s --format json"
    ));
    let parent = run.child.id();
    wait_for_traffic(&proxy, 20_000);
    let workers = children(parent);
    proxy.stall();
    let ended = run.end(Instant::now(), GRACE);
    assert_eq!(ended.code, Some(3), "{}", ended.stderr);
    assert!(
        ended.after < Duration::from_secs(TIMEOUT_S) + GRACE,
        "ended {:?} after the stall",
        ended.after
    );
    assert_one_line_naming(&ended, proxy.port, "no answer");
    let report: Value = serde_json::from_str(&ended.stdout).expect("one whole JSON document");
    assert!(report["fault"].as_str().unwrap().contains("no answer"));
    // The row or key could not be removed through a stalled server: said, with the command.
    let slot = slot_of(&report);
    let left = report["left_behind"]
        .as_array()
        .expect("a left_behind note");
    assert_eq!(left.len(), 1, "{left:?}");
    let note = left[0].as_str().unwrap();
    assert!(note.contains(&slot.to_string()), "{note}");
    assert!(note.contains("remove it with: "), "{note}");
    drop(proxy);
    assert!(
        remove_if_there(kind, &url, slot),
        "the note named what was left"
    );
    for pid in workers {
        assert!(!alive(pid), "worker {pid} outlived the run");
    }
}

#[test]
fn a_stall_on_postgres_ends_a_threads_crew_with_exit_3_and_names_what_is_left() {
    stall_ends_the_run("postgres", "--threads 2");
}

#[test]
fn a_stall_on_mariadb_ends_a_threads_crew_with_exit_3_and_names_what_is_left() {
    stall_ends_the_run("mysql", "--threads 2");
}

#[test]
fn a_stall_on_redis_ends_a_threads_crew_with_exit_3_and_names_what_is_left() {
    stall_ends_the_run("redis", "--threads 2");
}

#[test]
fn a_stall_on_postgres_ends_a_processes_crew_with_exit_3_and_no_process_left() {
    stall_ends_the_run("postgres", "--processes 2");
}

#[test]
fn a_stall_on_mariadb_ends_a_processes_crew_with_exit_3_and_no_process_left() {
    stall_ends_the_run("mysql", "--processes 2");
}

#[test]
fn a_stall_on_redis_ends_a_processes_crew_with_exit_3_and_no_process_left() {
    stall_ends_the_run("redis", "--processes 2");
}

/// A stall mid-run of a remote run on `kind`: the coordinator and both workers end, each with
/// exit 3, and the row and the board's keys are named as left.
fn stall_ends_a_remote_run(kind: &str) {
    let Some(url) = server(kind) else { return };
    let proxy = Proxy::start(&address_of(&url));
    let via = proxy.url(&url);
    let name = format!("stall-{kind}-{}", std::process::id());
    let coordinator = start(&format!(
        "unsafe --store {via} --remote-workers 2 --run {name} --iterations 1000000 \
         --trials 1000 --worker-timeout {TIMEOUT_S}s --format json"
    ));
    let workers: Vec<Running> = (0..2)
        .map(|_| start(&format!("worker --store {via} --run {name}")))
        .collect();
    wait_for_traffic(&proxy, 100_000);
    proxy.stall();
    let since = Instant::now();
    let ended = coordinator.end(since, GRACE + Duration::from_secs(TIMEOUT_S));
    assert_eq!(ended.code, Some(3), "{}", ended.stderr);
    assert_one_line_naming(&ended, proxy.port, "no answer");
    let report: Value = serde_json::from_str(&ended.stdout).expect("one whole JSON document");
    let left: Vec<&str> = report["left_behind"]
        .as_array()
        .expect("left_behind notes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        left.iter().any(|n| n.contains(&format!("run '{name}'"))),
        "{left:?}"
    );
    for w in workers {
        let ended = w.end(since, GRACE + Duration::from_secs(TIMEOUT_S));
        assert_eq!(ended.code, Some(3), "a worker: {}", ended.stderr);
        assert_eq!(
            ended
                .stderr
                .trim_end()
                .lines()
                .last()
                .map(|l| l.starts_with("error: ")),
            Some(true),
            "{}",
            ended.stderr
        );
    }
    // What the notes named, removed by the test.
    drop(proxy);
    remove_if_there(kind, &url, slot_of(&report));
    let mut board = racedemo::store::board::open(
        racedemo::store::StoreSpec::parse(&url).unwrap().kind(),
        &url,
        Duration::from_secs(5),
    )
    .unwrap();
    board.clear(&format!("run:{name}/")).unwrap();
    board.remove(&format!("run:{name}")).unwrap();
}

#[test]
fn a_stall_on_postgres_ends_a_remote_run_its_workers_and_names_the_board_keys() {
    stall_ends_a_remote_run("postgres");
}

#[test]
fn a_stall_on_mariadb_ends_a_remote_run_its_workers_and_names_the_board_keys() {
    stall_ends_a_remote_run("mysql");
}

#[test]
fn a_stall_on_redis_ends_a_remote_run_its_workers_and_names_the_board_keys() {
    stall_ends_a_remote_run("redis");
}

#[test]
fn a_stall_ends_the_isolation_matrix_with_exit_3_and_a_partial_report() {
    for kind in ["postgres", "mysql"] {
        let Some(url) = server(kind) else { continue };
        let proxy = Proxy::start(&address_of(&url));
        let via = proxy.url(&url);
        let run = start(&format!(
            "isolation --store {via} --levels read-committed --iterations 1000000 \
             --worker-timeout {TIMEOUT_S}s --format json"
        ));
        wait_for_traffic(&proxy, 50_000);
        proxy.stall();
        let ended = run.end(Instant::now(), GRACE);
        assert_eq!(ended.code, Some(3), "{kind}: {}", ended.stderr);
        assert_one_line_naming(&ended, proxy.port, "no answer");
        let report: Value = serde_json::from_str(&ended.stdout).expect("one whole JSON document");
        assert!(report["fault"].as_str().unwrap().contains("no answer"));
        assert!(report["cells"].is_array(), "{report}");
        let left = report["left_behind"].as_array().expect("a note");
        let note = left[0].as_str().unwrap();
        // The stalled connections go (a transaction of theirs holds the row) before the test
        // removes what the note named.
        drop(proxy);
        let id: u64 = note["row id ".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(remove_if_there(kind, &url, id), "{note}");
    }
}

/// A reset mid-run on `kind`: exit 3 with the partial report, and nothing left (the row is
/// removed through a fresh connection).
fn reset_ends_the_run(kind: &str) {
    let Some(url) = server(kind) else { return };
    let proxy = Proxy::start(&address_of(&url));
    let via = proxy.url(&url);
    let run = start(&format!(
        "unsafe --store {via} --threads 2 --iterations 1000000 --trials 1000 --format json"
    ));
    wait_for_traffic(&proxy, 20_000);
    proxy.reset();
    let ended = run.end(Instant::now(), GRACE);
    assert_eq!(ended.code, Some(3), "{}", ended.stderr);
    assert_eq!(ended.stderr.lines().count(), 1, "{}", ended.stderr);
    assert!(ended.stderr.contains(&format!("127.0.0.1:{}", proxy.port)));
    let report: Value = serde_json::from_str(&ended.stdout).expect("one whole JSON document");
    assert!(report["fault"].is_string());
    assert!(report.get("left_behind").is_none(), "{report}");
    assert!(
        !remove_if_there(kind, &url, slot_of(&report)),
        "nothing is left"
    );
}

#[test]
fn a_reset_on_postgres_ends_the_run_with_exit_3_and_leaves_nothing() {
    reset_ends_the_run("postgres");
}

#[test]
fn a_reset_on_mariadb_ends_the_run_with_exit_3_and_leaves_nothing() {
    reset_ends_the_run("mysql");
}

#[test]
fn a_reset_on_redis_ends_the_run_with_exit_3_and_leaves_nothing() {
    reset_ends_the_run("redis");
}

#[test]
fn with_a_millisecond_each_way_the_race_shows_in_every_trial_at_the_links_pace() {
    for kind in ["postgres", "mysql", "redis"] {
        let Some(url) = server(kind) else { continue };
        let proxy = Proxy::start(&address_of(&url));
        proxy.delay(Duration::from_millis(1));
        let via = proxy.url(&url);
        let report = common::counter_json(
            &format!("unsafe --store {via} --threads 2 --iterations 40 --trials 3"),
            0,
        );
        let s = &report["results"][0]["summary"];
        assert_eq!(u(&s["differed"]), 3, "{kind}: {s}");
        // Two round trips an increment, 2 ms each, two workers at once: at least 1 ms an
        // acknowledged increment.
        let us = s["us_per_increment"].as_f64().unwrap();
        assert!(us >= 1_000.0, "{kind}: {us} µs per increment");
    }
}
