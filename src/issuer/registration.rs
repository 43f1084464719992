//! The app's registration (docs/adr/0009): the request is answered by a SPAKE2 exchange
//! keyed by the customer's outstanding code, found by the keyed lookup of the institution
//! and phone; every request is a counted guess of the code; the credential exists only
//! once the app's confirmation (and its device key's signature) checks out. Every
//! failure that concerns the code is answered alike: a response (or a decoy of the same
//! shape) whose key confirmation fails on the phone.

use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{self, hex};
use crate::enrollment::serving::{self, Attempt, Confirmation, Incoming};
use crate::enrollment::{oprf, Grant, OtpParams, RejectReason, Request};
use crate::host::EvidenceKind;

use super::attestation::{self, SecurityLevel};
use super::codes::{code_aad, code_lookups};
use super::model::{
    CodeRecord, CodeState, DeviceKind, DeviceState, Institution, Link, LinkState, Moving,
    OtpDevice, Unlock,
};
use super::{device_id, stored_hex, Audit, Fault, Issuer, MOBILE_VENDOR};

/// The audit action of registrations.
const ACTION: &str = "register_mobile_otp";

/// An answered attempt, kept sealed in its code's record until its confirmation.
#[derive(Clone, Serialize, Deserialize)]
struct PendingAttempt {
    id: String,
    expires_at: u64,
    seed: String,
    expected_confirmation: String,
    signed_digest: String,
    result_key: String,
    unlock_key: String,
    oprf_seed: String,
    serial_number: String,
    valid_until: u64,
    device_key: String,
    device_binding: String,
    key_level: Option<SecurityLevel>,
}

/// The sealed keys of a mobile OTP's unlocks.
#[derive(Serialize, Deserialize)]
pub(super) struct UnlockKeys {
    pub(super) oprf_seed: String,
    pub(super) unlock_key: String,
}

fn attempt_aad(code_ref: &str) -> String {
    format!("attempt:{code_ref}")
}

/// A serial number of the institution's format: its id in capitals without separators,
/// then ten digits.
fn serial_of(institution_id: &str, n: u64) -> String {
    format!("{}{n:010}", institution_id.to_ascii_uppercase().replace(['-', '_', '.'], ""))
}

impl Issuer {
    /// Answers a registration message from an app: to a request, a response (or a decoy
    /// of the same shape), or an error the app reports as `RegistrationRejected`; to a
    /// confirmation, the outcome. On a confirmed registration the customer's previous
    /// mobile OTP at this institution is revoked (reason recorded) and the new one is
    /// pending until its first code verifies. `actor` is the channel (e.g. `mobile-app`).
    /// Persisted and audited.
    pub fn handle_registration(&self, actor: &str, message: &[u8]) -> Vec<u8> {
        self.handle_registration_for(actor, None, message)
    }

    /// [`handle_registration`](Self::handle_registration) for a channel that serves one
    /// institution (`Some(id)`, an API key's): a message for another institution is
    /// refused (audited) as if the code were wrong. Persisted and audited.
    pub fn handle_registration_for(
        &self,
        actor: &str,
        institution: Option<&str>,
        message: &[u8],
    ) -> Vec<u8> {
        let Ok(now) = self.now() else { return serving::reject(RejectReason::Refused) };
        let audit = Audit { at: now, institution_id: "", actor, action: ACTION };
        match serving::parse_incoming(message) {
            Ok(Incoming::Request(r)) if institution.is_some_and(|i| i != r.institution_id) => {
                let audit = Audit { institution_id: &r.institution_id, ..audit };
                audit.record(
                    self,
                    "",
                    "rejected",
                    "a registration for another institution's channel",
                );
                serving::reject(RejectReason::Refused)
            }
            Ok(Incoming::Request(r)) => self.answer_request(actor, &r, now),
            Ok(Incoming::Confirmation(c)) => self.answer_confirmation(actor, institution, &c, now),
            Err(_) => {
                audit.record(self, "", "rejected", "malformed registration message");
                serving::reject(RejectReason::MalformedRequest)
            }
        }
    }

