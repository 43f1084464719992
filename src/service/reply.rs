//! What the service answers when it refuses: one JSON shape, `{"error": code, "message":
//! sentence}`, and one mapping from the issuer's faults to HTTP statuses. Messages are the
//! issuer's sentences, which never carry a code, secret or personal data; store and
//! internal failures answer a fixed sentence (the detail goes to the log, not the caller).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::enrollment::ProtocolError;
use crate::issuer::Fault;

/// A refusal: the status, a stable snake_case code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (`unauthorized`, `unknown_customer`, …).
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// For 429: the seconds to wait (`Retry-After`).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
}

impl ApiError {
    /// A refusal with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401: no key, or not a key of this issuer.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an API key is needed: Authorization: Bearer dotp_…",
        )
    }

    /// 403: the key may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 429: too many requests; try again after `seconds`.
    pub fn too_many(seconds: u64) -> Self {
        let message = format!("too many requests; try again in {seconds} s");
        ApiError {
            retry_after: Some(seconds),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
    }
}

impl From<Fault> for ApiError {
    fn from(f: Fault) -> Self {
        use StatusCode as S;
        let (status, code) = match &f {
            Fault::UnknownInstitution => (S::NOT_FOUND, "unknown_institution"),
            Fault::UnknownCustomer => (S::NOT_FOUND, "unknown_customer"),
            Fault::UnknownDevice => (S::NOT_FOUND, "unknown_device"),
            Fault::NoDevice => (S::NOT_FOUND, "no_device"),
            Fault::NotRegisteredHere => (S::NOT_FOUND, "not_registered_here"),
            Fault::CustomerExists => (S::CONFLICT, "customer_exists"),
            Fault::DeviceExists => (S::CONFLICT, "device_exists"),
            Fault::AlreadyHasDevice => (S::CONFLICT, "already_has_device"),
            Fault::InvalidState(_) => (S::CONFLICT, "invalid_state"),
            Fault::NoVerificationPending => (S::CONFLICT, "no_verification_pending"),
            Fault::NotPermitted(_) => (S::FORBIDDEN, "not_permitted"),
            Fault::NotEligible(_) => (S::UNPROCESSABLE_ENTITY, "not_eligible"),
            Fault::WrongVerificationCode { .. } => {
                (S::UNPROCESSABLE_ENTITY, "wrong_verification_code")
            }
            Fault::PossessionNotProven => (S::UNPROCESSABLE_ENTITY, "possession_not_proven"),
            Fault::MalformedCode(_) | Fault::InvalidInput(_) | Fault::Transaction(_) => {
                (S::BAD_REQUEST, "invalid_input")
            }
            Fault::Sms(_) | Fault::NoSmsGateway => (S::BAD_GATEWAY, "sms_failed"),
            Fault::Store(_) | Fault::MasterKey(_) | Fault::Clock(_) => {
                eprintln!("dotp issuer serve: {f}");
                return Self::new(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the issuer cannot serve now; try again",
                );
            }
            // What a client typed: a phone number, a device id, a registration code.
            Fault::Protocol(
                ProtocolError::PhoneNumber(_)
                | ProtocolError::DeviceId
                | ProtocolError::CodeFormat
                | ProtocolError::CodeCheckDigit,
            ) => (S::BAD_REQUEST, "invalid_input"),
            Fault::Protocol(_) | Fault::Crypto(_) => {
                eprintln!("dotp issuer serve: {f}");
                return Self::new(S::INTERNAL_SERVER_ERROR, "internal", "internal error");
            }
        };
        Self::new(status, code, f.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body { error: self.code, message: &self.message })
            .unwrap_or_else(|_| {
                b"{\"error\":\"internal\",\"message\":\"internal error\"}".to_vec()
            });
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A JSON answer with status 200.
pub fn json<T: Serialize>(value: &T) -> Response {
    json_with(StatusCode::OK, value)
}

/// A JSON answer with `status`.
pub fn json_with<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Err(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            .into_response(),
    }
}
