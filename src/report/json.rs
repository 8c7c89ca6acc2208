//! `--format json`: the report model as one pretty-printed JSON document.

use std::io::{self, Write};

use serde::Serialize;

use super::{
    CheckReport, ExecReport, Exporter, IsolationReport, Report, ScenarioReport, SweepReport,
};

pub struct Json;

impl Exporter for Json {
    fn counter(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        document(report, out)
    }

    fn scenario(&self, report: &ScenarioReport, out: &mut dyn Write) -> io::Result<()> {
        document(report, out)
    }

    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        document(report, out)
    }

    fn sweep(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        document(report, out)
    }

    fn isolation(&self, report: &IsolationReport, out: &mut dyn Write) -> io::Result<()> {
        document(report, out)
    }

    fn exec(&self, report: &ExecReport, out: &mut dyn Write) -> io::Result<()> {
        document(report, out)
    }
}

/// One pretty-printed document and a newline: the model is the schema.
fn document(model: &impl Serialize, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, model)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::strategy::StrategyKind;

    #[test]
    fn json_carries_the_documented_fields() {
        let report = fixture::report(&[(StrategyKind::Unsafe, &[1_500, 2_000, 1_200])]);
        let mut out = Vec::new();
        Json.counter(&report, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["machine"]["logical_cpus"], 2);
        assert_eq!(v["workload"]["expected"], 2_000);
        assert_eq!(v["workload"]["start"], "barrier");
        assert_eq!(v["workload"]["yield"], false);
        let r = &v["results"][0];
        assert_eq!(r["strategy"], "unsafe");
        assert_eq!(r["trials"][0]["final"], 1_500);
        assert_eq!(r["trials"][0]["lost"], 500);
        assert_eq!(r["trials"][1]["elapsed_ns"], 1_250_000);
        assert_eq!(r["summary"]["differed"], 2);
        assert_eq!(r["summary"]["lost"]["median"], 500);
        assert_eq!(r["summary"]["distinct_finals"], 3);
        assert_eq!(r["expect"], "any");
        assert_eq!(r["expect_met"], true);
        assert!(r.get("vs_unsafe").is_none());
    }
}
