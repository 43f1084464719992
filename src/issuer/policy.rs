//! Who may do what, and how: the channel a service-desk operation comes through (a
//! branch visit, the phone, internet banking, a trading system, the mobile web), the
//! representative acting for a customer, and the staff role that decides what an inquiry
//! shows. Each institution has its own table of which operation each channel may perform
//! (the IBK manual's availability table is the default); a few rules hold whatever the
//! table says:
//! - a representative (agent) acts only at a branch, with a proof of authority (a power of
//!   attorney), and only for a corporation's physical OTP: a mobile OTP is never issued,
//!   cancelled or otherwise handled through an agent;
//! - the first clearing of a loss or theft report is done in person at a branch; the other
//!   institutions may then clear it online (`desk::recover`).

use super::error::Fault;
use super::model::{Customer, CustomerKind, DeviceKind, Institution};
use super::{check_id, Issuer};

pub use super::model::{ChannelRule, DeskChannel, DeskOperation};

/// A representative acting for a customer, with the proof of their authority.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct Agent {
    /// The representative's name (personal data: recorded in the audit log, never in
    /// errors).
    pub name: String,
    /// The reference of the proof of authority (a power of attorney).
    pub proof: String,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").field("name", &"<redacted>").field("proof", &self.proof).finish()
    }
}

/// What the asking staff member may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum StaffRole {
    /// An institution's own staff: their institution's registrations in full, other
    /// institutions' without the customer, history of their institution and the centre.
    #[default]
    InstitutionStaff,
    /// A central OTP centre's staff: everything.
    CentreStaff,
}

/// Who asks, through which channel, for whom: the context of a service-desk call. A bare
/// actor id (`"clerk-7"`) is a branch employee of the institution, the customer present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The employee or channel id recorded in the audit log.
    pub actor: String,
    /// How the request came.
    pub channel: DeskChannel,
    /// The representative acting for the customer, if any.
    pub agent: Option<Agent>,
    /// What the caller may see.
    pub role: StaffRole,
}

impl Caller {
    /// A branch employee, the customer present.
    pub fn branch(actor: &str) -> Self {
        Caller {
            actor: actor.into(),
            channel: DeskChannel::Branch,
            agent: None,
            role: StaffRole::InstitutionStaff,
        }
    }

    /// The same caller through `channel`.
    pub fn via(mut self, channel: DeskChannel) -> Self {
        self.channel = channel;
        self
    }

    /// The same caller with a representative acting for the customer.
    pub fn with_agent(mut self, name: &str, proof: &str) -> Self {
        self.agent = Some(Agent { name: name.into(), proof: proof.into() });
        self
    }

    /// The same caller as a central OTP centre's staff.
    pub fn centre(mut self) -> Self {
        self.role = StaffRole::CentreStaff;
        self
    }

    /// What the audit entry says of the channel and the agent (empty at a branch without
    /// an agent).
    pub(super) fn note(&self) -> String {
        let mut note = String::new();
        if self.channel != DeskChannel::Branch {
            note.push_str("via ");
            note.push_str(self.channel.name());
        }
        if let Some(a) = &self.agent {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!("agent {} (proof {})", a.name.trim(), a.proof.trim()));
        }
        note
    }

    /// Checks the agent's fields (before anything is read).
    pub(super) fn check(&self) -> Result<(), Fault> {
        if let Some(a) = &self.agent {
            let bad = |s: &str| {
                s.trim().is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control)
            };
            if bad(&a.name) || bad(&a.proof) {
                return Err(Fault::InvalidInput(
                    "an agent needs a name and a proof of authority, each 1 to 100 characters"
                        .into(),
                ));
            }
        }
        Ok(())
    }
}

impl From<&str> for Caller {
    fn from(actor: &str) -> Self {
        Caller::branch(actor)
    }
}

impl From<&String> for Caller {
    fn from(actor: &String) -> Self {
        Caller::branch(actor)
    }
}

impl From<String> for Caller {
    fn from(actor: String) -> Self {
        Caller::branch(&actor)
    }
}

impl From<&Caller> for Caller {
    fn from(c: &Caller) -> Self {
        c.clone()
    }
}

/// The channels that may perform `op` at the institution.
pub fn channels(inst: &Institution, op: DeskOperation) -> Vec<DeskChannel> {
    match inst.channel_rules.iter().find(|r| r.operation == op) {
        Some(rule) => rule.channels.clone(),
        None => op.default_channels().to_vec(),
    }
}

/// Whether `caller` may perform `op` at the institution, for this customer and device
/// kind (when known): the institution's channel table, then the fixed agent rules.
pub fn permit(
    inst: &Institution,
    caller: &Caller,
    op: DeskOperation,
    customer: Option<&Customer>,
    device: Option<DeviceKind>,
) -> Result<(), Fault> {
    if !channels(inst, op).contains(&caller.channel) {
        return Err(Fault::NotPermitted(format!(
            "the institution does not allow the {} through the {} channel",
            op.name(),
            caller.channel.name()
        )));
    }
    if caller.agent.is_some() {
        if caller.channel != DeskChannel::Branch {
            return Err(Fault::NotPermitted("an agent acts only at a branch".into()));
        }
        if device == Some(DeviceKind::Mobile) || op == DeskOperation::ChangePhone {
            return Err(Fault::NotPermitted(
                "a mobile OTP is never issued, cancelled or changed through an agent".into(),
            ));
        }
        if !customer.is_some_and(|c| c.kind == CustomerKind::Corporation) {
            return Err(Fault::NotPermitted(
                "an agent may act only for a corporation's physical OTP".into(),
            ));
        }
    }
    Ok(())
}

impl Issuer {
    /// Sets which channels may perform each service-desk operation at the institution (an
    /// operation not listed keeps its default). The agent and in-person rules hold
    /// whatever the table says. Persisted and audited.
    pub fn set_channel_rules(
        &self,
        actor: &str,
        institution_id: &str,
        rules: &[ChannelRule],
    ) -> Result<(), Fault> {
        let mut seen = std::collections::HashSet::new();
        if !rules.iter().all(|r| seen.insert(r.operation)) {
            return Err(Fault::InvalidInput("an operation is listed twice".into()));
        }
        let detail = rules
            .iter()
            .map(|r| {
                let names: Vec<&str> = r.channels.iter().map(|c| c.name()).collect();
                format!("{}: {}", r.operation.name(), names.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ");
        self.audited(
            actor,
            institution_id,
            "set_channel_rules",
            &format!("institution:{institution_id}"),
            |tx, _| {
                let mut inst = tx.institution(institution_id)?.ok_or(Fault::UnknownInstitution)?;
                inst.channel_rules = rules.to_vec();
                tx.put_institution(&inst)?;
                Ok(((), "ok".into(), detail.clone()))
            },
        )
    }

    /// The institution's channel table, every operation listed.
    pub fn channel_rules(&self, institution_id: &str) -> Result<Vec<ChannelRule>, Fault> {
        check_id(institution_id, "the institution id")?;
        let inst =
            self.tx(|tx| tx.institution(institution_id)?.ok_or(Fault::UnknownInstitution))?;
        Ok(DeskOperation::ALL
            .iter()
            .map(|&op| ChannelRule { operation: op, channels: channels(&inst, op) })
            .collect())
    }
}
