//! The history file on disk (feature `serde`): [`SharedHistory::load_file`] and
//! [`SharedHistory::save_file`], the one implementation of keeping a history between runs
//! (the `eyeballs connect --history FILE` command uses it).

use std::fmt;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::SharedHistory;
use super::json::HistoryFileError;

/// What a history path is when it is not a regular file.
///
/// ```
/// use eyeballs_driver::FileKind;
/// assert_eq!(FileKind::Fifo.to_string(), "a FIFO");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A directory.
    Directory,
    /// A FIFO (named pipe).
    Fifo,
    /// A character device (`/dev/null`, a terminal, ...).
    CharDevice,
    /// A block device (a disk).
    BlockDevice,
    /// A Unix domain socket.
    Socket,
    /// Something else that is not a regular file.
    Other,
}

impl FileKind {
    fn of(file_type: fs::FileType) -> FileKind {
        if file_type.is_dir() {
            return FileKind::Directory;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if file_type.is_fifo() {
                return FileKind::Fifo;
            }
            if file_type.is_char_device() {
                return FileKind::CharDevice;
            }
            if file_type.is_block_device() {
                return FileKind::BlockDevice;
            }
            if file_type.is_socket() {
                return FileKind::Socket;
            }
        }
        FileKind::Other
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Other => "not a file",
        })
    }
}

/// A history file that cannot be loaded or saved, and why. The path is the one given (a
/// symbolic link's own path, not its target's).
///
/// ```
/// use eyeballs_driver::{FileKind, HistoryPathError, SharedHistory};
///
/// let e = SharedHistory::default().load_file(&std::env::temp_dir()).unwrap_err();
/// assert!(matches!(e, HistoryPathError::NotAFile { kind: FileKind::Directory, .. }));
/// assert!(e.to_string().ends_with("is a directory, not a regular file"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HistoryPathError {
    /// The path is not a regular file (nor a link to one). It was not opened for writing,
    /// and not opened at all if it is a FIFO.
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: FileKind,
    },
    /// The file exists but cannot be read.
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// The file is not a history file this build reads. Nothing was loaded from it or
    /// written over it.
    Corrupt {
        /// The path.
        path: PathBuf,
        /// What is wrong with it.
        error: HistoryFileError,
    },
    /// The history could not be written (the lock file, the temporary file, or the rename
    /// over the file; the error says which). The file is as it was.
    Write {
        /// The path.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
}

impl HistoryPathError {
    /// The path the error is about.
    ///
    /// ```
    /// use std::path::Path;
    /// use eyeballs_driver::SharedHistory;
    ///
    /// let e = SharedHistory::default().save_file(Path::new("/no/such/dir/h.json")).unwrap_err();
    /// assert_eq!(e.path(), Path::new("/no/such/dir/h.json"));
    /// ```
    pub fn path(&self) -> &Path {
        match self {
            HistoryPathError::NotAFile { path, .. }
            | HistoryPathError::Read { path, .. }
            | HistoryPathError::Corrupt { path, .. }
            | HistoryPathError::Write { path, .. } => path,
        }
    }
}

impl fmt::Display for HistoryPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryPathError::NotAFile { path, kind } => {
                write!(f, "{} is {kind}, not a regular file", path.display())
            }
            HistoryPathError::Read { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            HistoryPathError::Corrupt { path, error } => write!(f, "{}: {error}", path.display()),
            HistoryPathError::Write { path, error } => {
                write!(f, "cannot write {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for HistoryPathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HistoryPathError::NotAFile { .. } => None,
            HistoryPathError::Read { error, .. } | HistoryPathError::Write { error, .. } => {
                Some(error)
            }
            HistoryPathError::Corrupt { error, .. } => Some(error),
        }
    }
}

/// The contents of the regular file at `path` (links followed) and its permissions; `None`
/// when nothing is there. Anything else is refused before it is opened, and checked again
/// on the open file (it may have been swapped meanwhile); the open does not block on a
/// FIFO swapped in.
fn read_regular(
    path: &Path,
    shown: &Path,
) -> Result<Option<(String, Permissions)>, HistoryPathError> {
    let read_error = |error| HistoryPathError::Read {
        path: shown.to_path_buf(),
        error,
    };
    let not_a_file = |kind| HistoryPathError::NotAFile {
        path: shown.to_path_buf(),
        kind,
    };
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_error(e)),
        Ok(m) if !m.is_file() => return Err(not_a_file(FileKind::of(m.file_type()))),
        Ok(_) => {}
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = match options.open(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        other => other.map_err(read_error)?,
    };
    let metadata = file.metadata().map_err(read_error)?;
    if !metadata.is_file() {
        return Err(not_a_file(FileKind::of(metadata.file_type())));
    }
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(read_error)?;
    Ok(Some((text, metadata.permissions())))
}

