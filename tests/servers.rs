//! The counter on real servers: PostgreSQL, MariaDB/MySQL and Redis. Each test runs when its
//! server answers (URLs from RACEDEMO_TEST_POSTGRES, RACEDEMO_TEST_MYSQL, RACEDEMO_TEST_REDIS,
//! defaulting to the project machine's servers) and skips with a one-line notice when it does
//! not, except under RACEDEMO_REQUIRE_SERVICES=1, where an unreachable server fails it.
//!
//! A race on a server needs no --yield: every increment waits for the server's answer between
//! the read and the write, and the other workers run meanwhile, on one CPU or many. The tests
//! that assert a race still ask for it with `--expect race`, which runs more trials until one
//! races.

mod common;

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{alive, children, counter_json, racedemo, u};
use serde_json::Value;

/// The URL of a test server of `kind`, or `None` (after saying so) when it does not answer.
fn server(kind: &str) -> Option<String> {
    let (var, default, port) = match kind {
        "postgres" => (
            "RACEDEMO_TEST_POSTGRES",
            "postgres://postgres@127.0.0.1/test",
            5432,
        ),
        "mysql" => ("RACEDEMO_TEST_MYSQL", "mysql://root@127.0.0.1/test", 3306),
        _ => ("RACEDEMO_TEST_REDIS", "redis://127.0.0.1/", 6379),
    };
    let url = std::env::var(var).unwrap_or_else(|_| default.to_string());
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        .map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h))
        .unwrap_or("127.0.0.1");
    let address = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    let answers = address
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok());
    if answers {
        return Some(url);
    }
    if std::env::var("RACEDEMO_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{kind} at {address} does not answer, and RACEDEMO_REQUIRE_SERVICES=1");
    }
    eprintln!("skipped: no {kind} server answers at {address} (set {var})");
    None
}

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().unwrap()
}

fn errors(result: &Value) -> u64 {
    result["summary"]["errors"]
        .as_object()
        .map_or(0, |m| m.values().map(u).sum())
}

fn unsafe_loses_updates(kind: &str) {
    let Some(url) = server(kind) else { return };
    let report = counter_json(
        &format!("unsafe --store {url} --processes 4 --iterations 300 --trials 2 --expect race"),
        0,
    );
    assert_eq!(report["workload"]["store"]["kind"], kind);
    let r = &results(&report)[0];
    assert!(u(&r["summary"]["differed"]) > 0, "{r}");
    assert!(u(&r["summary"]["lost"]["max"]) > 0);
    assert_eq!(errors(r), 0, "unsafe never fails: it loses silently");
}

#[test]
fn unsafe_on_postgres_loses_updates_between_processes() {
    unsafe_loses_updates("postgres");
}

#[test]
fn unsafe_on_mariadb_loses_updates_between_processes() {
    unsafe_loses_updates("mysql");
}

#[test]
fn unsafe_on_redis_loses_updates_between_processes() {
    unsafe_loses_updates("redis");
}

fn fixes_never_lose(kind: &str) {
    let Some(url) = server(kind) else { return };
    let report = counter_json(
        &format!(
            "compare --store {url} --strategies locked,atomic,optimistic --threads 4 \
             --iterations 200 --trials 5"
        ),
        0,
    );
    assert_eq!(results(&report).len(), 3);
    for r in results(&report) {
        assert_eq!(u(&r["summary"]["lost"]["max"]), 0, "{}", r["strategy"]);
        assert_eq!(
            u(&r["summary"]["acknowledged"]),
            5 * 4 * 200,
            "{}",
            r["strategy"]
        );
    }
}

#[test]
fn locked_atomic_and_optimistic_never_lose_an_update_on_postgres() {
    fixes_never_lose("postgres");
}

#[test]
fn locked_atomic_and_optimistic_never_lose_an_update_on_mariadb() {
    fixes_never_lose("mysql");
}

#[test]
fn locked_atomic_and_optimistic_never_lose_an_update_on_redis() {
    fixes_never_lose("redis");
}

#[test]
fn postgres_repeatable_read_aborts_the_stale_transactions_and_never_loses_one() {
    let Some(url) = server("postgres") else {
        return;
    };
    let report = counter_json(
        &format!(
            "transaction --store {url} --isolation repeatable-read --processes 4 \
             --iterations 300 --trials 3"
        ),
        0,
    );
    assert_eq!(report["workload"]["store"]["isolation"], "repeatable-read");
    let r = &results(&report)[0];
    assert_eq!(u(&r["summary"]["lost"]["max"]), 0);
    assert!(
        u(&r["summary"]["errors"]["40001 serialization failure"]) > 0,
        "{r}"
    );
}

