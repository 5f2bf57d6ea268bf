//! Server functions of a workspace's team: members, invitations, roles, the sign-in code setting.
//! Every one resolves the workspace from the signed-in person's own memberships and checks the role it needs.

use crate::{
    error::AppError,
    tickets::api::{TicketRow, ViewCounts},
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceView {
    pub slug: String,
    pub name: String,
    pub role: String,
    pub verified: bool,
    pub require_sign_in_code: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub account_id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub is_me: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub workspace: WorkspaceView,
    /// The signed-in person may invite and manage (owner or admin, with a verified address).
    pub can_manage: bool,
    pub members: Vec<MemberView>,
}

/// What an invitation link is for, shown before it is accepted (a GET never uses it up).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub workspace: String,
    pub email: String,
    pub role: String,
    /// The address of the signed-in person, if someone is signed in.
    pub signed_in_as: Option<String>,
    /// The invited address has an account already (sign in to accept).
    pub account_exists: bool,
}

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<domain::auth::accounts::Role, AppError> {
    domain::auth::accounts::Role::parse(role).ok_or_else(|| AppError::field("role", "Choose owner, admin or agent."))
}

#[cfg(feature = "ssr")]
fn view_of(membership: &domain::auth::accounts::MembershipOf, verified: bool) -> WorkspaceView {
    WorkspaceView {
        slug: membership.slug.clone(),
        name: membership.name.clone(),
        role: membership.role.as_str().to_owned(),
        verified,
        require_sign_in_code: membership.require_sign_in_code,
    }
}

/// A workspace's start page for one member (see [`workspace_home`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    pub workspace: WorkspaceView,
    pub counts: ViewCounts,
    pub my_open: Vec<TicketRow>,
    pub unassigned: Vec<TicketRow>,
    /// What others changed since the member's previous visit, last changed first.
    pub changed: Vec<TicketRow>,
    pub more_changed: bool,
    /// When the previous visit ended (`2026-12-04 03:22 UTC`); `None` on the first.
    pub since: Option<String>,
    pub portal_url: String,
    pub contact_url: String,
    /// For owners, while something on it is left to do.
    pub checklist: Option<Vec<ChecklistItem>>,
}

/// One step of the owner's getting-started checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub label: String,
    pub done: bool,
    /// Where it is done.
    pub href: String,
    /// How the item gets its tick.
    pub hint: String,
}

/// The start page: the member's open tickets, the unassigned ones, what others changed since the member's
/// last visit (this call is a visit), the views' counts, the addresses to share, and for owners the
/// getting-started checklist until every step on it is done.
#[server(endpoint = "w/home")]
pub async fn workspace_home(slug: String) -> Result<HomeView, AppError> {
    use crate::{
        context::{Staff, now},
        tickets::support::{agents, counts, row},
    };
    use domain::auth::accounts::Role;
    let Staff {
        current,
        membership,
        services,
        ws,
    } = Staff::require(&slug, Role::Agent).await?;
    let home = domain::workspace::home::look(&ws, current.account.id, now()).await?;
    let verified = current.account.email_verified_at.is_some();
    let (portal_url, contact_url) = crate::insights::api::portal_addresses(&services.base_url, &membership.slug);
    let checklist = if membership.role == Role::Owner {
        let branded = domain::workspace::portal::portal_settings(&ws)
            .await?
            .brand_color
            .is_some();
        let team = agents(&services, &membership).await?;
        let settings = format!("/w/{}/settings", membership.slug);
        let items = vec![
            item(
                "Verify your email address",
                verified,
                "/account",
                "Enter the code we emailed you.",
            ),
            item(
                "Invite your team",
                team.len() > 1,
                &format!("{settings}/team"),
                "Ticks when a teammate has joined.",
            ),
            item(
                "Brand your portal",
                branded,
                &format!("{settings}/portal"),
                "Give the customer portal your colour.",
            ),
            item(
                "Put the contact form on your site",
                home.form_used,
                &format!("{settings}/portal#embed"),
                "Ticks when the first enquiry arrives through it.",
            ),
        ];
        (!items.iter().all(|i| i.done)).then_some(items)
    } else {
        None
    };
    let rows = |tickets: Vec<domain::workspace::tickets::Ticket>| tickets.into_iter().map(|t| row(t, None)).collect();
    Ok(HomeView {
        workspace: view_of(&membership, verified),
        counts: counts(home.counts),
        my_open: rows(home.my_open),
        unassigned: rows(home.unassigned),
        changed: rows(home.changed),
        more_changed: home.more_changed,
        since: home.since.map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()),
        portal_url,
        contact_url,
        checklist,
    })
}

