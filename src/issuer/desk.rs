//! The service desk: institutions and customers, other institutions' OTP devices by
//! vendor code and serial number, cancellation, loss and theft reports and their
//! clearing, error-count resets, inquiries and the audit log. Every operation is
//! recorded in the audit log with its actor.

use crate::enrollment::normalize_phone;
use crate::otp;

use super::attestation::AttestationPolicy;
use super::model::{
    AuditEntry, AuditQuery, Customer, DeviceKind, DeviceState, Institution, Link, LinkState,
    Moving, OtpDevice,
};
use super::verification::Check;
use super::{
    check_id, checked_device_id, device_id, Accident, CustomerReport, DeviceReport, Fault,
    ImportDevice, Issuer, NewCustomer, MOBILE_VENDOR,
};

impl Issuer {
    /// Adds (or renames) an institution served by this issuer.
    pub fn add_institution(
        &self,
        actor: &str,
        institution_id: &str,
        name: &str,
    ) -> Result<(), Fault> {
        check_id(institution_id, "the institution id")?;
        if name.trim().is_empty()
            || name.chars().count() > 100
            || name.chars().any(char::is_control)
        {
            return Err(Fault::InvalidInput(
                "the institution name must be 1 to 100 characters".into(),
            ));
        }
        let name = name.trim().to_string();
        self.audited(
            actor,
            institution_id,
            "add_institution",
            &format!("institution:{institution_id}"),
            |tx, _| {
                // A rename keeps the institution's attestation policy.
                let inst = match tx.institution(institution_id)? {
                    Some(existing) => Institution { name: name.clone(), ..existing },
                    None => Institution {
                        institution_id: institution_id.into(),
                        name: name.clone(),
                        attestation: AttestationPolicy::default(),
                        require_integrity: false,
                        mac: String::new(),
                    },
                };
                tx.put_institution(&inst)?;
                Ok(((), "ok".into(), String::new()))
            },
        )
    }

    /// Sets what an institution requires of a device key's attestation (and whether an
    /// Android device must also bring a passing Play Integrity verdict). Applies to
    /// registrations from now on. Persisted and audited.
    pub fn set_attestation_policy(
        &self,
        actor: &str,
        institution_id: &str,
        policy: &AttestationPolicy,
        require_integrity: bool,
    ) -> Result<(), Fault> {
        let detail = format!(
            "{:?}; {} Android roots, {} Apple roots; integrity {}",
            policy.requirement,
            policy.android_roots.len(),
            policy.apple_roots.len(),
            if require_integrity { "required" } else { "not required" }
        )
        .to_lowercase();
        self.audited(
            actor,
            institution_id,
            "set_attestation_policy",
            &format!("institution:{institution_id}"),
            |tx, _| {
                let mut inst = tx.institution(institution_id)?.ok_or(Fault::UnknownInstitution)?;
                inst.attestation = policy.clone();
                inst.require_integrity = require_integrity;
                tx.put_institution(&inst)?;
                Ok(((), "ok".into(), detail.clone()))
            },
        )
    }

    /// Registers a customer of an institution.
    pub fn register_customer(&self, actor: &str, c: &NewCustomer) -> Result<(), Fault> {
        check_id(&c.customer_id, "the customer id")?;
        let phone = normalize_phone(&c.phone_number)?;
        if c.name.trim().is_empty() || c.name.chars().count() > 100 {
            return Err(Fault::InvalidInput("the name must be 1 to 100 characters".into()));
        }
        let subject = format!("customer:{}", c.customer_id);
        self.audited(actor, &c.institution_id, "register_customer", &subject, |tx, now| {
            tx.institution(&c.institution_id)?.ok_or(Fault::UnknownInstitution)?;
            if tx.customer(&c.institution_id, &c.customer_id)?.is_some() {
                return Err(Fault::CustomerExists);
            }
            tx.put_customer(&Customer {
                institution_id: c.institution_id.clone(),
                customer_id: c.customer_id.clone(),
                name: c.name.trim().into(),
                kind: c.kind,
                residency: c.residency,
                phone_e164: phone.clone(),
                created_at: now,
                mac: String::new(),
            })?;
            Ok(((), "ok".into(), String::new()))
        })
    }

