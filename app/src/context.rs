//! What server functions share on the server (never compiled to wasm): the services, the request, the
//! signed-in person, the workspace a staff call acts in ([`Staff`]), limits.

use crate::error::AppError;
use chrono::{DateTime, Utc};
use domain::{
    Landlord, TenantRouter,
    auth::{
        accounts::{self, Account, MembershipOf, Role},
        limits::{AuthLimits, Limited, SlidingWindow},
        sign_ins::{self, Device, SessionPolicy, SignIn},
    },
    client_ip::ClientIp,
    turnstile::Turnstile,
};
use http::{HeaderValue, header, request::Parts};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use std::{net::IpAddr, sync::Arc};
use tower_sessions::{Expiry, Session};

/// The session key holding the id of the `sign_ins` row.
const SIGN_IN: &str = "sign_in";
/// The session key holding a password-checked account that still owes its emailed code.
const PENDING: &str = "pending";

/// The server's parts that server functions use, provided to each request's context.
#[derive(Clone)]
pub struct Services {
    pub tenants: TenantRouter,
    pub turnstile: Turnstile,
    pub limits: Arc<AuthLimits>,
    /// The configured public URL, without a trailing slash: links in emails are built from it, never from
    /// the request's Host header.
    pub base_url: String,
    pub session_policy: SessionPolicy,
    /// Where attachments' bytes are kept.
    pub files: Arc<dyn domain::workspace::attachments::BlobStore>,
    pub attachment_limits: domain::workspace::attachments::Limits,
    /// Moves mail from workspaces' outboxes to the job queue in the background.
    pub relayer: domain::workspace::outbox::Relayer,
    /// The public enquiry form's caps.
    pub enquiry_limits: Arc<domain::auth::limits::EnquiryLimits>,
    /// Checks enquiry senders' mail domains; `None` turns the check off.
    pub mx: Option<domain::mx::MxResolver>,
}

impl Services {
    pub fn landlord(&self) -> &Landlord {
        self.tenants.landlord()
    }
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| internal("the services are not in the context"))
}

/// Logs an unexpected failure and gives the person the generic message (the details stay in the log).
pub fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "server function failed");
    reject(AppError::Internal)
}

/// The current request's parts.
fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The client's address, as the server's middleware worked it out (socket peer or trusted proxy).
pub fn client_ip() -> Option<IpAddr> {
    parts().and_then(|p| p.extensions.get::<ClientIp>().map(|ip| ip.0))
}

