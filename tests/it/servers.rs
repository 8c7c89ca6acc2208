//! The counter on real servers: PostgreSQL, MariaDB/MySQL and Redis. Each test runs when its
//! server answers (URLs from RACEDEMO_TEST_POSTGRES, RACEDEMO_TEST_MYSQL, RACEDEMO_TEST_REDIS,
//! defaulting to the project machine's servers) and skips with a one-line notice when it does
//! not, except under RACEDEMO_REQUIRE_SERVICES=1, where an unreachable server fails it.
//!
//! A race on a server needs no --yield: every increment waits for the server's answer between
//! the read and the write, and the other workers run meanwhile, on one CPU or many. The tests
//! that assert a race still ask for it with `--expect race`, which runs more trials until one
//! races.

use crate::common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{alive, children, counter_json, racedemo, server, u};
use serde_json::Value;

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
                common::skipped(&format!("redis-server cannot be started ({e})"));
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
    // Some trials complete first: a trial is 2 x 2,000 increments of two commands each, so
    // 30,000 commands served means at least three trials, however loaded the machine.
    let mut r = redis::Client::open(format!("redis://127.0.0.1:{}/", server.port))
        .unwrap()
        .get_connection()
        .unwrap();
    loop {
        let info: String = redis::cmd("INFO").arg("stats").query(&mut r).unwrap();
        let served: u64 = info
            .lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        if served > 30_000 {
            break;
        }
        assert!(Instant::now() < deadline, "the run never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
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