    /// Imports a physical OTP device (one call per device).
    pub fn import_device(&self, actor: &str, d: &ImportDevice) -> Result<(), Fault> {
        check_id(&d.vendor_code, "the vendor code")?;
        check_id(&d.serial_number, "the serial number")?;
        if d.vendor_code == MOBILE_VENDOR {
            return Err(Fault::InvalidInput(format!(
                "the vendor code {MOBILE_VENDOR} is reserved for mobile OTPs"
            )));
        }
        if !(otp::MIN_DIGITS..=otp::MAX_DIGITS).contains(&d.digits) {
            return Err(Fault::InvalidInput("digits must be 6 to 10".into()));
        }
        if let Moving::Totp { period } = d.moving {
            if period == 0 || period > otp::MAX_PERIOD {
                return Err(Fault::InvalidInput("the period must be 1 to 3600 seconds".into()));
            }
        }
        let id = device_id(&d.vendor_code, &d.serial_number);
        let sealed = self.ring().seal(&id, d.secret.expose())?;
        self.audited(actor, "", "import_device", &format!("device:{id}"), |tx, now| {
            if tx.device(&id)?.is_some() {
                return Err(Fault::DeviceExists);
            }
            tx.put_device(&OtpDevice {
                device_id: id.clone(),
                vendor_code: d.vendor_code.clone(),
                serial_number: d.serial_number.clone(),
                kind: DeviceKind::Hardware,
                sealed_secret: sealed.clone(),
                algorithm: d.algorithm.name().into(),
                digits: d.digits,
                moving: d.moving,
                transaction_suite: None,
                state: DeviceState::Active,
                error_count: 0,
                last_login_step: None,
                last_transaction_step: None,
                used_transactions: Vec::new(),
                drift_steps: 0,
                valid_until: d.valid_until,
                device_binding: None,
                created_at: now,
                unlock: None,
                mac: String::new(),
            })?;
            Ok(((), "ok".into(), String::new()))
        })
    }

    /// Registers an OTP device (possibly issued by another institution) for a customer by
    /// vendor code and serial number; with `possession_code`, a current code must verify.
    /// One OTP device per customer per institution.
    pub fn register_device(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        vendor_code: &str,
        serial_number: &str,
        possession_code: Option<&str>,
    ) -> Result<(), Fault> {
        check_id(customer_id, "the customer id")?;
        let id = checked_device_id(vendor_code, serial_number)?;
        let possession = match possession_code {
            None => None,
            Some(code) => {
                let d = self.tx(|tx| tx.device(&id)?.ok_or(Fault::UnknownDevice))?;
                Some(self.login_check(&d, code, self.now()?)?)
            }
        };
        self.audited(
            actor,
            institution_id,
            "register_device",
            &format!("device:{id}"),
            |tx, now| {
                tx.customer(institution_id, customer_id)?.ok_or(Fault::UnknownCustomer)?;
                let mut d = tx.device(&id)?.ok_or(Fault::UnknownDevice)?;
                if d.kind == DeviceKind::Mobile {
                    return Err(Fault::InvalidState("a mobile OTP is registered through the app"));
                }
                match d.state {
                    DeviceState::Active if now < d.valid_until => {}
                    DeviceState::Active => {
                        return Err(Fault::InvalidState("the device has expired"))
                    }
                    DeviceState::Locked => {
                        return Err(Fault::InvalidState(
                            "the device is locked; reset its error count first",
                        ))
                    }
                    DeviceState::Lost | DeviceState::Stolen => {
                        return Err(Fault::InvalidState("the device is reported lost or stolen"))
                    }
                    DeviceState::Cancelled => {
                        return Err(Fault::InvalidState("the device is cancelled"))
                    }
                }
                if Self::current_device(tx, institution_id, customer_id)?.is_some() {
                    return Err(Fault::AlreadyHasDevice);
                }
                if tx
                    .links_of_device(&id)?
                    .iter()
                    .any(|l| l.is_current() && l.customer_id != customer_id)
                {
                    return Err(Fault::InvalidState("the device belongs to another customer"));
                }
                let mut detail = format!("customer {customer_id}");
                if let Some(check) = possession.clone() {
                    match check {
                        Check::Accepted(step) => {
                            d.last_login_step = Some(step);
                            d.error_count = 0;
                            tx.put_device(&d)?;
                            detail.push_str(", possession proven");
                        }
                        _ => return Err(Fault::PossessionNotProven),
                    }
                }
                tx.put_link(&Link {
                    link_id: 0,
                    institution_id: institution_id.into(),
                    customer_id: customer_id.into(),
                    device_id: id.clone(),
                    state: LinkState::Active,
                    since: now,
                    ended: None,
                    mac: String::new(),
                })?;
                Ok(((), "ok".into(), detail.clone()))
            },
        )
    }