fn user_agent() -> Option<String> {
    parts().and_then(|p| {
        p.headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// Whether the request is a plain form post from a page without JavaScript.
pub fn wants_html() -> bool {
    parts().is_some_and(|p| {
        p.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Fails with `error` (see [`reject`]).
pub fn fail<T>(error: AppError) -> Result<T, AppError> {
    Err(reject(error))
}

/// Sets the response status for an error. A plain form post keeps its redirect back to the form (with the
/// error in the URL, as Leptos does it), so only script clients see the status; both see `Retry-After`.
pub fn reject(error: AppError) -> AppError {
    if let Some(response) = use_context::<ResponseOptions>() {
        if let AppError::Limited { retry_after_secs } = &error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if !wants_html() {
            response.set_status(error.status());
        }
    }
    error
}

/// Sends the browser to `path` after the server function (a 302 for plain form posts).
pub fn redirect(path: &str) {
    leptos_axum::redirect(path);
}

/// A local path to go to after signing in: only paths on this site, never another host.
///
/// The value is read as a URL relative to the configured public URL and kept only when the result has
/// that origin; anything with a control character, whitespace or a backslash is refused before that
/// (browsers drop tabs and line breaks and read `\` as `/`, so `/\t/evil.example` would be
/// `//evil.example` to them), and so is anything not starting with a single `/`. What comes back is the
/// parsed URL's path, query and fragment, so it can only ever name a page here.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let base = use_context::<Services>()
        .and_then(|services| url::Url::parse(&services.base_url).ok())
        .unwrap_or_else(|| url::Url::parse("http://127.0.0.1/").expect("a valid URL"));
    safe_next_on(&base, next?)
}

fn safe_next_on(base: &url::Url, next: &str) -> Option<String> {
    let hostile = |c: char| c.is_control() || c.is_whitespace() || c == '\\';
    if next.is_empty() || next.len() > 500 || next.chars().any(hostile) {
        return None;
    }
    if !next.starts_with('/') || next.starts_with("//") {
        return None;
    }
    // Percent-decoded once, the value must pass the same test: `/%2F%2Fevil` or `/%5Cevil` are refused
    // rather than trusted to stay encoded through every hop.
    let decoded = percent_decoded(next)?;
    if decoded.starts_with("//") || decoded.chars().any(hostile) {
        return None;
    }
    let joined = base.join(next).ok()?;
    if joined.origin() != base.origin() || joined.cannot_be_a_base() {
        return None;
    }
    let local = &joined[url::Position::BeforePath..];
    (local.starts_with('/') && !local.starts_with("//")).then(|| local.to_owned())
}

/// `value` with its `%XX` escapes decoded; `None` when they do not make UTF-8.
fn percent_decoded(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(Some(hi)), Some(Some(lo))) =
                (bytes.get(i + 1).map(|b| hex(*b)), bytes.get(i + 2).map(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The time now (one place, so handlers agree).
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

fn limited(limit: Limited, what: &str, key: &str) -> AppError {
    let retry_after_secs = limit.retry_after.num_seconds().max(1) as u64;
    tracing::warn!(event = "rate_limited", limit = what, key = ?key, retry_after_secs, "request refused by a rate limit");
    AppError::Limited { retry_after_secs }
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

/// Refuses when `key` (an account or address) has used up `window`; counts nothing.
pub fn check_limit(window: &SlidingWindow, what: &str, key: &str) -> Result<(), AppError> {
    match window.check(key, now()) {
        Ok(()) => Ok(()),
        Err(limit) => fail(limited(limit, what, key)),
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

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| internal(format!("no session layer: {e:?}")))
}

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

/// The signed-in person and their membership of the workspace `slug`, which must grant at least `needed`.
/// Not being a member answers 404, exactly as for a workspace that does not exist; the workspace always
/// comes from the person's own memberships, never from anything else in the request.
pub async fn require_member(slug: &str, needed: Role) -> Result<(Current, MembershipOf), AppError> {
    let Some(current) = current().await? else {
        return fail(AppError::Unauthorized);
    };
    let services = services()?;
    let memberships = memberships(&services, current.account.id).await?;
    member_of(current, memberships, slug, needed)
}

/// A staff member's call in one of their workspaces: who is calling, their membership (the workspace always
/// comes from it, never from anything else in the request), the services, and the workspace's database.
/// What every workspace server function starts with:
/// `let Staff { current, membership, services, ws } = Staff::require(&slug, Role::Agent).await?;`
pub struct Staff {
    pub current: Current,
    pub membership: MembershipOf,
    pub services: Services,
    pub ws: domain::WorkspaceDb,
}

impl Staff {
    /// The caller must be signed in (else 401) and a member of `slug` (else 404, as for a workspace that
    /// does not exist) with at least the role `needed` (else 403); then the workspace's database is opened.
    pub async fn require(slug: &str, needed: Role) -> Result<Staff, AppError> {
        let (current, membership) = require_member(slug, needed).await?;
        let services = services()?;
        let ws = open_workspace(&services, &membership).await?;
        Ok(Staff {
            current,
            membership,
            services,
            ws,
        })
    }
}

/// The database of the workspace `membership` is of, through the tenant router.
pub async fn open_workspace(services: &Services, membership: &MembershipOf) -> Result<domain::WorkspaceDb, AppError> {
    Ok(services
        .tenants
        .open(domain::WorkspaceId::from_row(membership.workspace_id))
        .await?)
}

/// [`require_member`] for a handler outside Leptos.
pub async fn member_in(
    services: &Services,
    session: &Session,
    slug: &str,
    needed: Role,
) -> Result<(Current, MembershipOf), AppError> {
    let Some(current) = current_in(services, session).await? else {
        return fail(AppError::Unauthorized);
    };
    let memberships = current.memberships.clone();
    member_of(current, memberships, slug, needed)
}

fn member_of(
    current: Current,
    memberships: Vec<MembershipOf>,
    slug: &str,
    needed: Role,
) -> Result<(Current, MembershipOf), AppError> {
    let membership = memberships.into_iter().find(|m| m.slug == slug);
    let Some(membership) = membership else {
        tracing::warn!(event = "authorization_denied", account = current.account.id, workspace = ?slug, "not a member");
        return fail(AppError::NotFound);
    };
    if rank(membership.role) < rank(needed) {
        tracing::warn!(event = "authorization_denied", account = current.account.id, workspace = ?slug, role = membership.role.as_str(), needed = needed.as_str(), "role too low");
        return fail(AppError::Forbidden);
    }
    Ok((current, membership))
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Agent => 1,
        Role::Admin => 2,
        Role::Owner => 3,
    }
}

/// Signs `account` in on this session: a new session id (the old one is deleted, so a planted or
/// pre-sign-in id is worthless), a `sign_ins` row, and a cookie that lasts no longer than the sign-in.
pub async fn begin(account: &Account, how: &str) -> Result<(), AppError> {
    let services = services()?;
    let ip = client_ip().map(|ip| ip.to_string());
    let user_agent = user_agent();
    let device = Device {
        ip: ip.as_deref(),
        user_agent: user_agent.as_deref(),
    };
    let id = sign_ins::start(services.landlord(), account.id, device, now()).await?;
    let session_id = carry(&services, SIGN_IN, &id).await?;
    if let Some(session_id) = session_id {
        sign_ins::attach_session(services.landlord(), &id, &session_id).await?;
    }
    tracing::info!(event = "sign_in_succeeded", account = account.id, method = how, ip = ?ip, "signed in");
    Ok(())
}

/// Makes this session carry a new sign-in (`key` = [`SIGN_IN`] or [`PORTAL`], `id` its row): whatever sign-in
/// the session held ends, the session gets a new id (so a planted or pre-sign-in id is worthless) and holds
/// only the new sign-in, and its cookie lasts no longer than the sign-in. Returns the session's new id.
async fn carry(services: &Services, key: &str, id: &str) -> Result<Option<String>, AppError> {
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

/// The session key holding the id of a customer's `portal_sign_ins` row. Staff checks never read it.
const PORTAL: &str = "portal";

/// A customer signed in to a workspace's portal, with what every portal page needs.
#[derive(Clone)]
pub struct PortalCurrent {
    pub workspace: domain::Workspace,
    pub ws: domain::WorkspaceDb,
    pub customer: domain::workspace::customers::Customer,
    pub portal: domain::workspace::portal::PortalSettings,
    pub sign_in_id: String,
}

impl PortalCurrent {
    /// The customer as the author of a change.
    pub fn actor(&self, services: &Services, ip: Option<String>) -> domain::workspace::tickets::Actor {
        domain::workspace::tickets::Actor {
            author: domain::workspace::tickets::Author::Customer {
                customer_id: self.customer.id,
                name: self.customer.name.clone(),
            },
            ip,
            base_url: services.base_url.clone(),
            workspace_slug: self.workspace.slug.clone(),
            workspace_name: self.workspace.name.clone(),
        }
    }
}

/// An active workspace by its slug, for the public pages (portal, enquiry form, ratings); anything else,
/// including a suspended workspace, is `NotFound`.
pub async fn public_workspace(
    services: &Services,
    slug: &str,
) -> Result<(domain::Workspace, domain::WorkspaceDb), AppError> {
    let workspace = match services.landlord().workspace_by_slug(slug).await {
        Ok(found) if found.status == domain::WorkspaceStatus::Active => found,
        Ok(_) | Err(domain::Error::NotFound) => return fail(AppError::NotFound),
        Err(other) => return Err(AppError::from(other)),
    };
    let ws = services.tenants.open(workspace.id).await.map_err(|e| match e {
        domain::Error::Unavailable(_) => reject(AppError::NotFound),
        other => AppError::from(other),
    })?;
    Ok((workspace, ws))
}

/// The customer signed in to the portal of `slug` on this session, if any. A portal sign-in of another
/// workspace counts as none here.
pub async fn portal_in(services: &Services, session: &Session, slug: &str) -> Result<Option<PortalCurrent>, AppError> {
    let Some(id) = session.get::<String>(PORTAL).await.map_err(internal)? else {
        return Ok(None);
    };
    let Some(sign_in) = domain::auth::portal::check(services.landlord(), &id, services.session_policy, now()).await?
    else {
        session.remove::<String>(PORTAL).await.map_err(internal)?;
        return Ok(None);
    };
    let (workspace, ws) = public_workspace(services, slug).await?;
    if workspace.id != sign_in.workspace() {
        return Ok(None);
    }
    let customer = match domain::workspace::customers::get(&ws, sign_in.customer_id).await {
        Ok(customer) => customer,
        Err(domain::Error::NotFound) => return Ok(None),
        Err(other) => return Err(AppError::from(other)),
    };
    let portal = domain::workspace::portal::portal_settings(&ws).await?;
    Ok(Some(PortalCurrent {
        workspace,
        ws,
        customer,
        portal,
        sign_in_id: id,
    }))
}

/// The signed-in customer of the portal of `slug`, or 401.
pub async fn require_portal(slug: &str) -> Result<PortalCurrent, AppError> {
    match portal_in(&services()?, &session().await?, slug).await? {
        Some(found) => Ok(found),
        None => fail(AppError::Unauthorized),
    }
}

/// Signs a customer in to a workspace's portal on this session. Like a staff sign-in it gets a new session
/// id and an empty session: one browser session is one person, staff or customer.
pub async fn begin_portal(workspace: &domain::Workspace, customer_id: i64) -> Result<(), AppError> {
    let services = services()?;
    let ip = client_ip().map(|ip| ip.to_string());
    let user_agent = user_agent();
    let device = Device {
        ip: ip.as_deref(),
        user_agent: user_agent.as_deref(),
    };
    let id = domain::auth::portal::start(services.landlord(), workspace.id, customer_id, device, now()).await?;
    if let Some(session_id) = carry(&services, PORTAL, &id).await? {
        domain::auth::portal::attach_session(services.landlord(), &id, &session_id).await?;
    }
    tracing::info!(event = "portal_sign_in_succeeded", workspace = %workspace.id, customer = customer_id, ip = ?ip, "customer signed in");
    Ok(())
}

/// Ends this session's portal sign-in and deletes the session.
pub async fn end_portal() -> Result<(), AppError> {
    let services = services()?;
    let session = session().await?;
    if let Some(id) = session.get::<String>(PORTAL).await.map_err(internal)? {
        domain::auth::portal::end(services.landlord(), &id).await?;
    }
    session.flush().await.map_err(internal)?;
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

/// Where a signed-in person starts: the path they asked for, their only workspace, or their account page
/// (which lists their workspaces).
pub async fn landing(account: &Account, next: Option<&str>) -> Result<String, AppError> {
    if let Some(next) = safe_next(next) {
        return Ok(next);
    }
    let services = services()?;
    let memberships = accounts::memberships(services.landlord(), account.id).await?;
    Ok(match memberships.as_slice() {
        [only] => format!("/w/{}", only.slug),
        _ => "/account".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::error::FromServerFnError;

    #[test]
    fn an_internal_failure_answers_generically_and_keeps_details_out_of_the_body() {
        let error = AppError::from(domain::Error::Config("connect to db password=hunter2".into()));
        assert_eq!(error, AppError::Internal);
        assert_eq!(error.to_string(), "Something went wrong on our side. Please try again.");
        let body = String::from_utf8(error.ser().to_vec()).unwrap();
        assert!(!body.contains("hunter2"), "{body}");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        let base = url::Url::parse("https://desk.example.com").unwrap();
        assert_eq!(safe_next_on(&base, "/w/acme/team").as_deref(), Some("/w/acme/team"));
        assert_eq!(
            safe_next_on(&base, "/w/acme/tickets?status=open#top").as_deref(),
            Some("/w/acme/tickets?status=open#top")
        );
        assert_eq!(safe_next_on(&base, "/a/../w/acme").as_deref(), Some("/w/acme"));
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/\r\nSet-Cookie: a=b",
            "///evil.example",
            "\\\\evil.example",
            "https:evil.example",
            "javascript:alert(1)",
            "/ /evil.example",
            "",
        ] {
            assert_eq!(safe_next_on(&base, hostile), None, "{hostile:?}");
        }
        assert_eq!(safe_next_on(&base, &format!("/{}", "a".repeat(600))), None, "over-long");
    }
}