/// `path` with every symbolic link of its last component followed (a relative link from
/// the link's own directory): the file a write must replace for the link to stay a link.
/// A link to nothing resolves to where it points.
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    // Linux's own limit (MAXSYMLINKS).
    const MAX_LINKS: usize = 40;
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links to follow"
    )))
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// The directory a file is in (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// An `io::Error` that says what was being done.
fn context(doing: &str, path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{doing} {}: {e}", path.display()))
}

/// The exclusive lock on a history file: held on its lock file (`FILE.lock`) until
/// dropped. On Unix the holder removes the lock file before releasing it, so that no lock
/// file is left next to the history; a writer that was waiting on the removed file sees
/// that it is no longer the one at the path and takes the lock again on the current one
/// (so the lock that counts is always the one on the file at the path, and one writer at
/// a time holds it).
struct Lock {
    path: PathBuf,
    file: Option<File>,
}

impl Lock {
    /// Takes the lock for `target`, waiting for other writers to release it.
    fn take(target: &Path) -> io::Result<Lock> {
        // Each retry follows another writer's release: bounded only to stop a runaway.
        const RETRIES: usize = 10_000;
        let path = sibling(target, ".lock");
        for _ in 0..RETRIES {
            let mut options = OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                // Never through a link planted at the lock's name; never blocking on a FIFO.
                options
                    .mode(0o600)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
            }
            let file = options
                .open(&path)
                .map_err(|e| context("cannot open the lock file", &path, e))?;
            let held = file
                .metadata()
                .map_err(|e| context("cannot inspect the lock file", &path, e))?;
            if !held.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "the lock file {} is {}, not a regular file",
                        path.display(),
                        FileKind::of(held.file_type())
                    ),
                ));
            }
            // fs4's, not std's `File::lock`: that one needs Rust 1.89, above the MSRV.
            fs4::FileExt::lock(&file)
                .map_err(|e| context("cannot lock the lock file", &path, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                match fs::symlink_metadata(&path) {
                    Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {}
                    // Removed (or replaced) by the writer that held it: take the current one.
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(context("cannot inspect the lock file", &path, e)),
                }
            }
            return Ok(Lock {
                path,
                file: Some(file),
            });
        }
        Err(io::Error::other(format!(
            "cannot lock {}: it was replaced {RETRIES} times while waiting",
            path.display()
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held (see `Lock`), then released by closing it.
        #[cfg(unix)]
        let _ = fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

/// A name nobody can guess: SipHash with this process's random keys (`RandomState`, seeded
/// by the OS) over a counter, the time and the process id.
fn unpredictable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// Writes `text` to a new temporary file next to `target` (an unpredictable name, created
/// exclusively, `0600` while it is written), gives it `permissions`, syncs it and renames
/// it over `target`. The temporary file is removed if anything fails.
fn replace(target: &Path, text: &str, permissions: Option<Permissions>) -> io::Result<()> {
    const TRIES: usize = 16;
    let dir = directory_of(target);
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let mut created = None;
    for _ in 0..TRIES {
        let temporary = dir.join(format!(".{name}.{:016x}.tmp", unpredictable()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temporary) {
            Ok(file) => {
                created = Some((temporary, file));
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(context("cannot create a temporary file", &temporary, e)),
        }
    }
    let Some((temporary, mut file)) = created else {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "cannot create a temporary file in {}: {TRIES} unpredictable names were all taken",
                dir.display()
            ),
        ));
    };
    let written = (|| {
        file.write_all(text.as_bytes())?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written.map_err(|e| context("cannot replace", target, e))
}

impl SharedHistory {
    /// Merges the history file at `path` (written by [`save_file`](SharedHistory::save_file)
    /// or [`to_json`](SharedHistory::to_json)) into this history, aged by the time since it
    /// was written (see [`load_json`](SharedHistory::load_json)). A missing or empty file
    /// is an empty history. A symbolic link is followed.
    ///
    /// Refused, with nothing loaded: a path that is not a regular file
    /// ([`HistoryPathError::NotAFile`]; a FIFO is not even opened), a file that cannot be
    /// read, a file that is not a history file ([`HistoryPathError::Corrupt`]).
    ///
    /// ```
    /// use eyeballs_driver::{HistoryConfig, NetworkId, SharedHistory};
    ///
    /// let path = std::env::temp_dir().join(format!("eyeballs-doc-load-{}.json", std::process::id()));
    /// let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
    /// history.load_file(&path).unwrap(); // missing: nothing to load
    /// assert!(history.is_empty());
    /// ```
    pub fn load_file(&self, path: &Path) -> Result<(), HistoryPathError> {
        let Some((text, _)) = read_regular(path, path)? else {
            return Ok(());
        };
        if text.trim().is_empty() {
            return Ok(());
        }
        self.load_json(&text)
            .map_err(|error| HistoryPathError::Corrupt {
                path: path.to_path_buf(),
                error,
            })
    }

    /// Saves this history to the file at `path`, merged with what the file holds now:
    /// under an exclusive lock on `path`'s lock file (`FILE.lock`, next to the file a link
    /// points to), the file is re-read and merged into this history
    /// ([`load_file`](SharedHistory::load_file), so this history learns what other writers
    /// saved since it was loaded), then the merged history is written to a new temporary
    /// file and renamed over the file.
    ///
    /// What it guarantees:
    ///
    /// - **Nothing is lost to a concurrent writer.** The save takes an exclusive advisory lock
    ///   on a sibling lock file (`FILE.lock`, removed again by the writer holding it, on
    ///   Unix, so that none is left behind), re-reads the file under it, merges what other
    ///   writers saved meanwhile (per destination, the fresher knowledge wins, as
    ///   [`SharedHistory::import`] does), and writes the merged history. N processes saving at
    ///   once each add their own destinations.
    /// - **Readers never see half a file.** The history is written to a new temporary file in
    ///   the target's own directory, synced, and renamed over the target. The temporary name is
    ///   unpredictable and the file is created with `O_EXCL` (`create_new`), so a symbolic link
    ///   planted at some name in the directory is never followed.
    /// - **What is at the path is kept.** A symbolic link is followed to the file it names
    ///   (relative links from the link's own directory) and stays a link; that file is
    ///   replaced. The file's permission bits are kept; a new file is `0600` (the list of
    ///   destinations is private). Anything that is not a regular file (a directory, a FIFO, a
    ///   device, a socket) is refused with [`HistoryPathError::NotAFile`] before anything
    ///   is written, and without blocking on a FIFO (opening one for reading waits for a
    ///   writer: it is checked before it is opened, and opened non-blocking).
    ///
    /// The lock is advisory (`flock` on Unix, `LockFileEx` on Windows, through `fs4`): it
    /// orders the writers that take it, which every writer using this API does.
    ///
    /// Refused, with the file as it was: anything [`load_file`](SharedHistory::load_file)
    /// refuses (a file that turned bad since it was loaded is not overwritten), a lock or
    /// temporary file that cannot be created ([`HistoryPathError::Write`], e.g. a missing
    /// or read-only directory).
    ///
    /// ```
    /// use eyeballs_driver::{HistoryConfig, NetworkId, SharedHistory};
    ///
    /// let dir = std::env::temp_dir().join(format!("eyeballs-doc-save-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("history.json");
    /// let history = SharedHistory::new(HistoryConfig::default(), NetworkId(1));
    /// history.save_file(&path).unwrap();
    /// # #[cfg(unix)] {
    /// use std::os::unix::fs::PermissionsExt;
    /// let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    /// assert_eq!(mode & 0o777, 0o600); // private
    /// # }
    /// SharedHistory::default().load_file(&path).unwrap();
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn save_file(&self, path: &Path) -> Result<(), HistoryPathError> {
        let write_error = |error| HistoryPathError::Write {
            path: path.to_path_buf(),
            error,
        };
        let target = resolve_links(path)
            .map_err(|e| write_error(context("cannot follow the link", path, e)))?;
        // Refuse what is not a regular file before creating anything next to it.
        if let Ok(m) = fs::metadata(&target) {
            if !m.is_file() {
                return Err(HistoryPathError::NotAFile {
                    path: path.to_path_buf(),
                    kind: FileKind::of(m.file_type()),
                });
            }
        }
        let _lock = Lock::take(&target).map_err(write_error)?;
        // Under the lock: what other writers saved since this history was loaded.
        let permissions = match read_regular(&target, path)? {
            Some((text, permissions)) => {
                if !text.trim().is_empty() {
                    self.load_json(&text)
                        .map_err(|error| HistoryPathError::Corrupt {
                            path: path.to_path_buf(),
                            error,
                        })?;
                }
                Some(permissions)
            }
            None => new_file_permissions(),
        };
        let mut json = self.to_json();
        json.push('\n');
        replace(&target, &json, permissions).map_err(write_error)
    }
}

/// A new history file's permissions: `0600` on Unix (the list of destinations is
/// private); the system's default elsewhere.
fn new_file_permissions() -> Option<Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use eyeballs::history::{HistoryConfig, HistoryRecord, NetworkId};

    const NET: NetworkId = NetworkId(1);

    /// A scratch directory, removed when dropped.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!(
                "eyeballs-driver-file-{}-{name}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }

        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A history that knows one destination, `ip`.
    fn knowing(ip: std::net::IpAddr) -> SharedHistory {
        let h = SharedHistory::new(HistoryConfig::default(), NET);
        h.import(vec![HistoryRecord {
            network: NET,
            addr: ip,
            rtt: None,
            success_age: None,
            failures: 1,
            broken_age: None,
            age: Duration::from_millis(1),
        }]);
        h
    }

    fn addrs_in(path: &Path) -> Vec<std::net::IpAddr> {
        let h = SharedHistory::new(HistoryConfig::default(), NET);
        h.load_file(path).unwrap();
        let mut addrs: Vec<_> = h.export().iter().map(|r| r.addr).collect();
        addrs.sort();
        addrs
    }

    /// Eight savers at once (threads: each opens the lock file on its own, so the lock
    /// orders them exactly as it orders processes), each round with new destinations:
    /// every destination is in the file at the end.
    #[test]
    fn concurrent_savers_lose_nothing() {
        const SAVERS: u8 = 8;
        const ROUNDS: u8 = 10;
        let dir = Dir::new("concurrent");
        let path = dir.0.join("h.json");
        let threads: Vec<_> = (0..SAVERS)
            .map(|saver| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for round in 0..ROUNDS {
                        let ip = std::net::Ipv4Addr::new(192, 0, 2 + round, saver);
                        // Loaded before the others saved, as a run of the command does.
                        let h = SharedHistory::new(HistoryConfig::default(), NET);
                        h.load_file(&path).unwrap();
                        h.import(knowing(ip.into()).export());
                        h.save_file(&path).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            addrs_in(&path).len(),
            usize::from(SAVERS) * usize::from(ROUNDS),
            "updates were lost"
        );
        assert_eq!(dir.names(), ["h.json"], "no lock or temporary file is left");
    }

    /// A link planted at the lock file's name is not followed (nothing is created or
    /// written through it), and the save fails naming the lock file.
    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_lock_name_is_not_followed() {
        let dir = Dir::new("lock-link");
        let path = dir.0.join("h.json");
        let victim = dir.0.join("victim");
        std::os::unix::fs::symlink(&victim, dir.0.join("h.json.lock")).unwrap();
        let e = knowing("::1".parse().unwrap())
            .save_file(&path)
            .unwrap_err();
        assert!(matches!(e, HistoryPathError::Write { .. }), "{e:?}");
        assert!(e.to_string().contains("h.json.lock"), "{e}");
        assert!(!victim.exists(), "the link was followed");
        assert!(!path.exists());
    }

    /// A link to nothing: the file is created where it points, and the link is kept.
    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_created_through_and_kept() {
        let dir = Dir::new("dangling");
        let link = dir.0.join("h.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        let h = SharedHistory::new(HistoryConfig::default(), NET);
        h.load_file(&link).unwrap();
        assert!(h.is_empty());
        knowing("::1".parse().unwrap()).save_file(&link).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            addrs_in(&dir.0.join("real.json")),
            ["::1".parse::<std::net::IpAddr>().unwrap()]
        );
    }

    /// A file that turned bad between the load and the save is not written over.
    #[test]
    fn a_file_that_turned_bad_is_not_overwritten() {
        let dir = Dir::new("turned-bad");
        let path = dir.0.join("h.json");
        let h = knowing("::1".parse().unwrap());
        h.save_file(&path).unwrap();
        fs::write(&path, "{ hand edited").unwrap();
        let e = h.save_file(&path).unwrap_err();
        assert!(matches!(e, HistoryPathError::Corrupt { .. }), "{e:?}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "{ hand edited");
        assert_eq!(dir.names(), ["h.json"]);
    }

    /// A directory where the file should be is refused on saving too, before anything is
    /// created next to it.
    #[test]
    fn a_directory_is_refused_on_saving() {
        let dir = Dir::new("dir");
        let path = dir.0.join("h.json");
        fs::create_dir(&path).unwrap();
        let e = SharedHistory::default().save_file(&path).unwrap_err();
        assert!(
            matches!(
                e,
                HistoryPathError::NotAFile {
                    kind: FileKind::Directory,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.path(), path);
        assert_eq!(dir.names(), ["h.json"]);
    }

    #[test]
    fn temporary_names_differ() {
        let names: std::collections::BTreeSet<u64> = (0..1000).map(|_| unpredictable()).collect();
        assert_eq!(names.len(), 1000);
    }
}
