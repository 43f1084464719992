//! The issuer does not trust its database blindly (docs/adr/0011). Every record it
//! writes carries a MAC under a key derived from the master key (which the database never
//! holds), over the record's table and content; every read checks it and that the record
//! is the one asked for, so a record edited, forged or moved to another key (a link
//! repointed at another device, an edited error count or last step) is refused as
//! corrupt. The audit log is a hash chain whose head (and, after a purge, whose anchor) is
//! authenticated the same way, so a rewritten, inserted or deleted entry is reported by
//! [`verify_chain`].
//!
//! What this does not stop: an insider with write access can still delete rows (denial
//! of service) or put back an older authentic copy of a row (a rollback); SECURITY.md.

use serde::Serialize;

use super::master_key::KeyRing;
use super::model::{AuditEntry, CodeRecord, Customer, Institution, Link, OtpDevice, SmsChallenge};
use super::store::{IssuerTx, StoreFault, Table};
use crate::crypto::{hex, sha256_parts};

/// A record the issuer authenticates.
pub(super) trait Authenticated: Serialize + Clone {
    /// Its table, part of what the MAC covers.
    const TABLE: &'static str;
    /// Its MAC field.
    fn mac_field(&mut self) -> &mut String;
    /// What the MAC covers: the record with an empty MAC (and, for a link, no id).
    fn covered(&self) -> Self {
        let mut c = self.clone();
        c.mac_field().clear();
        c
    }
}

macro_rules! authenticated {
    ($t:ty, $table:literal) => {
        impl Authenticated for $t {
            const TABLE: &'static str = $table;
            fn mac_field(&mut self) -> &mut String {
                &mut self.mac
            }
        }
    };
}
authenticated!(Institution, "institutions");
authenticated!(Customer, "customers");
authenticated!(OtpDevice, "devices");
authenticated!(CodeRecord, "codes");
authenticated!(SmsChallenge, "sms");

impl Authenticated for Link {
    const TABLE: &'static str = "links";
    fn mac_field(&mut self) -> &mut String {
        &mut self.mac
    }
    fn covered(&self) -> Self {
        Link { link_id: 0, mac: String::new(), ..self.clone() }
    }
}

fn corrupt(table: &str) -> StoreFault {
    StoreFault::Corrupt(format!("a row of {table} failed authentication (altered or moved)"))
}

fn covered_bytes<T: Authenticated>(r: &T) -> Result<Vec<u8>, StoreFault> {
    serde_json::to_vec(&r.covered()).map_err(|e| StoreFault::Corrupt(e.to_string()))
}

/// Sets `r`'s MAC under the ring's current key.
pub(super) fn sign<T: Authenticated>(ring: &KeyRing, r: &mut T) -> Result<(), StoreFault> {
    let bytes = covered_bytes(r)?;
    *r.mac_field() = ring.mac(&[T::TABLE.as_bytes(), &bytes]);
    Ok(())
}

/// Checks `r`'s MAC (under whichever key of the ring made it).
pub(super) fn check<T: Authenticated>(ring: &KeyRing, r: &T) -> Result<(), StoreFault> {
    let bytes = covered_bytes(r)?;
    let mut copy = r.clone();
    let tag = std::mem::take(copy.mac_field());
    ring.verify(&[T::TABLE.as_bytes(), &bytes], &tag).map_err(|_| corrupt(T::TABLE))
}

fn checked<T: Authenticated>(
    ring: &KeyRing,
    r: Option<T>,
    is: impl Fn(&T) -> bool,
) -> Result<Option<T>, StoreFault> {
    match r {
        Some(r) => {
            check(ring, &r)?;
            if !is(&r) {
                return Err(corrupt(T::TABLE));
            }
            Ok(Some(r))
        }
        None => Ok(None),
    }
}

