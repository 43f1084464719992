//! Keeping the issuer's database trustworthy: rotating the master key (every sealed
//! value re-sealed and every row re-authenticated under the new key, a page per
//! transaction, while the issuer keeps serving) and verifying the audit log's chain.

use std::sync::Arc;

use super::codes::{code_aad, code_lookups};
use super::integrity::{self, ChainFault, AUDIT_ANCHOR, AUDIT_HEAD};
use super::master_key::{KeyRing, MasterKey};
use super::registration::unlock_aad;
use super::store::{IssuerTx, StoreFault, Table};
use super::{known_keys, put_known_keys, Fault, Issuer};
use crate::enrollment;

/// Rows re-sealed per transaction during a rotation.
const PAGE: u32 = 200;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RotationReport {
    /// The new key's id.
    pub key_id: String,
    /// Rows re-sealed or re-authenticated.
    pub rows: u64,
    /// Outstanding SMS challenges dropped (their keyed hashes cannot be recomputed: send
    /// the code again).
    pub sms_dropped: u64,
}

/// What verifying the audit log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    /// Chained entries checked.
    pub entries: u64,
    /// Everything found wrong (empty: the log is whole).
    pub faults: Vec<ChainFault>,
}

fn split_pair(key: &str) -> Result<(&str, &str), Fault> {
    key.split_once('\u{0}').ok_or(Fault::Store(StoreFault::Corrupt("key".into())))
}

impl Issuer {
    /// Rotates the master key to `new`: from now on everything is sealed and
    /// authenticated under it, every row made under the old keys is re-sealed in pages
    /// (other threads keep serving: a row is readable under either key meanwhile), and the
    /// old keys are then forgotten by this issuer and by the database. Keep the old key
    /// until this returns. Audited.
    pub fn rotate_master_key(&self, actor: &str, new: MasterKey) -> Result<RotationReport, Fault> {
        let key_id = new.id().to_string();
        {
            let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
            let held = keys.keys().to_vec();
            *keys = Arc::new(KeyRing::of(Arc::new(new), held));
        }
        let ring = self.ring();
        let current = (ring.current().id().to_string(), ring.current().check_value().to_string());
        self.tx_raw(|tx| {
            let mut known = known_keys(tx)?;
            if !known.iter().any(|(id, _)| *id == current.0) {
                known.push(current.clone());
            }
            put_known_keys(tx, &known)
        })?;
        let mut report = RotationReport { key_id: key_id.clone(), ..Default::default() };
        for table in [
            Table::Institutions,
            Table::Customers,
            Table::Devices,
            Table::Links,
            Table::Codes,
            Table::Sms,
        ] {
            let mut after = String::new();
            loop {
                let keys = self.tx(|tx| Ok(tx.keys_of(table, &after, PAGE)?))?;
                let Some(last) = keys.last().cloned() else { break };
                let (rows, dropped) = self.tx(|tx| self.reseal(tx, table, &keys))?;
                report.rows += rows;
                report.sms_dropped += dropped;
                after = last;
            }
        }
        // The person key, the audit chain's head and anchor, the API keys, then the keys the
        // database knows.
        self.tx(|tx| {
            let ring = self.ring();
            let person_key = super::customers::PERSON_KEY;
            if let Some(sealed) = tx.meta(person_key)? {
                let key = ring.open(person_key, &sealed)?;
                tx.put_meta(person_key, &ring.seal(person_key, &key)?)?;
            }
            for key in [AUDIT_HEAD, AUDIT_ANCHOR] {
                if let Some(p) = integrity::chain_point(tx, &ring, key)? {
                    integrity::put_chain_point(tx, &ring, key, &p)?;
                }
            }
            if let Some(list) = integrity::signed_meta(tx, &ring, super::api_keys::API_KEYS)? {
                integrity::put_signed_meta(tx, &ring, super::api_keys::API_KEYS, &list)?;
            }
            Ok(())
        })?;
        {
            let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
            let current = keys.current_shared();
            *keys = Arc::new(KeyRing::of(current, Vec::new()));
        }
        self.tx_raw(|tx| put_known_keys(tx, std::slice::from_ref(&current)))?;
        let now = self.now()?;
        let audit =
            super::Audit { at: now, institution_id: "", actor, action: "rotate_master_key" };
        self.tx(|tx| {
            Ok(tx.append_audit(&audit.entry(
                &format!("master-key:{key_id}"),
                "ok",
                &format!(
                    "{} rows re-sealed, {} SMS challenges dropped",
                    report.rows, report.sms_dropped
                ),
            ))?)
        })?;
        Ok(report)
    }

