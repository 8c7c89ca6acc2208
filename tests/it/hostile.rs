//! The stores against a hostile user: paths that are not files, a lock held by someone else,
//! passwords in every form a driver takes, and many coordinators claiming one run name at
//! once. Server tests skip with a notice when their server does not answer (failing under
//! RACEDEMO_REQUIRE_SERVICES=1).

use crate::common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::server;

/// `racedemo ARGS` under a 1 GiB address-space limit, so that reading a device whole fails the
/// test instead of exhausting the machine; its exit status and stderr.
fn limited(args: &str) -> (Option<i32>, String) {
    let bin = assert_cmd::cargo::cargo_bin!("racedemo");
    let mut child = Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -v 1048576; exec '{}' {args}", bin.display()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("racedemo {args} still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn a_device_a_fifo_a_socket_or_a_huge_file_as_a_store_is_refused_at_once_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let socket = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // 8 GiB, sparse: read whole, it would pass the memory limit eight times over.
    let huge = dir.path().join("huge.txt");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    for (store, says) in [
        ("file:/dev/full".to_string(), "is a device"),
        ("file:/dev/zero".to_string(), "is a device"),
        ("sqlite:/dev/zero".to_string(), "is a device"),
        (format!("file:{}", fifo.display()), "is a named pipe (FIFO)"),
        (
            format!("sqlite:{}", fifo.display()),
            "is a named pipe (FIFO)",
        ),
        (format!("file:{}", socket.display()), "is a socket"),
        (
            format!("file:{}", huge.display()),
            "holds something other than racedemo counters",
        ),
    ] {
        let started = Instant::now();
        let (code, stderr) = limited(&format!("unsafe --store {store} --processes 4"));
        assert_eq!(code, Some(2), "{store}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{store}: {stderr}");
        assert!(stderr.starts_with("error: --store "), "{stderr}");
        assert!(stderr.contains(says), "{store}: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "{store}");
    }
    assert_eq!(
        std::fs::metadata(&huge).unwrap().len(),
        8 << 30,
        "left as it was"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_ends_a_run_waiting_for_another_process_lock_on_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counter.txt");
    let held = std::fs::File::create(&path).unwrap();
    held.lock().unwrap();
    let child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args(["unsafe", "--store", &format!("file:{}", path.display())])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough for racedemo to be waiting on the lock, its signal handlers in place.
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{out:?}");
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    drop(held);
}

/// Each URL form with a password that drivers take, reachable or not; `SECRET` stands for
/// the password, spelled differently in each so that every one is told apart.
fn forms() -> Vec<(String, &'static str)> {
    let mut forms = vec![
        (
            "postgres://u:SECRETa%40x@127.0.0.1:1/test".to_string(),
            "SECRETa",
        ),
        (
            "postgres://u@127.0.0.1:1/test?password=SECRETb".into(),
            "SECRETb",
        ),
        (
            "postgres://u:p@ssSECRETc/w:rd@127.0.0.1:1/test".into(),
            "SECRETc",
        ),
        ("mysql://u:SECRETd@127.0.0.1:1/test".into(), "SECRETd"),
        (
            "mariadb://u@127.0.0.1:1/test?pass=SECRETe".into(),
            "SECRETe",
        ),
        ("redis://:SECRETf@127.0.0.1:1/".into(), "SECRETf"),
        ("host=127.0.0.1 password=SECRETg".into(), "SECRETg"),
    ];
    // Trust authentication takes any password: these run through to a report.
    if let Some(pg) = server("postgres") {
        forms.push((
            pg.replacen("://postgres@", "://postgres:SECRETh@", 1),
            "SECRETh",
        ));
        let sep = if pg.contains('?') { '&' } else { '?' };
        forms.push((format!("{pg}{sep}password=SECRETi"), "SECRETi"));
    }
    forms
}

#[test]
fn a_password_in_any_form_is_never_printed_on_any_channel() {
    for (url, secret) in forms() {
        let name = format!("pw-{}", std::process::id());
        for args in [
            format!("unsafe --store {url} --threads 2 --iterations 5 --trials 1"),
            format!("unsafe --store {url} --threads 2 --iterations 5 --trials 1 --format json"),
            format!("unsafe --store {url} --threads 2 --iterations 5 --trials 1 --format markdown"),
            format!("unsafe --store {url} --threads 2 --iterations 5 --trials 1 --format csv"),
            format!(
                "transaction --store {url} --isolation read-committed --threads 2 --iterations 5 --trials 1"
            ),
            format!("isolation --store {url} --levels read-committed --iterations 5 --trials 1"),
            format!("unsafe --store {url} --remote-workers 1 --run {name} --worker-timeout 1s"),
            format!("worker --store {url} --run {name} --wait 1s"),
        ] {
            let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"));
            // A key=value string has spaces: it goes as one argument.
            let (head, tail) = args.split_once(&url).unwrap();
            cmd.args(head.split_whitespace())
                .arg(&url)
                .args(tail.split_whitespace());
            let out = cmd.stdin(Stdio::null()).output().unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!all.contains(secret), "{args}:\n{all}");
            assert!(!all.contains("looku***"), "{args}:\n{all}");
            assert!(!out.stderr.is_empty() || out.status.success(), "{args}");
        }
    }
}

/// Six coordinators claim one run name at the same instant, 50 rounds on `kind`'s board: one
/// wins every round. Then a stale claim is taken over by exactly one of six.
fn one_coordinator_wins_each_claim(kind: &str) {
    use racedemo::crew::remote::{claim, claim_key};
    use racedemo::store::board::{self, Board};
    let Some(url) = server(kind) else { return };
    let store = racedemo::store::StoreSpec::parse(&url).unwrap().kind();
    const COORDINATORS: usize = 6;
    const ROUNDS: usize = 50;
    let barrier = Arc::new(Barrier::new(COORDINATORS));
    let base = format!("claim-{kind}-{}", std::process::id());
    let wins: Vec<Vec<bool>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..COORDINATORS)
            .map(|_| {
                let (barrier, url, base) = (barrier.clone(), &url, &base);
                s.spawn(move || {
                    let mut b: Box<dyn Board> =
                        board::open(store, url, Duration::from_secs(10)).unwrap();
                    (0..=ROUNDS)
                        .map(|round| {
                            let name = format!("{base}-{round}");
                            if round == ROUNDS && barrier.wait().is_leader() {
                                // The last round's name is held by a coordinator long gone.
                                b.put(&claim_key(&name), "1:dead").unwrap();
                            }
                            barrier.wait();
                            let won = claim(b.as_mut(), &name).is_ok();
                            barrier.wait();
                            won
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut cleanup = board::open(store, &url, Duration::from_secs(10)).unwrap();
    for round in 0..=ROUNDS {
        let winners = wins.iter().filter(|w| w[round]).count();
        assert_eq!(winners, 1, "{kind}: round {round} had {winners} winners");
        cleanup
            .remove(&claim_key(&format!("{base}-{round}")))
            .unwrap();
    }
    println!(
        "{kind}: {ROUNDS} rounds of {COORDINATORS} coordinators, one winner each, and one takeover"
    );
}

#[test]
fn six_coordinators_claiming_one_name_at_once_on_postgres_make_one_winner_in_50_rounds() {
    one_coordinator_wins_each_claim("postgres");
}

#[test]
fn six_coordinators_claiming_one_name_at_once_on_mariadb_make_one_winner_in_50_rounds() {
    one_coordinator_wins_each_claim("mysql");
}

#[test]
fn six_coordinators_claiming_one_name_at_once_on_redis_make_one_winner_in_50_rounds() {
    one_coordinator_wins_each_claim("redis");
}

#[test]
fn a_fault_before_any_result_still_prints_the_csv_header_and_names_the_command_in_markdown() {
    let out = common::racedemo("unsafe --store postgres://127.0.0.1:1/test --format csv")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("strategy,threads,iterations,"), "{csv}");
    assert_eq!(csv.lines().count(), 1, "{csv}");
    let out = common::racedemo("compare --store redis://127.0.0.1:1/ --format markdown")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.starts_with("### racedemo unsafe vs locked vs atomic vs optimistic on redis"),
        "{md}"
    );
}

#[test]
fn read_uncommitted_loses_updates_on_mariadb_and_postgres_says_it_runs_read_committed() {
    if let Some(url) = server("mysql") {
        let report = common::counter_json(
            &format!(
                "transaction --store {url} --isolation read-uncommitted --threads 3 \
                 --iterations 200 --trials 2 --expect race"
            ),
            0,
        );
        assert_eq!(report["workload"]["store"]["isolation"], "read-uncommitted");
        assert!(common::u(&report["results"][0]["summary"]["lost"]["max"]) > 0);
    }
    if let Some(url) = server("postgres") {
        let text = common::stdout(&format!(
            "transaction --store {url} --isolation read-uncommitted --threads 2 --iterations 20 \
             --trials 1"
        ));
        assert!(
            text.contains("PostgreSQL runs read uncommitted as read committed"),
            "{text}"
        );
        let matrix = common::stdout(&format!(
            "isolation --store {url} --levels read-uncommitted --iterations 20 --trials 1"
        ));
        assert!(
            matrix.contains("read-uncommitted (as read-committed)"),
            "{matrix}"
        );
    }
}

#[test]
fn a_worker_that_cannot_connect_names_the_server_and_the_drivers_reason() {
    for (url, server) in [
        (
            "postgres://u@127.0.0.1:1/test",
            "PostgreSQL at 127.0.0.1:1: ",
        ),
        (
            "mysql://u@127.0.0.1:1/test",
            "MariaDB/MySQL at 127.0.0.1:1: ",
        ),
        ("redis://127.0.0.1:1/", "Redis at 127.0.0.1:1: "),
    ] {
        let out = common::racedemo(&format!("worker --store {url} --run x --wait 1s"))
            .assert()
            .code(3)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("error: {server}")), "{stderr}");
        assert!(stderr.contains("refused"), "{stderr}");
    }
}
