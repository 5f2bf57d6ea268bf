//! The account page's server functions: who is signed in, their sessions, changing the password or the
//! address.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in person, for the header and the account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub verified: bool,
    pub workspaces: Vec<WorkspaceLink>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceLink {
    pub slug: String,
    pub name: String,
    pub role: String,
}

/// One signed-in session, for the account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub current: bool,
    pub device: String,
    pub ip: Option<String>,
    pub started: String,
    pub last_seen: String,
}

/// Reads a browser's user agent as "Firefox on Linux"; anything unrecognised says so.
pub fn describe_user_agent(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "Unknown device".into();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name)
    .unwrap_or("Unknown browser");
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

#[cfg(feature = "ssr")]
fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The signed-in person, or `None`.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<Person>, AppError> {
    use crate::context::{current, services};
    let Some(current) = current().await? else {
        return Ok(None);
    };
    let memberships = crate::context::memberships(&services()?, current.account.id).await?;
    Ok(Some(Person {
        name: current.account.name,
        email: current.account.email,
        verified: current.account.email_verified_at.is_some(),
        workspaces: memberships
            .into_iter()
            .map(|m| WorkspaceLink {
                slug: m.slug,
                name: m.name,
                role: m.role.as_str().to_owned(),
            })
            .collect(),
    }))
}

/// The account's sessions, this one first.
#[server(endpoint = "account/sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, AppError> {
    use crate::context::{require, services};
    let current = require().await?;
    let sign_ins = domain::auth::sign_ins::list(services()?.landlord(), current.account.id).await?;
    let mut views: Vec<SessionView> = sign_ins
        .into_iter()
        .map(|s| SessionView {
            current: s.id == current.sign_in.id,
            device: describe_user_agent(s.user_agent.as_deref()),
            ip: s.ip,
            started: when(s.created_at),
            last_seen: when(s.last_seen_at),
            id: s.id,
        })
        .collect();
    views.sort_by_key(|v| !v.current);
    Ok(views)
}

/// Ends one of the account's other sessions.
#[server(endpoint = "account/sessions/revoke")]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    use crate::context::{fail, require, services};
    let current = require().await?;
    if id == current.sign_in.id {
        return fail(AppError::form("To end this session, sign out."));
    }
    domain::auth::sign_ins::end_own(services()?.landlord(), current.account.id, &id).await?;
    tracing::info!(
        event = "session_revoked",
        account = current.account.id,
        "session ended from the account page"
    );
    Ok(())
}

#[cfg(feature = "ssr")]
fn change_error(error: domain::auth::credentials::ChangeError, field: &'static str) -> AppError {
    use domain::auth::credentials::ChangeError;
    match error {
        ChangeError::WrongPassword => {
            tracing::warn!(event = "reauthentication_failed", "wrong current password for a change");
            crate::context::reject(AppError::field("current", ChangeError::WrongPassword.to_string()))
        }
        ChangeError::Password(reason) => crate::context::reject(AppError::field("password", reason.to_string())),
        ChangeError::Other(domain::Error::Invalid(message) | domain::Error::Conflict(message)) => {
            crate::context::reject(AppError::field(field, message))
        }
        ChangeError::Other(other) => AppError::from(other),
    }
}

/// Changes the password: the current one is required; the account's other sessions end; a notice is mailed.
#[server(endpoint = "account/password")]
pub async fn change_password(current: String, password: String) -> Result<(), AppError> {
    use crate::context::{limit_ip, now, redirect, renew_session_id, require, reserve_failure, services};
    use domain::auth::{credentials, sign_ins};
    let services = services()?;
    limit_ip(&services, "change_password")?;
    let signed_in = require().await?;
    let slot = reserve_failure(&services, &format!("account-id:{}", signed_in.account.id))?;
    let current = secrecy::SecretString::from(current);
    let password = secrecy::SecretString::from(password);
    if let Err(error) =
        credentials::change_password(services.landlord(), &signed_in.account, &current, &password, now()).await
    {
        if !matches!(error, credentials::ChangeError::WrongPassword) {
            slot.succeeded(&services);
        }
        return Err(change_error(error, "password"));
    }
    slot.succeeded(&services);
    // Re-authenticated: this session goes on under a new id (ASVS 7.2.4).
    renew_session_id(&services, &signed_in.sign_in.id).await?;
    let ended = sign_ins::end_all(services.landlord(), signed_in.account.id, Some(&signed_in.sign_in.id)).await?;
    tracing::info!(
        event = "password_changed",
        account = signed_in.account.id,
        sessions_ended = ended,
        "password changed"
    );
    redirect("/account?password_changed=1");
    Ok(())
}

/// Changes the email address: the current password is required; the new address gets a code, the old one
/// a notice.
#[server(endpoint = "account/email")]
pub async fn change_email(current: String, email: String) -> Result<(), AppError> {
    use crate::context::{limit_ip, limit_mail, now, redirect, renew_session_id, require, reserve_failure, services};
    use domain::auth::credentials;
    let services = services()?;
    limit_ip(&services, "change_email")?;
    let signed_in = require().await?;
    let keep = |error: AppError| error.keeping(&[("email", email.as_str())]);
    limit_mail(&services, &email).map_err(keep)?;
    let slot = reserve_failure(&services, &format!("account-id:{}", signed_in.account.id)).map_err(keep)?;
    let current = secrecy::SecretString::from(current);
    match credentials::change_email(services.landlord(), &signed_in.account, &current, &email, now()).await {
        Ok(account) => {
            slot.succeeded(&services);
            // Re-authenticated: this session goes on under a new id (ASVS 7.2.4).
            renew_session_id(&services, &signed_in.sign_in.id).await?;
            tracing::info!(event = "email_changed", account = account.id, "email address changed");
            redirect("/account?email_changed=1");
            Ok(())
        }
        Err(error) => {
            if !matches!(error, credentials::ChangeError::WrongPassword) {
                slot.succeeded(&services);
            }
            Err(keep(change_error(error, "email")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::describe_user_agent;

    #[test]
    fn user_agents_read_as_browser_and_system() {
        assert_eq!(
            describe_user_agent(Some(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
            )),
            "Chrome on Linux"
        );
        assert_eq!(
            describe_user_agent(Some(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile Safari/604.1"
            )),
            "Safari on iOS"
        );
        assert_eq!(describe_user_agent(None), "Unknown device");
    }
}
