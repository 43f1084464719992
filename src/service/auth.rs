//! Who calls: the API key in `Authorization: Bearer dotp_…`, checked against the issuer's
//! list on every request (so a revocation holds at once on every instance), and what its
//! role lets it do at the institution in the path.

use axum::http::{header, HeaderMap};

use super::reply::ApiError;
use super::AppState;
use crate::issuer::api_keys::{ApiKey, ApiRole};
use crate::issuer::model::DeskChannel;
use crate::issuer::policy::{Caller, StaffRole};

/// The key presented in `headers`, authenticated (401 if missing, malformed or unknown).
pub async fn key(state: &AppState, headers: &HeaderMap) -> Result<ApiKey, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(ApiError::unauthorized)?
        .to_owned();
    let found = state.run(move |issuer| issuer.authenticate_api_key(&presented)).await?;
    found.ok_or_else(ApiError::unauthorized)
}

/// Whether `key` may act for `institution` at all: its own, or any for the centre.
fn serves(key: &ApiKey, institution: &str) -> Result<(), ApiError> {
    if key.role == ApiRole::Centre || key.institution_id == institution {
        Ok(())
    } else {
        Err(ApiError::forbidden("this API key is not for this institution"))
    }
}

/// A channel call (enrollment, unlock, verification) at `institution`: a channel key of
/// the institution, or the centre's.
pub fn channel(key: &ApiKey, institution: &str) -> Result<(), ApiError> {
    serves(key, institution)?;
    match key.role {
        ApiRole::Channel | ApiRole::Centre => Ok(()),
        ApiRole::Staff => Err(ApiError::forbidden("a staff key cannot call the app channel")),
    }
}

/// A service-desk call at `institution`: the caller as the desk sees it. The employee is
/// `X-Dotp-Actor` (recorded with the key: `clerk-7 via api:<id>`), the channel
/// `X-Dotp-Channel` (default `branch`).
pub fn desk(key: &ApiKey, institution: &str, headers: &HeaderMap) -> Result<Caller, ApiError> {
    serves(key, institution)?;
    let role = match key.role {
        ApiRole::Staff => StaffRole::InstitutionStaff,
        ApiRole::Centre => StaffRole::CentreStaff,
        ApiRole::Channel => {
            return Err(ApiError::forbidden("a channel key cannot call the service desk"))
        }
    };
    let header = |name: &str| -> Result<Option<String>, ApiError> {
        match headers.get(name) {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .map(|s| Some(s.trim().to_owned()))
                .map_err(|_| ApiError::bad_request(format!("{name} must be ASCII"))),
        }
    };
    let actor = match header("x-dotp-actor")? {
        None => key.actor(),
        Some(employee) => {
            let ok = !employee.is_empty()
                && employee.len() <= 32
                && employee
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !ok {
                return Err(ApiError::bad_request(
                    "X-Dotp-Actor must be 1 to 32 letters, digits, '-', '_' or '.'",
                ));
            }
            format!("{employee} via {}", key.actor())
        }
    };
    // The API's names are the channels' names in snake_case (`trading_system`).
    let api_name = |c: &DeskChannel| c.name().replace(' ', "_");
    let channel = match header("x-dotp-channel")? {
        None => DeskChannel::Branch,
        Some(name) => {
            DeskChannel::ALL.into_iter().find(|c| api_name(c) == name).ok_or_else(|| {
                let names: Vec<String> = DeskChannel::ALL.iter().map(api_name).collect();
                ApiError::bad_request(format!("X-Dotp-Channel must be one of {}", names.join(", ")))
            })?
        }
    };
    let mut caller = Caller::branch(&actor).via(channel);
    caller.role = role;
    Ok(caller)
}

/// A call only the centre may make (adding an institution).
pub fn centre(key: &ApiKey) -> Result<(), ApiError> {
    if key.role == ApiRole::Centre {
        Ok(())
    } else {
        Err(ApiError::forbidden("only a centre key may do this"))
    }
}
