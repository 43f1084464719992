//! Registration codes: face to face (a 5-digit SMS code shown at the branch, then an app
//! registration code) or non-face-to-face (after the bank's own identity verification).
//! One outstanding code per customer; the issuer keeps only the code's id and salt.

use zeroize::Zeroizing;

use crate::crypto;
use crate::enrollment::{phone_hint, RegistrationCode};

use super::model::{Channel, CodeRecord, CodeState, SmsChallenge};
use super::{stored_hex, Fault, Issuer};

impl Issuer {
    /// Face to face, step 1: sends a 5-digit verification code to the customer's phone
    /// through the SMS gateway.
    pub fn start_face_to_face(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<(), Fault> {
        let gateway = self.sms.clone().ok_or(Fault::NoSmsGateway)?;
        let subject = format!("customer:{customer_id}");
        let mut digits = Zeroizing::new([0u8; 16]);
        crypto::random(&mut *digits)?;
        let code = Zeroizing::new(format!("{:05}", u128::from_le_bytes(*digits) % 100_000));
        let mut salt = [0u8; 16];
        crypto::random(&mut salt)?;
        let hash = sms_hash(&salt, &code);
        let ttl = self.config.sms_ttl;
        let phone =
            self.audited(actor, institution_id, "start_face_to_face", &subject, |tx, now| {
                let c = Self::eligible(tx, institution_id, customer_id)?;
                tx.put_sms(&SmsChallenge {
                    institution_id: institution_id.into(),
                    customer_id: customer_id.into(),
                    code_hash: crypto::hex(&hash),
                    salt: crypto::hex(&salt),
                    expires_at: now.saturating_add(ttl),
                    failed_attempts: 0,
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
        let subject = format!("customer:{customer_id}");
        let max = self.config.max_code_attempts;
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
                let salt: [u8; 16] = stored_hex(&sms.salt)?;
                let ok = bool::from(subtle::ConstantTimeEq::ct_eq(
                    sms_hash(&salt, shown_code).as_slice(),
                    stored_hex::<32>(&sms.code_hash)?.as_slice(),
                ));
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
        let code = RegistrationCode::generate()?;
        let ttl = self.config.code_ttl;
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
            tx.put_code(&CodeRecord {
                code_id: crypto::hex(&code.id()),
                salt: crypto::hex(&code.salt()),
                institution_id: institution_id.into(),
                customer_id: customer_id.into(),
                phone_hint: crypto::hex(&phone_hint(&customer.phone_e164)),
                channel: channel.clone(),
                issued_at: now,
                expires_at: now.saturating_add(ttl),
                failed_attempts: 0,
                state: CodeState::Issued,
            })?;
            Ok(((), "ok".into(), how.clone()))
        })?;
        Ok(code)
    }
}

/// The stored hash of an SMS code.
fn sms_hash(salt: &[u8; 16], code: &str) -> [u8; 32] {
    crypto::sha256_concat(&[b"digital-otp/v1/sms", salt, code.trim().as_bytes()])
}