#[cfg(feature = "ssr")]
fn item(label: &str, done: bool, href: &str, hint: &str) -> ChecklistItem {
    ChecklistItem {
        label: label.to_owned(),
        done,
        href: href.to_owned(),
        hint: hint.to_owned(),
    }
}

/// The team page: members and, for owners and admins, what they may change.
#[server(endpoint = "w/team")]
pub async fn team(slug: String) -> Result<TeamView, AppError> {
    use crate::context::{require_member, services};
    use domain::{WorkspaceId, auth::accounts::Role, auth::team};
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let verified = current.account.email_verified_at.is_some();
    let members = team::members(services()?.landlord(), WorkspaceId::from_row(membership.workspace_id)).await?;
    Ok(TeamView {
        can_manage: membership.role != Role::Agent && verified,
        workspace: view_of(&membership, verified),
        members: members
            .into_iter()
            .map(|m| MemberView {
                is_me: m.account_id == current.account.id,
                account_id: m.account_id,
                name: m.name,
                email: m.email,
                role: m.role.as_str().to_owned(),
            })
            .collect(),
    })
}

/// Invites someone by email with a role (owners and admins with a verified address).
#[server(endpoint = "w/team/invite")]
pub async fn invite(slug: String, email: String, role: String) -> Result<(), AppError> {
    use crate::context::{limit_mail, now, require_member, services};
    use domain::{WorkspaceId, auth::accounts::Role, auth::team};
    let keep = |error: AppError| error.keeping(&[("email", email.as_str()), ("role", role.as_str())]);
    let (current, membership) = require_member(&slug, Role::Admin).await?;
    let role = parse_role(&role).map_err(keep)?;
    let services = services()?;
    limit_mail(&services, &email).map_err(keep)?;
    let landlord = services.landlord();
    let workspace = landlord
        .workspace(WorkspaceId::from_row(membership.workspace_id))
        .await?;
    match team::invite(
        landlord,
        &current.account,
        &workspace,
        &email,
        role,
        &services.base_url,
        now(),
    )
    .await
    {
        Ok(()) => {
            tracing::info!(event = "member_invited", account = current.account.id, workspace = %workspace.id, role = role.as_str(), "invitation sent");
            crate::context::redirect(&format!("/w/{}/settings/team?invited=1", workspace.slug));
            Ok(())
        }
        Err(error) => Err(keep(error.into())),
    }
}

