//! The counter as decimal text in a file: what a cron job's "read the number, add one, write
//! it back" does, with and without `flock`.
//!
//! The file holds one fixed-width record per run (64 bytes, a line each), so that runs sharing
//! a file each own their record, a record never straddles a page, and the value is rewritten
//! in place by one `pwrite` of the same width: no truncation, so no reader ever sees an empty
//! or half-shortened file. A file holding anything else is not racedemo's and is refused,
//! never overwritten.
//!
//! Nothing but a regular file is opened, and never waited on: a device (`/dev/zero`,
//! `/dev/full`), a FIFO, a socket or a folder is refused before it is read; a file is read only
//! as far as racedemo's records go, [`MAX_RECORDS`] at most; and a lock held by someone else is
//! waited for only so long, and never past an interrupt.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::{Address, Attempt, Claimed, Connection, run_id};
use crate::strategy::{StrategyKind, Support};

/// What each strategy does on a file.
pub const STRATEGIES: [(StrategyKind, Support); 5] = [
    (
        StrategyKind::Unsafe,
        Support::Does(
            "pread the number, parse it, add 1, pwrite it back: another process's write between the two is overwritten",
        ),
    ),
    (
        StrategyKind::Locked,
        Support::Does(
            "flock the file (exclusive), read, add 1, write back, unlock: the lock covers the read and the write",
        ),
    ),
    (
        StrategyKind::Atomic,
        Support::Refused("a file has no atomic increment; use locked (flock), or --store sqlite"),
    ),
    (
        StrategyKind::Optimistic,
        Support::Refused("a file has no compare-and-swap; use locked (flock), or --store sqlite"),
    ),
    (
        StrategyKind::Transaction,
        Support::Refused("a file has no transactions; use locked (flock), or --store sqlite"),
    ),
];

/// `buf.len()` bytes at `at`, without moving a shared cursor (pread).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

/// `buf` at `at`, in one call where the OS allows (pwrite).
#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, at)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match file.seek_read(&mut buf[done..], at + done as u64)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => done += n,
        }
    }
    Ok(())
}

#[cfg(windows)]
fn write_at(file: &File, buf: &[u8], at: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        done += file.seek_write(&buf[done..], at + done as u64)?;
    }
    Ok(())
}

const RECORD: u64 = 64;
const PREFIX: &[u8] = b"racedemo-counter run=";
const FREE_RUN: &str = "--------";
/// Where the 20 digits of the value start within a record.
const VALUE_AT: u64 = 36;
const DIGITS: usize = 20;

fn record(run: &str, value: u64) -> Vec<u8> {
    let mut line = format!("racedemo-counter run={run} value={value:0DIGITS$}");
    debug_assert_eq!(line.len() as u64, VALUE_AT + DIGITS as u64);
    while (line.len() as u64) < RECORD - 1 {
        line.push(' ');
    }
    line.push('\n');
    line.into_bytes()
}

/// The most records a counter file holds: one per run sharing it at once, far more than runs
/// ever share one. A longer file is not racedemo's, and is not read past this.
pub const MAX_RECORDS: u64 = 4_096;
/// How long a run waits for another process's lock on the file while claiming its record.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Every record of `bytes` is a racedemo record, and no run holds two: the file is racedemo's.
fn is_ours(bytes: &[u8]) -> bool {
    if !(bytes.len() as u64).is_multiple_of(RECORD) {
        return false;
    }
    let mut runs = std::collections::HashSet::new();
    bytes.chunks(RECORD as usize).all(|r| {
        r.starts_with(PREFIX)
            && r.ends_with(b"\n")
            && (run_of(r) == FREE_RUN.as_bytes() || runs.insert(run_of(r)))
    })
}

/// The run id a record holds (`FREE_RUN` when no run does).
fn run_of(record: &[u8]) -> &[u8] {
    &record[PREFIX.len()..PREFIX.len() + FREE_RUN.len()]
}

