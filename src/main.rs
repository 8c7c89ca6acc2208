#![forbid(unsafe_code)]

use std::process::ExitCode;

#[cfg(not(loom))]
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

/// Built for loom's model tests only, where there is no program to run.
#[cfg(loom)]
fn main() -> ExitCode {
    ExitCode::FAILURE
}
