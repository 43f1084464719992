//! `dotp issuer …`: the bank's side from the command line, on the data directory's
//! SQLite database.

use clap::{Args, Subcommand, ValueEnum};
use digital_otp::issuer::model::{AuditEntry, AuditQuery, CustomerKind, Moving, Residency};
use digital_otp::issuer::{Accident, DeviceReport, ImportDevice, NewCustomer, Verdict};
use serde_json::{json, Value};

use crate::context::{err, iso_time, local_time, CliResult, Context, Output};
use crate::{AlgorithmArg, TransactionArgs};

#[derive(Subcommand)]
pub enum IssuerCommand {
    /// Adds (or renames) an institution.
    AddInstitution {
        /// Institution id.
        id: String,
        /// Display name.
        name: String,
    },
    /// Registers a customer.
    AddCustomer {
        /// The institution (its id).
        #[arg(long)]
        institution: String,
        /// The customer's id at the institution.
        #[arg(long)]
        customer: String,
        /// The customer's name.
        #[arg(long)]
        name: String,
        /// Phone number (the SMS code of face-to-face issuance goes there).
        #[arg(long)]
        phone: String,
        /// An individual or a corporate customer.
        #[arg(long, value_enum, default_value = "individual")]
        kind: KindArg,
        /// Whether the customer is resident in the country.
        #[arg(long, value_enum, default_value = "domestic")]
        residency: ResidencyArg,
        /// The real-name number (resident, alien, corporate or business registration
        /// number, hyphens allowed); only its keyed hash is kept, to know the person at
        /// other institutions. `-` reads it from standard input, `@FILE` from a file.
        #[arg(long, value_name = "NUMBER")]
        real_name_number: Option<String>,
    },
    /// Face to face, step 1: sends a 5-digit code to the customer's phone (see sms.log).
    SendSms(Who),
    /// Face to face, step 2: the code the customer shows; prints the app registration code.
    ConfirmSms {
        #[command(flatten)]
        who: Who,
        /// The 5-digit code.
        #[arg(long)]
        sms_code: String,
    },
    /// Non-face-to-face: prints an app registration code after the bank's own verification.
    IssueCode {
        #[command(flatten)]
        who: Who,
        /// The bank's identity-verification reference.
        #[arg(long)]
        reference: String,
    },
    /// Verifies a login code.
    VerifyLogin {
        #[command(flatten)]
        who: Who,
        /// The code the customer gives.
        #[arg(long)]
        code: String,
    },
    /// Verifies a transaction code for exactly this transaction.
    VerifyTransaction {
        #[command(flatten)]
        who: Who,
        /// The code the customer gives.
        #[arg(long)]
        code: String,
        #[command(flatten)]
        transaction: TransactionArgs,
    },
    /// Imports a physical OTP device.
    ImportDevice {
        #[command(flatten)]
        device: DeviceId,
        /// The token's secret in base32; `-` reads it from standard input, `@FILE` from a
        /// file.
        #[arg(long, conflicts_with = "secret_hex")]
        secret: Option<String>,
        /// The token's secret in hexadecimal; `-` or `@FILE` as for --secret.
        #[arg(long)]
        secret_hex: Option<String>,
        /// The token's HMAC hash.
        #[arg(long, value_enum, default_value = "sha1")]
        algorithm: AlgorithmArg,
        /// The token's number of digits (6 to 10).
        #[arg(long, default_value_t = 6)]
        digits: u8,
        /// TOTP period in seconds (default 30); see --hotp.
        #[arg(long, conflicts_with = "hotp")]
        period: Option<u64>,
        /// A counter-based token.
        #[arg(long)]
        hotp: bool,
        /// Validity in days from now.
        #[arg(long, default_value_t = 1095)]
        valid_days: u64,
    },
    /// Registers an OTP device (possibly another institution's) for a customer.
    RegisterDevice {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        device: DeviceId,
        /// A current code proving possession.
        #[arg(long)]
        code: Option<String>,
    },
    /// Cancels the customer's OTP device at this institution.
    Cancel(Who),
    /// Changes the customer's phone number (at the branch): the mobile OTP bound to the old
    /// number is revoked and outstanding registration codes are voided; the customer
    /// registers the app again from the new number.
    ChangePhone {
        #[command(flatten)]
        who: Who,
        /// The new phone number.
        #[arg(long)]
        phone: String,
    },
    /// Reports a device lost or stolen.
    ReportAccident {
        /// The institution (its id).
        #[arg(long)]
        institution: String,
        #[command(flatten)]
        device: DeviceId,
        /// Lost or stolen.
        #[arg(long, value_enum)]
        kind: AccidentArg,
    },
    /// Recovers a device reported lost or stolen.
    Recover {
        /// The institution (its id).
        #[arg(long)]
        institution: String,
        #[command(flatten)]
        device: DeviceId,
    },
    /// Resets a device's error count (at every institution).
    ResetErrors {
        /// The institution (its id).
        #[arg(long)]
        institution: String,
        #[command(flatten)]
        device: DeviceId,
    },
    /// Inquiry by customer.
    Customer(Who),
    /// Inquiry by device.
    Device {
        /// The institution (its id).
        #[arg(long)]
        institution: String,
        #[command(flatten)]
        device: DeviceId,
    },
    /// Checks the audit log's hash chain: reports every rewritten, inserted or deleted
    /// entry (and exits non-zero if there is one).
    VerifyAudit,
    /// Rotates the master key in `issuer.key` (re-seals every row; run again to finish an
    /// interrupted rotation).
    RotateKey,
    /// The HTTP service and its API keys.
    #[command(flatten)]
    Service(crate::serve::ServiceCommand),
    /// The audit log, newest first.
    Audit {
        /// Only this institution's entries.
        #[arg(long)]
        institution: Option<String>,
        /// `customer:ID` or `device:VENDOR:SERIAL`.
        #[arg(long)]
        subject: Option<String>,
        /// Only entries of this action (e.g. verify_login).
        #[arg(long)]
        action: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Args)]
