//! The issuer's persistence, behind a trait so the issuer's logic never depends on the
//! database (and the store knows nothing of the logic: it depends only on the records of
//! [`super::model`]): SQLite (`sqlite::SqliteStore`) is the embedded default, and
//! [`MemoryStore`] serves tests.
//!
//! Every state change runs inside [`IssuerStore::transaction`]: the closure reads and
//! writes through an [`IssuerTx`], and its writes commit together or not at all.
//! Implementations must serialize transactions that touch the same rows, which is what
//! makes check-and-update atomic (two verifications of one code: exactly one succeeds).
//! A PostgreSQL store would run the closure in a `SERIALIZABLE` transaction (or take row
//! locks with `SELECT … FOR UPDATE` in the `IssuerTx` getters) and re-run the closure on
//! a serialization failure; the closure is `FnMut` for that reason and must have no
//! effect outside the transaction.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::model::{
    AuditEntry, AuditQuery, CodeRecord, CodeState, Customer, Institution, Link, OtpDevice,
    SmsChallenge,
};

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFault {
    /// The database failed (I/O, corruption, lock timeout).
    #[error("the issuer database failed: {0}")]
    Database(String),
    /// A stored record could not be decoded.
    #[error("a stored record is unreadable: {0}")]
    Corrupt(String),
    /// The database was written by a newer version of this software.
    #[error("the database schema version {0} is newer than this software supports")]
    SchemaTooNew(i64),
}

/// Why a transaction was rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollback {
    /// The store failed; nothing was written.
    Store(StoreFault),
    /// The caller's closure gave up; the caller keeps its own reason.
    Abort,
}

impl From<StoreFault> for Rollback {
    fn from(e: StoreFault) -> Self {
        Self::Store(e)
    }
}