    /// Re-seals and re-authenticates the rows `keys` of `table` under the current key.
    fn reseal(
        &self,
        tx: &mut dyn IssuerTx,
        table: Table,
        keys: &[String],
    ) -> Result<(u64, u64), Fault> {
        let ring = self.ring();
        let (mut rows, mut dropped) = (0, 0);
        for key in keys {
            match table {
                Table::Institutions => {
                    if let Some(r) = tx.institution(key)? {
                        tx.put_institution(&r)?;
                    }
                }
                Table::Customers => {
                    let (i, c) = split_pair(key)?;
                    if let Some(r) = tx.customer(i, c)? {
                        tx.put_customer(&r)?;
                    }
                }
                Table::Devices => {
                    if let Some(mut d) = tx.device(key)? {
                        let secret = ring.open(&d.device_id, &d.sealed_secret)?;
                        d.sealed_secret = ring.seal(&d.device_id, &secret)?;
                        if let Some(u) = d.unlock.as_mut() {
                            let aad = unlock_aad(&d.device_id);
                            let keys = ring.open(&aad, &u.sealed_keys)?;
                            u.sealed_keys = ring.seal(&aad, &keys)?;
                        }
                        tx.put_device(&d)?;
                    }
                }
                Table::Links => {
                    let id: u64 =
                        key.parse().map_err(|_| StoreFault::Corrupt("link key".into()))?;
                    if let Some(l) = tx.link(id)? {
                        tx.put_link(&l)?;
                    }
                }
                Table::Codes => {
                    if let Some(mut c) = tx.code(key)? {
                        let aad = code_aad(&c.code_ref);
                        let digits = ring.open(&aad, &c.sealed_code)?;
                        c.sealed_code = ring.seal(&aad, &digits)?;
                        let attempt_aad = format!("attempt:{}", c.code_ref);
                        c.attempts = c
                            .attempts
                            .iter()
                            .map(|a| {
                                ring.open(&attempt_aad, a).and_then(|p| ring.seal(&attempt_aad, &p))
                            })
                            .collect::<Result<_, _>>()?;
                        if let Some(customer) = tx.customer(&c.institution_id, &c.customer_id)? {
                            let lookup =
                                enrollment::lookup(&c.institution_id, &customer.phone_e164);
                            c.lookup = code_lookups(&ring, &lookup).swap_remove(0);
                        }
                        tx.put_code(&c)?;
                    }
                }
                Table::Sms => {
                    let (i, c) = split_pair(key)?;
                    tx.delete_sms(i, c)?;
                    dropped += 1;
                    continue;
                }
            }
            rows += 1;
        }
        Ok((rows, dropped))
    }

    /// Verifies the audit log's hash chain from its anchor to its authenticated head:
    /// reports every rewritten, inserted or deleted entry.
    pub fn verify_audit(&self) -> Result<AuditCheck, Fault> {
        let ring = self.ring();
        let (anchor, head) = match self.tx(|tx| {
            Ok((
                integrity::chain_point(tx, &ring, AUDIT_ANCHOR)?,
                integrity::chain_point(tx, &ring, AUDIT_HEAD)?,
            ))
        }) {
            Ok(points) => points,
            Err(Fault::Store(StoreFault::Corrupt(_))) => {
                return Ok(AuditCheck { entries: 0, faults: vec![ChainFault::Settings] })
            }
            Err(e) => return Err(e),
        };
        let mut entries = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.audit_after(after, 1000)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            entries.extend(page);
        }
        if anchor.is_none() && head.is_none() && entries.iter().any(|e| !e.hash.is_empty()) {
            return Ok(AuditCheck { entries: 0, faults: vec![ChainFault::Settings] });
        }
        let (entries, faults) = integrity::verify_chain(anchor, head, entries.into_iter());
        Ok(AuditCheck { entries, faults })
    }
}