#[test]
fn mariadb_repeatable_read_loses_updates_without_a_single_error() {
    let Some(url) = server("mysql") else { return };
    // The lesson: the same level's name as PostgreSQL's, the opposite behaviour.
    let report = counter_json(
        &format!(
            "transaction --store {url} --isolation repeatable-read --processes 4 \
             --iterations 300 --trials 2 --expect race"
        ),
        0,
    );
    let r = &results(&report)[0];
    assert!(u(&r["summary"]["lost"]["max"]) > 0, "{r}");
    assert_eq!(errors(r), 0, "{r}");
}

#[test]
fn retries_make_a_serializable_transaction_count_every_increment() {
    for kind in ["postgres", "mysql"] {
        let Some(url) = server(kind) else { continue };
        let report = counter_json(
            &format!(
                "transaction --store {url} --isolation serializable --retry 100 --threads 3 \
                 --iterations 100 --trials 3"
            ),
            0,
        );
        let r = &results(&report)[0];
        assert_eq!(u(&r["summary"]["lost"]["max"]), 0, "{kind}");
        assert_eq!(u(&r["summary"]["given_up"]), 0, "{kind}: {r}");
        assert_eq!(u(&r["summary"]["acknowledged"]), 3 * 3 * 100, "{kind}");
    }
}

#[test]
fn mariadb_snapshot_isolation_refuses_the_stale_write_with_1020() {
    let Some(url) = server("mysql") else { return };
    let report = counter_json(
        &format!(
            "transaction --store {url} --isolation repeatable-read+snapshot --threads 4 \
             --iterations 200 --trials 2"
        ),
        0,
    );
    let r = &results(&report)[0];
    assert_eq!(u(&r["summary"]["lost"]["max"]), 0);
    assert!(u(&r["summary"]["errors"]["1020 record changed"]) > 0, "{r}");
}

#[test]
fn a_password_in_a_url_is_never_printed() {
    let Some(url) = server("postgres") else {
        return;
    };
    // Trust authentication ignores the password: the run goes through with it in the URL.
    let with_password = url.replacen("://postgres@", "://postgres:hunter2@", 1);
    let unreachable = "postgres://me:hunter2@127.0.0.1:1/test";
    for (args, status) in [
        (
            format!("unsafe --store {with_password} --threads 2 --iterations 20 --trials 1"),
            0,
        ),
        (
            format!(
                "unsafe --store {with_password} --threads 2 --iterations 20 --trials 1 --format json"
            ),
            0,
        ),
        (format!("unsafe --store {unreachable}"), 3),
        (format!("unsafe --store {unreachable} --format json"), 3),
        (
            "unsafe --store postgres://me:hunter2@db:port/test".to_string(),
            2,
        ),
        ("unsafe --store mongodb://me:hunter2@db/test".to_string(), 2),
        (
            "unsafe --store redis://:hunter2@127.0.0.1:1/ --processes 2".to_string(),
            3,
        ),
    ] {
        let out = racedemo(&args).assert().code(status).get_output().clone();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("hunter2"), "{args}: {all}");
        if status == 0 {
            assert!(all.contains("postgres:***@"), "{all}");
        }
    }
}

#[test]
fn an_unreachable_server_is_one_line_naming_it_exit_3_and_a_valid_report() {
    let report = common::json("unsafe --store postgres://127.0.0.1:1/test", 3);
    let fault = report["fault"].as_str().unwrap();
    assert!(fault.starts_with("PostgreSQL at 127.0.0.1:1: "), "{fault}");
    assert!(fault.contains("refused"), "{fault}");
    assert_eq!(results(&report).len(), 0);
    let out = racedemo("unsafe --store redis://127.0.0.1:1/")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: Redis at 127.0.0.1:1: "),
        "{stderr}"
    );
}

#[test]
fn bad_server_flags_are_refused_with_exit_2() {
    for (args, says) in [
        (
            "unsafe --store postgres://db:notaport/x",
            "is not a PostgreSQL URL",
        ),
        ("unsafe --store postgres", "a server is named by a URL"),
        (
            "transaction --store redis://127.0.0.1/",
            "Redis has no read-then-write transaction",
        ),
        (
            "transaction --store postgres://127.0.0.1/test --isolation repeatable-read+snapshot",
            "snapshot isolation already",
        ),
        (
            "transaction --store sqlite --isolation serializable",
            "SQLite has one level",
        ),
        (
            "unsafe --store postgres://127.0.0.1/test --isolation serializable",
            "is for the transaction strategy",
        ),
        (
            "transaction --isolation snapshot",
            "unknown isolation level",
        ),
    ] {
        let out = racedemo(args).assert().code(2).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(says), "{args}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args}: {stderr}");
    }
}

