//! What the computed memory models say about a scenario's outcomes, in words: each outcome's
//! verdicts, the notes that compare them with what this machine did, and the places where a
//! file's grades contradict them.

use std::collections::BTreeMap;

use crate::format::{percent, thousands};
use crate::report::{Allowed, ModelRow};
use crate::scenario::model::{Model, Verdict, Verdicts};
use crate::scenario::program::{Rule, matches};
use crate::scenario::{Grade, Outcome, Program};

/// Whether each model allows `outcome`.
pub fn allowed(verdicts: &Verdicts, outcome: &Outcome) -> Allowed {
    Allowed {
        sc: verdicts.allows(Model::Sc, outcome),
        tso: verdicts.allows(Model::Tso, outcome),
        rc11: verdicts.allows(Model::Rc11, outcome),
    }
}

/// Each model's part, for the report.
pub fn model_rows(verdicts: &Verdicts) -> Vec<ModelRow> {
    verdicts
        .models
        .iter()
        .map(|(model, verdict)| match verdict {
            Verdict::Computed {
                exhaustive,
                explored,
                ..
            } => ModelRow {
                model: *model,
                name: model.name().to_string(),
                computed: true,
                exhaustive: Some(*exhaustive),
                explored: Some(*explored),
                note: (!exhaustive).then(|| {
                    format!(
                        "bounded: stopped after {} {}; outcomes it did not reach are unknown",
                        thousands(*explored),
                        if *model == Model::Rc11 {
                            "candidate executions"
                        } else {
                            "states"
                        }
                    )
                }),
            },
            Verdict::NotComputed(why) => ModelRow {
                model: *model,
                name: model.name().to_string(),
                computed: false,
                exhaustive: None,
                explored: None,
                note: Some(why.clone()),
            },
        })
        .collect()
}

/// "SC", "x86-TSO and RC11", "SC, x86-TSO and RC11".
pub fn list(models: &[Model]) -> String {
    let names: Vec<&str> = models.iter().map(|m| m.name()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The models that (dis)allow something, given each one's answer.
fn those(answers: impl Fn(Model) -> Option<bool>, want: bool) -> Vec<Model> {
    Model::ALL
        .into_iter()
        .filter(|&m| answers(m) == Some(want))
        .collect()
}

/// The outcomes (of any model's allowed set) whose first matching rule is `rule`.
fn governed<'a>(
    program: &'a Program,
    verdicts: &'a Verdicts,
    rule: usize,
) -> impl Iterator<Item = Outcome> + 'a {
    verdicts
        .allowed_outcomes()
        .into_iter()
        .filter(move |o| rule_of(program, o) == Some(rule))
}

/// The index of the rule that grades `outcome`, if a rule does (a broken invariant or a halt
/// is graded before any rule).
pub fn rule_of(program: &Program, outcome: &Outcome) -> Option<usize> {
    match outcome {
        Outcome::Values {
            values,
            invariant_held: true,
        } => program
            .rules
            .iter()
            .position(|r| matches(&r.pattern, values)),
        _ => None,
    }
}

/// Whether each model allows some outcome that `rule` grades: `Some(true)` if one is found,
/// `Some(false)` if the model was computed to the end and allows none, `None` otherwise.
fn rule_allowed(program: &Program, verdicts: &Verdicts, rule: usize, model: Model) -> Option<bool> {
    let found = governed(program, verdicts, rule).any(|o| verdicts.allows(model, &o) == Some(true));
    if found {
        return Some(true);
    }
    match verdicts.verdict(model)? {
        Verdict::Computed {
            exhaustive: true, ..
        } => Some(false),
        _ => None,
    }
}

/// What the models say of a graded pattern no trial produced, and whether one allows it.
pub fn unobserved(program: &Program, verdicts: &Verdicts, rule: usize) -> (String, bool) {
    let r: &Rule = &program.rules[rule];
    let answer = |m| rule_allowed(program, verdicts, rule, m);
    let (yes, no) = (those(answer, true), those(answer, false));
    if !yes.is_empty() {
        let mut note = format!("allowed by {}, not observed on this machine", list(&yes));
        if let Some(here) = Model::of_this_machine().filter(|m| no.contains(m)) {
            note.push_str(&format!(
                " ({}, the model of this machine's architecture, forbids it)",
                here.name()
            ));
        }
        return (note, true);
    }
    if !no.is_empty() && answer(Model::Rc11).is_some() {
        return (
            format!("forbidden by {}, and not observed", list(&no)),
            false,
        );
    }
    let note = match r.grade {
        Grade::Interesting => {
            "graded interesting, not observed on this machine; no memory model was computed \
             for this program"
        }
        Grade::Forbidden => "forbidden, and not observed",
        Grade::Acceptable => "acceptable, not observed",
    };
    (note.to_string(), false)
}