fn all_checked<T: Authenticated>(
    ring: &KeyRing,
    rs: Vec<T>,
    is: impl Fn(&T) -> bool,
) -> Result<Vec<T>, StoreFault> {
    rs.into_iter()
        .map(|r| checked(ring, Some(r), &is).map(|r| r.into_iter().next()))
        .filter_map(Result::transpose)
        .collect()
}

/// The meta key of the audit chain's head and anchor.
pub(super) const AUDIT_HEAD: &str = "audit_head";
/// The meta key of the chain's anchor: the newest entry before the chain (or purged).
pub(super) const AUDIT_ANCHOR: &str = "audit_anchor";

/// A point of the audit chain: an entry's id and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChainPoint {
    pub(super) id: u64,
    pub(super) hash: String,
}

impl ChainPoint {
    fn encode(&self) -> String {
        format!("{}:{}", self.id, self.hash)
    }

    fn decode(text: &str) -> Option<Self> {
        let (id, hash) = text.split_once(':')?;
        Some(Self { id: id.parse().ok()?, hash: hash.to_string() })
    }
}

/// The hash of an audit entry after `prev`.
pub(super) fn entry_hash(prev: &str, e: &AuditEntry) -> String {
    hex(&sha256_parts(&[
        b"digital-otp/v2/audit",
        prev.as_bytes(),
        &e.id.to_be_bytes(),
        &e.at.to_be_bytes(),
        e.institution_id.as_bytes(),
        e.actor.as_bytes(),
        e.action.as_bytes(),
        e.subject.as_bytes(),
        e.outcome.as_bytes(),
        e.detail.as_bytes(),
    ]))
}

/// An authenticated setting: `value` and its MAC.
pub(super) fn put_signed_meta(
    tx: &mut dyn IssuerTx,
    ring: &KeyRing,
    key: &str,
    value: &str,
) -> Result<(), StoreFault> {
    let tag = ring.mac(&[b"meta", key.as_bytes(), value.as_bytes()]);
    tx.put_meta(key, &format!("{value}\n{tag}"))
}

/// An authenticated setting, checked.
pub(super) fn signed_meta(
    tx: &mut dyn IssuerTx,
    ring: &KeyRing,
    key: &str,
) -> Result<Option<String>, StoreFault> {
    let Some(stored) = tx.meta(key)? else { return Ok(None) };
    let (value, tag) = stored.rsplit_once('\n').ok_or_else(|| corrupt("meta"))?;
    ring.verify(&[b"meta", key.as_bytes(), value.as_bytes()], tag).map_err(|_| corrupt("meta"))?;
    Ok(Some(value.to_string()))
}

/// A chain point kept in the settings.
pub(super) fn chain_point(
    tx: &mut dyn IssuerTx,
    ring: &KeyRing,
    key: &str,
) -> Result<Option<ChainPoint>, StoreFault> {
    match signed_meta(tx, ring, key)? {
        None => Ok(None),
        Some(v) => ChainPoint::decode(&v).map(Some).ok_or_else(|| corrupt("meta")),
    }
}

/// Sets a chain point.
pub(super) fn put_chain_point(
    tx: &mut dyn IssuerTx,
    ring: &KeyRing,
    key: &str,
    p: &ChainPoint,
) -> Result<(), StoreFault> {
    put_signed_meta(tx, ring, key, &p.encode())
}

/// A transaction whose records are authenticated: MACs are set on every write and
/// checked on every read, and audit entries are chained.
pub(super) struct Checked<'a> {
    pub(super) tx: &'a mut dyn IssuerTx,
    pub(super) ring: &'a KeyRing,
}

impl Checked<'_> {
    fn put<T: Authenticated>(&self, r: &T) -> Result<T, StoreFault> {
        let mut r = r.clone();
        sign(self.ring, &mut r)?;
        Ok(r)
    }
}