#[test]
fn a_run_touches_only_its_own_row_and_key_and_removes_them() {
    let (Some(pg), Some(redis_url)) = (server("postgres"), server("redis")) else {
        return;
    };
    let mut db = postgres::Client::connect(&pg, postgres::NoTls).unwrap();
    db.batch_execute(
        "CREATE TABLE IF NOT EXISTS racedemo_test_users (id INT PRIMARY KEY, v INT);
         INSERT INTO racedemo_test_users VALUES (1, 41) ON CONFLICT (id) DO UPDATE SET v = 41",
    )
    .unwrap();
    let mut r = redis::Client::open(redis_url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("racedemo_test_user_key")
        .arg("mine")
        .query(&mut r)
        .unwrap();
    let row_of = |report: &Value| -> String {
        let details = report["workload"]["store"]["details"].as_str().unwrap();
        details
            .split(", ")
            .find(|d| d.starts_with("row id ") || d.starts_with("key "))
            .unwrap()
            .to_string()
    };
    let report = counter_json(
        &format!("compare --store {pg} --threads 2 --iterations 20 --trials 1"),
        0,
    );
    let id: i64 = row_of(&report)["row id ".len()..].parse().unwrap();
    let left = db
        .query_one(
            "SELECT count(*) FROM racedemo_counter WHERE id = $1",
            &[&id],
        )
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(left, 0, "the run's row is deleted at the end");
    let v: i32 = db
        .query_one("SELECT v FROM racedemo_test_users WHERE id = 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, 41);
    let report = counter_json(
        &format!("compare --store {redis_url} --threads 2 --iterations 20 --trials 1"),
        0,
    );
    let key = row_of(&report)["key ".len()..].to_string();
    let exists: u64 = redis::cmd("EXISTS").arg(&key).query(&mut r).unwrap();
    assert_eq!(exists, 0, "the run's key is deleted at the end");
    let mine: String = redis::cmd("GET")
        .arg("racedemo_test_user_key")
        .query(&mut r)
        .unwrap();
    assert_eq!(mine, "mine");
    // The test's own stand-ins for a user's data go again.
    let _: () = redis::cmd("DEL")
        .arg("racedemo_test_user_key")
        .query(&mut r)
        .unwrap();
    db.batch_execute("DROP TABLE racedemo_test_users").unwrap();
}

/// A Redis server of this test's own, on a free port: killed mid-run without touching the
/// shared one.
struct ThrowAway {
    child: Child,
    port: u16,
}

impl ThrowAway {
    fn start() -> Option<ThrowAway> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("RACEDEMO_REQUIRE_SERVICES").as_deref() == Ok("1") {
                    panic!("redis-server cannot be started: {e}");
                }
                eprintln!("skipped: redis-server cannot be started ({e})");
                return None;
            }
        };
        let server = ThrowAway { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the throw-away redis-server never answered"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }
}

impl Drop for ThrowAway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_server_dying_mid_run_ends_it_with_exit_3_a_partial_report_and_no_worker_left() {
    let Some(mut server) = ThrowAway::start() else {
        return;
    };
    let child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args([
            "unsafe",
            "--store",
            &format!("redis://127.0.0.1:{}/", server.port),
            "--processes",
            "2",
            "--iterations",
            "2000",
            "--trials",
            "1000",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let parent = child.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    let workers = loop {
        let found = children(parent);
        if found.len() == 2 {
            break found;
        }
        assert!(Instant::now() < deadline, "the workers never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Some trials complete first.
    std::thread::sleep(Duration::from_millis(700));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("one whole JSON document");
    let fault = report["fault"].as_str().unwrap();
    assert!(
        fault.contains(&format!("Redis at 127.0.0.1:{}", server.port)),
        "{fault}"
    );
    common::assert_consistent(&report);
    assert!(
        u(&report["workload"]["trials"]) > 0,
        "trials completed before the fault count"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for pid in workers {
        assert!(!alive(pid), "worker {pid} outlived the run");
    }
}

#[test]
fn the_isolation_matrix_replays_p4_with_each_servers_own_verdict() {
    let (Some(pg), Some(my)) = (server("postgres"), server("mysql")) else {
        return;
    };
    let report = common::json(
        &format!("isolation --store {pg} --store {my} --threads 3 --iterations 60 --trials 1"),
        0,
    );
    let cells = report["cells"].as_array().unwrap();
    let verdict = |store: &str, level: &str| -> (String, String) {
        let c = cells
            .iter()
            .find(|c| c["store"] == store && c["level"] == level)
            .unwrap_or_else(|| panic!("no cell {store} {level}"));
        let r = &c["replay"];
        (
            r["verdict"].as_str().unwrap().to_string(),
            r["error"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(verdict("postgres", "read-committed").0, "lost");
    let (v, e) = verdict("postgres", "repeatable-read");
    assert_eq!((v.as_str(), &e[..5]), ("aborted", "40001"));
    assert_eq!(verdict("postgres", "serializable").0, "aborted");
    assert_eq!(verdict("mysql", "read-committed").0, "lost");
    assert_eq!(verdict("mysql", "repeatable-read").0, "lost");
    let (v, e) = verdict("mysql", "repeatable-read+snapshot");
    assert_eq!((v.as_str(), &e[..4]), ("aborted", "1020"));
    let (v, e) = verdict("mysql", "serializable");
    assert_eq!((v.as_str(), &e[..4]), ("deadlock", "1213"));
    // The statistics agree with the story: where the replay lost, the runs may lose; where it
    // aborted or deadlocked, no run ever loses, and with retry nothing is given up.
    for c in cells {
        let runs = c["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(u(&runs[0]["retry"]), 0);
        if c["replay"]["verdict"] != "lost" {
            for r in runs {
                assert_eq!(u(&r["differed"]), 0, "{c}");
            }
        }
    }
    // Each replay left the counter at 1: one increment of two.
    for c in cells {
        assert_eq!(u(&c["replay"]["final_value"]), 1, "{c}");
    }
}

#[test]
fn the_isolation_matrix_comes_as_markdown_and_csv_too() {
    let Some(pg) = server("postgres") else { return };
    let args = format!(
        "isolation --store {pg} --levels read-committed,repeatable-read --threads 2 \
         --iterations 20 --trials 1 --format"
    );
    let md = common::stdout(&format!("{args} markdown"));
    assert!(md.contains("| postgres | repeatable-read |"), "{md}");
    assert!(md.contains("aborted 40001"), "{md}");
    let csv = common::stdout(&format!("{args} csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("store,level,retry,"), "{csv}");
    assert_eq!(lines.len(), 1 + 2 * 2, "two levels, two runs each: {csv}");
    assert!(lines[1].starts_with("postgres,read-committed,0,"), "{csv}");
    assert!(lines[1].ends_with(",lost"), "{csv}");
}

/// `racedemo worker --store URL --run NAME`, started as a process of its own, its output
/// captured.
fn worker(url: &str, run: &str, extra: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args(["worker", "--store", url, "--run", run])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
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
    let coordinator = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args([
            "unsafe",
            "--store",
            &url,
            "--run",
            &name,
            "--remote-workers",
            "2",
        ])
        .args(["--iterations", "300", "--trials", "3", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
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
    let first = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args([
            "unsafe",
            "--store",
            &url,
            "--run",
            &name,
            "--remote-workers",
            "1",
        ])
        .args(["--iterations", "50", "--trials", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
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

#[test]
fn a_remote_worker_killed_mid_run_ends_the_run_with_exit_3_naming_it() {
    let Some(url) = server("redis") else { return };
    let name = run_name("killed");
    let mut victim = worker(&url, &name, &[]);
    let other = worker(&url, &name, &[]);
    let coordinator = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args([
            "unsafe",
            "--store",
            &url,
            "--run",
            &name,
            "--remote-workers",
            "2",
        ])
        .args([
            "--iterations",
            "2000",
            "--trials",
            "100000",
            "--worker-timeout",
            "1s",
        ])
        .args(["--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    victim.kill().unwrap();
    victim.wait().unwrap();
    let out = coordinator.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fault = report["fault"].as_str().unwrap();
    assert!(fault.contains(&format!("pid {})", victim.id())), "{fault}");
    assert!(fault.contains("sent nothing for 1s"), "{fault}");
    common::assert_consistent(&report);
    // The other worker hears that the run is over.
    assert_eq!(other.wait_with_output().unwrap().status.code(), Some(0));
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