    /// A grant-shaped stand-in for a decoy.
    fn decoy_grant(
        &self,
        institution: Option<&Institution>,
        id: &str,
        now: u64,
    ) -> Result<Grant, Fault> {
        Ok(Grant {
            serial_number: serial_of(id, 0),
            institution_id: id.to_string(),
            institution_name: institution.map_or_else(|| id.to_string(), |i| i.name.clone()),
            params: OtpParams::standard()?,
            valid_until: now.saturating_add(self.config.validity),
            issuer_time: now,
        })
    }

    /// The policy's verdict on the request's device key.
    fn check_device(
        &self,
        institution: &Institution,
        request: &Request,
        now: u64,
    ) -> Result<(Option<SecurityLevel>, Option<String>), String> {
        let challenge = request.attestation_challenge();
        let policy = &institution.attestation;
        let checked =
            attestation::verify(&request.evidence, &request.device_key, &challenge, policy, now);
        // Under Warn, a failed check registers the device and the audit says why.
        let warning = match (&checked, policy.requirement) {
            (Err(e), attestation::Requirement::Warn) => {
                Some(format!("device key not attested (policy warn): {e}"))
            }
            _ => None,
        };
        let level = match attestation::apply(policy, checked) {
            Ok(attested) => attested.map(|a| a.level),
            Err(e) => return Err(format!("device key not trusted: {e}")),
        };
        if institution.require_integrity
            && request.evidence.kind == EvidenceKind::AndroidKeyAttestation
        {
            let verdict = match (&request.evidence.integrity_token, &self.integrity) {
                (Some(token), Some(v)) => {
                    v.decode(token.clone()).map_err(|e| format!("integrity verdict failed: {e}"))?
                }
                (None, _) => return Err("no Play Integrity token".into()),
                (_, None) => return Err("no integrity verifier is configured".into()),
            };
            if verdict.nonce != challenge || !verdict.device_integrity || !verdict.app_recognized {
                return Err("the Play Integrity verdict does not pass".into());
            }
        }
        Ok((level, warning))
    }

    fn answer_request(&self, actor: &str, request: &Request, now: u64) -> Vec<u8> {
        let inst = request.institution_id.as_str();
        let audit = Audit { at: now, institution_id: inst, actor, action: ACTION };
        let institution = match self.tx(|tx| Ok(tx.institution(inst)?)) {
            Ok(i) => i,
            Err(_) => return serving::reject(RejectReason::Refused),
        };
        let decoy = |why: &str, subject: &str| {
            audit.record(self, subject, "rejected", why);
            match self.decoy_grant(institution.as_ref(), inst, now) {
                Ok(grant) => serving::decoy(request, &grant)
                    .unwrap_or_else(|_| serving::reject(RejectReason::Refused)),
                Err(_) => serving::reject(RejectReason::Refused),
            }
        };
        let Some(institution) = institution.clone() else {
            return decoy("unknown institution", "");
        };
        let (key_level, warning) = match self.check_device(&institution, request, now) {
            Ok(checked) => checked,
            Err(why) => {
                audit.record(self, "", "rejected", &why);
                return serving::reject(RejectReason::DeviceNotTrusted);
            }
        };
        let ring = self.ring();
        let lookups = code_lookups(&ring, &request.lookup);
        let max = self.config.max_code_attempts;
        let (validity, ttl) = (self.config.validity, self.config.attempt_ttl);
        // The code's answer, or why there is none (then a decoy).
        let outcome = self.tx(|tx| {
            let mut found: Option<CodeRecord> = None;
            for l in &lookups {
                if let Some(c) =
                    tx.open_codes_by_lookup(l)?.into_iter().find(|c| c.institution_id == inst)
                {
                    found = Some(c);
                    break;
                }
            }
            let Some(mut code) = found else {
                return Ok(Err(("no outstanding code for this phone".to_string(), String::new())));
            };
            let subject = format!("customer:{}", code.customer_id);
            if now >= code.expires_at || code.failed_attempts >= max {
                code.state = CodeState::Void;
                code.attempts.clear();
                tx.put_code(&code)?;
                let why = if now >= code.expires_at {
                    "expired registration code"
                } else {
                    "registration code void after 5 attempts"
                };
                return Ok(Err((why.to_string(), subject)));
            }
            if Self::eligible(tx, inst, &code.customer_id).is_err() {
                return Ok(Err(("customer not eligible".to_string(), subject)));
            }
            // Every answered request is a guess of the code: counted before answering.
            code.failed_attempts += 1;
            let digits = ring.open(&code_aad(&code.code_ref), &code.sealed_code)?;
            let serial_number = serial_of(inst, tx.next_serial(inst)?);
            let grant = Grant {
                serial_number: serial_number.clone(),
                institution_id: inst.to_string(),
                institution_name: institution.name.clone(),
                params: OtpParams::standard()?,
                valid_until: now.saturating_add(validity),
                issuer_time: now,
            };
            let oprf_seed = oprf::new_key_seed()?;
            let handle: [u8; 16] = stored_hex(&code.code_ref)?;
            let (response, attempt) =
                serving::answer(request, &digits, &oprf_seed, &grant, &handle)?;
            let pending =
                pending_attempt(&attempt, &oprf_seed, &grant, request, key_level, now + ttl);
            let json = Zeroizing::new(
                serde_json::to_vec(&pending).map_err(|e| Fault::InvalidInput(e.to_string()))?,
            );
            code.attempts.retain(|a| !a.is_empty());
            if code.attempts.len() >= max as usize {
                code.attempts.remove(0);
            }
            code.attempts.push(ring.seal(&attempt_aad(&code.code_ref), &json)?);
            tx.put_code(&code)?;
            tx.append_audit(&audit.entry(
                &subject,
                "ok",
                &match &warning {
                    Some(w) => format!(
                        "registration attempt {} of {max} answered; {w}",
                        code.failed_attempts
                    ),
                    None => {
                        format!("registration attempt {} of {max} answered", code.failed_attempts)
                    }
                },
            ))?;
            Ok(Ok(response))
        });
        match outcome {
            Ok(Ok(response)) => response,
            Ok(Err((why, subject))) => decoy(&why, &subject),
            Err(_) => serving::reject(RejectReason::Refused),
        }
    }

