//! The app's registration request and the issuer's answer: the code is looked up by its
//! id, the customer's phone checked, the customer's previous mobile OTP at the
//! institution revoked, and the new credential stored pending its first code.

use crate::crypto;
use crate::enrollment::{self, phone_hint, Grant, OtpParams, RejectReason, Request};

use super::model::{CodeState, DeviceKind, DeviceState, Link, LinkState, Moving, OtpDevice};
use super::{device_id, stored_hex, Audit, Fault, Issuer, MOBILE_VENDOR};

/// The audit action of registrations.
const ACTION: &str = "register_mobile_otp";

impl Issuer {
    /// Answers an app's registration request: the response bytes, or an error message
    /// the app reports as "rejected". On success the customer's previous mobile OTP at
    /// this institution is revoked (reason recorded) and the new one is pending until
    /// its first code verifies. `actor` is the channel (e.g. `mobile-app`).
    pub fn handle_registration(&self, actor: &str, request: &[u8]) -> Vec<u8> {
        match self.register(actor, request) {
            Ok(bytes) => bytes,
            Err(reason) => enrollment::reject(reason),
        }
    }

    fn register(&self, actor: &str, request: &[u8]) -> Result<Vec<u8>, RejectReason> {
        let now = self.now().map_err(|_| RejectReason::Refused)?;
        let audit = |institution_id: &str, subject: &str, outcome: &str, detail: &str| {
            Audit { at: now, institution_id, actor, action: ACTION }
                .record(self, subject, outcome, detail);
        };
        let Ok(request) = Request::parse(request) else {
            audit("", "", "rejected", "malformed request");
            return Err(RejectReason::MalformedRequest);
        };
        let code_id = crypto::hex(&request.code_id);
        let hint = crypto::hex(&request.phone_hint);
        let max = self.config.max_code_attempts;
        let validity = self.config.validity;
        let mut audit_note: Option<(String, String, &'static str)> = None;
        let result = self.tx(|tx| {
            audit_note = None;
            let Some(mut code) = tx.code(&code_id)? else {
                // A wrong code: count it against the outstanding code of the customer whose
                // phone sent it (the phone hint), voiding that code after `max` attempts.
                for mut c in tx.open_codes_by_phone_hint(&hint)? {
                    c.failed_attempts += 1;
                    if c.failed_attempts >= max {
                        c.state = CodeState::Void;
                    }
                    tx.put_code(&c)?;
                    audit_note = Some((
                        c.institution_id.clone(),
                        format!("customer:{}", c.customer_id),
                        "wrong registration code",
                    ));
                }
                return Ok(Err(RejectReason::InvalidCode));
            };
            let subject = format!("customer:{}", code.customer_id);
            if code.state != CodeState::Issued {
                audit_note =
                    Some((code.institution_id.clone(), subject, "used or void registration code"));
                return Ok(Err(RejectReason::InvalidCode));
            }
            if now >= code.expires_at {
                code.state = CodeState::Void;
                tx.put_code(&code)?;
                audit_note =
                    Some((code.institution_id.clone(), subject, "expired registration code"));
                return Ok(Err(RejectReason::ExpiredCode));
            }
            let customer = match Self::eligible(tx, &code.institution_id, &code.customer_id) {
                Ok(c) => c,
                Err(_) => {
                    audit_note =
                        Some((code.institution_id.clone(), subject, "customer not eligible"));
                    return Ok(Err(RejectReason::Refused));
                }
            };
            if phone_hint(&customer.phone_e164) != request.phone_hint {
                code.failed_attempts += 1;
                tx.put_code(&code)?;
                audit_note = Some((
                    code.institution_id.clone(),
                    subject,
                    "phone number differs from the one on record",
                ));
                return Ok(Err(RejectReason::Refused));
            }
            let institution =
                tx.institution(&code.institution_id)?.ok_or(Fault::UnknownInstitution)?;
            let serial = format!("{:010}", tx.next_serial(&code.institution_id)?);
            let serial_number = format!(
                "{}{}",
                institution.institution_id.to_ascii_uppercase().replace(['-', '_', '.'], ""),
                serial
            );
            let params = OtpParams::standard()?;
            let grant = Grant {
                serial_number: serial_number.clone(),
                institution_id: institution.institution_id.clone(),
                institution_name: institution.name.clone(),
                params: params.clone(),
                valid_until: now.saturating_add(validity),
                issuer_time: now,
            };
            let salt: [u8; 32] = stored_hex(&code.salt)?;
            let (response, seed) = enrollment::accept(&request, &salt, &grant)?;
            let id = device_id(MOBILE_VENDOR, &serial_number);
            // One mobile OTP per person per institution: revoke the previous one.
            for mut link in tx.links_of_customer(&code.institution_id, &code.customer_id)? {
                if link.is_current() {
                    if let Some(mut old) = tx.device(&link.device_id)? {
                        if old.kind == DeviceKind::Mobile {
                            old.state = DeviceState::Cancelled;
                            tx.put_device(&old)?;
                            link.state = LinkState::Revoked;
                            link.ended = Some((now, "re-registered on a new device".into()));
                            tx.put_link(&link)?;
                        } else {
                            audit_note = Some((
                                code.institution_id.clone(),
                                subject,
                                "already has a physical OTP",
                            ));
                            return Ok(Err(RejectReason::Refused));
                        }
                    }
                }
            }
            tx.put_device(&OtpDevice {
                device_id: id.clone(),
                vendor_code: MOBILE_VENDOR.into(),
                serial_number: serial_number.clone(),
                kind: DeviceKind::Mobile,
                sealed_secret: self.master.seal(&id, &*seed)?,
                algorithm: params.algorithm.name().into(),
                digits: params.digits,
                moving: Moving::Totp { period: params.period },
                transaction_suite: Some(params.transaction_suite.to_string()),
                state: DeviceState::Active,
                error_count: 0,
                last_login_step: None,
                last_transaction_step: None,
                drift_steps: 0,
                valid_until: grant.valid_until,
                device_binding: Some(crypto::hex(&request.device_binding)),
                created_at: now,
            })?;
            tx.put_link(&Link {
                link_id: 0,
                institution_id: code.institution_id.clone(),
                customer_id: code.customer_id.clone(),
                device_id: id.clone(),
                state: LinkState::Pending,
                since: now,
                ended: None,
            })?;
            code.state = CodeState::Used;
            tx.put_code(&code)?;
            let done =
                Audit { at: now, institution_id: &code.institution_id, actor, action: ACTION };
            tx.append_audit(&done.entry(
                &format!("device:{id}"),
                "ok",
                &format!("customer {}, pending activation", code.customer_id),
            ))?;
            Ok(Ok(response))
        });
        if let Some((inst, subject, detail)) = &audit_note {
            audit(inst, subject, "rejected", detail);
        }
        match result {
            Ok(r) => r,
            Err(_) => Err(RejectReason::Refused),
        }
    }
}
