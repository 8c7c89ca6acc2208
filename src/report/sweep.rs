//! The report model of `sweep`: one counter workload per value of the swept parameter. Like
//! the other reports, it is the JSON schema.

use serde::Serialize;

use super::{Envelope, WorkloadInfo};
use crate::stats::Summary;
use crate::strategy::StrategyKind;
use crate::sweep::Parameter;

#[derive(Debug, Clone, Serialize)]
pub struct SweepBody {
    /// What varies from point to point.
    pub parameter: Parameter,
    pub points: Vec<SweepPoint>,
}

/// `sweep`.
pub type SweepReport = Envelope<SweepBody>;

#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// The swept parameter's value here.
    pub value: u64,
    pub workload: WorkloadInfo,
    pub results: Vec<PointResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PointResult {
    pub strategy: StrategyKind,
    pub summary: Summary,
    /// ns per increment over the unsafe strategy's at the same point, when both ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_unsafe: Option<f64>,
}

impl SweepReport {
    /// The strategies, in the order every point ran them.
    pub fn strategies(&self) -> Vec<StrategyKind> {
        self.points
            .first()
            .map(|p| p.results.iter().map(|r| r.strategy).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A fixed sweep for the exporters' exact-output tests.
    use super::*;
    use crate::report::Machine;
    use crate::report::fixture::report;

    /// Threads 1, 2, 4 with unsafe and locked; unsafe loses more as threads grow.
    pub fn sweep() -> SweepReport {
        let points = [
            (1u64, [2_000u64, 2_000, 2_000]),
            (2, [1_500, 2_000, 1_200]),
            (4, [900, 1_000, 800]),
        ]
        .into_iter()
        .map(|(threads, finals)| {
            let r = report(&[
                (StrategyKind::Unsafe, &finals),
                (StrategyKind::Locked, &[2_000, 2_000, 2_000]),
            ]);
            let mut workload = r.workload.clone();
            workload.threads = threads as usize;
            SweepPoint {
                value: threads,
                workload,
                results: r
                    .body
                    .results
                    .into_iter()
                    .enumerate()
                    .map(|(i, res)| {
                        let mut summary = res.summary;
                        summary.pace.ns_per_op = [1.5, 40.0][i] * threads as f64;
                        PointResult {
                            strategy: res.strategy,
                            summary,
                            vs_unsafe: Some([1.0, 26.7][i]),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
        Envelope {
            schema: crate::report::SCHEMA,
            racedemo: "0.0.0-test",
            interrupted: false,
            fault: None,
            left_behind: Vec::new(),
            machine: Machine {
                logical_cpus: 2,
                os: "linux",
                arch: "x86_64",
            },
            body: SweepBody {
                parameter: Parameter::Threads,
                points,
            },
        }
    }
}