    /// Cancels the customer's OTP device at this institution (a mobile OTP is cancelled
    /// for good; a physical one stays usable at other institutions).
    pub fn cancel(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<(), Fault> {
        check_id(customer_id, "the customer id")?;
        self.audited(
            actor,
            institution_id,
            "cancel",
            &format!("customer:{customer_id}"),
            |tx, now| {
                let (mut link, mut d) = Self::current_device(tx, institution_id, customer_id)?
                    .ok_or(Fault::NoDevice)?;
                link.state = LinkState::Cancelled;
                link.ended = Some((now, "cancelled at the customer's request".into()));
                tx.put_link(&link)?;
                if d.kind == DeviceKind::Mobile {
                    d.state = DeviceState::Cancelled;
                    tx.put_device(&d)?;
                }
                Ok(((), "ok".into(), format!("device {}", d.device_id)))
            },
        )
    }

    /// Records a loss or theft: the device is refused at every institution.
    pub fn report_accident(
        &self,
        actor: &str,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
        accident: Accident,
    ) -> Result<(), Fault> {
        let id = checked_device_id(vendor_code, serial_number)?;
        self.audited(actor, institution_id, "report_accident", &format!("device:{id}"), |tx, _| {
            let mut d = Self::device_here(tx, institution_id, &id)?;
            if d.state == DeviceState::Cancelled {
                return Err(Fault::InvalidState("the device is cancelled"));
            }
            d.state = match accident {
                Accident::Lost => DeviceState::Lost,
                Accident::Stolen => DeviceState::Stolen,
            };
            tx.put_device(&d)?;
            Ok(((), "ok".into(), format!("{accident:?}").to_lowercase()))
        })
    }

    /// Recovers a device reported lost or stolen (at a branch, the customer present):
    /// every institution that uses it accepts it again.
    pub fn recover(
        &self,
        actor: &str,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<(), Fault> {
        let id = checked_device_id(vendor_code, serial_number)?;
        self.audited(actor, institution_id, "recover_accident", &format!("device:{id}"), |tx, _| {
            let mut d = Self::device_here(tx, institution_id, &id)?;
            if !matches!(d.state, DeviceState::Lost | DeviceState::Stolen) {
                return Err(Fault::InvalidState("the device is not reported lost or stolen"));
            }
            d.state = if d.error_count >= self.config.max_errors {
                DeviceState::Locked
            } else {
                DeviceState::Active
            };
            tx.put_device(&d)?;
            Ok(((), "ok".into(), String::new()))
        })
    }

    /// Resets the device's error count (at every institution) and unlocks it.
    pub fn reset_error_count(
        &self,
        actor: &str,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<(), Fault> {
        let id = checked_device_id(vendor_code, serial_number)?;
        self.audited(
            actor,
            institution_id,
            "reset_error_count",
            &format!("device:{id}"),
            |tx, _| {
                let mut d = Self::device_here(tx, institution_id, &id)?;
                let before = d.error_count;
                d.error_count = 0;
                if d.state == DeviceState::Locked {
                    d.state = DeviceState::Active;
                }
                tx.put_device(&d)?;
                Ok(((), "ok".into(), format!("error count {before} -> 0")))
            },
        )
    }

    /// A device's report. The device and its links are read in a transaction; the
    /// history after it (the audit query takes the store on its own).
    fn report(&self, d: OtpDevice, links: Vec<Link>, now: u64) -> Result<DeviceReport, Fault> {
        let history = self.store.audit(&AuditQuery {
            subject: Some(format!("device:{}", d.device_id)),
            limit: 100,
            ..Default::default()
        })?;
        let max = self.config.max_password_attempts;
        Ok(DeviceReport {
            app_password_attempts_left: d
                .unlock
                .as_ref()
                .map(|u| max.saturating_sub(u.unconfirmed)),
            expired: now >= d.valid_until,
            vendor_code: d.vendor_code,
            serial_number: d.serial_number,
            kind: d.kind,
            state: d.state,
            error_count: d.error_count,
            valid_until: d.valid_until,
            links,
            history,
        })
    }

    /// Staff inquiry by device: state, error count, institutions (current and past) and history.
    pub fn device_inquiry(
        &self,
        actor: &str,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<DeviceReport, Fault> {
        let id = checked_device_id(vendor_code, serial_number)?;
        let now = self.now()?;
        let (d, links) = self.audited(
            actor,
            institution_id,
            "device_inquiry",
            &format!("device:{id}"),
            |tx, _| {
                let d = tx.device(&id)?.ok_or(Fault::UnknownDevice)?;
                let links = tx.links_of_device(&id)?;
                Ok(((d, links), "ok".into(), String::new()))
            },
        )?;
        self.report(d, links, now)
    }

    /// Staff inquiry by customer: the customer and their devices at this institution
    /// (current first).
    pub fn customer_inquiry(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<CustomerReport, Fault> {
        check_id(customer_id, "the customer id")?;
        let now = self.now()?;
        let (customer, devices) = self.audited(
            actor,
            institution_id,
            "customer_inquiry",
            &format!("customer:{customer_id}"),
            |tx, _| {
                let customer =
                    tx.customer(institution_id, customer_id)?.ok_or(Fault::UnknownCustomer)?;
                let mut links = tx.links_of_customer(institution_id, customer_id)?;
                links.sort_by_key(|l| {
                    (!l.is_current(), std::cmp::Reverse(l.since), std::cmp::Reverse(l.link_id))
                });
                let mut devices = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for l in links {
                    if seen.insert(l.device_id.clone()) {
                        if let Some(d) = tx.device(&l.device_id)? {
                            let device_links = tx.links_of_device(&d.device_id)?;
                            devices.push((d, device_links));
                        }
                    }
                }
                Ok(((customer, devices), "ok".into(), String::new()))
            },
        )?;
        let devices = devices
            .into_iter()
            .map(|(d, links)| self.report(d, links, now))
            .collect::<Result<_, _>>()?;
        Ok(CustomerReport { customer, devices })
    }

    /// The audit log, newest first.
    pub fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, Fault> {
        Ok(self.store.audit(query)?)
    }

    /// Deletes audit entries older than the retention period; returns how many. The
    /// chain's anchor moves to the newest deleted entry, so the rest still verifies.
    pub fn purge_expired_audit(&self) -> Result<u64, Fault> {
        let before = self.now()?.saturating_sub(self.config.audit_retention);
        self.tx(|tx| Ok(tx.purge_audit(before)?.0))
    }
}
