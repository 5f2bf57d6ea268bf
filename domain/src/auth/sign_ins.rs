//! Signed-in sessions of staff accounts.
//!
//! The cookie session (tower-sessions, in the landlord) carries only the id of a `sign_ins` row; that row is
//! what makes the session signed in. The row names the session it was attached to, so a request finds it by
//! the cookie's session id without reading the session's data ([`check_session`]). Every request checks
//! it: the account must be active, the sign-in younger than the absolute lifetime and used within the idle
//! timeout. Deleting the row (signing out
//! elsewhere, a password reset, suspending the account) therefore ends the session at its very next
//! request, wherever its cookie is. The row also feeds the account page's list of sessions (device, address,
//! last seen), so it is refreshed at most once a minute rather than written on every request.

use super::accounts::{Account, MembershipOf, Role};
use crate::{Landlord, Result, db::Backend, landlord::SessionStore, on_db, on_write};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tower_sessions_core::session::Id;

/// How long a sign-in lasts.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Unused for this long, a sign-in ends.
    pub idle: Duration,
    /// However busy, a sign-in ends this long after the password (or link, or code) was given.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::hours(8),
            absolute: Duration::days(7),
        }
    }
}

impl SessionPolicy {
    /// Whether a sign-in made at `created` and last used at `last_seen` has ended by `now`.
    pub(crate) fn ended(&self, created: DateTime<Utc>, last_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now >= created + self.absolute || now >= last_seen + self.idle
    }
}

/// The two tables of sign-in rows, which live alike: staff sign-ins (`sign_ins`) and customers' portal
/// sign-ins (`portal_sign_ins`, see [`super::portal`]). Each row names its cookie session, is refreshed at
/// most every [`TOUCH_EVERY`], and ends with that cookie session.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rows {
    Staff,
    Portal,
}

