//! The service desk: institutions and customers, other institutions' OTP devices by
//! vendor code and serial number, cancellation, loss and theft reports and their
//! clearing, error-count resets, inquiries and the audit log. Every operation is
//! recorded in the audit log with its actor.

use crate::otp;

use super::attestation::AttestationPolicy;
use super::model::{
    AccidentReport, AuditEntry, AuditQuery, Customer, DeviceKind, DeviceState, Institution, Link,
    LinkState, Moving, OtpDevice,
};
use super::model::{DeskChannel, DeskOperation};
use super::policy::{self, Caller, StaffRole};
use super::store::IssuerTx;
use super::verification::Check;
use super::{
    check_id, checked_device_id, device_id, Accident, CustomerReport, DeviceReport, Fault,
    ImportDevice, Issuer, MOBILE_VENDOR,
};

/// Checks that the institution's channel table and the agent rules allow `op` for
/// `caller`.
pub(super) fn permit(
    tx: &mut dyn IssuerTx,
    caller: &Caller,
    institution_id: &str,
    op: DeskOperation,
    customer: Option<&Customer>,
    device: Option<DeviceKind>,
) -> Result<(), Fault> {
    let inst = tx.institution(institution_id)?.ok_or(Fault::UnknownInstitution)?;
    policy::permit(&inst, caller, op, customer, device)
}

/// The customer whose current registration of the device is at the institution.
fn holder_here(
    tx: &mut dyn IssuerTx,
    institution_id: &str,
    device_id: &str,
) -> Result<Option<Customer>, Fault> {
    for l in tx.links_of_device(device_id)? {
        if l.institution_id == institution_id && l.is_current() {
            return Ok(tx.customer(institution_id, &l.customer_id)?);
        }
    }
    Ok(None)
}

/// An audit detail with the caller's channel and agent appended.
pub(super) fn noted(detail: &str, caller: &Caller) -> String {
    let note = caller.note();
    match (detail.is_empty(), note.is_empty()) {
        (_, true) => detail.to_string(),
        (true, false) => note,
        (false, false) => format!("{detail}; {note}"),
    }
}

/// The institutions with a current registration of the device that have not cleared the
/// accident report yet (sorted, once each).
fn pending_clearance(report: &AccidentReport, links: &[Link]) -> Vec<String> {
    let mut pending: Vec<String> = links
        .iter()
        .filter(|l| l.is_current() && !report.cleared_at.contains(&l.institution_id))
        .map(|l| l.institution_id.clone())
        .collect();
    pending.sort();
    pending.dedup();
    pending
}

/// What the caller may see: `None` for centre staff, else their institution.
fn scope<'a>(caller: &Caller, institution_id: &'a str) -> Option<&'a str> {
    match caller.role {
        StaffRole::CentreStaff => None,
        StaffRole::InstitutionStaff => Some(institution_id),
    }
}

