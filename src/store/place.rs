//! The run's own record, row or key in a store, set up by the coordinating process and given
//! back at the end.

use std::path::Path;
use std::time::Duration;

use super::{
    Address, Connection, Isolation, StoreKind, StoreSpec, file, mysql, postgres, redis, scrub,
    sqlite,
};
use crate::error::Error;

/// The run's counter in a store, set up by the coordinating process: its own record or row,
/// removed again when this is dropped (with the temporary folder, when racedemo made one).
pub struct Place {
    address: Address,
    /// What the header says about the store beyond its kind and location.
    pub details: String,
    admin: Option<Box<dyn Connection>>,
    release: Option<Release>,
    // Dropped last: the folder holding a default store.
    _temp: Option<tempfile::TempDir>,
}

impl Place {
    /// Sets up the run's counter in `spec`, for transactions at `isolation`. A path that
    /// cannot hold one is bad input (exit 2); a server that cannot be reached or refuses is a
    /// fault (exit 3), worded without the URL's password.
    pub fn open(
        spec: &StoreSpec,
        isolation: Option<Isolation>,
        deadline: Duration,
    ) -> Result<Place, Error> {
        let (temp, location) = match spec {
            StoreSpec::Memory => {
                return Err(Error::input("memory is not a shared store"));
            }
            StoreSpec::Server(_, url) => (None, url.clone()),
            StoreSpec::File(Some(p)) | StoreSpec::Sqlite(Some(p)) => {
                check_folder(spec.kind(), p)?;
                (None, p.display().to_string())
            }
            StoreSpec::File(None) | StoreSpec::Sqlite(None) => {
                let dir = tempfile::Builder::new()
                    .prefix("racedemo-")
                    .tempdir()
                    .map_err(Error::io("making a temporary folder for the store"))?;
                let name = match spec.kind() {
                    StoreKind::File => "counter.txt",
                    _ => "counter.db",
                };
                let path = dir.path().join(name);
                (Some(dir), path.display().to_string())
            }
        };
        let kind = spec.kind();
        // A local path that cannot hold the counter is the user's to fix; a server that
        // cannot be reached is a fault of the run.
        let wrap = |e: String| {
            if kind.is_server() {
                Error::Fault(scrub(&e, &location))
            } else {
                Error::input(format!("--store {}: {e}", spec.shown_at(&location)))
            }
        };
        let Claimed {
            slot,
            details,
            release,
        } = match kind {
            StoreKind::File => file::set_up(Path::new(&location)),
            StoreKind::Sqlite => sqlite::set_up(Path::new(&location)),
            StoreKind::Postgres => postgres::set_up(&location, deadline),
            StoreKind::Mysql => mysql::set_up(&location, deadline),
            StoreKind::Redis => redis::set_up(&location, deadline),
            StoreKind::Memory => unreachable!("refused above"),
        }
        .map_err(wrap)?;
        let address = Address {
            kind,
            location: location.clone(),
            slot,
            isolation,
            deadline_ms: Some(deadline.as_millis() as u64),
        };
        // Dropped (and the row deleted) if the first connection fails.
        let mut place = Place {
            address,
            details,
            admin: None,
            release: Some(release),
            _temp: temp,
        };
        let mut admin_address = place.address.clone();
        // The coordinator's own connection resets and reads: no snapshot setting needed.
        admin_address.isolation = None;
        place.admin = Some(admin_address.connect().map_err(wrap)?);
        Ok(place)
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The coordinator's own connection: resets before a trial, reads after.
    pub fn admin(&mut self) -> &mut dyn Connection {
        self.admin.as_mut().expect("connected in open").as_mut()
    }

    /// Removes the run's record, row or key now: `None` when it is gone, else a note saying
    /// exactly what is left and the command that removes it (the coordinator's connection
    /// died, and a fresh one could not be had).
    pub fn close(mut self) -> Option<String> {
        // The coordinator's connection goes first: a SQLite or file handle of its own must
        // not hold the row while it is deleted.
        self.admin = None;
        self.release.take().and_then(|release| release().err())
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.admin = None;
        if let Some(release) = self.release.take() {
            let _ = release();
        }
    }
}

/// A store path's folder must exist: racedemo makes files, never folders.
fn check_folder(kind: StoreKind, path: &Path) -> Result<(), Error> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Error::input(format!(
            "--store {}:{}: no such folder {}",
            kind.name(),
            path.display(),
            folder.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::input(format!(
            "--store {}:{}: is a folder; name a file in it",
            kind.name(),
            path.display()
        )));
    }
    // A device, a FIFO or a socket is refused before anything opens it: reading /dev/zero
    // never ends, and opening a FIFO waits for a writer.
    if let Ok(meta) = std::fs::metadata(path)
        && let Some(what) = file::not_regular(&meta)
    {
        return Err(Error::input(format!(
            "--store {}:{}: {}",
            kind.name(),
            path.display(),
            file::refusal(what)
        )));
    }
    Ok(())
}

/// Gives the run's record, row or key back; `Err`: what is left, in words, with the command
/// that removes it.
pub(crate) type Release = Box<dyn FnOnce() -> Result<(), String> + Send>;

/// What setting up a store gave the run: its own record or row, how the header describes it,
/// and how to give it back.
pub(crate) struct Claimed {
    pub slot: u64,
    pub details: String,
    pub release: Release,
}

/// A run id for a new record or row: random, so that runs started at once do not collide.
pub(crate) fn run_id() -> u64 {
    u64::from(rand::random::<u32>()) + 1
}
