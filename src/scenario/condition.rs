//! A litmus test's final condition (`exists`, `~exists`, `forall` over a proposition about
//! final values), and herd's word for how a set of final states meets it: Always, Sometimes,
//! Never.

use serde::Serialize;

/// How the proposition is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Exists,
    NotExists,
    Forall,
}

/// A proposition over an outcome's values, each atom naming its position in the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prop {
    True,
    False,
    /// The outcome's value at this position equals the number.
    Is(usize, i64),
    Not(Box<Prop>),
    And(Box<Prop>, Box<Prop>),
    Or(Box<Prop>, Box<Prop>),
}

impl Prop {
    pub fn holds(&self, values: &[i64]) -> bool {
        match self {
            Prop::True => true,
            Prop::False => false,
            Prop::Is(i, v) => values.get(*i) == Some(v),
            Prop::Not(p) => !p.holds(values),
            Prop::And(a, b) => a.holds(values) && b.holds(values),
            Prop::Or(a, b) => a.holds(values) || b.holds(values),
        }
    }
}

/// The final condition as written, and as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// As the file writes it: `exists (0:r0=0 /\ 1:r0=0)`.
    pub text: String,
    pub quantifier: Quantifier,
    pub prop: Prop,
}

impl Condition {
    /// herd's observation for a set of final states, each given by its values (`None` for a
    /// trial that halted, which satisfies nothing): Always when every one satisfies the
    /// proposition, Never when none does, Sometimes otherwise. `None` when the set may be
    /// incomplete (`exhaustive` false) and what is missing could change the word.
    pub fn observation<'a>(
        &self,
        states: impl IntoIterator<Item = Option<&'a [i64]>>,
        exhaustive: bool,
    ) -> Option<Observation> {
        let (mut yes, mut no) = (0usize, 0usize);
        for values in states {
            if values.is_some_and(|v| self.prop.holds(v)) {
                yes += 1;
            } else {
                no += 1;
            }
        }
        match (yes, no) {
            (0, _) if exhaustive => Some(Observation::Never),
            (_, 0) if exhaustive && yes > 0 => Some(Observation::Always),
            (y, n) if y > 0 && n > 0 => Some(Observation::Sometimes),
            _ => None,
        }
    }

    /// Whether the condition is validated (herd's "Ok") by a model's observation.
    pub fn validated(&self, observation: Observation) -> bool {
        match self.quantifier {
            Quantifier::Exists => observation != Observation::Never,
            Quantifier::NotExists => observation == Observation::Never,
            Quantifier::Forall => observation == Observation::Always,
        }
    }
}

/// How a set of final states meets a condition's proposition, in herd's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Observation {
    Always,
    Sometimes,
    Never,
}

impl Observation {
    pub fn name(self) -> &'static str {
        match self {
            Observation::Always => "always",
            Observation::Sometimes => "sometimes",
            Observation::Never => "never",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_count_states_that_satisfy_the_proposition() {
        let both_zero = Prop::And(Box::new(Prop::Is(0, 0)), Box::new(Prop::Is(1, 0)));
        let c = Condition {
            text: "exists (0:r0=0 /\\ 1:r0=0)".into(),
            quantifier: Quantifier::Exists,
            prop: both_zero,
        };
        let sc: Vec<&[i64]> = vec![&[0, 1], &[1, 0], &[1, 1]];
        let mut tso = sc.clone();
        tso.push(&[0, 0]);
        let states = |v: &[&'static [i64]]| v.iter().map(|s| Some(*s)).collect::<Vec<_>>();
        assert_eq!(c.observation(states(&sc), true), Some(Observation::Never));
        assert_eq!(
            c.observation(states(&tso), true),
            Some(Observation::Sometimes)
        );
        assert!(!c.validated(Observation::Never));
        // Bounded: "never" cannot be claimed, but "sometimes" can.
        assert_eq!(c.observation(states(&sc), false), None);
        assert_eq!(
            c.observation(states(&tso), false),
            Some(Observation::Sometimes)
        );
        assert_eq!(
            c.observation(states(&[&[0, 0]]), true),
            Some(Observation::Always)
        );
        // A halted trial satisfies nothing.
        assert_eq!(c.observation([None], true), Some(Observation::Never));
        let not = Prop::Not(Box::new(Prop::Or(
            Box::new(Prop::Is(0, 1)),
            Box::new(Prop::False),
        )));
        assert!(not.holds(&[0, 5]) && !not.holds(&[1, 5]));
    }
}
