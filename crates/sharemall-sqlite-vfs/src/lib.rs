//! A SQLite VFS that writes each WAL commit in a few large writes instead of two per page.
//!
//! At commit SQLite appends every page the transaction dirtied to the write-ahead log as a
//! frame, and writes each frame with two `pwrite`s: its 24-byte header, then the page. A writer
//! batch of thirty group joins dirties about 230 pages, so its commit made some 460 system
//! calls before its one `fsync` (strace on the writer thread), and the kernel's per-call work
//! was a fifth of the writer's CPU time (perf).
//!
//! This VFS is the platform's default VFS with one difference: writes to a WAL file that carry
//! on where the previous write ended are gathered in memory, and reach the file in writes of up
//! to 64 KiB just before anything needs them there. Every other file, and every other call, goes
//! straight to the default VFS.
//!
//! # Why a commit stays durable and readers stay right
//!
//! The buffered bytes are written to the file before the WAL file is synced, read, sized,
//! truncated, controlled or closed, so SQLite's own connection never sees a difference. Other
//! connections (readers, the checkpointer) find frames only through the wal-index, and with
//! `synchronous=FULL` a commit syncs the WAL, and so flushes this buffer, *before* it publishes
//! its frames in the wal-index. If the process dies with frames still in memory, they were never
//! synced and their commit was never reported; SQLite's recovery ignores a log tail that does
//! not end in a valid commit frame, exactly as if the process had died before writing them.
//!
//! That argument needs `synchronous=FULL` (or `EXTRA`): with `NORMAL`, a commit publishes frames
//! without a sync, and another connection could look for one that is still here.
//! [`open_connection`] sets it, and it is the only way this crate opens a database.
//!
//! # Layout of a file
//!
//! SQLite allocates `szOsFile` bytes for each open file and passes them to `xOpen`. For a WAL
//! file, [`BufferedWal`] sits at the start and the default VFS's own file object after it
//! ([`INNER_OFFSET`]); every other file is the default VFS's object alone, opened in place.

use rusqlite::ffi;
use rusqlite::{Connection, OpenFlags};
use std::ffi::{CStr, c_int, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The VFS's registered name.
pub const VFS_NAME: &CStr = c"sharemall-wal";

/// Buffered bytes at which the buffer is written out even before a sync: a transaction that
/// spills pages before its commit writes in steps of this size, and memory stays bounded.
const FLUSH_AT: usize = 4 << 20;

/// Largest write handed to the default VFS: the unix VFS masks a write's length to 17 bits
/// (`nBuf &= 0x1ffff` in `seekAndWriteFd`), so a longer one would be cut and reported as a full
/// disk.
const MAX_WRITE: usize = 64 << 10;

/// Capacity a buffer keeps between commits; a larger one (after a large transaction) is freed.
const KEEP_CAPACITY: usize = 1 << 20;

/// Writes SQLite asked for and writes the file received, over every WAL file of the process:
/// their ratio is what the buffer saved. Read by its tests and by `sharemall bench`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WalWrites {
    /// `xWrite` calls SQLite made on WAL files.
    pub requested: u64,
    /// Writes handed on to the default VFS.
    pub issued: u64,
}

static REQUESTED: AtomicU64 = AtomicU64::new(0);
static ISSUED: AtomicU64 = AtomicU64::new(0);

/// The write counters so far (see [`WalWrites`]).
pub fn wal_writes() -> WalWrites {
    WalWrites { requested: REQUESTED.load(Ordering::Relaxed), issued: ISSUED.load(Ordering::Relaxed) }
}

/// Opens `path` on this VFS with `synchronous=FULL` (see the crate's documentation for why it
/// must be FULL). Other settings are the caller's.
pub fn open_connection(path: &std::path::Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    register()?;
    let conn = Connection::open_with_flags_and_vfs(path, flags, VFS_NAME)?;
    conn.execute_batch("PRAGMA synchronous=FULL")?;
    Ok(conn)
}