impl Rows {
    fn table(self) -> &'static str {
        match self {
            Rows::Staff => "sign_ins",
            Rows::Portal => "portal_sign_ins",
        }
    }

    /// Remembers which cookie session carries the sign-in, so ending the sign-in deletes that record too.
    pub(crate) async fn attach(self, landlord: &Landlord, id: &str, session_id: &str) -> Result<()> {
        let sql = format!("update {} set session_id = $2 where id = $1", self.table());
        let stored = crate::landlord::stored_session_key(session_id);
        on_write!(landlord.db(), conn => sqlx::query(&sql)
            .bind(id)
            .bind(&stored)
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Records a use of the sign-in at `now`, if the last one is older than [`TOUCH_EVERY`].
    pub(crate) async fn touch(
        self,
        landlord: &Landlord,
        id: &str,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if now - last_seen < TOUCH_EVERY {
            return Ok(());
        }
        let sql = format!("update {} set last_seen_at = $2 where id = $1", self.table());
        on_write!(landlord.db(), conn => sqlx::query(&sql)
            .bind(id)
            .bind(now)
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Ends one sign-in and deletes its cookie session. Ending one that is gone already is no error.
    pub(crate) async fn end(self, landlord: &Landlord, id: &str) -> Result<()> {
        let sql = format!("delete from {} where id = $1 returning session_id", self.table());
        let session: Option<Option<String>> =
            on_write!(landlord.db(), conn => sqlx::query_scalar(&sql).bind(id).fetch_optional(conn).await)?;
        delete_sessions(landlord, session.flatten().into_iter()).await
    }

    /// Deletes the sign-ins past either limit with their cookie sessions; returns how many ended.
    pub(crate) async fn purge(self, landlord: &Landlord, policy: SessionPolicy, now: DateTime<Utc>) -> Result<u64> {
        let sql = format!(
            "delete from {} where created_at <= $1 or last_seen_at <= $2 returning session_id",
            self.table()
        );
        let sessions: Vec<Option<String>> = on_write!(landlord.db(), conn => sqlx::query_scalar(&sql)
            .bind(now - policy.absolute)
            .bind(now - policy.idle)
            .fetch_all(conn)
            .await)?;
        let count = sessions.len() as u64;
        delete_sessions(landlord, sessions.into_iter().flatten()).await?;
        Ok(count)
    }
}

/// How stale `last_seen_at` may get before a request refreshes it.
const TOUCH_EVERY: Duration = Duration::seconds(60);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SignIn {
    pub id: String,
    pub account_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

const COLUMNS: &str = "id, account_id, created_at, last_seen_at, ip, user_agent";

/// Where a sign-in comes from, for the account page.
#[derive(Clone, Debug, Default)]
pub struct Device<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

impl Device<'_> {
    /// A user agent is the client's to choose: keep a bounded, printable prefix.
    pub(crate) fn user_agent_prefix(&self) -> Option<String> {
        self.user_agent
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(200).collect())
    }
}

/// A sign-in's id: 128 random bits, hex.
pub(crate) fn new_id() -> String {
    hex::encode(crate::crypto::random_bytes::<16>().as_ref())
}

/// Records a new sign-in and returns its id (128 random bits), for the cookie session to carry.
pub async fn start(landlord: &Landlord, account_id: i64, device: Device<'_>, now: DateTime<Utc>) -> Result<String> {
    let id = new_id();
    let user_agent = device.user_agent_prefix();
    let address = device.ip.map(|ip| address_hash(landlord, ip));
    on_write!(landlord.db(), conn => {
        sqlx::query(
            "insert into sign_ins (id, account_id, created_at, last_seen_at, ip, user_agent) values ($1, $2, $3, $3, $4, $5)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(now)
        .bind(device.ip)
        .bind(&user_agent)
        .execute(&mut *conn)
        .await?;
        if let Some(address) = &address {
            sqlx::query(
                "insert into known_addresses (account_id, address_hash, last_signed_in_at) values ($1, $2, $3)
                 on conflict (account_id, address_hash) do update set last_signed_in_at = excluded.last_signed_in_at",
            )
            .bind(account_id)
            .bind(address)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(id)
}

/// How long a client address an account signed in from stays known.
pub const KNOWN_ADDRESS_DAYS: i64 = 30;

fn address_hash(landlord: &Landlord, ip: &str) -> String {
    crate::crypto::keyed_hash(landlord.keys(), "ferrodesk known addresses v1", ip)
}

/// Whether the account with this address (as typed; matched as stored, lowercased) signed in from client
/// address `ip` in the last [`KNOWN_ADDRESS_DAYS`] days.
pub async fn address_known(landlord: &Landlord, email: &str, ip: &str, now: DateTime<Utc>) -> Result<bool> {
    let found: Option<i64> = on_db!(landlord.db(), pool => sqlx::query_scalar(
        "select k.account_id from known_addresses k join accounts a on a.id = k.account_id
         where a.email = $1 and k.address_hash = $2 and k.last_signed_in_at > $3",
    )
    .bind(email.trim().to_lowercase())
    .bind(address_hash(landlord, ip))
    .bind(now - Duration::days(KNOWN_ADDRESS_DAYS))
    .fetch_optional(pool)
    .await)?;
    Ok(found.is_some())
}

/// Remembers which cookie session carries the sign-in, so ending the sign-in deletes that record too.
pub async fn attach_session(landlord: &Landlord, id: &str, session_id: &str) -> Result<()> {
    Rows::Staff.attach(landlord, id, session_id).await
}

/// The account a sign-in belongs to, if the sign-in is still good at `now`; an expired one is deleted.
pub async fn check(
    landlord: &Landlord,
    id: &str,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<(Account, SignIn)>> {
    Ok(checked(landlord, Key::SignIn(id), policy, now)
        .await?
        .map(|checked| (checked.account, checked.sign_in)))
}

/// A sign-in that is still good, its account and the account's active workspaces.
#[derive(Clone, Debug)]
pub struct Checked {
    pub account: Account,
    pub sign_in: SignIn,
    /// As [`accounts::memberships`](super::accounts::memberships) lists them.
    pub memberships: Vec<MembershipOf>,
}

/// [`check`] for the sign-in that a cookie session carries, with the account's memberships, found by the
/// session's id (the row names its session, see [`attach_session`]) without reading the session's data.
/// The session record must be there and unexpired, as the session store requires when it loads one. A
/// session that carries no staff sign-in (a visitor's, a customer's) finds nothing.
pub async fn check_session(
    landlord: &Landlord,
    session_id: &str,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<Checked>> {
    let stored = crate::landlord::stored_session_key(session_id);
    checked(landlord, Key::Session(&stored), policy, now).await
}

enum Key<'a> {
    SignIn(&'a str),
    Session(&'a str),
}

/// Every signed-in request runs this, and nearly every one needs to know the caller's workspaces, so the
/// sign-in, its account and the memberships come in one query: a row per membership (or one row without a
/// workspace).
async fn checked(
    landlord: &Landlord,
    key: Key<'_>,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<Checked>> {
    let sessions = match landlord.backend() {
        Backend::Sqlite => "tower_sessions",
        Backend::Postgres => "tower_sessions.session",
    };
    let (condition, value) = match &key {
        Key::SignIn(id) => ("s.id = $1".to_owned(), *id),
        Key::Session(id) => (
            format!(
                "s.session_id = $1 and exists (select 1 from {sessions} ts where ts.id = $1 and ts.expiry_date > $2)"
            ),
            *id,
        ),
    };
    let sql = format!(
        "select s.id, s.account_id, s.created_at, s.last_seen_at, s.ip, s.user_agent,
                a.email, a.name, a.email_verified_at, a.disabled_at, a.created_at as account_created_at,
                w.id as workspace_id, w.slug, w.name as workspace_name, m.role, w.require_sign_in_code,
                w.team_version
         from sign_ins s
         left join accounts a on a.id = s.account_id
         left join (memberships m join workspaces w on w.id = m.workspace_id and w.status = 'active')
                on m.account_id = s.account_id
         where {condition}
         order by w.name, w.id"
    );
    // The store's clock, in its own type: the expiry dates are compared as the store compares them.
    let store_now =
        time::OffsetDateTime::from_unix_timestamp_nanos(now.timestamp_nanos_opt().unwrap_or(i64::MAX).into())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let by_session = matches!(key, Key::Session(_));
    let rows: Vec<CheckedRow> = on_db!(landlord.db(), pool => {
        let query = sqlx::query_as(&sql).bind(value);
        let query = if by_session { query.bind(store_now) } else { query };
        query.fetch_all(pool).await
    })?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let sign_in = SignIn {
        id: row.id.clone(),
        account_id: row.account_id,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
        ip: row.ip.clone(),
        user_agent: row.user_agent.clone(),
    };
    let account = match (&row.email, &row.name, row.account_created_at) {
        (Some(email), Some(name), Some(created_at)) if row.disabled_at.is_none() => Some(Account {
            id: sign_in.account_id,
            email: email.clone(),
            name: name.clone(),
            email_verified_at: row.email_verified_at,
            disabled_at: None,
            created_at,
        }),
        _ => None,
    };
    let expired = policy.ended(sign_in.created_at, sign_in.last_seen_at, now);
    let Some(account) = account.filter(|_| !expired) else {
        end(landlord, &sign_in.id).await?;
        return Ok(None);
    };
    Rows::Staff
        .touch(landlord, &sign_in.id, sign_in.last_seen_at, now)
        .await?;
    let memberships = rows
        .into_iter()
        .filter_map(|row| {
            Some(MembershipOf {
                workspace_id: row.workspace_id?,
                slug: row.slug?,
                name: row.workspace_name?,
                role: Role::parse(&row.role?)?,
                require_sign_in_code: row.require_sign_in_code?,
                team_version: row.team_version?,
            })
        })
        .collect();
    Ok(Some(Checked {
        account,
        sign_in,
        memberships,
    }))
}

/// A sign-in with its account's columns (absent if the account is gone).
#[derive(sqlx::FromRow)]
struct CheckedRow {
    id: String,
    account_id: i64,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
    email: Option<String>,
    name: Option<String>,
    email_verified_at: Option<DateTime<Utc>>,
    disabled_at: Option<DateTime<Utc>>,
    account_created_at: Option<DateTime<Utc>>,
    workspace_id: Option<i64>,
    slug: Option<String>,
    workspace_name: Option<String>,
    role: Option<String>,
    require_sign_in_code: Option<bool>,
    team_version: Option<i64>,
}

/// The account's live sign-ins, most recently used first.
pub async fn list(landlord: &Landlord, account_id: i64) -> Result<Vec<SignIn>> {
    let sql = format!("select {COLUMNS} from sign_ins where account_id = $1 order by last_seen_at desc, id");
    Ok(on_db!(landlord.db(), pool => sqlx::query_as(&sql).bind(account_id).fetch_all(pool).await)?)
}

/// Ends one sign-in (and deletes its cookie session). Ending one that is gone already is no error.
pub async fn end(landlord: &Landlord, id: &str) -> Result<()> {
    Rows::Staff.end(landlord, id).await
}

/// Ends one of the account's own sign-ins; someone else's id is `NotFound`.
pub async fn end_own(landlord: &Landlord, account_id: i64, id: &str) -> Result<()> {
    let session: Option<Option<String>> = on_write!(landlord.db(), conn => sqlx::query_scalar(
        "delete from sign_ins where id = $1 and account_id = $2 returning session_id",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(conn)
    .await)?;
    let session = session.ok_or(crate::Error::NotFound)?;
    delete_sessions(landlord, session.into_iter()).await
}

/// Ends every sign-in of the account except `keep` (sign out everywhere else, a password reset, a
/// suspension). Returns how many ended.
pub async fn end_all(landlord: &Landlord, account_id: i64, keep: Option<&str>) -> Result<usize> {
    let sessions: Vec<Option<String>> = on_write!(landlord.db(), conn => sqlx::query_scalar(
        "delete from sign_ins where account_id = $1 and id <> $2 returning session_id",
    )
    .bind(account_id)
    .bind(keep.unwrap_or(""))
    .fetch_all(conn)
    .await)?;
    let count = sessions.len();
    delete_sessions(landlord, sessions.into_iter().flatten()).await?;
    Ok(count)
}

/// Suspends an account: it can no longer sign in, and its sessions end at once.
pub async fn disable_account(landlord: &Landlord, account_id: i64, now: DateTime<Utc>) -> Result<()> {
    on_write!(landlord.db(), conn => sqlx::query(
        "update accounts set disabled_at = $2, updated_at = $2 where id = $1 and disabled_at is null",
    )
    .bind(account_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    end_all(landlord, account_id, None).await?;
    Ok(())
}

/// Lets a suspended account sign in again.
pub async fn enable_account(landlord: &Landlord, account_id: i64, now: DateTime<Utc>) -> Result<()> {
    on_write!(landlord.db(), conn => sqlx::query(
        "update accounts set disabled_at = null, updated_at = $2 where id = $1",
    )
    .bind(account_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Deletes sign-ins past either limit, and the expired cookie sessions (housekeeping).
pub async fn purge_expired(landlord: &Landlord, policy: SessionPolicy, now: DateTime<Utc>) -> Result<u64> {
    let count = Rows::Staff.purge(landlord, policy, now).await?;
    landlord.session_store().delete_expired().await?;
    on_write!(landlord.db(), conn => sqlx::query("delete from known_addresses where last_signed_in_at <= $1")
        .bind(now - Duration::days(KNOWN_ADDRESS_DAYS))
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(count)
}

/// Deletes the cookie sessions with these ids (a sign-in that ends takes its cookie session along).
async fn delete_sessions(landlord: &Landlord, ids: impl Iterator<Item = String>) -> Result<()> {
    let store = landlord.session_store();
    for id in ids {
        if let Ok(id) = id.parse::<Id>() {
            store
                .delete_stored(&id)
                .await
                .map_err(|e| crate::Error::Config(format!("session store: {e}")))?;
        }
    }
    Ok(())
}

impl SessionStore {
    /// Deletes the cookie sessions whose expiry has passed.
    pub async fn delete_expired(&self) -> Result<()> {
        use tower_sessions_core::ExpiredDeletion;
        match self {
            SessionStore::Sqlite(store) => store.delete_expired().await,
            SessionStore::Postgres(store) => store.delete_expired().await,
        }
        .map_err(|e| crate::Error::Config(format!("session store: {e}")))
    }
}
