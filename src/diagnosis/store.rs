//! The notes of a run on a shared store: what happened in the store's terms, and what its
//! retries and errors mean.

use crate::crew::CrewKind;
use crate::format::{percent, thousands};
use crate::stats::{StoreOps, Summary};
use crate::store::StoreKind;
use crate::strategy::StrategyKind;

/// The notes of a run on a shared store: what happened, in the store's terms, and what the
/// retries and errors mean.
pub fn store_notes(
    kind: StrategyKind,
    racy: bool,
    store: StoreKind,
    crew: CrewKind,
    retry: u64,
    summary: &Summary,
) -> Vec<String> {
    let mut notes = Vec::new();
    let who = crew.name();
    let ops = summary.ops.as_ref();
    let errors = ops.map_or(0, StoreOps::error_total);
    let retries = ops.map_or(0, |o| o.retries);
    if !racy && summary.rate.differed > 0 {
        notes.push(format!(
            "{} lost acknowledged updates in {} of {} trials: a correct strategy must never do \
             that; this is a bug in racedemo or in the store, please report it",
            kind.name(),
            thousands(summary.rate.differed),
            thousands(summary.trials)
        ));
    }
    if racy && summary.rate.differed > 0 {
        let how = match store {
            _ if kind == StrategyKind::Transaction => {
                "two transactions read the same value, and the later UPDATE waited for the \
                 earlier's row lock, then overwrote its committed value with a stale one + 1; \
                 at this isolation level the server does not check, so nobody got an error \
                 (--isolation repeatable-read on PostgreSQL, serializable or \
                 repeatable-read+snapshot on MariaDB refuse the stale write)"
            }
            StoreKind::Postgres | StoreKind::Mysql => {
                "two workers SELECTed the same value, each UPDATEd it to that value + 1, and \
                 the later UPDATE overwrote the earlier"
            }
            StoreKind::Redis => {
                "two workers GOT the same value, each SET it to that value + 1, and the later \
                 SET overwrote the earlier"
            }
            StoreKind::Sqlite => {
                "two workers SELECTed the same value, each UPDATEd it to that value + 1, and \
                 the later UPDATE overwrote the earlier: SQLite runs one writer at a time, so \
                 workers that read together queue and then all write the same number"
            }
            _ => {
                "two workers read the same number from the file, each wrote it + 1, and the \
                 later write overwrote the earlier one"
            }
        };
        notes.push(format!(
            "what happened: {how}; `racedemo compare --store {}` shows the fixes",
            store.name()
        ));
    }
    if racy && summary.rate.differed == 0 && summary.trials > 0 {
        notes.push(format!(
            "no trial lost an update, and that does not mean the code is safe: the {who} \
             overlapped {} of each trial on average; try more --iterations, --yield, or more \
             workers",
            percent(summary.pace.overlap.mean)
        ));
    }
    if errors > 0 {
        let failed = ops.map_or(0, |o| o.given_up);
        let unacked = if failed > 0 {
            let why = if retry == 0 {
                "were not retried (--retry N retries them)".to_string()
            } else {
                format!("failed {} times in a row (--retry {retry})", retry + 1)
            };
            format!(
                "; {} {why} and were never acknowledged, so they are not in the expected \
                 value: a caller would have had to retry them",
                thousands(failed)
            )
        } else {
            String::new()
        };
        notes.push(format!(
            "the store refused {} attempts ({}){unacked}",
            thousands(errors),
            ops.map_or(String::new(), |o| o
                .errors
                .iter()
                .map(|(k, n)| format!("{k}: {}", thousands(*n)))
                .collect::<Vec<_>>()
                .join(", "))
        ));
    }
    if kind == StrategyKind::Optimistic && retries > 0 {
        let each = match store {
            StoreKind::Redis => {
                "an EXEC that answered nil because another worker wrote the key \
                                 after WATCH"
            }
            _ => {
                "an UPDATE ... WHERE v = <read> that found another worker's write first and \
                  changed nothing"
            }
        };
        notes.push(format!(
            "{} compare-and-swap retries: each {each}",
            thousands(retries)
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Tally;

    /// A store run's summary: `errors` busy refusals, of which `retries` were retried and the
    /// rest given up.
    fn on_store(finals: &[u64], errors: u64, retries: u64) -> Summary {
        let mut t = Tally::new(100, 0);
        for &f in finals {
            t.add(f, 1, 0.9);
        }
        let mut s = t.summary();
        s.ops = Some(StoreOps::new(
            100,
            retries,
            errors - retries,
            [("busy".to_string(), errors)].into(),
            1_000,
        ));
        s
    }

    #[test]
    fn store_notes_say_what_was_refused_and_what_was_never_acknowledged() {
        let notes = |kind, retry, s: &Summary| {
            store_notes(
                kind,
                kind.is_racy(),
                StoreKind::Sqlite,
                CrewKind::Processes,
                retry,
                s,
            )
            .join("\n")
        };
        let tx = StrategyKind::Transaction;
        let n = notes(tx, 0, &on_store(&[100], 40, 0));
        assert!(
            n.contains("refused 40 attempts (busy: 40); 40 were not retried (--retry N"),
            "{n}"
        );
        let n = notes(tx, 3, &on_store(&[100], 40, 37));
        assert!(n.contains("3 failed 4 times in a row (--retry 3)"), "{n}");
        let n = notes(tx, 3, &on_store(&[100], 40, 40));
        assert!(
            n.contains("refused 40 attempts (busy: 40)") && !n.contains("never"),
            "{n}"
        );
        // The race, in SQLite's terms; a fix that lost one is a bug.
        let n = notes(StrategyKind::Unsafe, 0, &on_store(&[60], 0, 0));
        assert!(n.contains("SQLite runs one writer at a time"), "{n}");
        let n = notes(StrategyKind::Locked, 0, &on_store(&[99], 0, 0));
        assert!(n.contains("this is a bug"), "{n}");
    }
}