/// Registers the VFS once per process (not as the default).
fn register() -> rusqlite::Result<()> {
    static REGISTERED: OnceLock<c_int> = OnceLock::new();
    let rc = *REGISTERED.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find(NULL)` returns the default VFS, which lives as long as the
        // process; `make_vfs` copies it and leaks the copy, so the pointer SQLite keeps stays
        // valid forever, and registering is thread-safe in SQLite's serialized build.
        unsafe {
            let base = ffi::sqlite3_vfs_find(std::ptr::null());
            if base.is_null() {
                return ffi::SQLITE_ERROR;
            }
            ffi::sqlite3_vfs_register(make_vfs(base), 0)
        }
    });
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some("cannot register the WAL-buffering VFS".into())))
    }
}

/// The default VFS with our name, our `xOpen` and room for [`BufferedWal`] before its file.
///
/// Every other method, and `pAppData`, is the default VFS's own, so when SQLite calls one with
/// this VFS, the unix VFS finds in it the same fields (`pAppData`, `mxPathname`) it would find
/// in its own.
///
/// # Safety
/// `base` must point to a registered VFS that outlives the process.
unsafe fn make_vfs(base: *mut ffi::sqlite3_vfs) -> *mut ffi::sqlite3_vfs {
    BASE.get_or_init(|| BaseVfs(base));
    // SAFETY: the caller guarantees `base` is a valid VFS.
    let mut vfs = unsafe { *base };
    vfs.zName = VFS_NAME.as_ptr();
    vfs.pNext = std::ptr::null_mut();
    vfs.szOsFile = (INNER_OFFSET as c_int).saturating_add(vfs.szOsFile);
    vfs.xOpen = Some(open);
    Box::into_raw(Box::new(vfs))
}

/// The default VFS, as [`make_vfs`] found it.
struct BaseVfs(*mut ffi::sqlite3_vfs);
// SAFETY: the pointer is to SQLite's static default VFS, which SQLite itself shares between
// threads; we only read it.
unsafe impl Send for BaseVfs {}
// SAFETY: as above.
unsafe impl Sync for BaseVfs {}
static BASE: OnceLock<BaseVfs> = OnceLock::new();

/// A WAL file: our header, then (at [`INNER_OFFSET`]) the default VFS's file.
#[repr(C)]
struct BufferedWal {
    /// Must come first: SQLite reads `pMethods` through a `*mut sqlite3_file` to this struct.
    file: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    /// File offset of `pending[0]`; meaningful while `pending` is not empty.
    start: i64,
    pending: Vec<u8>,
}

/// Where the default VFS's file starts inside a WAL file's allocation (8-byte aligned).
const INNER_OFFSET: usize = std::mem::size_of::<BufferedWal>().next_multiple_of(8);

unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Some(base_open) = BASE.get().and_then(|base| {
        // SAFETY: `BASE` holds the default VFS, valid for the process.
        unsafe { (*base.0).xOpen }
    }) else {
        return ffi::SQLITE_ERROR;
    };
    if flags & ffi::SQLITE_OPEN_WAL == 0 {
        // SAFETY: `file` has room for the default VFS's file (our `szOsFile` is larger), and
        // the default VFS reads only what `make_vfs` copied from itself out of `vfs`.
        return unsafe { base_open(vfs, name, file, flags, out_flags) };
    }
    // SAFETY: SQLite allocated `szOsFile` bytes at `file`, so `INNER_OFFSET` bytes in there is
    // room for the default VFS's file.
    let inner = unsafe { file.cast::<u8>().add(INNER_OFFSET) }.cast::<ffi::sqlite3_file>();
    // SAFETY: as above; on failure the default VFS leaves `inner.pMethods` null.
    let rc = unsafe { base_open(vfs, name, inner, flags, out_flags) };
    if rc != ffi::SQLITE_OK {
        // SAFETY: `file` is ours to initialise; a null `pMethods` tells SQLite not to close it.
        unsafe { (*file).pMethods = std::ptr::null() };
        return rc;
    }
    let wal = BufferedWal { file: ffi::sqlite3_file { pMethods: &WAL_METHODS }, inner, start: 0, pending: Vec::new() };
    // SAFETY: `file` points to at least `INNER_OFFSET` writable, suitably aligned bytes that
    // hold no value yet (SQLite allocates with 8-byte alignment); `close` drops it.
    unsafe { file.cast::<BufferedWal>().write(wal) };
    ffi::SQLITE_OK
}

/// The methods of a WAL file. `iVersion` 3: every method is present and forwards to the inner
/// file (flushing first where the file's bytes matter).
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// The WAL file behind a `sqlite3_file` whose methods are [`WAL_METHODS`].
///
/// # Safety
/// `file` must have been initialised by [`open`] and not yet closed, and SQLite must not use
/// it from another thread meanwhile (it never does: a file belongs to one connection).
unsafe fn wal<'a>(file: *mut ffi::sqlite3_file) -> &'a mut BufferedWal {
    // SAFETY: by the caller's guarantee, `file` points to a live `BufferedWal`.
    unsafe { &mut *file.cast::<BufferedWal>() }
}

impl BufferedWal {
    /// The inner file's methods.
    fn methods(&self) -> &ffi::sqlite3_io_methods {
        // SAFETY: `inner` was opened successfully, so its `pMethods` points to the default
        // VFS's static method table.
        unsafe { &*(*self.inner).pMethods }
    }

    /// Writes the buffered bytes to the file, in calls of at most [`MAX_WRITE`] bytes.
    fn flush(&mut self) -> c_int {
        if self.pending.is_empty() {
            return ffi::SQLITE_OK;
        }
        let rc = self.write_pending();
        // On failure the bytes are dropped as well: SQLite treats a failed write as the end of
        // the transaction, rolls back, and writes every frame again from its own pages.
        self.pending.clear();
        if self.pending.capacity() > KEEP_CAPACITY {
            self.pending.shrink_to(KEEP_CAPACITY);
        }
        rc
    }

    /// Writes `pending` where it belongs, chunk by chunk; stops at the first error.
    fn write_pending(&self) -> c_int {
        let Some(write) = self.methods().xWrite else { return ffi::SQLITE_IOERR_WRITE };
        let mut offset = self.start;
        for chunk in self.pending.chunks(MAX_WRITE) {
            ISSUED.fetch_add(1, Ordering::Relaxed);
            // SAFETY: `inner` is open; the pointer and length describe initialised bytes of
            // `pending`, and a chunk's length fits a `c_int`.
            let rc = unsafe { write(self.inner, chunk.as_ptr().cast(), chunk.len() as c_int, offset) };
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            offset = offset.saturating_add(chunk.len() as i64);
        }
        ffi::SQLITE_OK
    }

    /// The file offset just past the buffered bytes.
    fn pending_end(&self) -> i64 {
        self.start.saturating_add(i64::try_from(self.pending.len()).unwrap_or(i64::MAX))
    }

    /// Whether `[offset, offset + len)` touches the buffered range.
    fn overlaps(&self, offset: i64, len: usize) -> bool {
        let end = offset.saturating_add(i64::try_from(len).unwrap_or(i64::MAX));
        !self.pending.is_empty() && offset < self.pending_end() && self.start < end
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes only files `open` initialised; after this call it frees the memory
    // without using it again, so reading the value out (and dropping it) here is the last use.
    let mut wal = unsafe { file.cast::<BufferedWal>().read() };
    let flushed = wal.flush();
    let closed = match wal.methods().xClose {
        // SAFETY: `inner` is open and is closed exactly once, here.
        Some(close) => unsafe { close(wal.inner) },
        None => ffi::SQLITE_OK,
    };
    if flushed != ffi::SQLITE_OK { flushed } else { closed }
}

unsafe extern "C" fn write(file: *mut ffi::sqlite3_file, data: *const c_void, amount: c_int, offset: i64) -> c_int {
    // SAFETY: SQLite calls this only on a file `open` initialised.
    let wal = unsafe { wal(file) };
    let Ok(len) = usize::try_from(amount) else { return ffi::SQLITE_IOERR_WRITE };
    REQUESTED.fetch_add(1, Ordering::Relaxed);
    if !wal.pending.is_empty() && wal.pending_end() != offset {
        let rc = wal.flush();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    if wal.pending.is_empty() {
        wal.start = offset;
    }
    // SAFETY: SQLite passes `amount` readable bytes at `data`.
    wal.pending.extend_from_slice(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) });
    if wal.pending.len() >= FLUSH_AT { wal.flush() } else { ffi::SQLITE_OK }
}

unsafe extern "C" fn read(file: *mut ffi::sqlite3_file, data: *mut c_void, amount: c_int, offset: i64) -> c_int {
    // SAFETY: SQLite calls this only on a file `open` initialised.
    let wal = unsafe { wal(file) };
    if wal.overlaps(offset, usize::try_from(amount).unwrap_or(0)) {
        let rc = wal.flush();
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    let Some(read) = wal.methods().xRead else { return ffi::SQLITE_IOERR_READ };
    // SAFETY: forwarded unchanged to the open inner file.
    unsafe { read(wal.inner, data, amount, offset) }
}

unsafe extern "C" fn fetch(file: *mut ffi::sqlite3_file, offset: i64, amount: c_int, out: *mut *mut c_void) -> c_int {
    // SAFETY: SQLite calls this only on a file `open` initialised.
    let wal = unsafe { wal(file) };
    let rc = wal.flush();
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    match wal.methods().xFetch {
        // SAFETY: forwarded unchanged to the open inner file.
        Some(fetch) => unsafe { fetch(wal.inner, offset, amount, out) },
        None => {
            // SAFETY: SQLite passes a valid out-pointer; null means "read it instead".
            unsafe { *out = std::ptr::null_mut() };
            ffi::SQLITE_OK
        }
    }
}

/// A method forwarded to the inner file (`$missing` when the inner file lacks it); with
/// `flush_first`, after writing the buffered bytes out, for methods whose result depends on the
/// file's contents or size.
macro_rules! forward {
    ($name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty, $field:ident, $missing:expr $(, $flush_first:ident)?) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> $ret {
            // SAFETY: SQLite calls this only on a file `open` initialised.
            let wal = unsafe { wal(file) };
            $(
                let $flush_first = wal.flush();
                if $flush_first != ffi::SQLITE_OK {
                    return $flush_first;
                }
            )?
            match wal.methods().$field {
                // SAFETY: forwarded unchanged to the open inner file.
                Some(method) => unsafe { method(wal.inner $(, $arg)*) },
                None => $missing,
            }
        }
    };
}

forward!(truncate(size: i64) -> c_int, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, flush_first);
forward!(sync(flags: c_int) -> c_int, xSync, ffi::SQLITE_IOERR_FSYNC, flush_first);
forward!(file_size(size: *mut i64) -> c_int, xFileSize, ffi::SQLITE_IOERR_FSTAT, flush_first);
forward!(file_control(op: c_int, arg: *mut c_void) -> c_int, xFileControl, ffi::SQLITE_NOTFOUND, flush_first);
forward!(lock(level: c_int) -> c_int, xLock, ffi::SQLITE_OK);
forward!(unlock(level: c_int) -> c_int, xUnlock, ffi::SQLITE_OK);
forward!(check_reserved_lock(out: *mut c_int) -> c_int, xCheckReservedLock, ffi::SQLITE_OK);
forward!(sector_size() -> c_int, xSectorSize, 4096);
forward!(device_characteristics() -> c_int, xDeviceCharacteristics, 0);
forward!(shm_map(region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int, xShmMap, ffi::SQLITE_IOERR_SHMMAP);
forward!(shm_lock(offset: c_int, n: c_int, flags: c_int) -> c_int, xShmLock, ffi::SQLITE_IOERR_SHMLOCK);
forward!(shm_unmap(delete: c_int) -> c_int, xShmUnmap, ffi::SQLITE_OK);
forward!(unfetch(offset: i64, page: *mut c_void) -> c_int, xUnfetch, ffi::SQLITE_OK);

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite calls this only on a file `open` initialised.
    let wal = unsafe { wal(file) };
    if let Some(barrier) = wal.methods().xShmBarrier {
        // SAFETY: forwarded unchanged to the open inner file.
        unsafe { barrier(wal.inner) }
    }
}