/// What a path that is not a regular file is, for the message that refuses it.
pub(super) fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
        if kind.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some(if kind.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    })
}

/// Opens `path` for reading and writing only if it is a regular file: never blocking in the
/// open (O_NONBLOCK: a FIFO), and checked on the open file, so that nothing swapped in after
/// a look at the path gets through.
fn open_regular(path: &Path, create: bool) -> Result<File, String> {
    let mut options = OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(create)
        .truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    match not_regular(&meta) {
        Some(what) => Err(refusal(what)),
        None => Ok(file),
    }
}

/// Why a path that is not a regular file is refused.
pub(super) fn refusal(what: &str) -> String {
    format!("is {what}: racedemo keeps its counter only in a regular file (name a new file)")
}

/// Takes the file's exclusive lock, waiting at most [`LOCK_WAIT`] for another holder, and not
/// at all once the run is interrupted.
fn lock_briefly(file: &File) -> Result<(), String> {
    let since = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(format!("cannot lock it: {e}")),
        }
        if crate::harness::interrupted() {
            return Err("interrupted while waiting for its lock".into());
        }
        if since.elapsed() > LOCK_WAIT {
            return Err(format!(
                "another process has held its lock for {}s; racedemo does not wait longer",
                LOCK_WAIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The file's records, read no further than [`MAX_RECORDS`]; `None` when it holds anything
/// else.
fn read_records(file: &mut File) -> Result<Option<Vec<u8>>, String> {
    let limit = MAX_RECORDS * RECORD;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok((bytes.len() as u64 <= limit && is_ours(&bytes)).then_some(bytes))
}

/// Claims a record in the file at `path` (made if missing): a free one, or a new one at the
/// end, under an exclusive lock so that runs starting at once get different records.
pub(super) fn set_up(path: &Path) -> Result<Claimed, String> {
    let mut file = open_regular(path, true)?;
    lock_briefly(&file)?;
    let Some(bytes) = read_records(&mut file)? else {
        return Err(
            "holds something other than racedemo counters; racedemo never \
                    overwrites a file it did not write (name a new file)"
                .into(),
        );
    };
    let free = bytes
        .chunks(RECORD as usize)
        .position(|r| run_of(r) == FREE_RUN.as_bytes());
    let slot = free.map_or(bytes.len() as u64 / RECORD, |i| i as u64);
    let run = format!("{:08x}", run_id() as u32);
    file.seek(SeekFrom::Start(slot * RECORD))
        .and_then(|_| file.write_all(&record(&run, 0)))
        .and_then(|()| file.sync_data())
        .map_err(|e| format!("cannot write to it: {e}"))?;
    file.unlock().map_err(|e| e.to_string())?;
    let records = bytes.len() as u64 / RECORD + u64::from(free.is_none());
    let details = format!(
        "record {} of {records}, 64 bytes, rewritten in place",
        slot + 1
    );
    let shown = path.display().to_string();
    let release = move || {
        // The record is freed for a later run; the file stays (it may hold other runs').
        lock_briefly(&file)
            .and_then(|()| {
                write_at(&file, &record(FREE_RUN, 0), slot * RECORD).map_err(|e| e.to_string())
            })
            .map(|()| {
                let _ = file.unlock();
            })
            .map_err(|e| {
                format!(
                    "record {} of {shown} stays claimed by run {run} ({e}); no later run reuses \
                     it: remove the file (rm '{shown}') once no run uses it",
                    slot + 1
                )
            })
    };
    Ok(Claimed {
        slot,
        details,
        release: Box::new(release),
    })
}

/// One worker's handle on the file.
pub(super) struct FileCounter {
    file: File,
    at: u64,
}

impl FileCounter {
    pub(super) fn open(address: &Address) -> Result<Self, String> {
        let file = open_regular(address.path(), false)
            .map_err(|e| format!("{}: {e}", address.path().display()))?;
        Ok(FileCounter {
            file,
            at: address.slot * RECORD + VALUE_AT,
        })
    }

    /// The number, or `None` when the read saw a write half done.
    fn load(&self) -> Result<Option<u64>, String> {
        let mut digits = [0u8; DIGITS];
        read_at(&self.file, &mut digits, self.at)
            .map_err(|e| format!("reading the counter file: {e}"))?;
        Ok(std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse().ok()))
    }

    fn store(&self, value: u64) -> Result<(), String> {
        write_at(&self.file, format!("{value:0DIGITS$}").as_bytes(), self.at)
            .map_err(|e| format!("writing the counter file: {e}"))
    }

    fn read_add_write(&self, between: &mut dyn FnMut()) -> Result<Attempt, String> {
        let Some(read) = self.load()? else {
            return Ok(Attempt::Failed("torn-read"));
        };
        between();
        self.store(read + 1)?;
        Ok(Attempt::Done(read))
    }
}

impl Connection for FileCounter {
    fn attempt(
        &mut self,
        strategy: StrategyKind,
        between: &mut dyn FnMut(),
    ) -> Result<Attempt, String> {
        match strategy {
            StrategyKind::Unsafe => self.read_add_write(between),
            // The in-memory locks are refused on stores before a run starts; one that got
            // here would take the store's own lock, as `locked` does.
            StrategyKind::Locked
            | StrategyKind::LockedRwLock
            | StrategyKind::LockedSemaphore
            | StrategyKind::LockedSpin => {
                self.file
                    .lock()
                    .map_err(|e| format!("flock on the counter file: {e}"))?;
                let done = self.read_add_write(between);
                self.file
                    .unlock()
                    .map_err(|e| format!("unlocking the counter file: {e}"))?;
                done
            }
            other => Err(format!("{} has no file form", other.name())),
        }
    }

    fn reset(&mut self) -> Result<(), String> {
        self.store(0)
    }

    fn read(&mut self) -> Result<u64, String> {
        self.load()?
            .ok_or_else(|| "the counter file holds no number".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_fixed_width_lines_with_the_value_in_place() {
        let r = record("0000002a", 41);
        assert_eq!(r.len() as u64, RECORD);
        assert!(is_ours(&r));
        let digits = &r[VALUE_AT as usize..VALUE_AT as usize + DIGITS];
        assert_eq!(std::str::from_utf8(digits).unwrap(), "00000000000000000041");
        assert!(is_ours(b""));
        assert!(!is_ours(b"my notes\n"));
    }

    #[test]
    fn runs_sharing_a_file_each_get_their_own_record_and_free_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        let Claimed {
            slot: a,
            release: release_a,
            ..
        } = set_up(&path).unwrap();
        let Claimed {
            slot: b,
            release: release_b,
            ..
        } = set_up(&path).unwrap();
        assert_ne!(a, b);
        let addr = |slot| Address {
            kind: super::super::StoreKind::File,
            location: path.display().to_string(),
            slot,
            isolation: None,
            deadline_ms: None,
        };
        let mut ca = FileCounter::open(&addr(a)).unwrap();
        let mut cb = FileCounter::open(&addr(b)).unwrap();
        for _ in 0..3 {
            ca.attempt(StrategyKind::Locked, &mut || {}).unwrap();
        }
        cb.attempt(StrategyKind::Unsafe, &mut || {}).unwrap();
        assert_eq!((ca.read().unwrap(), cb.read().unwrap()), (3, 1));
        release_a().unwrap();
        let Claimed {
            slot: c,
            release: release_c,
            ..
        } = set_up(&path).unwrap();
        assert_eq!(c, a, "a freed record is reused");
        release_b().unwrap();
        release_c().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * RECORD);
    }

    #[test]
    fn a_file_of_someone_elses_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "shopping list\n").unwrap();
        let err = set_up(&path).err().unwrap();
        assert!(err.contains("never overwrites"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "shopping list\n");
    }
}