    fn answer_confirmation(
        &self,
        actor: &str,
        scope: Option<&str>,
        c: &Confirmation,
        now: u64,
    ) -> Vec<u8> {
        let code_ref = hex(&c.attempt[..16]);
        let ring = self.ring();
        let mut audit_note: Option<(String, String, String)> = None;
        let result = self.tx(|tx| {
            audit_note = None;
            let refuse = |note: &mut Option<(String, String, String)>,
                          inst: &str,
                          subject: String,
                          why: &str| {
                *note = Some((inst.to_string(), subject, why.to_string()));
                Ok(Err(RejectReason::Refused))
            };
            let Some(mut code) = tx.code(&code_ref)? else {
                return refuse(
                    &mut audit_note,
                    "",
                    String::new(),
                    "confirmation of an unknown attempt",
                );
            };
            let inst = code.institution_id.clone();
            let subject = format!("customer:{}", code.customer_id);
            if scope.is_some_and(|i| i != inst) {
                return refuse(
                    &mut audit_note,
                    &inst,
                    subject,
                    "a confirmation through another institution's channel",
                );
            }
            if code.state == CodeState::Used {
                // The same confirmation again (the outcome was lost on the way): the same
                // outcome again, while the attempt would still be valid.
                if let Some(again) = self.repeat_outcome(tx, &ring, &code, &code_ref, c, now)? {
                    let audit = Audit { at: now, institution_id: &inst, actor, action: ACTION };
                    tx.append_audit(&audit.entry(&subject, "ok", "the same outcome sent again"))?;
                    return Ok(Ok(again));
                }
            }
            if code.state != CodeState::Issued {
                return refuse(
                    &mut audit_note,
                    &inst,
                    subject,
                    "confirmation for a used or void code",
                );
            }
            // The attempt this confirms, among the code's answered ones.
            let mut found = None;
            for (i, sealed) in code.attempts.iter().enumerate() {
                let plain = ring.open(&attempt_aad(&code_ref), sealed)?;
                let p: PendingAttempt = serde_json::from_slice(&plain)
                    .map_err(|_| super::store::StoreFault::Corrupt("attempt".into()))?;
                if p.id == hex(&c.attempt) {
                    found = Some((i, p));
                    break;
                }
            }
            let Some((index, p)) = found else {
                return refuse(
                    &mut audit_note,
                    &inst,
                    subject,
                    "confirmation of an unknown attempt",
                );
            };
            let attempt = restore_attempt(&p)?;
            if now >= p.expires_at || !attempt.confirms(c) {
                code.attempts.remove(index);
                tx.put_code(&code)?;
                return refuse(
                    &mut audit_note,
                    &inst,
                    subject,
                    "key confirmation failed (wrong code) or expired",
                );
            }
            if !device_signed(&p.device_key, &attempt.signed_digest, &c.signature)? {
                code.attempts.remove(index);
                tx.put_code(&code)?;
                return refuse(
                    &mut audit_note,
                    &inst,
                    subject,
                    "the device key's signature does not verify",
                );
            }
            let id = device_id(MOBILE_VENDOR, &p.serial_number);
            // One mobile OTP per person per institution: revoke the previous one.
            for mut link in tx.links_of_customer(&inst, &code.customer_id)? {
                if link.is_current() {
                    if let Some(mut old) = tx.device(&link.device_id)? {
                        if old.kind != DeviceKind::Mobile {
                            return refuse(
                                &mut audit_note,
                                &inst,
                                subject,
                                "already has a physical OTP",
                            );
                        }
                        old.state = DeviceState::Cancelled;
                        tx.put_device(&old)?;
                        link.state = LinkState::Revoked;
                        link.ended = Some((now, "re-registered on a new device".into()));
                        tx.put_link(&link)?;
                    }
                }
            }
            let params = OtpParams::standard()?;
            let keys = serde_json::to_vec(&UnlockKeys {
                oprf_seed: p.oprf_seed.clone(),
                unlock_key: p.unlock_key.clone(),
            })
            .map_err(|e| Fault::InvalidInput(e.to_string()))?;
            let seed: Zeroizing<[u8; 32]> = Zeroizing::new(stored_hex(&p.seed)?);
            tx.put_device(&OtpDevice {
                device_id: id.clone(),
                vendor_code: MOBILE_VENDOR.into(),
                serial_number: p.serial_number.clone(),
                kind: DeviceKind::Mobile,
                sealed_secret: ring.seal(&id, &*seed)?,
                algorithm: params.algorithm.name().into(),
                digits: params.digits,
                moving: Moving::Totp { period: params.period },
                transaction_suite: Some(params.transaction_suite.to_string()),
                state: DeviceState::Active,
                error_count: 0,
                last_login_step: None,
                last_transaction_step: None,
                used_transactions: Vec::new(),
                drift_steps: 0,
                valid_until: p.valid_until,
                device_binding: Some(p.device_binding.clone()),
                created_at: now,
                unlock: Some(Unlock {
                    device_key: p.device_key.clone(),
                    key_level: p.key_level,
                    sealed_keys: ring.seal(&unlock_aad(&id), &Zeroizing::new(keys))?,
                    unconfirmed: 0,
                    evaluations: 0,
                    last_request_ms: 0,
                }),
                accident: None,
                mac: String::new(),
            })?;
            tx.put_link(&Link {
                link_id: 0,
                institution_id: inst.clone(),
                customer_id: code.customer_id.clone(),
                device_id: id.clone(),
                state: LinkState::Pending,
                since: now,
                ended: None,
                mac: String::new(),
            })?;
            code.state = CodeState::Used;
            // What answering this confirmation again needs, without the secrets.
            let zero = hex(&[0u8; 32]);
            let kept = PendingAttempt {
                seed: zero.clone(),
                unlock_key: zero.clone(),
                oprf_seed: zero,
                ..p.clone()
            };
            let kept = Zeroizing::new(
                serde_json::to_vec(&kept).map_err(|e| Fault::InvalidInput(e.to_string()))?,
            );
            code.attempts = vec![ring.seal(&attempt_aad(&code_ref), &kept)?];
            tx.put_code(&code)?;
            let level = match p.key_level {
                Some(l) => format!("device key attested ({l:?})"),
                None => "device key not attested".into(),
            };
            let done = Audit { at: now, institution_id: &inst, actor, action: ACTION };
            tx.append_audit(&done.entry(
                &format!("device:{id}"),
                "ok",
                &format!("customer {}, pending activation; {level}", code.customer_id),
            ))?;
            Ok(Ok(attempt.registered(&p.serial_number)))
        });
        if let Some((inst, subject, why)) = &audit_note {
            Audit { at: now, institution_id: inst, actor, action: ACTION }
                .record(self, subject, "rejected", why);
        }
        match result {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(reason)) => serving::reject(reason),
            Err(_) => serving::reject(RejectReason::Refused),
        }
    }
}

