//! Registration codes: face to face (a 5-digit SMS code shown at the branch, then an app
//! registration code) or non-face-to-face (after the bank's own identity verification).
//! One outstanding code per customer. The code is stored sealed under the master key and
//! found by a keyed MAC of the institution and the customer's phone; the SMS code by a
//! keyed MAC: a copy of the database alone tests neither offline.

use zeroize::Zeroizing;

use crate::crypto;
use crate::enrollment::{self, RegistrationCode};

use super::master_key::KeyRing;
use super::model::{Channel, CodeRecord, CodeState, SmsChallenge};
use super::{Fault, Issuer};

/// The stored lookup of the codes of a phone at an institution, under every key of the
/// ring (the current one first).
pub(super) fn code_lookups(ring: &KeyRing, lookup: &[u8; 32]) -> Vec<String> {
    ring.macs(&[b"digital-otp/v2/code-lookup", lookup])
}

/// Where a code's sealed digits belong (the AEAD's associated data).
pub(super) fn code_aad(code_ref: &str) -> String {
    format!("code:{code_ref}")
}

impl Issuer {
    /// Face to face, step 1: sends a 5-digit verification code to the customer's phone
    /// through the SMS gateway.
    pub fn start_face_to_face(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<(), Fault> {
        super::check_id(customer_id, "the customer id")?;
        let gateway = self.sms.clone().ok_or(Fault::NoSmsGateway)?;
        let subject = format!("customer:{customer_id}");
        let mut digits = Zeroizing::new([0u8; 16]);
        crypto::random(&mut *digits)?;
        let code = Zeroizing::new(format!("{:05}", u128::from_le_bytes(*digits) % 100_000));
        let mut salt = [0u8; 16];
        crypto::random(&mut salt)?;
        let hash = self.ring().mac(&sms_parts(&salt, &code));
        let ttl = self.config.sms_ttl;
        let phone =
            self.audited(actor, institution_id, "start_face_to_face", &subject, |tx, now| {
                let c = Self::eligible(tx, institution_id, customer_id)?;
                tx.put_sms(&SmsChallenge {
                    institution_id: institution_id.into(),
                    customer_id: customer_id.into(),
                    code_hash: hash.clone(),
                    salt: crypto::hex(&salt),
                    expires_at: now.saturating_add(ttl),
                    failed_attempts: 0,
                    mac: String::new(),
                })?;
                Ok((c.phone_e164, "ok".into(), "verification code sent".into()))
            })?;
        let message =
            format!("[digital OTP] Verification code {}. Show it to the bank employee.", &*code);
        gateway.send(phone, message).map_err(Fault::Sms)
    }

    /// Face to face, step 2: the employee enters the code the customer shows; if it
    /// matches, an app registration code is issued (give it to the customer).
    pub fn confirm_face_to_face(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        shown_code: &str,
    ) -> Result<RegistrationCode, Fault> {
        super::check_id(customer_id, "the customer id")?;
        let subject = format!("customer:{customer_id}");
        let max = self.config.max_code_attempts;
        let ring = self.ring();
        // A wrong code is counted (and committed) before it is reported.
        let matched =
            self.audited(actor, institution_id, "confirm_face_to_face", &subject, |tx, now| {
                Self::eligible(tx, institution_id, customer_id)?;
                let mut sms =
                    tx.sms(institution_id, customer_id)?.ok_or(Fault::NoVerificationPending)?;
                if now >= sms.expires_at || sms.failed_attempts >= max {
                    tx.delete_sms(institution_id, customer_id)?;
                    return Ok((
                        Err(Fault::NoVerificationPending),
                        "refused".into(),
                        "expired or void".into(),
                    ));
                }
                let salt: [u8; 16] = super::stored_hex(&sms.salt)?;
                let ok = ring.verify(&sms_parts(&salt, shown_code), &sms.code_hash).is_ok();
                if ok {
                    tx.delete_sms(institution_id, customer_id)?;
                    Ok((Ok(()), "ok".into(), "identity verified".into()))
                } else {
                    sms.failed_attempts += 1;
                    let remaining = max.saturating_sub(sms.failed_attempts);
                    if remaining == 0 {
                        tx.delete_sms(institution_id, customer_id)?;
                    } else {
                        tx.put_sms(&sms)?;
                    }
                    Ok((
                        Err(Fault::WrongVerificationCode { remaining }),
                        "rejected".into(),
                        "wrong verification code".into(),
                    ))
                }
            })?;
        matched?;
        self.issue_code(actor, institution_id, customer_id, Channel::FaceToFace)
    }

    /// Non-face-to-face: after the bank's own identity verification (its reference is
    /// recorded), issues an app registration code directly.
    pub fn issue_non_face_to_face(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        verification_reference: &str,
    ) -> Result<RegistrationCode, Fault> {
        super::check_id(customer_id, "the customer id")?;
        if verification_reference.trim().is_empty() || verification_reference.len() > 128 {
            return Err(Fault::InvalidInput(
                "the verification reference must be 1 to 128 characters".into(),
            ));
        }
        self.issue_code(
            actor,
            institution_id,
            customer_id,
            Channel::NonFaceToFace { reference: verification_reference.trim().into() },
        )
    }

    fn issue_code(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        channel: Channel,
    ) -> Result<RegistrationCode, Fault> {
        let code = self.new_code()?;
        let ttl = self.config.code_ttl;
        let mut id = [0u8; 16];
        crypto::random(&mut id)?;
        let code_ref = crypto::hex(&id);
        let ring = self.ring();
        let sealed_code = ring.seal(&code_aad(&code_ref), code.as_str().as_bytes())?;
        let subject = format!("customer:{customer_id}");
        let how = match &channel {
            Channel::FaceToFace => "face to face".to_string(),
            Channel::NonFaceToFace { reference } => {
                format!("non-face-to-face, verification {reference}")
            }
        };
        self.audited(actor, institution_id, "issue_registration_code", &subject, |tx, now| {
            let customer = Self::eligible(tx, institution_id, customer_id)?;
            // One outstanding code per customer: a new one voids the others.
            for mut old in tx.codes_of_customer(institution_id, customer_id)? {
                if old.state == CodeState::Issued {
                    old.state = CodeState::Void;
                    tx.put_code(&old)?;
                }
            }
            let lookup = enrollment::lookup(institution_id, &customer.phone_e164);
            // A phone finds one outstanding code at an institution: a new one voids any
            // other customer's code for the same number.
            for l in code_lookups(&ring, &lookup) {
                for mut other in tx.open_codes_by_lookup(&l)? {
                    if other.institution_id == institution_id {
                        other.state = CodeState::Void;
                        other.attempts.clear();
                        tx.put_code(&other)?;
                    }
                }
            }
            tx.put_code(&CodeRecord {
                code_ref: code_ref.clone(),
                lookup: code_lookups(&ring, &lookup).swap_remove(0),
                sealed_code: sealed_code.clone(),
                institution_id: institution_id.into(),
                customer_id: customer_id.into(),
                channel: channel.clone(),
                issued_at: now,
                expires_at: now.saturating_add(ttl),
                failed_attempts: 0,
                state: CodeState::Issued,
                attempts: Vec::new(),
                mac: String::new(),
            })?;
            Ok(((), "ok".into(), how.clone()))
        })?;
        Ok(code)
    }
}

/// What the keyed MAC of an SMS code covers.
fn sms_parts<'a>(salt: &'a [u8; 16], code: &'a str) -> [&'a [u8]; 3] {
    [b"digital-otp/v2/sms", salt, code.trim().as_bytes()]
}

impl Issuer {
    /// A new registration code (from a reduced space when the tests ask for one).
    fn new_code(&self) -> Result<RegistrationCode, Fault> {
        #[cfg(feature = "test-support")]
        if let Some(space) = self.config.test_code_space {
            return Ok(RegistrationCode::generate_in(space)?);
        }
        Ok(RegistrationCode::generate()?)
    }
}