/// Changes a member's role. Owners may change anyone's; admins only admins' and agents'; the last owner
/// stays an owner.
#[server(endpoint = "w/team/role")]
pub async fn change_role(slug: String, account_id: i64, role: String) -> Result<(), AppError> {
    use crate::context::{require_member, services};
    use domain::{WorkspaceId, auth::accounts::Role, auth::team};
    let (current, membership) = require_member(&slug, Role::Admin).await?;
    let role = parse_role(&role)?;
    let workspace = WorkspaceId::from_row(membership.workspace_id);
    match team::change_role(services()?.landlord(), current.account.id, workspace, account_id, role).await {
        Ok(()) => {
            tracing::info!(
                event = "role_changed",
                account = current.account.id,
                member = account_id,
                role = role.as_str(),
                "role changed"
            );
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

/// Removes a member (never the last owner).
#[server(endpoint = "w/team/remove")]
pub async fn remove_member(slug: String, account_id: i64) -> Result<(), AppError> {
    use crate::context::{require_member, services};
    use domain::{WorkspaceId, auth::accounts::Role, auth::team};
    // Agents may leave; who may remove whom is the team rules' decision.
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let workspace = WorkspaceId::from_row(membership.workspace_id);
    match team::remove(services()?.landlord(), current.account.id, workspace, account_id).await {
        Ok(()) => {
            tracing::info!(
                event = "member_removed",
                account = current.account.id,
                member = account_id,
                "member removed"
            );
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

/// Turns the emailed second sign-in step on or off for the workspace's staff (owners and admins).
#[server(endpoint = "w/settings/sign-in-code")]
pub async fn set_sign_in_code(slug: String, required: bool) -> Result<(), AppError> {
    use crate::context::{require_member, services};
    use domain::{WorkspaceId, auth::accounts, auth::accounts::Role};
    let (current, membership) = require_member(&slug, Role::Admin).await?;
    accounts::set_require_sign_in_code(
        services()?.landlord(),
        WorkspaceId::from_row(membership.workspace_id),
        required,
    )
    .await?;
    tracing::info!(event = "sign_in_code_setting", account = current.account.id, workspace = ?slug, required, "second step changed");
    Ok(())
}

/// What an invitation is for (without using it up).
#[server(endpoint = "invitations/show")]
pub async fn invitation(token: String) -> Result<InvitationView, AppError> {
    use crate::context::{current, fail, limit_ip, now, services};
    use domain::{WorkspaceId, auth::accounts, auth::tokens};
    let services = services()?;
    limit_ip(&services, "invitation")?;
    let landlord = services.landlord();
    let Some(invitation) = tokens::peek_link(landlord, tokens::Purpose::Invitation, token.trim(), now()).await? else {
        return fail(AppError::NotFound);
    };
    let (Some(email), Some(workspace_id), Some(role)) = (invitation.email, invitation.workspace_id, invitation.payload)
    else {
        return fail(AppError::NotFound);
    };
    let workspace = landlord.workspace(WorkspaceId::from_row(workspace_id)).await?;
    Ok(InvitationView {
        workspace: workspace.name,
        account_exists: accounts::by_email(landlord, &email).await.is_ok(),
        signed_in_as: current().await?.map(|c| c.account.email),
        email,
        role,
    })
}

/// Accepts an invitation: as the signed-in person (whose address must be the invited one), or by creating
/// an account for the invited address. Signs the new member in and opens the workspace.
#[server(endpoint = "invitations/accept")]
pub async fn accept_invitation(token: String, name: Option<String>, password: Option<String>) -> Result<(), AppError> {
    use crate::context::{begin, current, fail, limit_ip, now, redirect, services};
    use domain::auth::{
        accounts::NewAccountError,
        team::{self, AcceptError, Acceptor},
    };
    let services = services()?;
    limit_ip(&services, "invitation_accept")?;
    let token = token.trim().to_owned();
    let path = format!("/invitations/{token}");
    let name = name.unwrap_or_default();
    let keep = |error: AppError| error.keeping(&[("name", name.as_str())]);
    let signed_in = current().await?;
    let password = secrecy::SecretString::from(password.unwrap_or_default());
    let acceptor = match &signed_in {
        Some(current) => Acceptor::Existing(&current.account),
        None => Acceptor::New {
            name: &name,
            password: &password,
        },
    };
    let back = |error: AppError| super::super::auth::api::back_with_error::<AcceptInvitation>(&path, keep(error));
    match team::accept(services.landlord(), &token, acceptor, now()).await {
        Ok((workspace, account)) => {
            let workspace = services.landlord().workspace(workspace).await?;
            tracing::info!(event = "invitation_accepted", account = account.id, workspace = %workspace.id, "joined a workspace");
            if signed_in.is_none() {
                begin(&account, "invitation").await?;
            }
            redirect(&format!("/w/{}", workspace.slug));
            Ok(())
        }
        Err(AcceptError::Invalid) => back(AppError::form(AcceptError::Invalid.to_string())),
        Err(AcceptError::OtherAddress) => back(AppError::form(AcceptError::OtherAddress.to_string())),
        Err(AcceptError::NewAccount(NewAccountError::Password(reason))) => {
            back(AppError::field("password", reason.to_string()))
        }
        Err(AcceptError::NewAccount(NewAccountError::Other(domain::Error::Invalid(message)))) => {
            back(AppError::field("name", message))
        }
        Err(AcceptError::NewAccount(NewAccountError::Other(domain::Error::Conflict(message)))) => back(AppError::form(
            format!("{message} Sign in first, then open the invitation again."),
        )),
        Err(AcceptError::NewAccount(NewAccountError::Other(other))) | Err(AcceptError::Other(other)) => {
            fail(AppError::from(other))
        }
    }
}
