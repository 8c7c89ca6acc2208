//! Scenarios: racy programs as TOML files, compiled once into op lists that the harness runs
//! through an interpreter.
//!
//! file (TOML, with spans) ─> parse (ops, expressions) ─> compile (names, locks) ─> Program
//! ─> exec (a harness Workload)

mod compile;
pub mod condition;
mod exec;
mod file;
mod fuse;
mod group;
pub mod interleave;
pub mod library;
pub mod litmus;
pub mod model;
mod parse;
pub mod program;
pub mod python;
mod resolve;
pub mod semantics;
mod syntax;

pub use compile::Overrides;
pub use library::{Origin, Source};
pub use program::{Grade, Outcome, Program};

use crate::error::Error;
use crate::expect::Expect;

/// A loaded, checked scenario: its metadata, its text, and how to compile it.
#[derive(Debug)]
pub struct Scenario {
    /// What it is looked up by: the file name without `.toml`.
    pub name: String,
    pub origin: Origin,
    pub text: String,
    file: file::File,
    /// Compiled with the file's own defaults, which also proves it compiles.
    pub program: Program,
    /// For a litmus file: the scenario it reads as, and its final condition.
    pub litmus: Option<litmus::Litmus>,
}

impl Scenario {
    /// Parses and compiles a scenario; every problem is an input error at file:line:column.
    pub fn load(source: Source) -> Result<Scenario, Error> {
        let litmus = if litmus::is_litmus(&source.origin.to_string(), &source.text) {
            Some(litmus::read(&source.text).map_err(|p| located(&source, p.offset, &p.message))?)
        } else {
            None
        };
        let toml_text = litmus.as_ref().map_or(source.text.as_str(), |l| &l.toml);
        let file: file::File = toml::from_str(toml_text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let offset = litmus.as_ref().map_or(offset, |l| l.origin_of(offset));
            located(&source, offset, e.message().trim_end())
        })?;
        let program = compile_program(&file, &source.text, litmus.as_ref(), Overrides::default())
            .map_err(|p| located(&source, p.offset, &p.message))?;
        model::data_race(&program)
            .map_err(|why| Error::input(format!("{}: {why}", source.origin)))?;
        Ok(Scenario {
            name: source.name,
            origin: source.origin,
            text: source.text,
            file,
            program,
            litmus,
        })
    }

    /// The program with `--threads` / `--iterations` applied.
    pub fn compile(&self, overrides: Overrides) -> Result<Program, Error> {
        if overrides == Overrides::default() {
            return Ok(self.program.clone());
        }
        let program = compile_program(&self.file, &self.text, self.litmus.as_ref(), overrides)
            .map_err(|p| {
                Error::input(format!(
                    "{} (with the given --threads/--iterations): {}",
                    self.position(p.offset),
                    p.message
                ))
            })?;
        model::data_race(&program).map_err(|why| {
            Error::input(format!(
                "{} (with the given --threads/--iterations): {why}",
                self.origin
            ))
        })?;
        Ok(program)
    }

    pub fn title(&self) -> &str {
        &self.file.name
    }

    pub fn summary(&self) -> &str {
        &self.file.summary
    }

    pub fn explanation(&self) -> &str {
        self.file.explanation.trim()
    }

    /// Trials when `--trials` is not given.
    pub fn default_trials(&self) -> u64 {
        self.file
            .trials
            .as_ref()
            .map_or(100, |t| *t.get_ref())
            .max(1)
    }

    /// What the file expects a run to show.
    pub fn expect(&self) -> Expect {
        match self.file.expect.as_ref().map(|e| e.get_ref().as_str()) {
            Some("correct") => Expect::Correct,
            Some("race") => Expect::Race,
            _ => Expect::Any,
        }
    }

    /// The program, readable: shared variables, locks and the other primitives, each group's
    /// ops indented by `if` and `while` blocks, and the checks.
    pub fn listing(&self) -> String {
        let f = &self.file;
        let mut out = String::new();
        let shared: Vec<String> = f
            .shared
            .iter()
            .map(|(k, v)| format!("{k} = {}", v.get_ref()))
            .collect();
        out.push_str(&format!(
            "shared: {}\n",
            if shared.is_empty() {
                "none".into()
            } else {
                shared.join(", ")
            }
        ));
        let p = &self.program;
        if !p.locks.is_empty() {
            out.push_str(&format!("locks: {}\n", p.locks.join(", ")));
        }
        if !p.rwlocks.is_empty() {
            out.push_str(&format!("reader-writer locks: {}\n", p.rwlocks.join(", ")));
        }
        if !p.condvars.is_empty() {
            let condvars: Vec<String> = p
                .condvars
                .iter()
                .map(|c| format!("{} (on {})", c.name, p.locks[c.lock as usize]))
                .collect();
            out.push_str(&format!("condvars: {}\n", condvars.join(", ")));
        }
        if !p.semaphores.is_empty() {
            let semaphores: Vec<String> = p
                .semaphores
                .iter()
                .map(|s| {
                    let bounded = if s.bounded { ", bounded" } else { "" };
                    format!("{} = {}{bounded}", s.name, s.initial)
                })
                .collect();
            out.push_str(&format!("semaphores: {}\n", semaphores.join(", ")));
        }
        if p.spurious_wakeups {
            out.push_str("spurious wake-ups: on\n");
        }
        for g in &self.program.groups {
            out.push_str(&format!(
                "\ngroup {}: {} thread(s) x {} iteration(s)\n",
                g.name, g.threads, g.iterations
            ));
            let written = f
                .group
                .iter()
                .find(|fg| *fg.name.get_ref() == g.name)
                .map(|fg| fg.ops.get_ref().as_slice())
                .unwrap_or_default();
            let mut depth = 1;
            for op in written {
                let op = op.get_ref().trim();
                if op == "end" {
                    depth = (depth - 1).max(1);
                }
                out.push_str(&format!("{}{op}\n", "    ".repeat(depth)));
                if op.starts_with("if ") || op.starts_with("while ") {
                    depth += 1;
                }
            }
        }
        out.push_str("\ncheck after each trial:\n");
        if let Some((inv, _)) = &self.program.invariant {
            out.push_str(&format!("    invariant: {inv}\n"));
        }
        let names: Vec<&str> = self.program.outcome.iter().map(|o| o.0.as_str()).collect();
        out.push_str(&format!("    outcome: {}\n", names.join(", ")));
        if let Some(c) = &self.program.condition {
            out.push_str(&format!(
                "    condition: {} (outcomes that satisfy it are interesting)\n",
                c.text
            ));
        }
        for rule in &self.program.rules {
            let pattern: Vec<String> = rule
                .pattern
                .iter()
                .map(|p| p.map_or("*".into(), |v| v.to_string()))
                .collect();
            let means = rule
                .means
                .as_deref()
                .map_or(String::new(), |m| format!(": {m}"));
            out.push_str(&format!(
                "    {} -> {}{means}\n",
                pattern.join(", "),
                rule.grade.name()
            ));
        }
        out.push_str(&format!(
            "    anything else -> {}\n",
            self.program.default_grade.name()
        ));
        out.push_str(&format!("expect: {}\n", self.expect().name()));
        out
    }

    fn position(&self, offset: usize) -> String {
        let (line, col) = file::line_col(&self.text, offset);
        format!("{}:{line}:{col}", self.origin)
    }
}

/// Compiles a scenario (a litmus file's translation, with its condition), problems placed in
/// the text the user wrote.
fn compile_program(
    file: &file::File,
    text: &str,
    litmus: Option<&litmus::Litmus>,
    overrides: Overrides,
) -> Result<Program, resolve::Problem> {
    match litmus {
        None => compile::compile(file, text, overrides),
        Some(l) => {
            let mut program =
                compile::compile(file, &l.toml, overrides).map_err(|p| litmus::placed(l, p))?;
            program.condition = Some(l.condition.clone());
            Ok(program)
        }
    }
}

fn located(source: &Source, offset: usize, message: &str) -> Error {
    let (line, col) = file::line_col(&source.text, offset);
    // TOML's messages can span lines; the error is one line.
    let message = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Error::input(format!("{}:{line}:{col}: {message}", source.origin))
}
