//! herdtools7 litmus files: read in both dialects, judged by each model as herd would
//! (always, sometimes, never), the same as their TOML twins, and refused where they race or
//! step outside the supported subset.

use crate::common;

use std::collections::BTreeSet;

use common::{assert_bad_files, input_error, json, racedemo, stdout, u};
use serde_json::Value;

/// (file under scenarios/litmus, SC, x86-TSO, RC11 where it applies): the textbook verdicts
/// on each test's condition.
const TEXTBOOK: &[(&str, &str, &str, Option<&str>)] = &[
    ("c/SB", "never", "sometimes", Some("sometimes")),
    ("c/SB+sc", "never", "never", Some("never")),
    ("c/MP", "never", "never", Some("sometimes")),
    ("c/MP+rel+acq", "never", "never", Some("never")),
    ("c/MP+plain", "never", "never", Some("never")),
    ("c/LB", "never", "never", Some("never")),
    ("c/IRIW", "never", "never", Some("sometimes")),
    ("c/IRIW+sc", "never", "never", Some("never")),
    ("c/2+2W", "never", "never", Some("sometimes")),
    ("c/R", "never", "sometimes", Some("sometimes")),
    ("c/R+fences", "never", "never", Some("never")),
    ("c/S", "never", "never", Some("sometimes")),
    ("c/WRC", "never", "never", Some("sometimes")),
    ("c/CoRR", "never", "never", Some("never")),
    ("c/CAS+XCHG", "never", "never", Some("never")),
    ("x86/SB", "never", "sometimes", None),
    ("x86/SB+mfences", "never", "never", None),
    ("x86/SB+xchgs", "never", "never", None),
    ("x86/MP", "never", "never", None),
    ("x86/LB", "never", "never", None),
    ("x86/IRIW", "never", "never", None),
    ("x86/2+2W", "never", "never", None),
    ("x86/R", "never", "sometimes", None),
    ("x86/R+mfence", "never", "never", None),
    ("x86/S", "never", "never", None),
    ("x86/ADD", "sometimes", "sometimes", None),
    ("x86/ADD+LOCK", "never", "never", None),
];

fn run(file: &str, trials: u64) -> Value {
    json(
        &format!("scenario run scenarios/litmus/{file}.litmus --trials {trials}"),
        0,
    )
}

#[test]
fn every_litmus_file_gets_the_textbook_verdict_under_each_model() {
    let listed: BTreeSet<String> = ["c", "x86"]
        .iter()
        .flat_map(|d| std::fs::read_dir(format!("scenarios/litmus/{d}")).unwrap())
        .map(|e| {
            let path = e.unwrap().path();
            let dir = path
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            format!("{dir}/{}", path.file_stem().unwrap().to_string_lossy())
        })
        .collect();
    let known: BTreeSet<String> = TEXTBOOK.iter().map(|t| t.0.to_string()).collect();
    assert_eq!(listed, known, "every litmus file has its textbook row");
    for &(file, sc, tso, rc11) in TEXTBOOK {
        let report = run(file, 200);
        let c = &report["condition"];
        assert_eq!(c["sc"], sc, "{file}: {c}");
        assert_eq!(c["tso"], tso, "{file}: {c}");
        match rc11 {
            Some(word) => assert_eq!(c["rc11"], word, "{file}: {c}"),
            // RC11 is C11's model: it does not judge X86 code.
            None => assert!(c.get("rc11").is_none(), "{file}: {c}"),
        }
        assert!(
            c["text"].as_str().unwrap().starts_with("exists ("),
            "{file}"
        );
        // The trials that satisfied the condition are the interesting ones.
        assert_eq!(
            u(&c["observed"]),
            u(&report["summary"]["interesting"]),
            "{file}"
        );
        assert!(
            report["contradictions"].as_array().unwrap().is_empty(),
            "{file}"
        );
    }
}

