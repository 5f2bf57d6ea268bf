//! A workspace's team: invitations by email, accepting them, roles, and removing members.
//!
//! Owners may do everything; admins invite and manage admins and agents but never touch owners; agents
//! manage nobody. People with unverified addresses cannot invite. The last owner can be neither demoted nor
//! removed, so no workspace is left without one.

use super::{
    accounts::{self, Account, NewAccountError, Role},
    registration::escape_html,
    tokens::{self, Purpose, Subject},
};
use crate::{Error, Landlord, Result, Workspace, WorkspaceId, mail, on_db, on_tx};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// The workspace's members, by name.
pub async fn members(landlord: &Landlord, workspace: WorkspaceId) -> Result<Vec<Member>> {
    Ok(read(landlord, workspace).await?.1)
}

/// [`members`] as of `version`, the workspace's `team_version` that the caller's membership was read with
/// ([`MembershipOf::team_version`](super::accounts::MembershipOf::team_version)). Every change to the team
/// moves that version on in the same transaction (triggers in the landlord's schema), so a team read at the
/// same version is still the team: it comes from memory, and the database is asked only after a change.
pub async fn members_at(landlord: &Landlord, workspace: WorkspaceId, version: i64) -> Result<Arc<[Member]>> {
    if let Some(team) = landlord.teams().get(workspace, version) {
        return Ok(team);
    }
    let (read_at, members) = read(landlord, workspace).await?;
    let team: Arc<[Member]> = members.into();
    landlord.teams().put(workspace, read_at, team.clone());
    Ok(team)
}

/// The members with the version they are at, in one statement (one snapshot).
async fn read(landlord: &Landlord, workspace: WorkspaceId) -> Result<(i64, Vec<Member>)> {
    let rows: Vec<TeamRow> = on_db!(landlord.db(), pool => sqlx::query_as(
        "select w.team_version, a.id as account_id, a.name, a.email, m.role from workspaces w
         left join (memberships m join accounts a on a.id = m.account_id) on m.workspace_id = w.id
         where w.id = $1 order by a.name, a.id",
    )
    .bind(workspace.get())
    .fetch_all(pool)
    .await)?;
    let version = rows.first().map_or(0, |row| row.team_version);
    let members = rows
        .into_iter()
        .filter_map(|row| {
            Some(Member {
                account_id: row.account_id?,
                name: row.name?,
                email: row.email?,
                role: Role::parse(&row.role?)?,
            })
        })
        .collect();
    Ok((version, members))
}

/// A workspace's row with one of its members, if it has any.
#[derive(sqlx::FromRow)]
struct TeamRow {
    team_version: i64,
    account_id: Option<i64>,
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

/// A team and the `team_version` it was read at.
type TeamAt = (i64, Arc<[Member]>);

/// The teams last read, one per workspace, each with the `team_version` it was read at. Small: a few
/// members per workspace that has been used since the server started.
#[derive(Default)]
pub struct Teams(Mutex<HashMap<WorkspaceId, TeamAt>>);

impl Teams {
    fn get(&self, workspace: WorkspaceId, version: i64) -> Option<Arc<[Member]>> {
        let teams = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        teams
            .get(&workspace)
            .filter(|(at, _)| *at == version)
            .map(|(_, team)| team.clone())
    }

