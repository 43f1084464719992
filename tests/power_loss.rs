//! Power loss on the issuer's host: nothing reported accepted is lost or replayable.
//!
//! The SQLite store runs over a VFS that passes every call to the real one and also keeps
//! what the disk would hold after a power cut: each file's content as of its last sync
//! (writes and truncations since are pending until the next `xSync`). At chosen points
//! of a burst of verifications from four threads (any write or sync: mid-transaction,
//! mid-commit, between batches) it takes a *cut*: the files as they would come back, and
//! the codes reported accepted so far. Each cut is then opened as the disk after the
//! restart, and every one of those codes sent again: it must be refused as a replay.
//! The same burst with `synchronous=NORMAL` (the store's old setting) loses accepted
//! codes, which is what the test would catch. Simplification: a created or deleted
//! file's directory entry is taken as durable at once.
#![cfg(all(feature = "issuer", feature = "file-store", feature = "test-support", unix))]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex, MutexGuard, PoisonError};

use common::bank::{app, Bank};
use digital_otp::enrollment::Device;
use digital_otp::host::FixedClock;
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::storage::{MemoryStore, SoftwareKeys};

const T0: u64 = 1_800_000_000;
const PASSWORD: &str = "482915";
const KEY: [u8; 32] = [7; 32];

/// The VFS that keeps what survives a power cut.
mod vfs {
    use std::collections::{BTreeSet, HashMap};
    use std::ffi::{c_char, c_int, c_void, CStr};
    use std::mem::size_of;
    use std::ptr;
    use std::sync::atomic::{AtomicPtr, Ordering};
    use std::sync::{Mutex, MutexGuard, Once, PoisonError};

    use rusqlite::ffi;

    pub const NAME: &str = "powerloss";

    /// What a power cut at one point leaves: each file's synced content, and what had
    /// been reported by then.
    pub struct Cut<R> {
        pub files: HashMap<String, Vec<u8>>,
        pub reported: R,
    }

    enum Pending {
        Write(u64, Vec<u8>),
        Truncate(u64),
    }

    #[derive(Default)]
    struct Disk {
        /// Each file's content as of its last sync.
        synced: HashMap<String, Vec<u8>>,
        /// Writes and truncations since.
        pending: HashMap<String, Vec<Pending>>,
        /// Writes and syncs counted, and the counts at which to cut.
        events: u64,
        cut_at: BTreeSet<u64>,
        /// What the test has reported, copied at each cut.
        report: Option<Box<dyn Fn() -> Vec<String> + Send>>,
        cuts: Vec<Cut<Vec<String>>>,
    }

    static DISK: Mutex<Option<Disk>> = Mutex::new(None);
    static REAL: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(ptr::null_mut());

    fn disk() -> MutexGuard<'static, Option<Disk>> {
        DISK.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a run: nothing recorded, cuts at the `cut_at`-th write or sync, `report`
    /// read at each.
    pub fn start(cut_at: BTreeSet<u64>, report: Box<dyn Fn() -> Vec<String> + Send>) {
        register();
        *disk() = Some(Disk { cut_at, report: Some(report), ..Disk::default() });
    }

    /// The run's cuts, and how many writes and syncs it made.
    pub fn finish() -> (Vec<Cut<Vec<String>>>, u64) {
        let d = disk().take().expect("a run");
        (d.cuts, d.events)
    }

    /// Counts a write or sync, cutting first if this is a chosen one. The report is read
    /// before the files: whatever it holds was answered before this point.
    fn event(d: &mut Disk) {
        d.events += 1;
        if d.cut_at.contains(&d.events) {
            let reported = d.report.as_ref().map(|r| r()).unwrap_or_default();
            d.cuts.push(Cut { files: d.synced.clone(), reported });
        }
    }

    fn apply(file: &mut Vec<u8>, op: Pending) {
        match op {
            Pending::Write(at, bytes) => {
                let (at, end) = (at as usize, at as usize + bytes.len());
                if file.len() < end {
                    file.resize(end, 0);
                }
                file[at..end].copy_from_slice(&bytes);
            }
            Pending::Truncate(size) => file.resize(size as usize, 0),
        }
    }

    /// The file: ours in front, the real VFS's behind it in the same allocation.
    #[repr(C)]
    struct Shim {
        base: ffi::sqlite3_file,
        real: *mut ffi::sqlite3_file,
        /// The path, when SQLite gave one (temporary files have none).
        path: *mut String,
    }