/// Each model's allowed outcomes as sets of value lists.
fn allowed(report: &Value, model: &str) -> BTreeSet<Vec<i64>> {
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["allowed"][model] == true)
        .map(|o| {
            o["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn litmus_files_allow_exactly_the_outcomes_their_toml_twins_allow() {
    let twins = [
        ("c/SB", "store-buffering-relaxed"),
        ("c/SB+sc", "store-buffering-seqcst"),
        ("c/MP", "message-passing-relaxed"),
        ("c/MP+rel+acq", "message-passing-release-acquire"),
        ("c/LB", "load-buffering-relaxed"),
        ("c/IRIW", "iriw-relaxed"),
        ("c/IRIW+sc", "iriw-seqcst"),
        ("c/2+2W", "2+2w-relaxed"),
        ("c/R", "r-relaxed"),
        ("c/R+fences", "r-fenced"),
        ("c/S", "s-relaxed"),
        ("c/WRC", "wrc-relaxed"),
        ("c/CoRR", "corr"),
        ("x86/SB", "store-buffering-relaxed"),
        ("x86/MP", "message-passing-relaxed"),
        ("x86/LB", "load-buffering-relaxed"),
        ("x86/IRIW", "iriw-relaxed"),
        ("x86/2+2W", "2+2w-relaxed"),
        ("x86/R", "r-relaxed"),
        ("x86/S", "s-relaxed"),
    ];
    for (litmus, toml) in twins {
        let a = run(litmus, 1);
        let b = json(&format!("scenario run {toml} --trials 1"), 0);
        let models: &[&str] = if litmus.starts_with("c/") {
            &["sc", "tso", "rc11"]
        } else {
            // x86 code has no RC11 reading; its MOVs are the relaxed twins' plain movs.
            &["sc", "tso"]
        };
        for m in models {
            let (x, y) = (allowed(&a, m), allowed(&b, m));
            assert!(!x.is_empty(), "{litmus}: {m}");
            assert_eq!(x, y, "{litmus} and {toml} under {m}");
        }
    }
}

#[test]
fn a_litmus_test_whose_plain_accesses_race_is_refused_as_undefined_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let racy = std::fs::read_to_string("scenarios/litmus/c/MP+plain.litmus")
        .unwrap()
        .replace("memory_order_release", "memory_order_relaxed");
    let path = dir.path().join("MP+plain+racy.litmus");
    std::fs::write(&path, racy).unwrap();
    for command in ["run", "show", "check"] {
        let stderr = input_error(&format!("scenario {command} {}", path.display()));
        assert!(
            stderr.starts_with(&format!(
                "error: {}: data race on data: undefined behaviour",
                path.display()
            )),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    // Without the `if`, the read races even with release and acquire: it may run before the
    // flag is seen.
    let unguarded = "C MP+plain+unguarded\n{ }\nP0(int* data, atomic_int* flag) {\n  *data = 1;\n  \
        atomic_store_explicit(flag, 1, memory_order_release);\n}\n\
        P1(int* data, atomic_int* flag) {\n  int r0 = atomic_load_explicit(flag, memory_order_acquire);\n  \
        int r1 = *data;\n}\nexists (1:r0=1 /\\ 1:r1=0)\n";
    let path = dir.path().join("unguarded.litmus");
    std::fs::write(&path, unguarded).unwrap();
    let stderr = input_error(&format!("scenario run {}", path.display()));
    assert!(
        stderr.contains("data race on data: undefined behaviour"),
        "{stderr}"
    );
    // The guarded original is race-free, and runs.
    let report = run("c/MP+plain", 100);
    assert_eq!(report["condition"]["rc11"], "never");
}

#[test]
fn unsupported_litmus_constructs_are_one_line_errors_at_their_line_and_column() {
    let c =
        |body: &str| format!("C T\n{{ x = 0; }}\nP0(atomic_int* x) {{\n{body}\n}}\nexists (x=0)\n");
    let x86 = |row: &str| format!("X86 T\n{{ x=0; }}\n P0 ;\n {row} ;\nexists ([x]=0)\n");
    assert_bad_files(
        "litmus",
        &[
            (
                "arch",
                "AArch64 T\n{ }\n".into(),
                "1:1",
                "unsupported architecture 'AArch64'",
            ),
            ("while", c("  while (1) { }"), "4:3", "unsupported: 'while'"),
            (
                "weak",
                c(
                    "  int r = 0;\n  int ok = atomic_compare_exchange_weak_explicit(x, &r, 1, memory_order_relaxed, memory_order_relaxed);",
                ),
                "5:12",
                "unsupported: atomic_compare_exchange_weak_explicit",
            ),
            (
                "call",
                c("  foo(x);"),
                "4:3",
                "unsupported: a call to 'foo'",
            ),
            (
                "load-order",
                c("  int r = atomic_load_explicit(x, memory_order_release);"),
                "4:35",
                "atomic_load_explicit cannot take memory_order_release",
            ),
            (
                "failure-order",
                c(
                    "  int r = 0;\n  int ok = atomic_compare_exchange_strong_explicit(x, &r, 1, memory_order_seq_cst, memory_order_release);",
                ),
                "5:84",
                "cannot take memory_order_release as its failure ordering",
            ),
            (
                "bitwise",
                c("  int r = 1 & 2;"),
                "4:13",
                "unsupported in an expression: '&'",
            ),
            (
                "shared-in-expr",
                c("  int r = x + 1;"),
                "4:11",
                "'x' is shared",
            ),
            (
                "x86-cmp",
                x86("CMP EAX,$1"),
                "4:2",
                "unsupported instruction 'CMP'",
            ),
            (
                "x86-operand",
                x86("MOV [x],$1,$2"),
                "4:2",
                "unsupported operands for MOV",
            ),
            (
                "x86-lfence",
                x86("LFENCE"),
                "4:2",
                "unsupported instruction 'LFENCE'",
            ),
            (
                "filter",
                "X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nfilter (x=1)\nexists (x=1)\n".into(),
                "5:1",
                "unsupported: 'filter'",
            ),
            (
                "no-condition",
                "X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\n".into(),
                "5:1",
                "expected the final condition",
            ),
            (
                "unknown-register",
                x86("MOV EAX,[x]").replace("[x]=0)", "0:EBX=0)"),
                "5:9",
                "thread 0 has no register 'EBX'",
            ),
            (
                "no-value",
                "X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists true\n".into(),
                "5:1",
                "the condition reads no value",
            ),
            (
                "unknown-thread",
                x86("MOV EAX,[x]").replace("[x]=0)", "3:EAX=0)"),
                "5:9",
                "there is no thread 3",
            ),
        ],
    );
}

#[test]
fn show_prints_the_translated_program_and_its_condition() {
    let text = stdout("scenario show scenarios/litmus/c/MP+plain.litmus");
    assert!(text.contains("store.plain data = 1"), "{text}");
    assert!(text.contains("store.release flag = 1"), "{text}");
    assert!(text.contains("r1 = load.plain data"), "{text}");
    assert!(
        text.contains("condition: exists (1:r0=1 /\\ 1:r1=0)"),
        "{text}"
    );
    let run = stdout("scenario run scenarios/litmus/x86/SB.litmus --trials 100");
    assert!(
        run.contains(
            "condition: exists (0:EAX=0 /\\ 1:EAX=0) — SC never · x86-TSO sometimes · observed"
        ),
        "{run}"
    );
    let check = racedemo("scenario check scenarios/litmus/c scenarios/litmus/x86 --trials 100")
        .assert()
        .success();
    let _ = check;
}