    /// Keeps the newest of what concurrent requests read.
    fn put(&self, workspace: WorkspaceId, version: i64, team: Arc<[Member]>) {
        let mut teams = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if teams.get(&workspace).is_none_or(|(at, _)| *at <= version) {
            teams.insert(workspace, (version, team));
        }
    }
}

/// Whether `actor` may give or take away `role` in a workspace where they hold `actor_role`.
fn may_manage(actor_role: Role, role: Role) -> bool {
    match actor_role {
        Role::Owner => true,
        Role::Admin => role != Role::Owner,
        Role::Agent => false,
    }
}

async fn actor_role(landlord: &Landlord, actor: i64, workspace: WorkspaceId) -> Result<Role> {
    // Not being a member looks the same as the workspace not existing.
    accounts::role_in(landlord, actor, workspace)
        .await?
        .ok_or(Error::NotFound)
}

fn forbidden() -> Error {
    Error::Forbidden
}

/// Invites `email` with `role`: a link, valid for 10 minutes, is mailed in the same transaction.
pub async fn invite(
    landlord: &Landlord,
    actor: &Account,
    workspace: &Workspace,
    email: &str,
    role: Role,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let actor_role = actor_role(landlord, actor.id, workspace.id).await?;
    if !may_manage(actor_role, role) {
        return Err(forbidden());
    }
    if actor.email_verified_at.is_none() {
        return Err(Error::Field {
            field: "email",
            message: "Verify your email address before inviting anyone.".into(),
        });
    }
    let email = accounts::normalize_email(email).map_err(|e| e.on_field("email"))?;
    if let Ok(existing) = accounts::by_email(landlord, &email).await
        && accounts::role_in(landlord, existing.id, workspace.id).await?.is_some()
    {
        return Err(Error::Field {
            field: "email",
            message: format!("{email} is already a member."),
        });
    }
    let mut tx = landlord.db().begin().await?;
    let subject = Subject {
        workspace_id: Some(workspace.id),
        email: Some(&email),
        payload: Some(role.as_str()),
        ..Default::default()
    };
    let token = tokens::issue_link_in(&mut tx, Purpose::Invitation, subject, now).await?;
    let link = format!(
        "{}/invitations/{}",
        base_url.trim_end_matches('/'),
        token.expose_secret()
    );
    let message = mail::Email::new(
        email.clone(),
        format!("{} invited you to {} on Ferrodesk", actor.name, workspace.name),
        format!(
            "{} invited you to join {} as {}.\n\nAccept within 10 minutes: {link}\n",
            actor.name,
            workspace.name,
            role.as_str()
        ),
        format!(
            "<p>{} invited you to join <strong>{}</strong> as {}.</p><p><a href=\"{}\">Accept the invitation</a> within 10 minutes.</p>",
            escape_html(&actor.name),
            escape_html(&workspace.name),
            role.as_str(),
            escape_html(&link)
        ),
    );
    mail::queue(landlord, &mut tx, &message, Some(workspace.id.get()), now).await?;
    tx.commit().await?;
    Ok(())
}

/// Who accepts an invitation.
pub enum Acceptor<'a> {
    /// A signed-in account; its address must be the one invited.
    Existing(&'a Account),
    /// A new account for the invited address (which the link has just proved).
    New { name: &'a str, password: &'a SecretString },
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("This invitation has expired or was already used. Ask for a new one.")]
    Invalid,
    #[error("This invitation is for another email address.")]
    OtherAddress,
    #[error(transparent)]
    NewAccount(#[from] NewAccountError),
    #[error(transparent)]
    Other(#[from] Error),
}

/// Accepts an invitation. The link is used up only if the whole acceptance succeeds.
pub async fn accept(
    landlord: &Landlord,
    token: &str,
    acceptor: Acceptor<'_>,
    now: DateTime<Utc>,
) -> Result<(WorkspaceId, Account), AcceptError> {
    // Hash a new password before the transaction opens (it is slow), checking it against the invited address.
    let prepared = match &acceptor {
        Acceptor::New { name, password } => {
            let invited = tokens::peek_link(landlord, Purpose::Invitation, token, now).await?;
            let email = invited.and_then(|i| i.email).ok_or(AcceptError::Invalid)?;
            Some(accounts::prepare(&email, name, password, &[]).await?)
        }
        Acceptor::Existing(_) => None,
    };
    let mut tx = landlord.db().begin().await.map_err(Error::from)?;
    let invitation = match tokens::redeem_link_in(&mut tx, Purpose::Invitation, token, now).await {
        Err(Error::NotFound) => return Err(AcceptError::Invalid),
        other => other?,
    };
    let (Some(email), Some(workspace_id), Some(role)) = (
        invitation.email,
        invitation.workspace_id,
        invitation.payload.as_deref().and_then(Role::parse),
    ) else {
        return Err(AcceptError::Invalid);
    };
    let workspace = WorkspaceId::from_row(workspace_id);
    let account = match (acceptor, prepared) {
        (Acceptor::Existing(account), _) => {
            if account.email != email {
                return Err(AcceptError::OtherAddress);
            }
            account.clone()
        }
        (Acceptor::New { .. }, Some(new)) => {
            let account = accounts::insert_in(&mut tx, &new, now).await?;
            on_tx!(&mut tx, conn => sqlx::query("update accounts set email_verified_at = $2 where id = $1")
                .bind(account.id)
                .bind(now)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))
            .map_err(Error::from)?;
            account
        }
        (Acceptor::New { .. }, None) => unreachable!("a new account is always prepared"),
    };
    accounts::set_membership_in(&mut tx, account.id, workspace, role).await?;
    tx.commit().await.map_err(Error::from)?;
    Ok((workspace, accounts::by_id(landlord, account.id).await?))
}

/// Changes a member's role.
pub async fn change_role(
    landlord: &Landlord,
    actor: i64,
    workspace: WorkspaceId,
    member: i64,
    role: Role,
) -> Result<()> {
    let actor_role = actor_role(landlord, actor, workspace).await?;
    let current = accounts::role_in(landlord, member, workspace)
        .await?
        .ok_or(Error::NotFound)?;
    if !may_manage(actor_role, current) || !may_manage(actor_role, role) {
        return Err(forbidden());
    }
    let sql = "update memberships set role = $3 where account_id = $1 and workspace_id = $2";
    change_guarded(
        landlord,
        workspace,
        member,
        current == Role::Owner && role != Role::Owner,
        sql,
        Some(role),
    )
    .await
}

/// Removes a member from the workspace (their account stays).
pub async fn remove(landlord: &Landlord, actor: i64, workspace: WorkspaceId, member: i64) -> Result<()> {
    let actor_role = actor_role(landlord, actor, workspace).await?;
    let current = accounts::role_in(landlord, member, workspace)
        .await?
        .ok_or(Error::NotFound)?;
    if member != actor && !may_manage(actor_role, current) {
        return Err(forbidden());
    }
    let sql = "delete from memberships where account_id = $1 and workspace_id = $2";
    change_guarded(landlord, workspace, member, current == Role::Owner, sql, None).await
}

/// Runs `sql` (bound to member, workspace and, if given, a role) in a transaction that first locks the
/// workspace's owners; when `owner_leaves`, refuses if no other owner would remain. Locking makes two owners
/// demoting each other at once safe: the second waits for the first and then sees it is the last.
async fn change_guarded(
    landlord: &Landlord,
    workspace: WorkspaceId,
    member: i64,
    owner_leaves: bool,
    sql: &str,
    role: Option<Role>,
) -> Result<()> {
    let lock = match landlord.backend() {
        crate::db::Backend::Postgres => {
            "select account_id from memberships where workspace_id = $1 and role = 'owner' and $2 = $2 for update"
        }
        // SQLite has one writer: a no-op write takes the write lock before anything is read.
        crate::db::Backend::Sqlite => "update memberships set role = role where workspace_id = $1 and account_id = $2",
    };
    let mut tx = landlord.db().begin().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query(lock).bind(workspace.get()).bind(member).execute(&mut *conn).await?;
        if owner_leaves {
            let others: i64 = sqlx::query_scalar(
                "select count(*) from memberships where workspace_id = $1 and role = 'owner' and account_id <> $2",
            )
            .bind(workspace.get())
            .bind(member)
            .fetch_one(&mut *conn)
            .await?;
            if others == 0 {
                return Err(Error::Invalid("A workspace needs at least one owner. Make someone else owner first.".into()));
            }
        }
        let mut query = sqlx::query(sql).bind(member).bind(workspace.get());
        if let Some(role) = role {
            query = query.bind(role.as_str());
        }
        query.execute(&mut *conn).await.map(|done| done.rows_affected())
    })?;
    tx.commit().await?;
    Ok(())
}