    unsafe fn real(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
        (*(f as *mut Shim)).real
    }

    unsafe fn methods(f: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
        &*(*real(f)).pMethods
    }

    unsafe fn path(f: *mut ffi::sqlite3_file) -> Option<&'static str> {
        let p = (*(f as *mut Shim)).path;
        (!p.is_null()).then(|| (*p).as_str())
    }

    unsafe fn record(f: *mut ffi::sqlite3_file, op: Pending) {
        let mut d = disk();
        let Some(d) = d.as_mut() else { return };
        if let Some(path) = path(f) {
            event(d);
            d.pending.entry(path.to_string()).or_default().push(op);
        }
    }

    unsafe extern "C" fn close(f: *mut ffi::sqlite3_file) -> c_int {
        let rc = methods(f).xClose.unwrap()(real(f));
        let shim = f as *mut Shim;
        if !(*shim).path.is_null() {
            drop(Box::from_raw((*shim).path));
            (*shim).path = ptr::null_mut();
        }
        rc
    }
    unsafe extern "C" fn read(
        f: *mut ffi::sqlite3_file,
        buf: *mut c_void,
        n: c_int,
        at: i64,
    ) -> c_int {
        methods(f).xRead.unwrap()(real(f), buf, n, at)
    }
    unsafe extern "C" fn write(
        f: *mut ffi::sqlite3_file,
        buf: *const c_void,
        n: c_int,
        at: i64,
    ) -> c_int {
        let bytes = std::slice::from_raw_parts(buf as *const u8, n as usize).to_vec();
        record(f, Pending::Write(at as u64, bytes));
        methods(f).xWrite.unwrap()(real(f), buf, n, at)
    }
    unsafe extern "C" fn truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
        record(f, Pending::Truncate(size as u64));
        methods(f).xTruncate.unwrap()(real(f), size)
    }
    unsafe extern "C" fn sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
        let rc = methods(f).xSync.unwrap()(real(f), flags);
        if rc == ffi::SQLITE_OK {
            let mut d = disk();
            if let (Some(d), Some(path)) = (d.as_mut(), path(f)) {
                // A cut here comes before the sync has reached the disk.
                event(d);
                let ops = d.pending.remove(path).unwrap_or_default();
                let file = d.synced.entry(path.to_string()).or_default();
                for op in ops {
                    apply(file, op);
                }
            }
        }
        rc
    }
    unsafe extern "C" fn file_size(f: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
        methods(f).xFileSize.unwrap()(real(f), size)
    }
    unsafe extern "C" fn lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
        methods(f).xLock.unwrap()(real(f), level)
    }
    unsafe extern "C" fn unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
        methods(f).xUnlock.unwrap()(real(f), level)
    }
    unsafe extern "C" fn reserved(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
        methods(f).xCheckReservedLock.unwrap()(real(f), out)
    }
    unsafe extern "C" fn control(f: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
        methods(f).xFileControl.unwrap()(real(f), op, arg)
    }
    unsafe extern "C" fn sector(f: *mut ffi::sqlite3_file) -> c_int {
        methods(f).xSectorSize.unwrap()(real(f))
    }
    unsafe extern "C" fn characteristics(f: *mut ffi::sqlite3_file) -> c_int {
        methods(f).xDeviceCharacteristics.unwrap()(real(f))
    }
    unsafe extern "C" fn shm_map(
        f: *mut ffi::sqlite3_file,
        page: c_int,
        size: c_int,
        extend: c_int,
        out: *mut *mut c_void,
    ) -> c_int {
        methods(f).xShmMap.unwrap()(real(f), page, size, extend, out)
    }
    unsafe extern "C" fn shm_lock(
        f: *mut ffi::sqlite3_file,
        at: c_int,
        n: c_int,
        flags: c_int,
    ) -> c_int {
        methods(f).xShmLock.unwrap()(real(f), at, n, flags)
    }
    unsafe extern "C" fn shm_barrier(f: *mut ffi::sqlite3_file) {
        methods(f).xShmBarrier.unwrap()(real(f))
    }
    unsafe extern "C" fn shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
        methods(f).xShmUnmap.unwrap()(real(f), delete)
    }
    unsafe extern "C" fn fetch(
        f: *mut ffi::sqlite3_file,
        at: i64,
        n: c_int,
        out: *mut *mut c_void,
    ) -> c_int {
        methods(f).xFetch.unwrap()(real(f), at, n, out)
    }
    unsafe extern "C" fn unfetch(f: *mut ffi::sqlite3_file, at: i64, p: *mut c_void) -> c_int {
        methods(f).xUnfetch.unwrap()(real(f), at, p)
    }

    static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
        iVersion: 3,
        xClose: Some(close),
        xRead: Some(read),
        xWrite: Some(write),
        xTruncate: Some(truncate),
        xSync: Some(sync),
        xFileSize: Some(file_size),
        xLock: Some(lock),
        xUnlock: Some(unlock),
        xCheckReservedLock: Some(reserved),
        xFileControl: Some(control),
        xSectorSize: Some(sector),
        xDeviceCharacteristics: Some(characteristics),
        xShmMap: Some(shm_map),
        xShmLock: Some(shm_lock),
        xShmBarrier: Some(shm_barrier),
        xShmUnmap: Some(shm_unmap),
        xFetch: Some(fetch),
        xUnfetch: Some(unfetch),
    };

    unsafe extern "C" fn open(
        vfs: *mut ffi::sqlite3_vfs,
        name: *const c_char,
        f: *mut ffi::sqlite3_file,
        flags: c_int,
        out: *mut c_int,
    ) -> c_int {
        let _ = vfs;
        let real_vfs = REAL.load(Ordering::SeqCst);
        let shim = f as *mut Shim;
        ptr::write(
            shim,
            Shim {
                base: ffi::sqlite3_file { pMethods: ptr::null() },
                real: (f as *mut u8).add(size_of::<Shim>()) as *mut ffi::sqlite3_file,
                path: ptr::null_mut(),
            },
        );
        let rc = (*real_vfs).xOpen.unwrap()(real_vfs, name, (*shim).real, flags, out);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if (*(*shim).real).pMethods.is_null() {
            return ffi::SQLITE_CANTOPEN;
        }
        if !name.is_null() {
            let path = CStr::from_ptr(name).to_string_lossy().into_owned();
            if let Some(d) = disk().as_mut() {
                // A file that was there before the run: its content is on the disk.
                let on_disk = std::fs::read(&path).unwrap_or_default();
                d.synced.entry(path.clone()).or_insert(on_disk);
            }
            (*shim).path = Box::into_raw(Box::new(path));
        }
        (*shim).base.pMethods = &METHODS;
        rc
    }

    unsafe extern "C" fn delete(
        vfs: *mut ffi::sqlite3_vfs,
        name: *const c_char,
        sync_dir: c_int,
    ) -> c_int {
        let _ = vfs;
        let real_vfs = REAL.load(Ordering::SeqCst);
        let rc = (*real_vfs).xDelete.unwrap()(real_vfs, name, sync_dir);
        if rc == ffi::SQLITE_OK {
            let path = CStr::from_ptr(name).to_string_lossy().into_owned();
            if let Some(d) = disk().as_mut() {
                d.synced.remove(&path);
                d.pending.remove(&path);
            }
        }
        rc
    }

    fn register() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| unsafe {
            let real = ffi::sqlite3_vfs_find(ptr::null());
            assert!(!real.is_null(), "SQLite has a default VFS");
            REAL.store(real, Ordering::SeqCst);
            let mut ours = *real;
            ours.zName = c"powerloss".as_ptr();
            ours.szOsFile = (*real).szOsFile + size_of::<Shim>() as c_int;
            ours.pNext = ptr::null_mut();
            ours.xOpen = Some(open);
            ours.xDelete = Some(delete);
            // The real VFS's other methods are called with ours, whose pAppData is its own.
            assert_eq!(ffi::sqlite3_vfs_register(Box::into_raw(Box::new(ours)), 0), ffi::SQLITE_OK);
        });
    }
}

