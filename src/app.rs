//! The program as a whole: argv in, report out, errors back to `main`.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::{Cli, SHORT_USAGE};
use crate::crew::protocol::WORKER_COMMAND;
use crate::error::{EXIT_EXPECTATION_FAILED, EXIT_INVALID_INPUT, Error};
use crate::options::{Environment, Options};

/// The whole program: parse, validate, run, report. Errors come back to `main` to print.
pub fn run() -> Result<ExitCode, Error> {
    // A worker process of a run with --processes: racedemo's own command, kept out of clap so
    // that no help, completion script or man page offers it. Its coordinator decides when it
    // stops, through its stdin, so it takes no signal handlers.
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == WORKER_COMMAND) {
        return Ok(ExitCode::from(crate::crew::worker::serve()));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            err.exit()
        }
        // `racedemo scenario` alone: clap shows that command's help, which is short.
        Err(err) if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => err.exit(),
        Err(err) => {
            return Err(Error::input(
                misplaced_flag(&err).unwrap_or_else(|| one_line(&err.render().to_string())),
            ));
        }
    };
    let Some(command) = cli.command else {
        eprintln!("{SHORT_USAGE}");
        return Ok(ExitCode::from(EXIT_INVALID_INPUT));
    };
    let env = Environment::current();
    let options = Options::from_command(command, &env)?;
    crate::signals::stop_on_signals();
    let ran = crate::run::run(options, &mut std::io::stdout().lock());
    // A signal decides the exit status, even where it cut a step short with an error (a
    // wait for a lock, a connection): SIGTERM always ends racedemo as SIGTERM.
    let failures = match ran {
        Err(e) if crate::signals::received().is_none() || e.is_broken_pipe() => return Err(e),
        Err(_) => Vec::new(),
        Ok(failures) => failures,
    };
    if let Some(signal) = crate::signals::received() {
        eprintln!(
            "racedemo: interrupted by {}; the report covers the trials that completed",
            signal.name()
        );
        return Ok(ExitCode::from(signal.exit_status()));
    }
    for failure in &failures {
        eprintln!("error: expectation failed: {failure}");
    }
    let status = if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_EXPECTATION_FAILED)
    };
    Ok(status)
}

/// A flag of the counter commands given to one that does not take it: clap's own tip (pass it
/// after `--` as a value) would mislead, so say where the flag belongs instead.
fn misplaced_flag(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    if err.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = arg.split('=').next().unwrap_or(arg);
    let command: Vec<String> = std::env::args().skip(1).take(2).collect();
    let where_ = match command.first().map(String::as_str) {
        Some("scenario") => format!("scenario {}", command.get(1).map_or("", String::as_str)),
        Some("sweep") => "sweep".to_string(),
        _ => return None,
    };
    let why = match (flag, where_.as_str()) {
        ("--yield" | "--window" | "-w" | "--jitter", _) if where_.starts_with("scenario") => {
            "a scenario's race window is in its file (`yield`, `spin` and `jitter` ops); \
             `racedemo unsafe` takes it as a flag"
        }
        ("--expect" | "--explain" | "--race-budget", "sweep") => {
            "a sweep shows how the race changes and checks nothing; run one point with \
             `racedemo unsafe` or `compare` to check or explain it"
        }
        ("--expect" | "--explain", "scenario check") => {
            "each file says what it expects (`expect = ...`); `racedemo scenario run NAME \
             --expect ... --explain` checks or explains one"
        }
        _ => return None,
    };
    Some(format!(
        "{flag} is not a flag of `racedemo {where_}`: {why}"
    ))
}

/// clap's multi-line message as one line: its first line and any tips, without the usage
/// block, so every bad-input error is a single line that names the flag.
fn one_line(rendered: &str) -> String {
    rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .map(|l| match l.strip_prefix("error: ") {
            Some(message) => message.to_string(),
            None if l.starts_with("tip:") => format!("({l})"),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_fold_into_one_line() {
        let missing = "error: the following required arguments were not provided:\n  <SCENARIO>\n\nUsage: racedemo scenario run <SCENARIO>\n";
        assert_eq!(
            one_line(missing),
            "the following required arguments were not provided: <SCENARIO>"
        );
        let rendered = "error: unrecognized subcommand 'unsaf'\n\n  tip: a similar subcommand exists: 'unsafe'\n\nUsage: racedemo <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "unrecognized subcommand 'unsaf' (tip: a similar subcommand exists: 'unsafe')"
        );
    }
}
