//! `racedemo sweep`: every point runs, each with its own workload, and the outputs agree.

use crate::common;

use common::{json, racedemo, stdout, u};

#[test]
fn sweep_runs_every_strategy_at_every_point_and_the_fixes_never_lose_an_update() {
    let report = json(
        "sweep --threads 1,2,3 --iterations 2000 --trials 3 --strategies unsafe,locked,atomic",
        0,
    );
    assert_eq!(report["parameter"], "threads");
    let points = report["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    for (point, threads) in points.iter().zip([1u64, 2, 3]) {
        assert_eq!(u(&point["value"]), threads);
        let w = &point["workload"];
        assert_eq!((u(&w["threads"]), u(&w["iterations"])), (threads, 2000));
        assert_eq!(u(&w["expected"]), threads * 2000);
        let results = point["results"].as_array().unwrap();
        let names: Vec<_> = results
            .iter()
            .map(|r| r["strategy"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["unsafe", "locked", "atomic"]);
        for r in results {
            assert_eq!(u(&r["summary"]["trials"]), 3);
            let exact = r["strategy"] != "unsafe" || threads == 1;
            if exact {
                // One thread cannot race with itself; a lock and fetch_add never lose.
                assert_eq!(u(&r["summary"]["differed"]), 0, "{r}");
            }
        }
    }
    // Every point shares the seed: only the swept parameter changes.
    let seeds: Vec<_> = points.iter().map(|p| u(&p["workload"]["seed"])).collect();
    assert!(seeds.windows(2).all(|w| w[0] == w[1]), "{seeds:?}");
}

#[test]
fn an_iterations_range_expands_by_its_step() {
    let report = json(
        "sweep --iterations 10..1000:x10 --threads 2 --trials 2 --strategies atomic",
        0,
    );
    assert_eq!(report["parameter"], "iterations");
    let values: Vec<_> = report["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| u(&p["workload"]["iterations"]))
        .collect();
    assert_eq!(values, [10, 100, 1000]);
}

#[test]
fn sweep_input_errors_are_one_line_with_status_2() {
    for (args, message) in [
        (
            "sweep --threads 1,2 --iterations 10,20",
            "error: sweep one parameter at a time: --threads and --iterations both list several values\n",
        ),
        (
            "sweep --threads 4",
            "error: sweep needs one parameter with several values, e.g. --threads 1,2,4,8 or --iterations 10..1000000:x10\n",
        ),
        (
            "sweep --threads 1,2000",
            "error: at threads 2000: --threads 2000 is above the limit of 1024",
        ),
        (
            "sweep --threads 8..2",
            "error: invalid value '8..2' for '--threads <VALUES>': 8..2: the range runs backwards\n",
        ),
        (
            "sweep --svg /no/such/dir/x.svg",
            "error: --svg /no/such/dir/x.svg: the folder /no/such/dir does not exist\n",
        ),
    ] {
        let out = racedemo(args).assert().code(2).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with(message), "{args}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn svg_and_csv_carry_the_same_points_as_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("sweep.svg");
    let csv = stdout(&format!(
        "sweep --window 0,5 --threads 2 --iterations 500 --trials 2 --strategies unsafe,atomic --format csv --svg {}",
        svg.display()
    ));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 5, "{csv}");
    assert!(rows[1].starts_with("window,0,unsafe,2,500,0,2,"), "{csv}");
    assert!(rows[4].starts_with("window,5,atomic,2,500,5,2,0,"), "{csv}");
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(
        text.contains(">\nwindow\n<") || text.contains(">window<"),
        "axis names the parameter"
    );
}