/// A customer's app on its phone, registered at the bank.
struct Phone {
    app: digital_otp::client::Client,
    device: Device,
    serial: String,
}

/// The codes reported accepted: "serial code time".
static REPORTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// One run at a time: the VFS's record and the report are this process's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn reported() -> MutexGuard<'static, Vec<String>> {
    REPORTED.lock().unwrap_or_else(PoisonError::into_inner)
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dotp-power-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small deterministic generator (the cut points; printed on failure by their list).
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *seed >> 33
}

/// Four phones registered (then the store closed and opened again, so that their
/// registration is on the disk in either mode), a burst of verifications from four
/// threads with cuts at `cuts` points, then every cut restarted: the codes it had
/// reported accepted that are accepted again.
fn burst(name: &str, durable: bool, rounds: u64) -> (Vec<String>, usize) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = fresh_dir(name);
    let db = dir.join("issuer.db");
    let clock = Arc::new(FixedClock::new(T0));
    let key = || MasterKey::from_bytes(&KEY).unwrap();
    let open = |store: SqliteStore| Bank::on(Arc::new(store), key(), "bank-a", clock.clone());
    let mut phones = Vec::new();
    {
        let first = open(SqliteStore::open(&db).unwrap());
        first.issuer.add_institution("test", "bank-a", "Bank A").unwrap();
        for i in 0..4 {
            let app = app(
                Arc::new(MemoryStore::new()),
                Arc::new(SoftwareKeys::new(Arc::new(MemoryStore::new()))),
                clock.clone(),
            );
            let device = Device::new(&format!("010-1234-56{i:02}"), &format!("d{i}")).unwrap();
            let serial = first
                .register_phone(&app, &format!("c{i}"), &device, PASSWORD)
                .unwrap()
                .serial_number;
            phones.push(Phone { app, device, serial });
        }
    }
    reported().clear();
    // Cut points spread over the burst (≈ 1,400 writes and syncs): twelve, one at a random
    // write or sync in each 110.
    let mut seed = 0x5eed ^ rounds;
    let cut_at = (0..12).map(|k| 1 + k * 110 + lcg(&mut seed) % 110).collect();
    vfs::start(cut_at, Box::new(|| reported().clone()));
    let bank = Arc::new(open(SqliteStore::open_with_vfs(&db, vfs::NAME, durable).unwrap()));
    let start = Arc::new(Barrier::new(phones.len()));
    let threads: Vec<_> = phones
        .into_iter()
        .enumerate()
        .map(|(t, phone)| {
            let (bank, clock, start) = (bank.clone(), clock.clone(), start.clone());
            std::thread::spawn(move || {
                for round in 1..=rounds {
                    // All four in the same time step, so their verifications overlap.
                    start.wait();
                    if t == 0 {
                        clock.set(T0 + 30 * round);
                    }
                    start.wait();
                    let now = T0 + 30 * round;
                    let code = bank.login_code(&phone.app, &phone.device, PASSWORD).unwrap().code;
                    if bank.verify_login(&phone.serial, &code).unwrap() {
                        reported().push(format!("{} {code} {now}", phone.serial));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(bank);
    let (cuts, events) = vfs::finish();
    assert!(cuts.len() >= 5, "the burst made {events} writes and syncs, {} cuts", cuts.len());

    // Each cut, restarted.
    let mut replayed = Vec::new();
    let mut checked = 0;
    for (i, cut) in cuts.iter().enumerate() {
        let back = dir.join(format!("cut-{i}"));
        std::fs::create_dir_all(&back).unwrap();
        for (path, bytes) in &cut.files {
            let file = Path::new(path).file_name().unwrap();
            std::fs::write(back.join(file), bytes).unwrap();
        }
        let store = SqliteStore::open(back.join("issuer.db")).unwrap();
        store.integrity_check().unwrap();
        let restarted = open(store);
        for line in &cut.reported {
            let mut parts = line.split(' ');
            let (serial, code) = (parts.next().unwrap(), parts.next().unwrap());
            clock.set(parts.next().unwrap().parse().unwrap());
            checked += 1;
            if restarted.verify_login(serial, code) == Ok(true) {
                replayed.push(format!(
                    "cut {i} (of {:?}): {line}",
                    cut.files.keys().collect::<Vec<_>>()
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    (replayed, checked)
}

#[test]
fn after_a_power_cut_no_code_reported_accepted_is_accepted_again() {
    let (replayed, checked) = burst("full", true, 12);
    assert!(checked >= 20, "only {checked} reported codes were checked across the cuts");
    assert!(replayed.is_empty(), "accepted again after the restart: {replayed:#?}");
}

#[test]
fn without_synchronous_full_a_power_cut_loses_accepted_codes() {
    // The store's old setting: the WAL synced only at checkpoints. The same check finds
    // codes that were reported accepted and are accepted again after the restart.
    let (replayed, checked) = burst("normal", false, 12);
    assert!(checked >= 20, "only {checked} reported codes were checked across the cuts");
    assert!(
        !replayed.is_empty(),
        "NORMAL lost nothing in {checked} checks: the test cannot see a loss"
    );
}
