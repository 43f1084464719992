//! API keys of the issuer service (`dotp issuer serve`): each belongs to one institution
//! and has a role that decides what it may call — `channel` (the bank's app backend:
//! enrollment, unlock and verification), `staff` (that institution's service desk) or
//! `centre` (a central OTP centre's staff: every institution).
//!
//! A key is `dotp_<id>_<secret>`: 8 random bytes of id and 32 of secret, in hex, shown
//! once. The database keeps, per key, its id, institution, role, creation time and the
//! SHA-256 of the secret, all in one setting authenticated with the master key (`api_keys`,
//! re-signed by a key rotation). So a thief of the database learns no key (a 256-bit secret
//! is not found from its hash), and an insider who can write the database cannot add a key,
//! raise a key's role or move it to another institution without the master key: the list
//! would fail its MAC and every call would be refused. Secrets are compared in constant time.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::integrity::{put_signed_meta, signed_meta};
use super::master_key::KeyRing;
use super::store::{IssuerTx, StoreFault};
use super::{check_id, Audit, Fault, Issuer};
use crate::crypto;

/// The setting that holds the keys.
pub(super) const API_KEYS: &str = "api_keys";

/// What a key may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiRole {
    /// Enrollment, unlock and verification for its institution.
    Channel,
    /// Its institution's service desk.
    Staff,
    /// Everything, for every institution.
    Centre,
}

impl ApiRole {
    /// The role's name (`channel`, `staff`, `centre`).
    pub fn name(self) -> &'static str {
        match self {
            ApiRole::Channel => "channel",
            ApiRole::Staff => "staff",
            ApiRole::Centre => "centre",
        }
    }
}

/// A key as the issuer knows it (without its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// The key's id (16 hex digits): recorded in the audit log as `api:<id>`.
    pub key_id: String,
    /// The institution it acts for.
    pub institution_id: String,
    /// What it may call.
    pub role: ApiRole,
    /// When it was made (Unix time).
    pub created_at: u64,
    /// SHA-256 of the secret, hex.
    digest: String,
}

impl ApiKey {
    /// The actor recorded for the key's calls.
    pub fn actor(&self) -> String {
        format!("api:{}", self.key_id)
    }
}

fn load(tx: &mut dyn IssuerTx, ring: &KeyRing) -> Result<Vec<ApiKey>, StoreFault> {
    match signed_meta(tx, ring, API_KEYS)? {
        None => Ok(Vec::new()),
        Some(text) => {
            serde_json::from_str(&text).map_err(|_| StoreFault::Corrupt("api keys".into()))
        }
    }
}

pub(super) fn save(
    tx: &mut dyn IssuerTx,
    ring: &KeyRing,
    keys: &[ApiKey],
) -> Result<(), StoreFault> {
    let text = serde_json::to_string(keys).map_err(|_| StoreFault::Corrupt("api keys".into()))?;
    put_signed_meta(tx, ring, API_KEYS, &text)
}

/// Splits `dotp_<16 hex>_<64 hex>` into the id and the secret's bytes.
fn parse(presented: &str) -> Option<(&str, [u8; 32])> {
    let rest = presented.strip_prefix("dotp_")?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    crypto::unhex_array::<32>(secret).ok().map(|s| (id, s))
}

impl Issuer {
    /// Makes an API key for `institution_id` with `role` and returns it with its secret
    /// text, which is shown once and never stored. Persisted and audited.
    pub fn add_api_key(
        &self,
        actor: &str,
        institution_id: &str,
        role: ApiRole,
    ) -> Result<(ApiKey, Zeroizing<String>), Fault> {
        check_id(institution_id, "the institution id")?;
        super::check_actor(actor)?;
        let now = self.now()?;
        let mut id = [0u8; 8];
        let mut secret = Zeroizing::new([0u8; 32]);
        crypto::random(&mut id)?;
        crypto::random(secret.as_mut())?;
        let key = ApiKey {
            key_id: crypto::hex(&id),
            institution_id: institution_id.into(),
            role,
            created_at: now,
            digest: crypto::hex(&crypto::sha256(secret.as_ref())),
        };
        let ring = self.ring();
        let audit = Audit { at: now, institution_id, actor, action: "add_api_key" };
        self.tx(|tx| {
            tx.institution(institution_id)?.ok_or(Fault::UnknownInstitution)?;
            let mut keys = load(tx, &ring)?;
            keys.push(key.clone());
            save(tx, &ring, &keys)?;
            tx.append_audit(&audit.entry(&key.actor(), "ok", role.name()))?;
            Ok(())
        })?;
        let text = Zeroizing::new(format!("dotp_{}_{}", key.key_id, crypto::hex(secret.as_ref())));
        Ok((key, text))
    }

    /// Revokes the key `key_id`: its calls are refused from the next one on. Persisted
    /// and audited.
    pub fn revoke_api_key(&self, actor: &str, key_id: &str) -> Result<(), Fault> {
        super::check_actor(actor)?;
        let now = self.now()?;
        let ring = self.ring();
        self.tx(|tx| {
            let mut keys = load(tx, &ring)?;
            let at = keys.iter().position(|k| k.key_id == key_id);
            let key = keys
                .remove(at.ok_or_else(|| Fault::InvalidInput("no API key with this id".into()))?);
            save(tx, &ring, &keys)?;
            let audit = Audit {
                at: now,
                institution_id: &key.institution_id,
                actor,
                action: "revoke_api_key",
            };
            tx.append_audit(&audit.entry(&key.actor(), "ok", key.role.name()))?;
            Ok(())
        })
    }

    /// The keys (without their secrets), oldest first.
    pub fn api_keys(&self) -> Result<Vec<ApiKey>, Fault> {
        let ring = self.ring();
        self.read_tx(|tx| Ok(load(tx, &ring)?))
    }

    /// The key `presented` is, if it is one: `None` for a malformed, unknown or revoked
    /// key or a wrong secret (the caller answers all of them alike). Reads the database.
    pub fn authenticate_api_key(&self, presented: &str) -> Result<Option<ApiKey>, Fault> {
        let Some((id, secret)) = parse(presented.trim()) else { return Ok(None) };
        let digest = crypto::sha256(&secret);
        let keys = self.api_keys()?;
        let found = keys.into_iter().find(|k| k.key_id.eq_ignore_ascii_case(id));
        Ok(found.filter(|k| {
            crate::enrollment::same(k.digest.as_bytes(), crypto::hex(&digest).as_bytes())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn only_the_exact_shape_parses() {
        let good = format!("dotp_{}_{}", "0123456789abcdef", "ab".repeat(32));
        assert_eq!(
            parse(&good).map(|(id, s)| (id.to_owned(), s[0])),
            Some(("0123456789abcdef".into(), 0xab))
        );
        for bad in [
            "",
            "dotp_",
            "dotp_0123456789abcdef",
            &format!("dotp_0123456789abcde_{}", "ab".repeat(32)),
            &format!("dotp_0123456789abcdeg_{}", "ab".repeat(32)),
            &format!("dotp_0123456789abcdef_{}", "ab".repeat(31)),
            &format!("dotq_0123456789abcdef_{}", "ab".repeat(32)),
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
