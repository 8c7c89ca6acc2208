//! Workers on other machines: `racedemo worker --store URL --run NAME` processes, started as
//! separate, unrelated processes, join a run coordinated by `--run NAME --remote-workers K`
//! through the store. Skipped with a notice where a server does not answer (failing under
//! RACEDEMO_REQUIRE_SERVICES=1).

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{counter_json, racedemo, server, u};
use serde_json::Value;

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().unwrap()
}

/// `racedemo worker --store URL --run NAME`, started as a process of its own, its output
/// captured.
fn worker(url: &str, run: &str, extra: &[&str]) -> Child {
    spawn(&format!(
        "worker --store {url} --run {run} {}",
        extra.join(" ")
    ))
}

/// `racedemo ARGS` as a process of its own (a coordinator, say), its output captured.
fn spawn(args: &str) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args(args.split_whitespace())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The board of the server at `url`, as racedemo's workers reach it.
fn board(url: &str) -> Box<dyn racedemo::store::board::Board> {
    let kind = racedemo::store::StoreSpec::parse(url).unwrap().kind();
    racedemo::store::board::open(kind, url, Duration::from_secs(5)).unwrap()
}

/// Waits (up to 20 s) until run `name`'s board holds `key`: the test goes on once the run got
/// that far, however slowly a loaded machine started it.
fn wait_for_board(url: &str, name: &str, key: &str) {
    let mut board = board(url);
    let full = format!("run:{name}/{key}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while board.get(&full).unwrap().is_none() {
        assert!(Instant::now() < deadline, "run {name} never posted {key}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many rows or keys of run `name` are on the board of the server at `url` (its claim
/// and everything under it).
fn board_keys(kind: &str, url: &str, name: &str) -> u64 {
    let (claim, prefix) = (format!("run:{name}"), format!("run:{name}/"));
    match kind {
        "postgres" => {
            let mut db = postgres::Client::connect(url, postgres::NoTls).unwrap();
            let n: i64 = db
                .query_one(
                    "SELECT count(*) FROM racedemo_board WHERE k = $1 OR left(k, length($2)) = $2",
                    &[&claim, &prefix],
                )
                .unwrap()
                .get(0);
            n as u64
        }
        "mysql" => {
            use mysql::prelude::Queryable;
            let mut db = mysql::Conn::new(mysql::Opts::from_url(url).unwrap()).unwrap();
            let n: Option<i64> = db
                .exec_first(
                    "SELECT COUNT(*) FROM racedemo_board WHERE k = ? OR LEFT(k, CHAR_LENGTH(?)) = ?",
                    (&claim, &prefix, &prefix),
                )
                .unwrap();
            n.unwrap_or(0) as u64
        }
        _ => {
            let mut r = redis::Client::open(url).unwrap().get_connection().unwrap();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("racedemo:board:run:{name}*"))
                .query(&mut r)
                .unwrap();
            keys.len() as u64
        }
    }
}

/// A run name no other test uses at the same time.
fn run_name(test: &str) -> String {
    format!("{test}-{}", std::process::id())
}

fn remote_workers_join_and_race(kind: &str) {
    let Some(url) = server(kind) else { return };
    let name = run_name(&format!("join-{kind}"));
    // One worker before the run exists, one after: either may start first.
    let early = worker(&url, &name, &[]);
    let coordinator = spawn(&format!(
        "unsafe --store {url} --run {name} --remote-workers 2 --iterations 300 --trials 3 \
         --format json"
    ));
    std::thread::sleep(Duration::from_millis(300));
    let late = worker(&url, &name, &[]);
    let out = coordinator.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    common::assert_consistent(&report);
    let w = &report["workload"]["workers"];
    assert_eq!(w["kind"], "remote");
    let members = w["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let (early_pid, late_pid) = (early.id(), late.id());
    for m in members {
        let m = m.as_str().unwrap();
        assert!(m.starts_with(&host), "{m}");
    }
    let pids: Vec<String> = members.iter().map(|m| m.to_string()).collect();
    assert!(
        pids.iter()
            .any(|m| m.contains(&format!("pid {early_pid})"))),
        "{pids:?}"
    );
    assert!(
        pids.iter().any(|m| m.contains(&format!("pid {late_pid})"))),
        "{pids:?}"
    );
    let r = &results(&report)[0];
    assert_eq!(u(&r["summary"]["acknowledged"]), 3 * 2 * 300);
    for child in [early, late] {
        let done = child.wait_with_output().unwrap();
        assert_eq!(done.status.code(), Some(0), "{done:?}");
        let said = String::from_utf8(done.stdout).unwrap();
        assert!(
            said.contains("3 trials, 900 increments acknowledged"),
            "{said}"
        );
    }
}

#[test]
fn remote_workers_started_as_separate_processes_join_a_run_on_redis() {
    remote_workers_join_and_race("redis");
}

#[test]
fn remote_workers_started_as_separate_processes_join_a_run_on_postgres() {
    remote_workers_join_and_race("postgres");
}

#[test]
fn remote_workers_race_on_mariadb_too_and_their_updates_get_lost() {
    let Some(url) = server("mysql") else { return };
    let name = run_name("lose-mysql");
    let workers: Vec<Child> = (0..3).map(|_| worker(&url, &name, &[])).collect();
    let report = counter_json(
        &format!(
            "unsafe --store {url} --run {name} --remote-workers 3 --iterations 300 --trials 2 \
             --expect race"
        ),
        0,
    );
    assert!(u(&results(&report)[0]["summary"]["lost"]["max"]) > 0);
    for w in workers {
        assert_eq!(w.wait_with_output().unwrap().status.code(), Some(0));
    }
}

#[test]
fn a_run_waits_for_its_remote_workers_only_as_long_as_the_timeout() {
    let Some(url) = server("redis") else { return };
    let name = run_name("nobody");
    let started = Instant::now();
    let report = common::json(
        &format!("unsafe --store {url} --run {name} --remote-workers 2 --worker-timeout 1s"),
        3,
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let fault = report["fault"].as_str().unwrap();
    assert!(
        fault.contains("only 0 of 2 remote workers joined run"),
        "{fault}"
    );
}

#[test]
fn a_worker_waits_for_its_run_only_as_long_as_told() {
    let Some(url) = server("postgres") else {
        return;
    };
    let name = run_name("never");
    let out = racedemo(&format!("worker --store {url} --run {name} --wait 1s"))
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("no run named '{name}' appeared")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn two_runs_with_the_same_name_at_once_are_refused() {
    let Some(url) = server("redis") else { return };
    let name = run_name("twice");
    let first = spawn(&format!(
        "unsafe --store {url} --run {name} --remote-workers 1 --iterations 50 --trials 1"
    ));
    wait_for_board(&url, &name, "run");
    let out = racedemo(&format!(
        "unsafe --store {url} --run {name} --remote-workers 1"
    ))
    .assert()
    .code(3)
    .get_output()
    .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("is already going on this store"),
        "{stderr}"
    );
    // The first run goes on, and finishes once its worker comes.
    let w = worker(&url, &name, &[]);
    assert_eq!(first.wait_with_output().unwrap().status.code(), Some(0));
    assert_eq!(w.wait_with_output().unwrap().status.code(), Some(0));
}

/// A worker SIGKILLed mid-run on `kind`: the run ends with exit 3 naming it, the surviving
/// worker exits 3 too (the run it served failed), and nothing of the run is left on the board.
fn a_killed_worker_ends_the_run_and_leaves_nothing(kind: &str) {
    let Some(url) = server(kind) else { return };
    let name = run_name(&format!("killed-{kind}"));
    let mut victim = worker(&url, &name, &[]);
    let other = worker(&url, &name, &[]);
    let coordinator = spawn(&format!(
        "unsafe --store {url} --run {name} --remote-workers 2 --iterations 2000 --trials 100000 \
         --worker-timeout 2s --format json"
    ));
    // Both joined and the first trial is under way.
    wait_for_board(&url, &name, "go");
    std::thread::sleep(Duration::from_millis(200));
    victim.kill().unwrap();
    victim.wait().unwrap();
    let out = coordinator.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fault = report["fault"].as_str().unwrap();
    assert!(fault.contains(&format!("pid {})", victim.id())), "{fault}");
    assert!(fault.contains("sent nothing for 2s"), "{fault}");
    common::assert_consistent(&report);
    assert!(report.get("left_behind").is_none(), "{report}");
    // The other worker hears that the run stopped, and why.
    let other = other.wait_with_output().unwrap();
    assert_eq!(other.status.code(), Some(3), "{kind}: {other:?}");
    let said = String::from_utf8(other.stderr).unwrap();
    assert!(said.contains(&format!("run '{name}' stopped: ")), "{said}");
    assert_eq!(
        board_keys(kind, &url, &name),
        0,
        "{kind}: the run's board keys are gone"
    );
}

#[test]
fn a_remote_worker_killed_mid_run_on_redis_ends_the_run_with_exit_3_and_leaves_no_key() {
    a_killed_worker_ends_the_run_and_leaves_nothing("redis");
}

#[test]
fn a_remote_worker_killed_mid_run_on_postgres_ends_the_run_with_exit_3_and_leaves_no_row() {
    a_killed_worker_ends_the_run_and_leaves_nothing("postgres");
}

#[test]
fn a_remote_worker_killed_mid_run_on_mariadb_ends_the_run_with_exit_3_and_leaves_no_row() {
    a_killed_worker_ends_the_run_and_leaves_nothing("mysql");
}

#[test]
fn a_worker_waiting_for_a_go_that_never_comes_hears_that_the_run_ended() {
    let Some(url) = server("redis") else { return };
    let name = run_name("ended");
    let mut victim = worker(&url, &name, &[]);
    let other = worker(&url, &name, &[]);
    // One increment a trial: nearly all of a trial is the coordination around it, so the
    // victim most likely dies between trials, with the other worker armed for the next one
    // and waiting for a "go" the coordinator will never post.
    let coordinator = spawn(&format!(
        "unsafe --store {url} --run {name} --remote-workers 2 --iterations 1 --trials 1000000 \
         --worker-timeout 1s --format json"
    ));
    wait_for_board(&url, &name, "go");
    std::thread::sleep(Duration::from_millis(300));
    victim.kill().unwrap();
    victim.wait().unwrap();
    let out = coordinator.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    // It leaves as soon as the run ends (exit 3: the run it served stopped on a fault), well
    // before the 10 s after which a silent coordinator counts as gone.
    let ended = Instant::now();
    let other = other.wait_with_output().unwrap();
    assert_eq!(other.status.code(), Some(3), "{other:?}");
    let said = String::from_utf8(other.stderr.clone()).unwrap();
    assert!(said.contains("stopped: remote worker"), "{said}");
    assert!(
        ended.elapsed() < Duration::from_secs(5),
        "{:?}",
        ended.elapsed()
    );
}

#[test]
fn remote_workers_need_a_server_and_a_name() {
    for (args, says) in [
        (
            "unsafe --store sqlite --run x --remote-workers 2",
            "is local to this machine",
        ),
        (
            "unsafe --store redis://127.0.0.1/ --remote-workers 2",
            "needs --run NAME",
        ),
        (
            "unsafe --store redis://127.0.0.1/ --run x",
            "needs --remote-workers K",
        ),
        (
            "unsafe --store redis://127.0.0.1/ --run 'a*' --remote-workers 1",
            "letters, digits",
        ),
        (
            "unsafe --store redis://127.0.0.1/ --run x --remote-workers 1 --processes 2",
            "a run races one kind of worker",
        ),
        (
            "worker --store sqlite --run x",
            "through a server every machine reaches",
        ),
        (
            "worker --store redis://127.0.0.1/ --run a/b",
            "letters, digits",
        ),
    ] {
        let out = racedemo(args).assert().code(2).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(says), "{args}: {stderr}");
    }
}
