//! Stopping a run from outside: Ctrl-C (SIGINT), `timeout` and CI cancellations (SIGTERM), a
//! closed terminal (SIGHUP). The first signal lets the trials in flight finish and the partial
//! report print; a second one leaves at once. The exit status is 128 + the signal's number, as
//! a shell reports a process that the signal killed.

use std::sync::atomic::{AtomicU8, Ordering};

/// The signals that stop a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Hangup,
    Interrupt,
    Terminate,
}

impl Signal {
    const ALL: [Signal; 3] = [Signal::Hangup, Signal::Interrupt, Signal::Terminate];

    /// The POSIX number, the same on every Unix for these three.
    pub fn number(self) -> u8 {
        match self {
            Signal::Hangup => 1,
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Hangup => "SIGHUP",
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 129, 130, 143.
    pub fn exit_status(self) -> u8 {
        128 + self.number()
    }

    fn from_number(number: u8) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.number() == number)
    }
}

/// The first stopping signal that arrived, as its number; 0 for none.
static RECEIVED: AtomicU8 = AtomicU8::new(0);

/// The signal that stopped the run, if one did.
pub fn received() -> Option<Signal> {
    Signal::from_number(RECEIVED.load(Ordering::SeqCst))
}

/// What to do when `signal` arrives: the first asks the harness to stop; the next exits now.
fn on(signal: Signal) {
    if RECEIVED
        .compare_exchange(0, signal.number(), Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        std::process::exit(i32::from(signal.exit_status()));
    }
    crate::harness::interrupt();
}

/// Installs the handlers. If the OS refuses, the signals keep their default action (the run
/// is killed), which is no worse than before.
#[cfg(unix)]
pub fn stop_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGHUP, SIGINT, SIGTERM]) else {
        return;
    };
    // A thread of its own: signal_hook's handler only records the signal, and this thread
    // acts on it outside the signal context.
    let _ = std::thread::Builder::new()
        .name("racedemo-signals".into())
        .spawn(move || {
            for number in signals.forever() {
                if let Some(signal) = u8::try_from(number).ok().and_then(Signal::from_number) {
                    on(signal);
                }
            }
        });
}

/// Elsewhere only Ctrl-C can be caught.
#[cfg(not(unix))]
pub fn stop_on_signals() {
    let _ = ctrlc::set_handler(|| on(Signal::Interrupt));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_exits_with_128_plus_its_number() {
        let statuses: Vec<(&str, u8)> = Signal::ALL
            .iter()
            .map(|s| (s.name(), s.exit_status()))
            .collect();
        assert_eq!(
            statuses,
            [("SIGHUP", 129), ("SIGINT", 130), ("SIGTERM", 143)]
        );
        assert_eq!(Signal::from_number(15), Some(Signal::Terminate));
        assert_eq!(Signal::from_number(9), None);
    }
}