pub struct Who {
    /// The institution (its id).
    #[arg(long)]
    pub institution: String,
    /// The customer's id at the institution.
    #[arg(long)]
    pub customer: String,
}

#[derive(Args)]
pub struct DeviceId {
    /// Vendor code (DOTP for mobile OTPs).
    #[arg(long)]
    pub vendor: String,
    /// Serial number.
    #[arg(long)]
    pub serial: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// A person.
    Individual,
    /// A company.
    Corporation,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ResidencyArg {
    /// Resident.
    Domestic,
    /// Non-resident.
    Foreign,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AccidentArg {
    /// Lost.
    Lost,
    /// Stolen.
    Stolen,
}

fn done(action: &str) -> Output {
    Output::new("ok", json!({ "ok": true, "action": action }))
}

fn audit_json(e: &AuditEntry) -> Value {
    json!({ "id": e.id, "at": e.at, "at_local": iso_time(e.at), "institution": e.institution_id, "actor": e.actor, "action": e.action,
            "subject": e.subject, "outcome": e.outcome, "detail": e.detail })
}

fn device_json(d: &DeviceReport) -> Value {
    json!({
        "vendor": d.vendor_code, "serial": d.serial_number, "kind": format!("{:?}", d.kind).to_lowercase(),
        "state": format!("{:?}", d.state).to_lowercase(), "expired": d.expired, "error_count": d.error_count,
        "app_password_attempts_left": d.app_password_attempts_left, "valid_until": d.valid_until,
        "valid_until_local": iso_time(d.valid_until), "pending_clearance": d.pending_clearance,
        "registrations": d.links.iter().map(|l| json!({
            "institution": l.institution_id, "customer": l.customer_id,
            "state": format!("{:?}", l.state).to_lowercase(), "since": l.since, "since_local": iso_time(l.since),
            "ended": l.ended.as_ref().map(|(at, why)| json!({ "at": at, "at_local": iso_time(*at), "reason": why })),
        })).collect::<Vec<_>>(),
        "history": d.history.iter().map(audit_json).collect::<Vec<_>>(),
    })
}

fn device_text(d: &DeviceReport) -> String {
    let mut t = format!(
        "{}:{} {:?} state={:?}{} errors={} valid until {}",
        d.vendor_code,
        d.serial_number,
        d.kind,
        d.state,
        if d.expired { " (expired)" } else { "" },
        d.error_count,
        local_time(d.valid_until)
    );
    if let Some(left) = d.app_password_attempts_left {
        t.push_str(&format!(" app_password_attempts_left={left}"));
    }
    if !d.pending_clearance.is_empty() {
        t.push_str(&format!(
            "\n  accident report still to clear at {}",
            d.pending_clearance.join(", ")
        ));
    }
    for l in &d.links {
        t.push_str(&format!(
            "\n  {} {} {:?} since {}",
            l.institution_id,
            if l.customer_id.is_empty() {
                "(another institution's customer)"
            } else {
                &l.customer_id
            },
            l.state,
            local_time(l.since)
        ));
        if let Some((_, why)) = &l.ended {
            t.push_str(&format!(" ({why})"));
        }
    }
    t
}

pub fn run(ctx: &Context, command: IssuerCommand) -> CliResult<Output> {
    let bank = ctx.issuer()?;
    let actor = ctx.actor.as_str();
    let e = err("refused");
    Ok(match command {
        IssuerCommand::AddInstitution { id, name } => {
            bank.add_institution(actor, &id, &name).map_err(e)?;
            done("add_institution")
        }
        IssuerCommand::AddCustomer {
            institution,
            customer,
            name,
            phone,
            kind,
            residency,
            real_name_number,
        } => {
            let real_name_number =
                crate::input::sensitive_opt(real_name_number.as_deref(), "--real-name-number")?
                    .map(|n| n.to_string());
            let c = NewCustomer {
                institution_id: institution,
                customer_id: customer,
                name,
                kind: match kind {
                    KindArg::Individual => CustomerKind::Individual,
                    KindArg::Corporation => CustomerKind::Corporation,
                },
                residency: match residency {
                    ResidencyArg::Domestic => Residency::Domestic,
                    ResidencyArg::Foreign => Residency::Foreign,
                },
                phone_number: phone,
                real_name_number,
            };
            bank.register_customer(actor, &c).map_err(e)?;
            done("add_customer")
        }
        IssuerCommand::SendSms(w) => {
            bank.start_face_to_face(actor, &w.institution, &w.customer).map_err(e)?;
            Output::new(
                "verification code sent (see sms.log)",
                json!({ "ok": true, "sms_log": ctx.data_dir.join("sms.log") }),
            )
        }
        IssuerCommand::ConfirmSms { who, sms_code } => {
            let code = bank
                .confirm_face_to_face(actor, &who.institution, &who.customer, &sms_code)
                .map_err(e)?;
            Output::new(code.display(), json!({ "registration_code": code.display() }))
        }
        IssuerCommand::IssueCode { who, reference } => {
            let code = bank
                .issue_non_face_to_face(actor, &who.institution, &who.customer, &reference)
                .map_err(e)?;
            Output::new(code.display(), json!({ "registration_code": code.display() }))
        }
        IssuerCommand::VerifyLogin { who, code } => {
            let ok = bank.verify_login(actor, &who.institution, &who.customer, &code).map_err(e)?
                == Verdict::Accepted;
            Output::verdict(ok)
        }
        IssuerCommand::VerifyTransaction { who, code, transaction } => {
            let tx = transaction.transaction();
            let ok = bank
                .verify_transaction(actor, &who.institution, &who.customer, &code, &tx)
                .map_err(e)?
                == Verdict::Accepted;
            Output::verdict(ok)
        }
        IssuerCommand::ImportDevice {
            device,
            secret,
            secret_hex,
            algorithm,
            digits,
            period,
            hotp,
            valid_days,
        } => {
            let secret = crate::secret_from(secret.as_deref(), secret_hex.as_deref())?
                .ok_or("give --secret or --secret-hex")?;
            let now = crate::unix_now()?;
            bank.import_device(
                actor,
                &ImportDevice {
                    vendor_code: device.vendor,
                    serial_number: device.serial,
                    secret,
                    algorithm: algorithm.into(),
                    digits,
                    moving: if hotp {
                        Moving::Hotp
                    } else {
                        Moving::Totp { period: period.unwrap_or(30) }
                    },
                    valid_until: now.saturating_add(valid_days.saturating_mul(86_400)),
                },
            )
            .map_err(e)?;
            done("import_device")
        }
        IssuerCommand::RegisterDevice { who, device, code } => {
            bank.register_device(
                actor,
                &who.institution,
                &who.customer,
                &device.vendor,
                &device.serial,
                code.as_deref(),
            )
            .map_err(e)?;
            done("register_device")
        }
        IssuerCommand::Cancel(w) => {
            bank.cancel(actor, &w.institution, &w.customer).map_err(e)?;
            done("cancel")
        }
        IssuerCommand::ReportAccident { institution, device, kind } => {
            let accident = match kind {
                AccidentArg::Lost => Accident::Lost,
                AccidentArg::Stolen => Accident::Stolen,
            };
            bank.report_accident(actor, &institution, &device.vendor, &device.serial, accident)
                .map_err(e)?;
            done("report_accident")
        }
        IssuerCommand::ChangePhone { who, phone } => {
            bank.change_phone(actor, &who.institution, &who.customer, &phone).map_err(e)?;
            done("change_phone")
        }
        IssuerCommand::Recover { institution, device } => {
            let pending =
                bank.recover(actor, &institution, &device.vendor, &device.serial).map_err(e)?;
            let text = if pending.is_empty() {
                "cleared: the device is accepted again".to_string()
            } else {
                format!(
                    "cleared here; still refused until cleared at {} (online is enough now)",
                    pending.join(", ")
                )
            };
            Output::new(
                &text,
                json!({ "ok": true, "action": "recover", "pending_clearance": pending }),
            )
        }
        IssuerCommand::ResetErrors { institution, device } => {
            bank.reset_error_count(actor, &institution, &device.vendor, &device.serial)
                .map_err(e)?;
            done("reset_error_count")
        }
        IssuerCommand::Customer(w) => {
            let r = bank.customer_inquiry(actor, &w.institution, &w.customer).map_err(e)?;
            let text = std::iter::once(format!(
                "{} {} {:?} {:?} {}",
                r.customer.institution_id,
                r.customer.customer_id,
                r.customer.kind,
                r.customer.residency,
                r.customer.phone_e164
            ))
            .chain(r.devices.iter().map(device_text))
            .collect::<Vec<_>>()
            .join("\n");
            Output::new(
                text,
                json!({
                    "institution": r.customer.institution_id, "customer": r.customer.customer_id,
                    "kind": format!("{:?}", r.customer.kind).to_lowercase(),
                    "residency": format!("{:?}", r.customer.residency).to_lowercase(),
                    "devices": r.devices.iter().map(device_json).collect::<Vec<_>>(),
                }),
            )
        }
        IssuerCommand::Device { institution, device } => {
            let r = bank
                .device_inquiry(actor, &institution, &device.vendor, &device.serial)
                .map_err(e)?;
            Output::new(device_text(&r), device_json(&r))
        }
        IssuerCommand::VerifyAudit => {
            let check = bank.verify_audit().map_err(e)?;
            if !check.faults.is_empty() {
                let faults: Vec<String> = check.faults.iter().map(ToString::to_string).collect();
                return Err(format!(
                    "the audit log is not whole ({} chained entries checked): {}",
                    check.entries,
                    faults.join("; ")
                ));
            }
            Output::new(
                format!("the audit log is whole: {} chained entries checked", check.entries),
                json!({ "ok": true, "entries": check.entries }),
            )
        }
        IssuerCommand::RotateKey => {
            drop(bank);
            let r = ctx.rotate_master_key()?;
            Output::new(
                format!(
                    "master key rotated to {}: {} rows re-sealed, {} SMS challenges dropped (send again)",
                    r.key_id, r.rows, r.sms_dropped
                ),
                json!({ "ok": true, "key_id": r.key_id, "rows": r.rows, "sms_dropped": r.sms_dropped }),
            )
        }
        IssuerCommand::Service(c) => return crate::serve::run(ctx, bank, c),
        IssuerCommand::Audit { institution, subject, action, limit } => {
            let entries = bank
                .audit(&AuditQuery {
                    institution_id: institution,
                    subject,
                    action,
                    from: None,
                    until: None,
                    limit,
                })
                .map_err(e)?;
            let text = entries
                .iter()
                .map(|e| {
                    format!(
                        "{} {} {} {} {} {} {}",
                        local_time(e.at),
                        e.institution_id,
                        e.actor,
                        e.action,
                        e.subject,
                        e.outcome,
                        e.detail
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Output::new(
                text,
                json!({ "entries": entries.iter().map(audit_json).collect::<Vec<_>>() }),
            )
        }
    })
}