/// Whether two customers (of any institutions) are the same person: by the keyed hash of
/// their real-name numbers when both have one, otherwise by an identical customer id.
fn same_person(a: &Customer, b: &Customer) -> bool {
    match (&a.person, &b.person) {
        (Some(x), Some(y)) => crate::enrollment::same(x.as_bytes(), y.as_bytes()),
        _ => a.customer_id == b.customer_id,
    }
}

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
                        channel_rules: Vec::new(),
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
                accident: None,
                mac: String::new(),
            })?;
            Ok(((), "ok".into(), String::new()))
        })
    }

    /// Registers an OTP device (possibly issued by another institution) for a customer by
    /// vendor code and serial number; with `possession_code`, a current code must verify.
    /// One OTP device per customer per institution; a device registered elsewhere must be
    /// the same person's (by the real-name number, or the same customer id). Audited.
    pub fn register_device(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        customer_id: &str,
        vendor_code: &str,
        serial_number: &str,
        possession_code: Option<&str>,
    ) -> Result<(), Fault> {
        let caller = caller.into();
        caller.check()?;
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
            &caller.actor,
            institution_id,
            "register_device",
            &format!("device:{id}"),
            |tx, now| {
                let customer =
                    tx.customer(institution_id, customer_id)?.ok_or(Fault::UnknownCustomer)?;
                let mut d = tx.device(&id)?.ok_or(Fault::UnknownDevice)?;
                let op = DeskOperation::RegisterDevice;
                permit(tx, &caller, institution_id, op, Some(&customer), Some(d.kind))?;
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
                for l in tx.links_of_device(&id)? {
                    if !l.is_current() {
                        continue;
                    }
                    let other = tx.customer(&l.institution_id, &l.customer_id)?;
                    let same = l.institution_id != institution_id
                        && other.is_some_and(|o| same_person(&o, &customer));
                    if !same {
                        return Err(Fault::InvalidState("the device belongs to another person"));
                    }
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
                Ok(((), "ok".into(), noted(&detail, &caller)))
            },
        )
    }

    /// Cancels the customer's OTP device at this institution (a mobile OTP is cancelled
    /// for good; a physical one stays usable at other institutions). Audited.
    pub fn cancel(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<(), Fault> {
        let caller = caller.into();
        caller.check()?;
        check_id(customer_id, "the customer id")?;
        self.audited(
            &caller.actor,
            institution_id,
            "cancel",
            &format!("customer:{customer_id}"),
            |tx, now| {
                let customer = tx.customer(institution_id, customer_id)?;
                let (mut link, mut d) = Self::current_device(tx, institution_id, customer_id)?
                    .ok_or(Fault::NoDevice)?;
                let op = DeskOperation::Cancel;
                permit(tx, &caller, institution_id, op, customer.as_ref(), Some(d.kind))?;
                link.state = LinkState::Cancelled;
                link.ended = Some((now, "cancelled at the customer's request".into()));
                tx.put_link(&link)?;
                if d.kind == DeviceKind::Mobile {
                    d.state = DeviceState::Cancelled;
                    tx.put_device(&d)?;
                }
                Ok(((), "ok".into(), noted(&format!("device {}", d.device_id), &caller)))
            },
        )
    }

    /// Records a loss or theft: the device is refused at every institution until each
    /// institution with a current registration has cleared the report ([`Self::recover`]).
    /// Through any channel unless the institution's table says otherwise. Audited.
    pub fn report_accident(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
        accident: Accident,
    ) -> Result<(), Fault> {
        let caller = caller.into();
        caller.check()?;
        let id = checked_device_id(vendor_code, serial_number)?;
        let subject = format!("device:{id}");
        self.audited(&caller.actor, institution_id, "report_accident", &subject, |tx, now| {
            let mut d = Self::device_here(tx, institution_id, &id)?;
            let holder = holder_here(tx, institution_id, &id)?;
            let op = DeskOperation::ReportAccident;
            permit(tx, &caller, institution_id, op, holder.as_ref(), Some(d.kind))?;
            if d.state == DeviceState::Cancelled {
                return Err(Fault::InvalidState("the device is cancelled"));
            }
            d.state = match accident {
                Accident::Lost => DeviceState::Lost,
                Accident::Stolen => DeviceState::Stolen,
            };
            d.accident = Some(AccidentReport { reported_at: now, ..Default::default() });
            tx.put_device(&d)?;
            Ok(((), "ok".into(), noted(&format!("{accident:?}").to_lowercase(), &caller)))
        })
    }

    /// Clears a loss or theft report at this institution. The first clearing is done in
    /// person at a branch; after it, the other institutions may clear it online. The
    /// device is accepted again once every institution with a current registration has
    /// cleared it; until then it stays refused everywhere. Returns the institutions that
    /// still have to clear it (empty: the device is usable again). Audited.
    pub fn recover(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<Vec<String>, Fault> {
        let caller = caller.into();
        caller.check()?;
        let id = checked_device_id(vendor_code, serial_number)?;
        let subject = format!("device:{id}");
        self.audited(&caller.actor, institution_id, "recover_accident", &subject, |tx, _| {
            let mut d = Self::device_here(tx, institution_id, &id)?;
            let holder = holder_here(tx, institution_id, &id)?;
            let op = DeskOperation::ClearAccident;
            permit(tx, &caller, institution_id, op, holder.as_ref(), Some(d.kind))?;
            if !matches!(d.state, DeviceState::Lost | DeviceState::Stolen) {
                return Err(Fault::InvalidState("the device is not reported lost or stolen"));
            }
            let in_person = caller.channel == DeskChannel::Branch;
            let mut report = d.accident.clone().unwrap_or_default();
            if !in_person && !report.cleared_in_person {
                return Err(Fault::NotPermitted(
                    "the first clearing of a loss or theft report is done in person at a branch"
                        .into(),
                ));
            }
            report.cleared_in_person |= in_person;
            if !report.cleared_at.iter().any(|i| i == institution_id) {
                report.cleared_at.push(institution_id.into());
            }
            let pending = pending_clearance(&report, &tx.links_of_device(&id)?);
            let detail = if pending.is_empty() {
                d.state = if d.error_count >= self.config.max_errors {
                    DeviceState::Locked
                } else {
                    DeviceState::Active
                };
                d.accident = None;
                "cleared everywhere".to_string()
            } else {
                d.accident = Some(report);
                format!("still to clear at {}", pending.join(", "))
            };
            tx.put_device(&d)?;
            Ok((pending.clone(), "ok".into(), noted(&detail, &caller)))
        })
    }

    /// Resets the device's error count (at every institution) and unlocks it. At a branch
    /// unless the institution's channel table says otherwise. Audited.
    pub fn reset_error_count(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<(), Fault> {
        let caller = caller.into();
        caller.check()?;
        let id = checked_device_id(vendor_code, serial_number)?;
        self.audited(
            &caller.actor,
            institution_id,
            "reset_error_count",
            &format!("device:{id}"),
            |tx, _| {
                let mut d = Self::device_here(tx, institution_id, &id)?;
                let holder = holder_here(tx, institution_id, &id)?;
                let op = DeskOperation::ResetErrorCount;
                permit(tx, &caller, institution_id, op, holder.as_ref(), Some(d.kind))?;
                let before = d.error_count;
                d.error_count = 0;
                if d.state == DeviceState::Locked {
                    d.state = DeviceState::Active;
                }
                tx.put_device(&d)?;
                Ok(((), "ok".into(), noted(&format!("error count {before} -> 0"), &caller)))
            },
        )
    }

    /// The audit entries `query` selects, as `scope` may see them: all of them (`None`:
    /// centre staff), or only the institution's own and the centre-wide ones.
    fn scoped_audit(
        &self,
        scope: Option<&str>,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, Fault> {
        let Some(own) = scope else { return Ok(self.store.audit(query)?) };
        let mut entries = Vec::new();
        for institution in [own, ""] {
            if query.institution_id.as_ref().is_none_or(|i| i == institution) {
                let q = AuditQuery { institution_id: Some(institution.into()), ..query.clone() };
                entries.extend(self.store.audit(&q)?);
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.id));
        entries.truncate(query.effective_limit());
        Ok(entries)
    }

    /// A device's report as `scope` may see it (`None`: everything). The device and its
    /// links are read in a transaction; the history after it (the audit query takes the
    /// store on its own). Another institution's registrations show no customer.
    fn report(
        &self,
        d: OtpDevice,
        mut links: Vec<Link>,
        now: u64,
        scope: Option<&str>,
    ) -> Result<DeviceReport, Fault> {
        let history = self.scoped_audit(
            scope,
            &AuditQuery {
                subject: Some(format!("device:{}", d.device_id)),
                limit: 100,
                ..Default::default()
            },
        )?;
        if let Some(own) = scope {
            for l in links.iter_mut().filter(|l| l.institution_id != own) {
                l.customer_id.clear();
            }
        }
        let pending_clearance = match &d.accident {
            Some(a) if matches!(d.state, DeviceState::Lost | DeviceState::Stolen) => {
                pending_clearance(a, &links)
            }
            _ => Vec::new(),
        };
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
            pending_clearance,
            links,
            history,
        })
    }

    /// Staff inquiry by device: state, error count, institutions (current and past) and
    /// history. Institution staff see their own registrations in full, other institutions'
    /// without the customer, and the history of their institution and the centre; centre
    /// staff see everything. Audited.
    pub fn device_inquiry(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<DeviceReport, Fault> {
        let caller = caller.into();
        caller.check()?;
        let id = checked_device_id(vendor_code, serial_number)?;
        let now = self.now()?;
        let (d, links) = self.audited(
            &caller.actor,
            institution_id,
            "device_inquiry",
            &format!("device:{id}"),
            |tx, _| {
                let d = tx.device(&id)?.ok_or(Fault::UnknownDevice)?;
                let holder = holder_here(tx, institution_id, &id)?;
                let op = DeskOperation::Inquiry;
                permit(tx, &caller, institution_id, op, holder.as_ref(), Some(d.kind))?;
                let links = tx.links_of_device(&id)?;
                Ok(((d, links), "ok".into(), noted("", &caller)))
            },
        )?;
        self.report(d, links, now, scope(&caller, institution_id))
    }

    /// Staff inquiry by customer: the customer and their devices at this institution
    /// (current first), each device as [`Self::device_inquiry`] shows it. Audited.
    pub fn customer_inquiry(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<CustomerReport, Fault> {
        let caller = caller.into();
        caller.check()?;
        check_id(customer_id, "the customer id")?;
        let now = self.now()?;
        let (customer, devices) = self.audited(
            &caller.actor,
            institution_id,
            "customer_inquiry",
            &format!("customer:{customer_id}"),
            |tx, _| {
                let customer =
                    tx.customer(institution_id, customer_id)?.ok_or(Fault::UnknownCustomer)?;
                let op = DeskOperation::Inquiry;
                permit(tx, &caller, institution_id, op, Some(&customer), None)?;
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
                Ok(((customer, devices), "ok".into(), noted("", &caller)))
            },
        )?;
        let scope = scope(&caller, institution_id);
        let devices = devices
            .into_iter()
            .map(|(d, links)| self.report(d, links, now, scope))
            .collect::<Result<_, _>>()?;
        Ok(CustomerReport { customer, devices })
    }

    /// The whole audit log, newest first: the operator's view (whoever holds the
    /// database). Staff use [`Self::audit_for`].
    pub fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, Fault> {
        Ok(self.store.audit(query)?)
    }

    /// The audit log as a staff member may see it, newest first: institution staff their
    /// institution's entries and the centre-wide ones (a filter naming another
    /// institution is refused); centre staff everything. Audited.
    pub fn audit_for(
        &self,
        caller: impl Into<Caller>,
        institution_id: &str,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, Fault> {
        let caller = caller.into();
        caller.check()?;
        let scope = scope(&caller, institution_id);
        self.audited(&caller.actor, institution_id, "audit_query", "audit", |tx, _| {
            permit(tx, &caller, institution_id, DeskOperation::Inquiry, None, None)?;
            if let (Some(own), Some(asked)) = (scope, &query.institution_id) {
                if asked != own && !asked.is_empty() {
                    return Err(Fault::NotPermitted(
                        "institution staff see only their institution's audit entries".into(),
                    ));
                }
            }
            Ok(((), "ok".into(), noted("", &caller)))
        })?;
        self.scoped_audit(scope, query)
    }

    /// Deletes audit entries older than the retention period; returns how many. The
    /// chain's anchor moves to the newest deleted entry, so the rest still verifies.
    pub fn purge_expired_audit(&self) -> Result<u64, Fault> {
        let before = self.now()?.saturating_sub(self.config.audit_retention);
        self.tx(|tx| Ok(tx.purge_audit(before)?.0))
    }
}
