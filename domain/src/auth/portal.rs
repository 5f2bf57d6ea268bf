//! Customers' sign-ins to a workspace's portal.
//!
//! A customer has no password and no account: they ask for a link (10 minutes, single use, like staff magic
//! links) and using it signs them in to that one workspace. The sign-in is a `portal_sign_ins` row naming the
//! workspace and the customer; the cookie session carries only the row's id, under its own key, so nothing
//! that checks a staff sign-in ever accepts it. The same lifetimes apply as for staff, and deleting the row
//! ends the session at its next request.

use super::{
    accounts,
    sign_ins::{self, Device, Rows, SessionPolicy},
    tokens::{self, Purpose, Subject},
};
use crate::{Error, Landlord, Result, Workspace, WorkspaceId, WorkspaceStatus, mail, on_db, on_write};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PortalSignIn {
    pub id: String,
    pub workspace_id: i64,
    pub customer_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl PortalSignIn {
    pub fn workspace(&self) -> WorkspaceId {
        WorkspaceId::from_row(self.workspace_id)
    }
}

fn escape(text: &str) -> String {
    crate::workspace::markdown::escape(text)
}

/// Mails a link that signs `email` in to `workspace`'s portal. Any well-formed address gets one: the
/// customer record is made when the link is used, so asking reveals nothing about who is a customer.
pub async fn request_link(
    landlord: &Landlord,
    workspace: &Workspace,
    email: &str,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if workspace.status != WorkspaceStatus::Active {
        return Err(Error::NotFound);
    }
    let email = accounts::normalize_email(email)?;
    let base_url = base_url.trim_end_matches('/');
    let mut tx = landlord.db().begin().await?;
    let token = tokens::issue_link_in(
        &mut tx,
        Purpose::PortalLink,
        Subject {
            workspace_id: Some(workspace.id),
            email: Some(&email),
            ..Default::default()
        },
        now,
    )
    .await?;
    let link = format!("{base_url}/p/{}/signin/{}", workspace.slug, token.expose_secret());
    let message = mail::Email::new(
        email.clone(),
        format!("Sign in to {} support", workspace.name),
        format!(
            "Open your requests at {} within 10 minutes: {link}\n\nIf you did not ask for this, ignore this message.\n",
            workspace.name
        ),
        format!(
            "<p><a href=\"{}\">Open your requests at {}</a> within 10 minutes.</p><p>If you did not ask for this, ignore this message.</p>",
            escape(&link),
            escape(&workspace.name)
        ),
    );
    mail::queue(landlord, &mut tx, &message, Some(workspace.id.get()), now).await?;
    tx.commit().await?;
    Ok(())
}

/// The address a live portal link of `workspace` was sent to, without using the link up (for the confirm
/// page: mail scanners fetch links, and only the page's POST redeems).
pub async fn peek_link(landlord: &Landlord, workspace: WorkspaceId, token: &str, now: DateTime<Utc>) -> Result<String> {
    let found = tokens::peek_link(landlord, Purpose::PortalLink, token, now).await?;
    match found {
        Some(redeemed) if redeemed.workspace_id == Some(workspace.get()) => redeemed.email.ok_or(Error::NotFound),
        _ => Err(Error::NotFound),
    }
}

/// Uses a portal link of `workspace` up and returns the address it was sent to. A link of another
/// workspace is `NotFound` and stays unused.
pub async fn redeem_link(
    landlord: &Landlord,
    workspace: WorkspaceId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    peek_link(landlord, workspace, token, now).await?;
    let redeemed = tokens::redeem_link(landlord, Purpose::PortalLink, token, now).await?;
    redeemed.email.ok_or(Error::NotFound)
}

/// Records a customer's sign-in and returns its id (128 random bits), for the cookie session to carry.
pub async fn start(
    landlord: &Landlord,
    workspace: WorkspaceId,
    customer_id: i64,
    device: Device<'_>,
    now: DateTime<Utc>,
) -> Result<String> {
    let id = sign_ins::new_id();
    let user_agent = device.user_agent_prefix();
    on_write!(landlord.db(), conn => sqlx::query(
        "insert into portal_sign_ins (id, workspace_id, customer_id, created_at, last_seen_at, ip, user_agent)
         values ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(&id)
    .bind(workspace.get())
    .bind(customer_id)
    .bind(now)
    .bind(device.ip)
    .bind(user_agent)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(id)
}

/// Remembers which cookie session carries the sign-in, so ending the sign-in deletes that record too.
pub async fn attach_session(landlord: &Landlord, id: &str, session_id: &str) -> Result<()> {
    Rows::Portal.attach(landlord, id, session_id).await
}

/// The sign-in, if it is still good at `now`; an expired one is deleted.
pub async fn check(
    landlord: &Landlord,
    id: &str,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<PortalSignIn>> {
    let found: Option<PortalSignIn> = on_db!(landlord.db(), pool => sqlx::query_as(
        "select id, workspace_id, customer_id, created_at, last_seen_at from portal_sign_ins where id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    let Some(sign_in) = found else {
        return Ok(None);
    };
    if policy.ended(sign_in.created_at, sign_in.last_seen_at, now) {
        end(landlord, id).await?;
        return Ok(None);
    }
    Rows::Portal.touch(landlord, id, sign_in.last_seen_at, now).await?;
    Ok(Some(sign_in))
}

/// Ends one sign-in and deletes its cookie session. Ending one that is gone already is no error.
pub async fn end(landlord: &Landlord, id: &str) -> Result<()> {
    Rows::Portal.end(landlord, id).await
}

/// Deletes portal sign-ins past either limit (housekeeping).
pub async fn purge_expired(landlord: &Landlord, policy: SessionPolicy, now: DateTime<Utc>) -> Result<u64> {
    Rows::Portal.purge(landlord, policy, now).await
}
