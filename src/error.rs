//! Errors and the exit statuses they map to.

use std::io;
use std::process::ExitCode;

/// Exit status: the run finished but an expectation failed (`--expect`, or a fix that raced).
pub const EXIT_EXPECTATION_FAILED: u8 = 1;
/// Exit status: invalid input (a flag value, a scenario file); nothing was run.
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Exit status: the run could not be carried out (the OS refused a thread, output failed).
pub const EXIT_RUNTIME: u8 = 3;

// Stopped by a signal, after printing what completed: 128 + its number (`signals::Signal`).

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: the message names the flag or file and the problem, on one line.
    #[error("{0}")]
    Input(String),
    /// A fault while running (a worker died or hung, the store failed), after the report of
    /// what completed was written.
    #[error("{0}")]
    Fault(String),
    /// Something outside racedemo failed while running.
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into())
    }

    pub fn io(context: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Error::Io { context, source }
    }

    /// A reader that stopped reading our output (`racedemo … | head`) is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Error::Input(_) => EXIT_INVALID_INPUT,
            Error::Io { .. } | Error::Fault(_) => EXIT_RUNTIME,
        })
    }
}
