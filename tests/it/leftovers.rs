//! What a run leaves behind on a server, when its connections are killed mid-run (every
//! racedemo backend terminated on PostgreSQL, every client killed on Redis, every connection
//! killed on MariaDB): nothing, through a fresh connection; and what a killed run left is swept
//! after a day, or expires. Skipped with a notice where a server does not answer (failing
//! under RACEDEMO_REQUIRE_SERVICES=1).

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::server;

/// `racedemo unsafe` on `url` for long enough to be cut mid-run; its process.
fn long_run(url: &str) -> std::process::Child {
    let args = format!(
        "unsafe --store {url} --threads 2 --iterations 1000000 --trials 1000 --format json"
    );
    Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args(args.split_whitespace())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Ends `child` (cut mid-run): exit 3, one line, a whole JSON report with nothing named as
/// left behind; returns the run's row id or key suffix.
fn ended_with_nothing_left(child: std::process::Child) -> u64 {
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().count(),
        1,
        "{out:?}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.get("left_behind").is_none(), "{report}");
    let details = report["workload"]["store"]["details"].as_str().unwrap();
    details
        .split(", ")
        .find_map(|d| {
            d.strip_prefix("row id ")
                .or_else(|| d.strip_prefix("key racedemo:counter:"))
        })
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn every_racedemo_backend_terminated_on_postgres_still_leaves_no_row() {
    let Some(url) = server("postgres") else {
        return;
    };
    let child = long_run(&url);
    let name = format!("racedemo (pid {})", child.id());
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // Its two workers and its own connection are at work.
    while db
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&name],
        )
        .unwrap()
        .get::<_, i64>(0)
        < 3
    {
        assert!(Instant::now() < deadline, "the run never connected");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        &[&name],
    )
    .unwrap();
    let id = ended_with_nothing_left(child);
    let left: i64 = db
        .query_one(
            "SELECT count(*) FROM racedemo_counter WHERE id = $1",
            &[&(id as i64)],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the row went through a fresh connection");
}

#[test]
fn every_racedemo_client_killed_on_redis_still_leaves_no_key() {
    let Some(url) = server("redis") else { return };
    let child = long_run(&url);
    let name = format!("racedemo-pid-{}", child.id());
    let mut r = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let ids = |r: &mut redis::Connection| -> Vec<String> {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(r).unwrap();
        list.lines()
            .filter(|l| l.split(' ').any(|f| f == format!("name={name}")))
            .filter_map(|l| {
                l.split(' ')
                    .find_map(|f| f.strip_prefix("id="))
                    .map(String::from)
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while ids(&mut r).len() < 3 {
        assert!(Instant::now() < deadline, "the run never connected");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    for id in ids(&mut r) {
        let _: redis::Value = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(&id)
            .query(&mut r)
            .unwrap();
    }
    let slot = ended_with_nothing_left(child);
    let exists: u64 = redis::cmd("EXISTS")
        .arg(format!("racedemo:counter:{slot}"))
        .query(&mut r)
        .unwrap();
    assert_eq!(exists, 0, "the key went through a fresh connection");
}

#[test]
fn what_a_killed_run_left_is_swept_after_a_day_and_keys_expire_by_themselves() {
    if let Some(url) = server("postgres") {
        // A table and board from a run; then two rows "left two days ago".
        common::stdout(&format!(
            "unsafe --store {url} --threads 2 --iterations 5 --trials 1"
        ));
        let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let _ = racedemo::store::board::open(
            racedemo::store::StoreKind::Postgres,
            &url,
            Duration::from_secs(5),
        )
        .unwrap();
        db.batch_execute(
            "INSERT INTO racedemo_counter (id, v, created) VALUES (4294967301, 7, now() - interval '2 days') ON CONFLICT DO NOTHING;
             INSERT INTO racedemo_board (k, v, created) VALUES ('run:swept/run', '{}', now() - interval '2 days') ON CONFLICT DO NOTHING",
        )
        .unwrap();
        common::stdout(&format!(
            "unsafe --store {url} --threads 2 --iterations 5 --trials 1"
        ));
        let _ = racedemo::store::board::open(
            racedemo::store::StoreKind::Postgres,
            &url,
            Duration::from_secs(5),
        )
        .unwrap();
        let left: i64 = db
            .query_one(
                "SELECT (SELECT count(*) FROM racedemo_counter WHERE id = 4294967301) + \
                 (SELECT count(*) FROM racedemo_board WHERE k = 'run:swept/run')",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(left, 0, "rows over a day old are swept by the next run");
    }
    if let Some(url) = server("mysql") {
        use mysql::prelude::Queryable;
        common::stdout(&format!(
            "unsafe --store {url} --threads 2 --iterations 5 --trials 1"
        ));
        let mut db = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
        db.query_drop(
            "INSERT IGNORE INTO racedemo_counter (id, v, created) VALUES (4294967301, 7, NOW() - INTERVAL 2 DAY)",
        )
        .unwrap();
        common::stdout(&format!(
            "unsafe --store {url} --threads 2 --iterations 5 --trials 1"
        ));
        let left: Option<i64> = db
            .query_first("SELECT COUNT(*) FROM racedemo_counter WHERE id = 4294967301")
            .unwrap();
        assert_eq!(
            left,
            Some(0),
            "rows over a day old are swept by the next run"
        );
    }
    if let Some(url) = server("redis") {
        // The run's key has an expiry while the run goes on.
        let child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
            .args([
                "unsafe",
                "--store",
                &url,
                "--threads",
                "2",
                "--iterations",
                "200000",
                "--trials",
                "2",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut r = redis::Client::open(url.as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let ttl = loop {
            let name = format!("racedemo-pid-{}", child.id());
            let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut r).unwrap();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg("racedemo:counter:*")
                .query(&mut r)
                .unwrap();
            if list.contains(&name) && !keys.is_empty() {
                let ttls: Vec<i64> = keys
                    .iter()
                    .map(|k| redis::cmd("PTTL").arg(k).query(&mut r).unwrap())
                    .collect();
                break ttls.into_iter().max().unwrap();
            }
            assert!(Instant::now() < deadline, "the run never started");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(ttl > 0 && ttl <= 24 * 3600 * 1000, "PTTL {ttl}");
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn every_racedemo_connection_killed_on_mariadb_still_leaves_no_row() {
    use mysql::prelude::Queryable;
    let Some(url) = server("mysql") else { return };
    // A database of this test's own, so that killing every connection to it touches no other
    // test's run.
    let db_name = format!("racedemo_kill_{}", std::process::id());
    let mut admin = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
    admin
        .query_drop(format!("CREATE DATABASE IF NOT EXISTS {db_name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    let own = format!("{base}/{db_name}");
    let child = long_run(&own);
    let ids = |admin: &mut mysql::Conn| -> Vec<u64> {
        admin
            .exec(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
                (&db_name,),
            )
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while ids(&mut admin).len() < 4 {
        assert!(Instant::now() < deadline, "the run never connected");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    // Every one of them in one batch, as the attack did.
    for id in ids(&mut admin) {
        let _ = admin.query_drop(format!("KILL {id}"));
    }
    let id = ended_with_nothing_left(child);
    let left: Option<i64> = admin
        .exec_first(
            format!("SELECT COUNT(*) FROM {db_name}.racedemo_counter WHERE id = ?"),
            (id as i64,),
        )
        .unwrap();
    assert_eq!(left, Some(0), "the row went through a fresh connection");
    admin
        .query_drop(format!("DROP DATABASE {db_name}"))
        .unwrap();
}