impl Issuer {
    /// The outcome of a registration already made by exactly the confirmation `c` (its
    /// attempt, its key confirmation and its device key's signature), if the attempt is
    /// still within its validity and the credential still pending or active.
    fn repeat_outcome(
        &self,
        tx: &mut dyn super::store::IssuerTx,
        ring: &super::master_key::KeyRing,
        code: &super::model::CodeRecord,
        code_ref: &str,
        c: &Confirmation,
        now: u64,
    ) -> Result<Option<Vec<u8>>, Fault> {
        let [sealed] = code.attempts.as_slice() else { return Ok(None) };
        let plain = ring.open(&attempt_aad(code_ref), sealed)?;
        let p: PendingAttempt = serde_json::from_slice(&plain)
            .map_err(|_| super::store::StoreFault::Corrupt("attempt".into()))?;
        let attempt = restore_attempt(&p)?;
        if now >= p.expires_at || !attempt.confirms(c) {
            return Ok(None);
        }
        if !device_signed(&p.device_key, &attempt.signed_digest, &c.signature)? {
            return Ok(None);
        }
        let id = device_id(MOBILE_VENDOR, &p.serial_number);
        let live = tx.links_of_device(&id)?.iter().any(|l| {
            l.institution_id == code.institution_id
                && matches!(l.state, LinkState::Pending | LinkState::Active)
        });
        Ok(live.then(|| attempt.registered(&p.serial_number)))
    }
}