/// Where the file's grades contradict a computed model, and outcomes this machine produced
/// that its own architecture's model forbids.
pub fn contradictions(
    program: &Program,
    verdicts: &Verdicts,
    observed: &BTreeMap<Outcome, u64>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (i, rule) in program.rules.iter().enumerate() {
        let pattern = pattern_text(program, &rule.pattern);
        let answer = |m| rule_allowed(program, verdicts, i, m);
        let (yes, no) = (those(answer, true), those(answer, false));
        match (rule.grade, rule.model) {
            (Grade::Acceptable | Grade::Interesting, _) => {
                // Forbidden by every model only means something once the weakest, RC11, was
                // computed to the end.
                if yes.is_empty() && answer(Model::Rc11) == Some(false) {
                    found.push(format!(
                        "{pattern} is graded {}, but {} forbid it: grade it forbidden",
                        rule.grade.name(),
                        list(&no)
                    ));
                }
            }
            (Grade::Forbidden, None) => {
                if !yes.is_empty() {
                    let stronger = those(answer, false);
                    let hint = match stronger.first() {
                        Some(m) => format!(
                            "name the model that forbids it (model = \"{}\") or grade it interesting",
                            m.key()
                        ),
                        None => "grade it interesting or acceptable".to_string(),
                    };
                    found.push(format!(
                        "{pattern} is graded forbidden, but {} allow{} it: {hint}",
                        list(&yes),
                        if yes.len() == 1 { "s" } else { "" }
                    ));
                }
            }
            (Grade::Forbidden, Some(model)) => {
                if answer(model) == Some(true) {
                    found.push(format!(
                        "{pattern} is graded forbidden under {}, but {} allows it",
                        model.name(),
                        model.name()
                    ));
                }
            }
        }
    }
    if let Some(here) = Model::of_this_machine() {
        for (outcome, &count) in observed {
            if count > 0 && !outcome.halted() && verdicts.allows(here, outcome) == Some(false) {
                found.push(format!(
                    "this machine produced {} in {} trials, which {} (its architecture's model) \
                     forbids: a bug in racedemo or in the CPU",
                    program.describe(outcome),
                    thousands(count),
                    here.name()
                ));
            }
        }
    }
    found
}

/// The notes in words: each outcome some model forbids and another allows, with how often
/// this machine produced it; and what a broken invariant is.
pub fn notes(
    program: &Program,
    verdicts: &Verdicts,
    observed: &BTreeMap<Outcome, u64>,
    trials: u64,
) -> Vec<String> {
    if !verdicts.any_computed() {
        return Vec::new();
    }
    let mut notes = Vec::new();
    let mut outcomes: Vec<Outcome> = verdicts.allowed_outcomes().into_iter().collect();
    outcomes.extend(observed.keys().filter(|o| !o.halted()).cloned());
    outcomes.sort();
    outcomes.dedup();
    for outcome in &outcomes {
        let answer = |m| verdicts.allows(m, outcome);
        let (yes, no) = (those(answer, true), those(answer, false));
        if yes.is_empty() || no.is_empty() {
            continue;
        }
        let count = observed.get(outcome).copied().unwrap_or(0);
        let means = rule_of(program, outcome)
            .and_then(|r| program.rules[r].means.as_deref())
            .map_or(String::new(), |m| format!(" ({m})"));
        let forbidden = if no == [Model::Sc] {
            "impossible under SC".to_string()
        } else {
            format!("forbidden by {}", list(&no))
        };
        notes.push(format!(
            "{}{means}: {forbidden}, allowed by {}; observed {}",
            program.describe(outcome),
            list(&yes),
            if count == 0 {
                "in no trial".to_string()
            } else {
                format!(
                    "{} ({} trials)",
                    percent(count as f64 / trials.max(1) as f64),
                    thousands(count)
                )
            }
        ));
    }
    let broken: u64 = observed
        .iter()
        .filter(|(o, _)| {
            matches!(
                o,
                Outcome::Values {
                    invariant_held: false,
                    ..
                }
            )
        })
        .map(|(o, &n)| {
            if verdicts.allows(Model::Sc, o) == Some(true) {
                n
            } else {
                0
            }
        })
        .sum();
    if broken > 0 {
        notes.push(format!(
            "the invariant broke in {} trials: that is the program's bug, not a memory-model \
             effect; SC allows it (some interleaving of the threads' steps produces it), so \
             every machine can",
            thousands(broken)
        ));
    }
    notes
}

/// `a.r=1, b.r=*` for a pattern, in the outcome's names.
pub fn pattern_text(program: &Program, pattern: &[Option<i64>]) -> String {
    program
        .outcome
        .iter()
        .zip(pattern)
        .map(|((name, _), p)| match p {
            Some(v) => format!("{name}={v}"),
            None => format!("{name}=*"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Scenario, library};

    #[test]
    fn an_outcome_this_machine_s_model_forbids_is_a_contradiction_naming_the_model() {
        let program = Scenario::load(library::find("message-passing-relaxed").unwrap())
            .unwrap()
            .program;
        let verdicts = Verdicts::compute(&program);
        let weak = Outcome::Values {
            values: [1, 0].into_iter().collect(),
            invariant_held: true,
        };
        let observed = BTreeMap::from([(weak, 3)]);
        let found = contradictions(&program, &verdicts, &observed);
        if Model::of_this_machine() == Some(Model::Tso) {
            assert_eq!(
                found,
                [
                    "this machine produced reader.f=1, reader.d=0 in 3 trials, which x86-TSO (its \
                  architecture's model) forbids: a bug in racedemo or in the CPU"
                ]
            );
        } else {
            assert!(found.is_empty(), "{found:?}");
        }
        // The same outcome never observed contradicts nothing: RC11 allows it.
        assert!(contradictions(&program, &verdicts, &BTreeMap::new()).is_empty());
    }
}
