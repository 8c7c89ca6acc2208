//! `racedemo isolation` on the real PostgreSQL and MariaDB: Hermitage's lost-update schedule
//! replayed at every level gives each server's own verdict, and the statistics agree with it.
//! Skipped with a notice where a server does not answer (failing under
//! RACEDEMO_REQUIRE_SERVICES=1).

use crate::common;

use common::{server, u};

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