impl IssuerTx for Checked<'_> {
    fn institution(&mut self, id: &str) -> Result<Option<Institution>, StoreFault> {
        let r = self.tx.institution(id)?;
        checked(self.ring, r, |r| r.institution_id == id)
    }
    fn put_institution(&mut self, i: &Institution) -> Result<(), StoreFault> {
        let i = self.put(i)?;
        self.tx.put_institution(&i)
    }
    fn customer(&mut self, i: &str, c: &str) -> Result<Option<Customer>, StoreFault> {
        let r = self.tx.customer(i, c)?;
        checked(self.ring, r, |r| r.institution_id == i && r.customer_id == c)
    }
    fn put_customer(&mut self, c: &Customer) -> Result<(), StoreFault> {
        let c = self.put(c)?;
        self.tx.put_customer(&c)
    }
    fn device(&mut self, id: &str) -> Result<Option<OtpDevice>, StoreFault> {
        let r = self.tx.device(id)?;
        checked(self.ring, r, |r| r.device_id == id)
    }
    fn put_device(&mut self, d: &OtpDevice) -> Result<(), StoreFault> {
        let d = self.put(d)?;
        self.tx.put_device(&d)
    }
    fn links_of_customer(&mut self, i: &str, c: &str) -> Result<Vec<Link>, StoreFault> {
        let rs = self.tx.links_of_customer(i, c)?;
        all_checked(self.ring, rs, |l| l.institution_id == i && l.customer_id == c)
    }
    fn links_of_device(&mut self, d: &str) -> Result<Vec<Link>, StoreFault> {
        let rs = self.tx.links_of_device(d)?;
        all_checked(self.ring, rs, |l| l.device_id == d)
    }
    fn link(&mut self, id: u64) -> Result<Option<Link>, StoreFault> {
        let r = self.tx.link(id)?;
        checked(self.ring, r, |l| l.link_id == id)
    }
    fn put_link(&mut self, l: &Link) -> Result<u64, StoreFault> {
        let l = self.put(l)?;
        self.tx.put_link(&l)
    }
    fn code(&mut self, code_ref: &str) -> Result<Option<CodeRecord>, StoreFault> {
        let r = self.tx.code(code_ref)?;
        checked(self.ring, r, |r| r.code_ref == code_ref)
    }
    fn codes_of_customer(&mut self, i: &str, c: &str) -> Result<Vec<CodeRecord>, StoreFault> {
        let rs = self.tx.codes_of_customer(i, c)?;
        all_checked(self.ring, rs, |r| r.institution_id == i && r.customer_id == c)
    }
    fn put_code(&mut self, code: &CodeRecord) -> Result<(), StoreFault> {
        let code = self.put(code)?;
        self.tx.put_code(&code)
    }
    fn open_codes_by_lookup(&mut self, lookup: &str) -> Result<Vec<CodeRecord>, StoreFault> {
        let rs = self.tx.open_codes_by_lookup(lookup)?;
        all_checked(self.ring, rs, |r| r.lookup == lookup)
    }
    fn sms(&mut self, i: &str, c: &str) -> Result<Option<SmsChallenge>, StoreFault> {
        let r = self.tx.sms(i, c)?;
        checked(self.ring, r, |r| r.institution_id == i && r.customer_id == c)
    }
    fn put_sms(&mut self, sms: &SmsChallenge) -> Result<(), StoreFault> {
        let sms = self.put(sms)?;
        self.tx.put_sms(&sms)
    }
    fn delete_sms(&mut self, i: &str, c: &str) -> Result<(), StoreFault> {
        self.tx.delete_sms(i, c)
    }
    fn next_serial(&mut self, i: &str) -> Result<u64, StoreFault> {
        self.tx.next_serial(i)
    }
    /// Chains the entry after the authenticated head (or, the first time, after the
    /// newest entry) and moves the head.
    fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreFault> {
        let prev = match chain_point(self.tx, self.ring, AUDIT_HEAD)? {
            Some(p) => p,
            // The first chained entry: anchor the chain after the entries already there.
            None => {
                let start = match self.tx.last_audit()? {
                    Some(last) => ChainPoint { id: last.id, hash: last.hash },
                    None => ChainPoint { id: 0, hash: String::new() },
                };
                put_chain_point(self.tx, self.ring, AUDIT_ANCHOR, &start)?;
                start
            }
        };
        let mut e = entry.clone();
        e.id = prev.id + 1;
        e.hash = entry_hash(&prev.hash, &e);
        self.tx.append_audit(&e)?;
        put_chain_point(self.tx, self.ring, AUDIT_HEAD, &ChainPoint { id: e.id, hash: e.hash })
    }
    fn last_audit(&mut self) -> Result<Option<AuditEntry>, StoreFault> {
        self.tx.last_audit()
    }
    /// Purges and moves the anchor to the newest purged entry.
    fn purge_audit(&mut self, before: u64) -> Result<(u64, Option<AuditEntry>), StoreFault> {
        let (n, last) = self.tx.purge_audit(before)?;
        if let Some(e) = &last {
            let anchor = ChainPoint { id: e.id, hash: e.hash.clone() };
            put_chain_point(self.tx, self.ring, AUDIT_ANCHOR, &anchor)?;
        }
        Ok((n, last))
    }
    fn keys_of(
        &mut self,
        table: Table,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreFault> {
        self.tx.keys_of(table, after, limit)
    }
    fn meta(&mut self, key: &str) -> Result<Option<String>, StoreFault> {
        self.tx.meta(key)
    }
    fn put_meta(&mut self, key: &str, value: &str) -> Result<(), StoreFault> {
        self.tx.put_meta(key, value)
    }
}

