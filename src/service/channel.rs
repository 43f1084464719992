//! The app channel: health, the enrollment and unlock messages (opaque JSON the SDK
//! writes and reads), and the verification of login and transaction codes.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::reply::{json, ApiError};
use super::{auth, parse, AppState, Params};
use crate::issuer::Verdict;
use crate::transaction::Transaction;

/// `GET /healthz`: the process serves.
pub async fn healthz() -> Response {
    json(&serde_json::json!({ "status": "alive" }))
}

/// `GET /readyz`: the database answers (503 otherwise).
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.run(move |issuer| issuer.api_keys().map(|_| ())).await {
        Ok(()) => json(&serde_json::json!({ "status": "ready" })),
        Err(e) => e.into_response(),
    }
}

fn opaque(answer: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, answer).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `POST …/registration`: one registration message (request or confirmation) in, the
/// answer out. A refusal is an answer the SDK reads, so this is 200 whenever the key may
/// call it; 429 past the limit of requests per customer's code or per device.
/// State-changing.
pub async fn registration(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = auth::key(&state, &headers).await?;
    let institution = params.get("institution").to_owned();
    auth::channel(&key, &institution)?;
    state.limits.key(&key.key_id)?;
    // A request names the customer's code (its lookup) and the device (its binding); a
    // confirmation answers an attempt already counted, and a malformed message is the
    // issuer's to refuse and audit.
    if let Ok(crate::enrollment::serving::Incoming::Request(request)) =
        crate::enrollment::serving::parse_incoming(&body)
    {
        state.limits.registration(&institution, &request.lookup, &request.device_binding)?;
    }
    let answer = state
        .run(move |issuer| {
            Ok(issuer.handle_registration_for(&key.actor(), Some(&institution), &body))
        })
        .await?;
    Ok(opaque(answer))
}

/// `POST …/unlock`: an unlock request in, the bank's evaluation (or refusal) out; 429 past
/// the per-device limit. State-changing (the bank counts the guess).
pub async fn unlock(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = auth::key(&state, &headers).await?;
    let institution = params.get("institution").to_owned();
    auth::channel(&key, &institution)?;
    state.limits.key(&key.key_id)?;
    // Per device: the request names its credential (a malformed one is the issuer's to
    // refuse and audit).
    if let Ok(request) = crate::enrollment::unlock::Request::parse(&body) {
        state.limits.device(&institution, &request.serial_number)?;
    }
    let answer = state
        .run(move |issuer| Ok(issuer.handle_unlock_for(&key.actor(), Some(&institution), &body)))
        .await?;
    Ok(opaque(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginCheck {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransactionCheck {
    code: String,
    transaction: TransactionBody,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransactionBody {
    amount_minor: u64,
    currency: String,
    payee_account: String,
    payee_name: String,
    #[serde(default)]
    memo: Option<String>,
}

#[derive(Serialize)]
struct VerdictBody {
    verdict: &'static str,
}

fn verdict(v: Verdict) -> Response {
    json(&VerdictBody {
        verdict: match v {
            Verdict::Accepted => "accepted",
            Verdict::Rejected => "rejected",
        },
    })
}

/// The key, checked for the channel at the path's institution, and the limits counted.
async fn verifier(
    state: &AppState,
    params: &Params,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let key = auth::key(state, headers).await?;
    let (institution, customer) = (params.get("institution"), params.get("customer"));
    auth::channel(&key, institution)?;
    state.limits.key(&key.key_id)?;
    state.limits.customer(institution, customer)?;
    Ok(key.actor())
}

/// `POST …/login-verifications`: `{"code"}` → `{"verdict": "accepted" | "rejected"}`. A
/// malformed code is 400 and costs nothing. State-changing (counts, replay).
pub async fn verify_login(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let actor = verifier(&state, &params, &headers).await?;
    let check: LoginCheck = parse(&body)?;
    let (i, c) = (params.get("institution").to_owned(), params.get("customer").to_owned());
    Ok(verdict(state.run(move |issuer| issuer.verify_login(&actor, &i, &c, &check.code)).await?))
}

/// `POST …/transaction-verifications`: `{"code", "transaction"}` → the verdict for
/// exactly this transaction. State-changing.
pub async fn verify_transaction(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let actor = verifier(&state, &params, &headers).await?;
    let check: TransactionCheck = parse(&body)?;
    let t = check.transaction;
    let transaction = Transaction {
        amount_minor: t.amount_minor,
        currency: t.currency,
        payee_account: t.payee_account,
        payee_name: t.payee_name,
        memo: t.memo,
    };
    let (i, c) = (params.get("institution").to_owned(), params.get("customer").to_owned());
    Ok(verdict(
        state
            .run(move |issuer| issuer.verify_transaction(&actor, &i, &c, &check.code, &transaction))
            .await?,
    ))
}
