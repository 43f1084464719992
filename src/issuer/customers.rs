//! Customers: their registration, with the person's identity across institutions (a keyed
//! hash of the real-name number, never the number), and the change of their phone number
//! (which revokes the mobile OTP bound to the old one).

use zeroize::Zeroizing;

use crate::enrollment::normalize_phone;

use super::desk::{noted, permit};
use super::model::{CodeState, Customer, DeskOperation, DeviceKind, DeviceState, LinkState};
use super::policy::Caller;
use super::store::IssuerTx;
use super::{check_id, Fault, Issuer, NewCustomer};

/// The meta key of the sealed person key (the key of the real-name numbers' hashes).
pub(super) const PERSON_KEY: &str = "person_key";

/// The meta key of the index from a person to their customer id at an institution.
fn person_index(institution_id: &str, person: &str) -> String {
    format!("person:{institution_id}:{person}")
}

/// A real-name number (resident, alien or corporate registration number: 13 digits;
/// business registration number: 10) without its hyphens and spaces.
pub fn normalize_real_name_number(text: &str) -> Result<Zeroizing<String>, Fault> {
    let digits: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !matches!(c, '-' | ' ')).collect());
    if !(digits.len() == 13 || digits.len() == 10) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fault::InvalidInput(
            "the real-name number must be 13 digits (or 10 for a business), hyphens allowed".into(),
        ));
    }
    Ok(digits)
}

impl Issuer {
    /// Registers a customer of an institution. With the real-name number, the person is
    /// known across institutions by a keyed hash of it (the number is not stored), and an
    /// institution has one customer id per person. Audited.
    pub fn register_customer(&self, actor: &str, c: &NewCustomer) -> Result<(), Fault> {
        check_id(&c.customer_id, "the customer id")?;
        let phone = normalize_phone(&c.phone_number)?;
        if c.name.trim().is_empty() || c.name.chars().count() > 100 {
            return Err(Fault::InvalidInput("the name must be 1 to 100 characters".into()));
        }
        let number = c.real_name_number.as_deref().map(normalize_real_name_number).transpose()?;
        let subject = format!("customer:{}", c.customer_id);
        self.audited(actor, &c.institution_id, "register_customer", &subject, |tx, now| {
            tx.institution(&c.institution_id)?.ok_or(Fault::UnknownInstitution)?;
            if tx.customer(&c.institution_id, &c.customer_id)?.is_some() {
                return Err(Fault::CustomerExists);
            }
            let person = match &number {
                None => None,
                Some(n) => {
                    let person = self.person_hash(tx, n)?;
                    let index = person_index(&c.institution_id, &person);
                    if let Some(other) = tx.meta(&index)? {
                        if tx.customer(&c.institution_id, &other)?.is_some() {
                            return Err(Fault::CustomerExists);
                        }
                    }
                    tx.put_meta(&index, &c.customer_id)?;
                    Some(person)
                }
            };
            tx.put_customer(&Customer {
                institution_id: c.institution_id.clone(),
                customer_id: c.customer_id.clone(),
                name: c.name.trim().into(),
                kind: c.kind,
                residency: c.residency,
                phone_e164: phone.clone(),
                created_at: now,
                person,
                mac: String::new(),
            })?;
            let detail = if number.is_some() { "person identified" } else { "" };
            Ok(((), "ok".into(), detail.into()))
        })
    }

    /// Changes a customer's phone number. The mobile OTP bound to the old number is
    /// revoked (its registration `Revoked`, the device cancelled: the customer registers
    /// the app again from the new number), outstanding registration codes and SMS
    /// verifications are voided; physical OTPs stay. At a branch unless the institution's
    /// channel table says otherwise; never through an agent. Audited (without the
    /// numbers).
    pub fn change_phone(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        customer_id: &str,
        new_phone: &str,
    ) -> Result<(), Fault> {
        let caller = caller.into();
        caller.check()?;
        check_id(customer_id, "the customer id")?;
        let phone = normalize_phone(new_phone)?;
        let subject = format!("customer:{customer_id}");
        self.audited(&caller.actor, institution_id, "change_phone", &subject, |tx, now| {
            let mut customer =
                tx.customer(institution_id, customer_id)?.ok_or(Fault::UnknownCustomer)?;
            permit(tx, &caller, institution_id, DeskOperation::ChangePhone, Some(&customer), None)?;
            if customer.phone_e164 == phone {
                return Err(Fault::InvalidInput("the phone number is unchanged".into()));
            }
            customer.phone_e164 = phone.clone();
            tx.put_customer(&customer)?;
            let mut detail = "phone number changed".to_string();
            for mut code in tx.codes_of_customer(institution_id, customer_id)? {
                if code.state == CodeState::Issued {
                    code.state = CodeState::Void;
                    code.attempts.clear();
                    tx.put_code(&code)?;
                    detail.push_str("; registration code voided");
                }
            }
            tx.delete_sms(institution_id, customer_id)?;
            if let Some((mut link, mut d)) = Self::current_device(tx, institution_id, customer_id)?
            {
                if d.kind == DeviceKind::Mobile {
                    link.state = LinkState::Revoked;
                    link.ended = Some((now, "the phone number changed".into()));
                    tx.put_link(&link)?;
                    d.state = DeviceState::Cancelled;
                    tx.put_device(&d)?;
                    detail.push_str(&format!("; mobile OTP {} revoked", d.device_id));
                }
            }
            Ok(((), "ok".into(), noted(&detail, &caller)))
        })
    }

    /// The keyed hash of a (normalized) real-name number, under the database's person
    /// key (made on first use, sealed under the master key).
    fn person_hash(&self, tx: &mut dyn IssuerTx, number: &str) -> Result<String, Fault> {
        let ring = self.ring();
        let key = match tx.meta(PERSON_KEY)? {
            Some(sealed) => ring.open(PERSON_KEY, &sealed)?,
            None => {
                let mut key = Zeroizing::new(vec![0u8; 32]);
                crate::crypto::random(&mut key)?;
                tx.put_meta(PERSON_KEY, &ring.seal(PERSON_KEY, &key)?)?;
                key
            }
        };
        let mut out = [0u8; 32];
        crate::crypto::hkdf(&key, number.as_bytes(), &[b"digital-otp person v1"], &mut out);
        Ok(crate::crypto::hex(&out))
    }
}
