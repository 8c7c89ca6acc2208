//! Runs a validated command and writes its report; what failed comes back as messages for the
//! caller to turn into an exit status.

mod counter;
mod exec;
mod isolation;
mod python;
mod scenario;
mod store;
mod sweep;

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;
use crate::options::{Options, OutputOptions};

/// Runs `options`, writing results to `out`; returns one message per failed expectation.
pub fn run(options: Options, out: &mut dyn Write) -> Result<Vec<String>, Error> {
    match options {
        Options::Counter(o) => {
            decide_colour(&o.output);
            match &o.store {
                Some(_) => store::run(&o, out),
                None => counter::run(&o, out),
            }
        }
        Options::ScenarioList { width } => scenario::list(width, out).map(|()| Vec::new()),
        Options::ScenarioShow(s, width, python) => {
            scenario::show(&s, width, python, out).map(|()| Vec::new())
        }
        Options::ScenarioRun(o) => {
            decide_colour(&o.output);
            scenario::run(&o, out)
        }
        Options::ScenarioCheck(o) => {
            decide_colour(&o.output);
            scenario::check(&o, out)
        }
        Options::Sweep(o) => {
            decide_colour(&o.output);
            sweep::run(&o, out)
        }
        Options::Worker {
            kind,
            url,
            run,
            wait,
        } => match crate::crew::joined::serve(kind, &url, &run, wait) {
            Ok(s) => {
                writeln!(
                    out,
                    "worker {} of {} in run '{run}': {} trials, {} increments acknowledged, {} \
                     retries, {} given up",
                    s.index + 1,
                    s.of,
                    crate::format::thousands(s.trials),
                    crate::format::thousands(s.counts.acknowledged),
                    crate::format::thousands(s.counts.retries),
                    crate::format::thousands(s.counts.given_up),
                )
                .map_err(Error::io("writing the summary"))?;
                Ok(Vec::new())
            }
            // The signal is reported by the caller, with its exit status.
            Err(_) if crate::harness::interrupted() => Ok(Vec::new()),
            Err(e) => Err(Error::Fault(e)),
        },
        Options::Isolation(o) => {
            decide_colour(&o.output);
            isolation::run(&o, out)
        }
        Options::Exec(o) => {
            decide_colour(&o.output);
            exec::run(&o, out)
        }
        Options::Completions(shell) => {
            let mut cli = Cli::command();
            clap_complete::generate(shell, &mut cli, "racedemo", out);
            Ok(Vec::new())
        }
        Options::Man(dir) => match dir {
            None => clap_mangen::Man::new(Cli::command()).render(out),
            Some(dir) => clap_mangen::generate_to(Cli::command(), dir),
        }
        .map(|()| Vec::new())
        .map_err(Error::io("writing the man pages")),
    }
}

/// Colour is decided once, in options; the colour crate is told the same here.
fn decide_colour(output: &OutputOptions) {
    colored::control::set_override(output.color);
}
