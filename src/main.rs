#![forbid(unsafe_code)]

use std::process::ExitCode;

#[cfg(not(any(loom, shuttle, miri)))]
fn main() -> ExitCode {
    match racedemo::run() {
        Ok(status) => status,
        // `racedemo … | head`: the reader has what it wanted; stop quietly.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

/// Built for the model checkers' and Miri's tests only, where there is no program to run.
#[cfg(any(loom, shuttle, miri))]
fn main() -> ExitCode {
    ExitCode::FAILURE
}
