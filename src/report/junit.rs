//! `scenario check --junit FILE`: JUnit XML, one test case per scenario, the format CI systems
//! (GitHub, GitLab, Jenkins) already show as test results. A scenario that did not show what its
//! file expects is a failure whose message is the check's verdict.

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CheckReport, ExecReport};

/// Writes the check as one JUnit test suite.
pub fn write(check: &CheckReport, out: impl Write) -> io::Result<()> {
    let mut suite = TestSuite::new("racedemo scenario check");
    let mut total = Duration::ZERO;
    for row in &check.scenarios {
        let status = if row.passed {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(format!("expected {}: {}", row.expect.name(), row.verdict))
                .set_type(if row.expect_met {
                    "contradiction"
                } else {
                    "expectation"
                });
            status
        };
        let mut case = TestCase::new(row.name.as_str(), status);
        let time = Duration::from_secs_f64(row.elapsed_s.max(0.0));
        total += time;
        case.set_classname("racedemo.scenarios")
            .set_time(time)
            .set_system_out(format!(
                "{} ({}): {} trials; {}",
                row.name,
                row.origin,
                crate::format::thousands(row.trials),
                row.verdict
            ));
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut report = Report::new("racedemo");
    report.set_time(total).add_test_suite(suite);
    report.serialize(out).map_err(io::Error::other)
}

/// `exec --junit FILE`: one test case per command, failed where its expectation was not met.
pub fn write_exec(exec: &ExecReport, out: impl Write) -> io::Result<()> {
    let mut suite = TestSuite::new("racedemo exec");
    for c in &exec.commands {
        let verdict = format!(
            "differed in {} ({})",
            c.differed.of(c.runs),
            c.differed.uncertainty()
        );
        let status = if c.expect_met {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(format!("expected {}: {verdict}", c.expect.name()))
                .set_type("expectation");
            status
        };
        let mut case = TestCase::new(c.command.as_str(), status);
        case.set_classname("racedemo.exec").set_system_out(verdict);
        suite.add_test_case(case);
    }
    let mut report = Report::new("racedemo");
    report.add_test_suite(suite);
    report.serialize(out).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::Expect;
    use crate::report::{CheckBody, CheckRow, Envelope, Machine, SCHEMA};

    fn row(name: &str, met: bool) -> CheckRow {
        CheckRow {
            name: name.to_string(),
            origin: format!("scenarios/{name}.toml"),
            trials: 20,
            differed: if met { 20 } else { 0 },
            forbidden: 0,
            deadlocks: 0,
            stuck: 0,
            expect: Expect::Race,
            expect_met: met,
            contradictions: Vec::new(),
            passed: met,
            elapsed_s: 0.25,
            verdict: if met {
                "forbidden outcome in 20 of 20 trials"
            } else {
                "all 20 trials acceptable"
            }
            .to_string(),
            python: None,
        }
    }

    #[test]
    fn one_test_case_per_scenario_and_a_failure_for_each_unmet_expectation() {
        let check = Envelope {
            schema: SCHEMA,
            racedemo: "0.0.0-test",
            interrupted: false,
            fault: None,
            left_behind: Vec::new(),
            machine: Machine::this(2),
            body: CheckBody {
                scenarios: vec![row("counter-racy", true), row("tickets <racy> & co", false)],
                passed: 1,
                failed: 1,
            },
        };
        let mut out = Vec::new();
        write(&check, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuites name=\"racedemo\" tests=\"2\" skipped=\"0\" failures=\"1\" errors=\"0\""),
            "{xml}"
        );
        assert!(xml.contains("<testsuite name=\"racedemo scenario check\" tests=\"2\" skipped=\"0\" errors=\"0\" failures=\"1\""), "{xml}");
        assert!(
            xml.contains(
                "<testcase name=\"counter-racy\" classname=\"racedemo.scenarios\" time=\"0.250\">"
            ),
            "{xml}"
        );
        // Names are escaped, and the failure says what was expected and what happened.
        assert!(
            xml.contains("<testcase name=\"tickets &lt;racy&gt; &amp; co\""),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<failure message=\"expected race: all 20 trials acceptable\" type=\"expectation\""
            ),
            "{xml}"
        );
        assert_eq!(xml.matches("<testcase ").count(), 2);
        assert_eq!(xml.matches("<failure").count(), 1);
    }
}
