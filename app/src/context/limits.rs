//! Rate limits of the server functions: per-address requests, per-account failure slots (with a sign-in's
//! fallback for known addresses), mails per address, and the Turnstile check.

use super::{Services, client_ip, fail, now, reject};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use domain::auth::{limits::Limited, sign_ins};

fn limited(limit: Limited, what: &str, key: &str) -> AppError {
    AppError::Limited {
        retry_after_secs: limit.refuse(what, key),
    }
}

/// Counts one auth request from the client's address; refuses it when the address is over its limit.
///
/// A request whose address is unknown (no socket peer: only when the server is embedded in something that
/// does not give one) is not waved through: all such requests share one allowance.
pub fn limit_ip(services: &Services, endpoint: &str) -> Result<(), AppError> {
    let key = client_ip_key();
    match services.limits.requests_per_ip.hit(&key, now()) {
        Ok(()) => Ok(()),
        Err(limit) => fail(limited(limit, endpoint, &key)),
    }
}

/// The client's address as a limit key: `ip:<address>`, or `ip:unknown` for every request without one.
pub fn client_ip_key() -> String {
    match client_ip() {
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".to_owned(),
    }
}

/// One slot of an account's failure allowance (100 wrong passwords or codes an hour), taken before the slow
/// check it guards, so that a concurrent burst cannot all pass a check made before any failure is recorded.
/// A wrong guess keeps the slot; [`FailureSlot::succeeded`] gives it back.
pub struct FailureSlot {
    key: String,
    at: DateTime<Utc>,
}

impl FailureSlot {
    /// The guarded check passed: the slot was not a failure.
    pub fn succeeded(self, services: &Services) {
        services.limits.failures_per_account.release(&self.key, self.at);
    }
}

/// Takes a slot of `key`'s failure allowance, or refuses (429 with `Retry-After`) when it is used up.
pub fn reserve_failure(services: &Services, key: &str) -> Result<FailureSlot, AppError> {
    try_reserve(services, key).map_err(|limit| reject(limited(limit, "failures_per_account", key)))
}

fn try_reserve(services: &Services, key: &str) -> Result<FailureSlot, Limited> {
    let at = now();
    services.limits.failures_per_account.reserve(key, at)?;
    Ok(FailureSlot {
        key: key.to_owned(),
        at,
    })
}

/// A sign-in's slot: the account's allowance, or, when that is used up and the client's address has
/// signed in to this account in the last 30 days, an allowance of the same size for that address and
/// account alone. So someone guessing from elsewhere cannot lock the owner out from their usual places;
/// the per-address request limits still apply to everyone.
pub async fn reserve_sign_in(services: &Services, email: &str) -> Result<FailureSlot, AppError> {
    let key = account_key(services, email);
    let limit = match try_reserve(services, &key) {
        Ok(slot) => return Ok(slot),
        Err(limit) => limit,
    };
    let known = match client_ip() {
        Some(ip) => sign_ins::address_known(services.landlord(), email, &ip.to_string(), now())
            .await?
            .then_some(ip),
        None => None,
    };
    match known {
        Some(ip) => reserve_failure(services, &format!("{key}|known:{ip}")),
        None => fail(limited(limit, "failures_per_account", &key)),
    }
}

/// The failure-limit key of a sign-in by `email`: a keyed hash of the address as typed (normalized), so
/// the key says nothing when it is logged.
pub fn account_key(services: &Services, email: &str) -> String {
    format!("account:{}", typed_hash(services, &email.trim().to_lowercase()))
}

/// A keyed hash of something a person typed (an address, or a password typed into the address field), for
/// logs and limit keys: the same input gives the same short value on every node, and it cannot be read
/// back without the master key.
pub fn typed_hash(services: &Services, typed: &str) -> String {
    domain::crypto::keyed_hash(services.landlord().keys(), "ferrodesk log hashes v1", typed)
}

/// Counts one message asked for by `email`; refuses once the address has had its share this hour.
pub fn limit_mail(services: &Services, email: &str) -> Result<(), AppError> {
    let key = format!("mail:{}", typed_hash(services, &email.trim().to_lowercase()));
    match services.limits.mails_per_address.hit(&key, now()) {
        Ok(()) => Ok(()),
        Err(limit) => fail(limited(limit, "mails_per_address", &key)),
    }
}

/// Verifies the form's Turnstile token (a no-op when Turnstile is off).
pub async fn turnstile(services: &Services, token: Option<&str>) -> Result<(), AppError> {
    match services.turnstile.verify(token, client_ip()).await {
        Ok(()) => Ok(()),
        Err(error) => fail(AppError::field("turnstile", error.to_string())),
    }
}
