//! Who is signed in on this request (read once per request), and signing in and out on this session: a
//! new sign-in's session, a renewed session id, the pending second step of a sign-in.

use super::{ClientInfo, PENDING, PORTAL, SIGN_IN, Services, fail, internal, now, services, session};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use domain::auth::{
    accounts::{self, Account, MembershipOf},
    sign_ins::{self, SignIn},
};
use leptos::prelude::use_context;
use std::sync::Arc;
use tower_sessions::{Expiry, Session};

/// The signed-in person of this request.
#[derive(Clone, Debug)]
pub struct Current {
    pub account: Account,
    pub sign_in: SignIn,
    /// The account's active workspaces, read with the sign-in.
    pub memberships: Vec<MembershipOf>,
}

/// What one request has learned about its caller: a page's header and its content both ask who is signed in
/// and in which workspaces, and the landlord answers once. Provided fresh to every request; signing in or
/// out empties it.
#[derive(Clone, Default)]
pub struct RequestCache(Arc<std::sync::Mutex<CacheState>>);

#[derive(Default)]
struct CacheState {
    current: Option<Option<Current>>,
    memberships: Option<(i64, Vec<MembershipOf>)>,
}

impl RequestCache {
    fn with<T>(f: impl FnOnce(&mut CacheState) -> T) -> Option<T> {
        use_context::<RequestCache>().map(|cache| f(&mut cache.0.lock().unwrap_or_else(|e| e.into_inner())))
    }

    fn clear() {
        RequestCache::with(|state| *state = CacheState::default());
    }
}

/// The signed-in person, if any. A session whose sign-in has ended (signed out elsewhere, expired,
/// account suspended) is emptied.
pub async fn current() -> Result<Option<Current>, AppError> {
    if let Some(Some(known)) = RequestCache::with(|state| state.current.clone()) {
        return Ok(known);
    }
    let found = current_in(&services()?, &session().await?).await?;
    RequestCache::with(|state| {
        state.current = Some(found.clone());
        if let Some(current) = &found {
            state.memberships = Some((current.account.id, current.memberships.clone()));
        }
    });
    Ok(found)
}

/// The workspaces `account_id` belongs to (once per request).
pub async fn memberships(services: &Services, account_id: i64) -> Result<Vec<MembershipOf>, AppError> {
    if let Some(Some(known)) = RequestCache::with(|state| {
        state
            .memberships
            .as_ref()
            .filter(|(id, _)| *id == account_id)
            .map(|(_, m)| m.clone())
    }) {
        return Ok(known);
    }
    let found = accounts::memberships(services.landlord(), account_id).await?;
    RequestCache::with(|state| state.memberships = Some((account_id, found.clone())));
    Ok(found)
}

/// [`current`] for a handler outside Leptos, which has the services and the session in hand.
///
/// The sign-in is found by the cookie's session id (its row names the session it was attached to), so a
/// signed-in request does not read the session's data: one query brings the sign-in, its account and the
/// account's workspaces. A sign-in that has ended is deleted with its session there.
pub async fn current_in(services: &Services, session: &Session) -> Result<Option<Current>, AppError> {
    let Some(session_id) = session.id() else {
        return Ok(None);
    };
    let checked = sign_ins::check_session(
        services.landlord(),
        &session_id.to_string(),
        services.session_policy,
        now(),
    )
    .await?;
    Ok(checked.map(|checked| Current {
        account: checked.account,
        sign_in: checked.sign_in,
        memberships: checked.memberships,
    }))
}

/// The signed-in person, or 401.
pub async fn require() -> Result<Current, AppError> {
    match current().await? {
        Some(current) => Ok(current),
        None => fail(AppError::Unauthorized),
    }
}

/// Signs `account` in on this session: a new session id (the old one is deleted, so a planted or
/// pre-sign-in id is worthless), a `sign_ins` row, and a cookie that lasts no longer than the sign-in.
pub async fn begin(account: &Account, how: &str) -> Result<(), AppError> {
    let services = services()?;
    let client = ClientInfo::of_request();
    let id = sign_ins::start(services.landlord(), account.id, client.device(), now()).await?;
    let session_id = carry(&services, SIGN_IN, &id).await?;
    if let Some(session_id) = session_id {
        sign_ins::attach_session(services.landlord(), &id, &session_id).await?;
    }
    tracing::info!(event = "sign_in_succeeded", account = account.id, method = how, ip = ?client.ip, "signed in");
    Ok(())
}

/// Makes this session carry a new sign-in (`key` = [`SIGN_IN`] or [`PORTAL`], `id` its row): whatever sign-in
/// the session held ends, the session gets a new id (so a planted or pre-sign-in id is worthless) and holds
/// only the new sign-in, and its cookie lasts no longer than the sign-in. Returns the session's new id.
pub(super) async fn carry(services: &Services, key: &str, id: &str) -> Result<Option<String>, AppError> {
    let session = session().await?;
    if let Some(old) = session.get::<String>(SIGN_IN).await.map_err(internal)? {
        sign_ins::end(services.landlord(), &old).await?;
    }
    if let Some(old) = session.get::<String>(PORTAL).await.map_err(internal)? {
        domain::auth::portal::end(services.landlord(), &old).await?;
    }
    session.cycle_id().await.map_err(internal)?;
    session.clear().await;
    RequestCache::clear();
    session.insert(key, id).await.map_err(internal)?;
    let end = now() + services.session_policy.absolute;
    let end = tower_sessions::cookie::time::OffsetDateTime::from_unix_timestamp(end.timestamp()).map_err(internal)?;
    session.set_expiry(Some(Expiry::AtDateTime(end)));
    session.save().await.map_err(internal)?;
    Ok(session.id().map(|id| id.to_string()))
}

/// Gives this signed-in session a new id and keeps its sign-in, after the person re-authenticated (to change
/// their password or address): the old id stops working at once (ASVS 7.2.4).
pub async fn renew_session_id(services: &Services, sign_in_id: &str) -> Result<(), AppError> {
    let session = session().await?;
    session.cycle_id().await.map_err(internal)?;
    session.save().await.map_err(internal)?;
    if let Some(id) = session.id() {
        sign_ins::attach_session(services.landlord(), sign_in_id, &id.to_string()).await?;
    }
    Ok(())
}

/// Ends this session's sign-in and deletes the session.
pub async fn end() -> Result<(), AppError> {
    let services = services()?;
    let session = session().await?;
    if let Some(id) = session.get::<String>(SIGN_IN).await.map_err(internal)? {
        sign_ins::end(services.landlord(), &id).await?;
    }
    session.flush().await.map_err(internal)?;
    RequestCache::clear();
    Ok(())
}

/// A password-checked account awaiting its emailed code, on this (not yet signed-in) session.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub account_id: i64,
    pub at: DateTime<Utc>,
    pub next: Option<String>,
}

pub async fn set_pending(pending: &Pending) -> Result<(), AppError> {
    let session = session().await?;
    session.cycle_id().await.map_err(internal)?;
    session.clear().await;
    session.insert(PENDING, pending).await.map_err(internal)
}

/// The pending second step, if it is younger than a code's lifetime.
pub async fn pending() -> Result<Option<Pending>, AppError> {
    let session = session().await?;
    let pending: Option<Pending> = session.get(PENDING).await.map_err(internal)?;
    Ok(pending.filter(|p| now() - p.at < domain::auth::tokens::LIFETIME))
}
