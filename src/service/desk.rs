//! The service desk over HTTP: institutions (centre only), customers, registration codes,
//! phone changes, other institutions' devices, cancellation, loss and theft reports and
//! their clearing, error-count resets, inquiries and the audit log. Every call is the
//! issuer's desk operation for the caller of [`auth::desk`], audited by the issuer.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::reply::{json, json_with, ApiError};
use super::{auth, parse, AppState, Params};
use crate::issuer::model::{AuditEntry, AuditQuery, CustomerKind, Residency};
use crate::issuer::policy::Caller;
use crate::issuer::{Accident, DeviceReport, NewCustomer};

#[derive(Serialize)]
struct Done {
    ok: bool,
}

fn done() -> Response {
    json(&Done { ok: true })
}

/// The desk caller for the path's institution.
async fn caller(
    state: &AppState,
    params: &Params,
    headers: &HeaderMap,
) -> Result<(Caller, String), ApiError> {
    let key = auth::key(state, headers).await?;
    let institution = params.get("institution").to_owned();
    Ok((auth::desk(&key, &institution, headers)?, institution))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInstitution {
    institution: String,
    name: String,
}

/// `POST /v1/institutions`: adds or renames an institution (centre keys only).
/// State-changing.
pub async fn add_institution(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = auth::key(&state, &headers).await?;
    auth::centre(&key)?;
    let n: NewInstitution = parse(&body)?;
    state.run(move |issuer| issuer.add_institution(&key.actor(), &n.institution, &n.name)).await?;
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerBody {
    customer: String,
    name: String,
    phone: String,
    #[serde(default = "individual")]
    kind: CustomerKind,
    #[serde(default = "domestic")]
    residency: Residency,
    #[serde(default)]
    real_name_number: Option<String>,
}

fn individual() -> CustomerKind {
    CustomerKind::Individual
}

fn domestic() -> Residency {
    Residency::Domestic
}

/// `POST …/customers`: registers a customer (201). State-changing.
pub async fn add_customer(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let b: CustomerBody = parse(&body)?;
    let c = NewCustomer {
        institution_id: institution,
        customer_id: b.customer,
        name: b.name,
        kind: b.kind,
        residency: b.residency,
        phone_number: b.phone,
        real_name_number: b.real_name_number,
    };
    state.run(move |issuer| issuer.register_customer(&caller.actor, &c)).await?;
    Ok(json_with(StatusCode::CREATED, &Done { ok: true }))
}

#[derive(Serialize)]
struct AuditView {
    id: u64,
    at: u64,
    institution: String,
    actor: String,
    action: String,
    subject: String,
    outcome: String,
    detail: String,
}

fn audit_view(e: &AuditEntry) -> AuditView {
    AuditView {
        id: e.id,
        at: e.at,
        institution: e.institution_id.clone(),
        actor: e.actor.clone(),
        action: e.action.clone(),
        subject: e.subject.clone(),
        outcome: e.outcome.clone(),
        detail: e.detail.clone(),
    }
}

#[derive(Serialize)]
struct Ended {
    at: u64,
    reason: String,
}

#[derive(Serialize)]
struct RegistrationView {
    institution: String,
    /// Empty for another institution's customer (unless the caller is the centre).
    customer: String,
    state: crate::issuer::model::LinkState,
    since: u64,
    ended: Option<Ended>,
}

#[derive(Serialize)]
struct DeviceView {
    vendor: String,
    serial: String,
    kind: crate::issuer::model::DeviceKind,
    state: crate::issuer::model::DeviceState,
    expired: bool,
    error_count: u32,
    app_password_attempts_left: Option<u32>,
    valid_until: u64,
    pending_clearance: Vec<String>,
    registrations: Vec<RegistrationView>,
    history: Vec<AuditView>,
}

fn device_view(d: &DeviceReport) -> DeviceView {
    DeviceView {
        vendor: d.vendor_code.clone(),
        serial: d.serial_number.clone(),
        kind: d.kind,
        state: d.state,
        expired: d.expired,
        error_count: d.error_count,
        app_password_attempts_left: d.app_password_attempts_left,
        valid_until: d.valid_until,
        pending_clearance: d.pending_clearance.clone(),
        registrations: d
            .links
            .iter()
            .map(|l| RegistrationView {
                institution: l.institution_id.clone(),
                customer: l.customer_id.clone(),
                state: l.state,
                since: l.since,
                ended: l
                    .ended
                    .as_ref()
                    .map(|(at, reason)| Ended { at: *at, reason: reason.clone() }),
            })
            .collect(),
        history: d.history.iter().map(audit_view).collect(),
    }
}

#[derive(Serialize)]
struct CustomerView {
    institution: String,
    customer: String,
    name: String,
    kind: CustomerKind,
    residency: Residency,
    phone: String,
    created_at: u64,
    devices: Vec<DeviceView>,
}

/// `GET …/customers/{customer}`: the inquiry by customer.
pub async fn customer(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let customer = params.get("customer").to_owned();
    let r =
        state.run(move |issuer| issuer.customer_inquiry(caller, &institution, &customer)).await?;
    Ok(json(&CustomerView {
        institution: r.customer.institution_id.clone(),
        customer: r.customer.customer_id.clone(),
        name: r.customer.name.clone(),
        kind: r.customer.kind,
        residency: r.customer.residency,
        phone: r.customer.phone_e164.clone(),
        created_at: r.customer.created_at,
        devices: r.devices.iter().map(device_view).collect(),
    }))
}

/// `POST …/sms-challenge`: face to face, step 1: sends the 5-digit code to the customer's
/// phone (202). State-changing.
pub async fn send_sms(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let customer = params.get("customer").to_owned();
    state
        .run(move |issuer| issuer.start_face_to_face(&caller.actor, &institution, &customer))
        .await?;
    Ok(json_with(StatusCode::ACCEPTED, &Done { ok: true }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    #[serde(default)]
    sms_code: Option<String>,
    #[serde(default)]
    verification_reference: Option<String>,
}

#[derive(Serialize)]
struct CodeView {
    registration_code: String,
}

/// `POST …/registration-codes`: an app registration code (201), face to face with
/// `sms_code` (the code the customer shows) or non-face-to-face with
/// `verification_reference` (the bank's own identity check). State-changing.
pub async fn registration_code(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let customer = params.get("customer").to_owned();
    let r: CodeRequest = parse(&body)?;
    let code = match (r.sms_code, r.verification_reference) {
        (Some(sms), None) => {
            state
                .run(move |issuer| {
                    issuer.confirm_face_to_face(&caller.actor, &institution, &customer, &sms)
                })
                .await?
        }
        (None, Some(reference)) => {
            state
                .run(move |issuer| {
                    issuer.issue_non_face_to_face(
                        &caller.actor,
                        &institution,
                        &customer,
                        &reference,
                    )
                })
                .await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of sms_code and verification_reference",
            ))
        }
    };
    Ok(json_with(StatusCode::CREATED, &CodeView { registration_code: code.display() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    phone: String,
}

/// `PUT …/phone`: changes the customer's phone number; the mobile OTP bound to the old
/// one is revoked. State-changing.
pub async fn change_phone(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let customer = params.get("customer").to_owned();
    let b: PhoneBody = parse(&body)?;
    state.run(move |issuer| issuer.change_phone(caller, &institution, &customer, &b.phone)).await?;
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceBody {
    vendor: String,
    serial: String,
    #[serde(default)]
    possession_code: Option<String>,
}

/// `PUT …/device`: registers an OTP device (possibly another institution's) for the
/// customer. State-changing.
pub async fn register_device(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let customer = params.get("customer").to_owned();
    let b: DeviceBody = parse(&body)?;
    state
        .run(move |issuer| {
            issuer.register_device(
                caller,
                &institution,
                &customer,
                &b.vendor,
                &b.serial,
                b.possession_code.as_deref(),
            )
        })
        .await?;
    Ok(done())
}

/// `DELETE …/device`: cancels the customer's OTP device at this institution.
/// State-changing.
pub async fn cancel(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let customer = params.get("customer").to_owned();
    state.run(move |issuer| issuer.cancel(caller, &institution, &customer)).await?;
    Ok(done())
}

/// The path's device.
fn device_of(params: &Params) -> (String, String) {
    (params.get("vendor").to_owned(), params.get("serial").to_owned())
}

/// `GET …/devices/{vendor}/{serial}`: the inquiry by device, scoped to the caller.
pub async fn device(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let (vendor, serial) = device_of(&params);
    let r = state
        .run(move |issuer| issuer.device_inquiry(caller, &institution, &vendor, &serial))
        .await?;
    Ok(json(&device_view(&r)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum AccidentKind {
    Lost,
    Stolen,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccidentBody {
    kind: AccidentKind,
}

/// `PUT …/accident`: reports the device lost or stolen (refused everywhere from now on).
/// State-changing.
pub async fn report_accident(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let (vendor, serial) = device_of(&params);
    let b: AccidentBody = parse(&body)?;
    let accident = match b.kind {
        AccidentKind::Lost => Accident::Lost,
        AccidentKind::Stolen => Accident::Stolen,
    };
    state
        .run(move |issuer| issuer.report_accident(caller, &institution, &vendor, &serial, accident))
        .await?;
    Ok(done())
}

#[derive(Serialize)]
struct Cleared {
    ok: bool,
    pending_clearance: Vec<String>,
}

/// `DELETE …/accident`: clears the report here; answers the institutions where it is
/// still to be cleared. State-changing.
pub async fn clear_accident(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let (vendor, serial) = device_of(&params);
    let pending =
        state.run(move |issuer| issuer.recover(caller, &institution, &vendor, &serial)).await?;
    Ok(json(&Cleared { ok: true, pending_clearance: pending }))
}

/// `POST …/error-count-reset`: resets the device's count of wrong codes (at every
/// institution). State-changing.
pub async fn reset_errors(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let (vendor, serial) = device_of(&params);
    state
        .run(move |issuer| issuer.reset_error_count(caller, &institution, &vendor, &serial))
        .await?;
    Ok(done())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    subject: Option<String>,
    action: Option<String>,
    from: Option<u64>,
    until: Option<u64>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct AuditList {
    entries: Vec<AuditView>,
}

/// `GET …/audit?subject=&action=&from=&until=&limit=`: the audit log, newest first,
/// scoped to the caller (at most 500 entries).
pub async fn audit(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    query: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (caller, institution) = caller(&state, &params, &headers).await?;
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            "the query takes subject, action, from, until (Unix time) and limit (1 to 500)",
        )
    })?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1 to 500"));
    }
    let query = AuditQuery {
        institution_id: Some(institution.clone()),
        subject: q.subject,
        action: q.action,
        from: q.from,
        until: q.until,
        limit,
    };
    let entries = state.run(move |issuer| issuer.audit_for(caller, &institution, &query)).await?;
    Ok(json(&AuditList { entries: entries.iter().map(audit_view).collect() }))
}