/// Reads and writes inside one transaction.
pub trait IssuerTx {
    /// An institution.
    fn institution(&mut self, institution_id: &str) -> Result<Option<Institution>, StoreFault>;
    /// Creates or replaces an institution.
    fn put_institution(&mut self, institution: &Institution) -> Result<(), StoreFault>;
    /// A customer.
    fn customer(
        &mut self,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<Option<Customer>, StoreFault>;
    /// Creates or replaces a customer.
    fn put_customer(&mut self, customer: &Customer) -> Result<(), StoreFault>;
    /// A device by id (`VENDOR:SERIAL`).
    fn device(&mut self, device_id: &str) -> Result<Option<OtpDevice>, StoreFault>;
    /// Creates or replaces a device.
    fn put_device(&mut self, device: &OtpDevice) -> Result<(), StoreFault>;
    /// Every link (current and past) of a customer at an institution, oldest first.
    fn links_of_customer(
        &mut self,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<Vec<Link>, StoreFault>;
    /// Every link (current and past) of a device, oldest first.
    fn links_of_device(&mut self, device_id: &str) -> Result<Vec<Link>, StoreFault>;
    /// A link by id.
    fn link(&mut self, link_id: u64) -> Result<Option<Link>, StoreFault>;
    /// Creates (when `link_id` is 0) or replaces a link; returns its id.
    fn put_link(&mut self, link: &Link) -> Result<u64, StoreFault>;
    /// A registration code by its `code_ref`.
    fn code(&mut self, code_ref: &str) -> Result<Option<CodeRecord>, StoreFault>;
    /// A customer's registration codes.
    fn codes_of_customer(
        &mut self,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<Vec<CodeRecord>, StoreFault>;
    /// Creates or replaces a registration code.
    fn put_code(&mut self, code: &CodeRecord) -> Result<(), StoreFault>;
    /// Outstanding (issued) codes whose `lookup` is `lookup`.
    fn open_codes_by_lookup(&mut self, lookup: &str) -> Result<Vec<CodeRecord>, StoreFault>;
    /// A customer's SMS challenge.
    fn sms(
        &mut self,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<Option<SmsChallenge>, StoreFault>;
    /// Creates or replaces an SMS challenge.
    fn put_sms(&mut self, sms: &SmsChallenge) -> Result<(), StoreFault>;
    /// Removes an SMS challenge.
    fn delete_sms(&mut self, institution_id: &str, customer_id: &str) -> Result<(), StoreFault>;
    /// The next serial number of an institution's mobile OTPs (1, 2, 3, …).
    fn next_serial(&mut self, institution_id: &str) -> Result<u64, StoreFault>;
    /// Appends to the audit log, with the entry's own id (the last one's plus one).
    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreFault>;
    /// The newest audit entry.
    fn last_audit(&mut self) -> Result<Option<AuditEntry>, StoreFault>;
    /// Deletes the audit entries older than `before` (retention); returns how many and
    /// the newest of them.
    fn purge_audit(&mut self, before: u64) -> Result<(u64, Option<AuditEntry>), StoreFault>;
    /// The keys of a table after `after`, in order, at most `limit` (for re-sealing every
    /// row). Customers and SMS challenges: `institution\u{0}customer`; links: the id in
    /// 20 zero-padded digits.
    fn keys_of(&mut self, table: Table, after: &str, limit: u32)
        -> Result<Vec<String>, StoreFault>;
    /// A setting of the store itself (e.g. the master key's check value).
    fn meta(&mut self, key: &str) -> Result<Option<String>, StoreFault>;
    /// Sets a setting.
    fn put_meta(&mut self, key: &str, value: &str) -> Result<(), StoreFault>;
}

/// A table of records, for [`IssuerTx::keys_of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Institutions.
    Institutions,
    /// Customers.
    Customers,
    /// Devices.
    Devices,
    /// Links.
    Links,
    /// Registration codes.
    Codes,
    /// SMS challenges.
    Sms,
}

/// The key of a customer or SMS challenge in [`IssuerTx::keys_of`].
pub fn pair_key(a: &str, b: &str) -> String {
    format!("{a}\u{0}{b}")
}

/// The key of a link in [`IssuerTx::keys_of`].
pub fn link_key(id: u64) -> String {
    format!("{id:020}")
}

/// The issuer's storage.
pub trait IssuerStore: Send + Sync {
    /// Runs `f` in one transaction; commits if it returns `Ok`, rolls back otherwise.
    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<(), Rollback>,
    ) -> Result<(), Rollback>;
    /// Runs `f`, which must only read, in one transaction (a consistent snapshot). A store
    /// may run it beside the writers: PostgreSQL runs a `READ ONLY` transaction outside the
    /// writers' queue, which refuses a write. By default it is a [`Self::transaction`]
    /// (where a write would commit: the issuer calls it only with closures that read).
    fn read(
        &self,
        f: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<(), Rollback>,
    ) -> Result<(), Rollback> {
        self.transaction(f)
    }
    /// Audit entries matching `query`, newest first.
    fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreFault>;
    /// Audit entries with an id above `after`, oldest first, at most `limit` (to verify
    /// the chain).
    fn audit_after(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreFault>;
}

#[derive(Clone, Default)]
struct State {
    institutions: HashMap<String, Institution>,
    customers: HashMap<(String, String), Customer>,
    devices: HashMap<String, OtpDevice>,
    links: BTreeMap<u64, Link>,
    codes: HashMap<String, CodeRecord>,
    sms: HashMap<(String, String), SmsChallenge>,
    serials: HashMap<String, u64>,
    audit: Vec<AuditEntry>,
    meta: HashMap<String, String>,
}

/// An in-memory store for tests: each transaction works on a copy that replaces the
/// state only if the closure succeeds.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

fn key(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

impl IssuerTx for State {
    fn institution(&mut self, id: &str) -> Result<Option<Institution>, StoreFault> {
        Ok(self.institutions.get(id).cloned())
    }
    fn put_institution(&mut self, i: &Institution) -> Result<(), StoreFault> {
        self.institutions.insert(i.institution_id.clone(), i.clone());
        Ok(())
    }
    fn customer(&mut self, i: &str, c: &str) -> Result<Option<Customer>, StoreFault> {
        Ok(self.customers.get(&key(i, c)).cloned())
    }
    fn put_customer(&mut self, c: &Customer) -> Result<(), StoreFault> {
        self.customers.insert(key(&c.institution_id, &c.customer_id), c.clone());
        Ok(())
    }
    fn device(&mut self, id: &str) -> Result<Option<OtpDevice>, StoreFault> {
        Ok(self.devices.get(id).cloned())
    }
    fn put_device(&mut self, d: &OtpDevice) -> Result<(), StoreFault> {
        self.devices.insert(d.device_id.clone(), d.clone());
        Ok(())
    }
    fn links_of_customer(&mut self, i: &str, c: &str) -> Result<Vec<Link>, StoreFault> {
        Ok(self
            .links
            .values()
            .filter(|l| l.institution_id == i && l.customer_id == c)
            .cloned()
            .collect())
    }
    fn links_of_device(&mut self, d: &str) -> Result<Vec<Link>, StoreFault> {
        Ok(self.links.values().filter(|l| l.device_id == d).cloned().collect())
    }
    fn link(&mut self, id: u64) -> Result<Option<Link>, StoreFault> {
        Ok(self.links.get(&id).cloned())
    }
    fn put_link(&mut self, l: &Link) -> Result<u64, StoreFault> {
        let id = if l.link_id == 0 {
            self.links.keys().next_back().map_or(1, |k| k + 1)
        } else {
            l.link_id
        };
        self.links.insert(id, Link { link_id: id, ..l.clone() });
        Ok(id)
    }
    fn code(&mut self, id: &str) -> Result<Option<CodeRecord>, StoreFault> {
        Ok(self.codes.get(id).cloned())
    }
    fn codes_of_customer(&mut self, i: &str, c: &str) -> Result<Vec<CodeRecord>, StoreFault> {
        Ok(self
            .codes
            .values()
            .filter(|r| r.institution_id == i && r.customer_id == c)
            .cloned()
            .collect())
    }
    fn put_code(&mut self, r: &CodeRecord) -> Result<(), StoreFault> {
        self.codes.insert(r.code_ref.clone(), r.clone());
        Ok(())
    }
    fn open_codes_by_lookup(&mut self, lookup: &str) -> Result<Vec<CodeRecord>, StoreFault> {
        Ok(self
            .codes
            .values()
            .filter(|r| r.lookup == lookup && r.state == CodeState::Issued)
            .cloned()
            .collect())
    }
    fn sms(&mut self, i: &str, c: &str) -> Result<Option<SmsChallenge>, StoreFault> {
        Ok(self.sms.get(&key(i, c)).cloned())
    }
    fn put_sms(&mut self, s: &SmsChallenge) -> Result<(), StoreFault> {
        self.sms.insert(key(&s.institution_id, &s.customer_id), s.clone());
        Ok(())
    }
    fn delete_sms(&mut self, i: &str, c: &str) -> Result<(), StoreFault> {
        self.sms.remove(&key(i, c));
        Ok(())
    }
    fn next_serial(&mut self, i: &str) -> Result<u64, StoreFault> {
        let n = self.serials.entry(i.to_string()).or_insert(0);
        *n += 1;
        Ok(*n)
    }
    fn append_audit(&mut self, e: &AuditEntry) -> Result<(), StoreFault> {
        if self.audit.last().is_some_and(|l| l.id >= e.id) {
            return Err(StoreFault::Database("audit ids must increase".into()));
        }
        self.audit.push(e.clone());
        Ok(())
    }
    fn last_audit(&mut self) -> Result<Option<AuditEntry>, StoreFault> {
        Ok(self.audit.last().cloned())
    }
    fn purge_audit(&mut self, before: u64) -> Result<(u64, Option<AuditEntry>), StoreFault> {
        let last = self.audit.iter().rfind(|e| e.at < before).cloned();
        let n = self.audit.len();
        self.audit.retain(|e| e.at >= before);
        Ok(((n - self.audit.len()) as u64, last))
    }
    fn keys_of(
        &mut self,
        table: Table,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreFault> {
        let mut keys: Vec<String> = match table {
            Table::Institutions => self.institutions.keys().cloned().collect(),
            Table::Customers => self.customers.keys().map(|(a, b)| pair_key(a, b)).collect(),
            Table::Devices => self.devices.keys().cloned().collect(),
            Table::Links => self.links.keys().map(|k| link_key(*k)).collect(),
            Table::Codes => self.codes.keys().cloned().collect(),
            Table::Sms => self.sms.keys().map(|(a, b)| pair_key(a, b)).collect(),
        };
        keys.retain(|k| k.as_str() > after);
        keys.sort();
        keys.truncate(limit as usize);
        Ok(keys)
    }
    fn meta(&mut self, k: &str) -> Result<Option<String>, StoreFault> {
        Ok(self.meta.get(k).cloned())
    }
    fn put_meta(&mut self, k: &str, v: &str) -> Result<(), StoreFault> {
        self.meta.insert(k.to_string(), v.to_string());
        Ok(())
    }
}

impl IssuerStore for MemoryStore {
    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<(), Rollback>,
    ) -> Result<(), Rollback> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut copy = state.clone();
        f(&mut copy)?;
        *state = copy;
        Ok(())
    }

    fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreFault> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Ok(state
            .audit
            .iter()
            .rev()
            .filter(|e| q.matches(e))
            .take(q.effective_limit())
            .cloned()
            .collect())
    }

    fn audit_after(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreFault> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Ok(state.audit.iter().filter(|e| e.id > after).take(limit as usize).cloned().collect())
    }
}