/// Whether `signature` is the device key's (stored as hex, SEC1) ECDSA P-256 SHA-256
/// signature of `message`. A stored key that is not hex is a corrupt row.
pub(super) fn device_signed(
    device_key_hex: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, Fault> {
    let key = crypto::unhex(device_key_hex)
        .map_err(|_| super::store::StoreFault::Corrupt("device key".into()))?;
    Ok(UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &key).verify(message, signature).is_ok())
}

/// Where a device's sealed unlock keys belong.
pub(super) fn unlock_aad(device_id: &str) -> String {
    format!("unlock:{device_id}")
}

fn pending_attempt(
    a: &Attempt,
    oprf_seed: &[u8; 32],
    grant: &Grant,
    request: &Request,
    key_level: Option<SecurityLevel>,
    expires_at: u64,
) -> PendingAttempt {
    PendingAttempt {
        id: hex(&a.id),
        expires_at,
        seed: hex(&*a.seed),
        expected_confirmation: hex(&a.expected_confirmation),
        signed_digest: hex(&a.signed_digest),
        result_key: hex(&*a.result_key),
        unlock_key: hex(&*a.unlock_key),
        oprf_seed: hex(oprf_seed),
        serial_number: grant.serial_number.clone(),
        valid_until: grant.valid_until,
        device_key: hex(&request.device_key),
        device_binding: hex(&request.device_binding),
        key_level,
    }
}

fn restore_attempt(p: &PendingAttempt) -> Result<Attempt, Fault> {
    Ok(Attempt {
        id: stored_hex(&p.id)?,
        seed: Zeroizing::new(stored_hex(&p.seed)?),
        expected_confirmation: stored_hex(&p.expected_confirmation)?,
        signed_digest: stored_hex(&p.signed_digest)?,
        result_key: Zeroizing::new(stored_hex(&p.result_key)?),
        unlock_key: Zeroizing::new(stored_hex(&p.unlock_key)?),
    })
}