/// What [`verify_chain`] found wrong with the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// The entry's hash does not follow from the one before: rewritten (or one before it
    /// deleted, inserted or rewritten).
    Broken {
        /// The first entry that does not follow.
        id: u64,
    },
    /// An id is missing: entries were deleted between `after` and `id`.
    Gap {
        /// The entry before the gap.
        after: u64,
        /// The entry after it.
        id: u64,
    },
    /// The chain ends elsewhere than its authenticated head: entries were deleted at the
    /// end, or appended without the master key.
    Head {
        /// The head's id.
        expected: u64,
        /// The last entry's id.
        found: u64,
    },
    /// The head or the anchor is missing or fails authentication.
    Settings,
}

impl std::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Broken { id } => write!(f, "entry {id} does not follow from the one before it (rewritten, inserted or deleted)"),
            Self::Gap { after, id } => write!(f, "entries between {after} and {id} were deleted"),
            Self::Head { expected, found } => write!(f, "the log ends at entry {found}, its authenticated head is entry {expected}"),
            Self::Settings => f.write_str("the chain's head or anchor is missing or fails authentication"),
        }
    }
}

/// Walks the chain from the anchor through `entries` (oldest first, every entry after the
/// anchor) to the head; returns how many entries it checked and every fault it found.
pub(super) fn verify_chain(
    anchor: Option<ChainPoint>,
    head: Option<ChainPoint>,
    entries: impl Iterator<Item = AuditEntry>,
) -> (u64, Vec<ChainFault>) {
    let mut faults = Vec::new();
    let mut prev = anchor.unwrap_or(ChainPoint { id: 0, hash: String::new() });
    let mut count = 0;
    for e in entries {
        if e.id <= prev.id {
            // Before the anchor: entries older than the chain (written before it existed).
            continue;
        }
        count += 1;
        if e.id != prev.id + 1 {
            faults.push(ChainFault::Gap { after: prev.id, id: e.id });
        }
        if entry_hash(&prev.hash, &e) != e.hash {
            faults.push(ChainFault::Broken { id: e.id });
        }
        prev = ChainPoint { id: e.id, hash: e.hash };
    }
    match head {
        Some(h) if h != prev => faults.push(ChainFault::Head { expected: h.id, found: prev.id }),
        None if count > 0 => faults.push(ChainFault::Settings),
        _ => {}
    }
    (count, faults)
}
