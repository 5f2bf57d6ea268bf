//! The server functions of accounts and sign-in. Each one that a stranger can call counts against the
//! client address's limit; the ones behind public forms check Turnstile; every failure is logged as an
//! event without the secret that was offered.

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

/// Signs up an organization: an account, a workspace with its own database, the owner membership, a welcome
/// email and a verification code. Signs the new owner in.
#[server(endpoint = "signup")]
pub async fn sign_up(
    name: String,
    email: String,
    organization: String,
    slug: String,
    password: String,
    turnstile: Option<String>,
) -> Result<(), AppError> {
    use crate::context::{begin, fail, internal, limit_ip, now, redirect, services};
    use domain::{
        auth::registration::{self, Registration, RegistrationError},
        slug::Slug,
    };
    let services = services()?;
    let slug = match slug.trim() {
        "" => Slug::suggest(&organization),
        typed => typed.to_owned(),
    };
    let keep = |error: AppError| {
        error.keeping(&[
            ("name", name.as_str()),
            ("email", email.as_str()),
            ("organization", organization.as_str()),
            ("slug", slug.as_str()),
        ])
    };
    limit_ip(&services, "signup")?;
    crate::context::turnstile(&services, turnstile.as_deref())
        .await
        .map_err(keep)?;
    let password = secrecy::SecretString::from(password);
    let registered = registration::register(
        &services.tenants,
        Registration {
            name: &name,
            email: &email,
            organization: &organization,
            slug: &slug,
            password: &password,
        },
        &services.base_url,
        now(),
    )
    .await;
    match registered {
        Ok(registered) => {
            tracing::info!(event = "signed_up", account = registered.account.id, workspace = %registered.workspace.id, "new organization");
            begin(&registered.account, "signup").await?;
            redirect(&format!("/w/{}", registered.workspace.slug));
            Ok(())
        }
        Err(RegistrationError::Field { field, message }) => fail(keep(AppError::field(field, message))),
        Err(RegistrationError::Other(other)) => fail(internal(other)),
    }
}

/// Signs in with email and password. Unknown addresses, wrong passwords and suspended accounts all get the
/// same answer after the same work. When one of the person's workspaces asks for it, a code is emailed and
/// the sign-in finishes on the code page.
#[server(endpoint = "signin")]
pub async fn sign_in(
    email: String,
    password: String,
    turnstile: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::context::{
        Pending, account_key, begin, fail, landing, limit_ip, now, redirect, reserve_sign_in, safe_next, services,
        set_pending, typed_hash,
    };
    use domain::auth::{
        accounts::{self, AuthError},
        recovery,
    };
    let services = services()?;
    let keep = |error: AppError| error.keeping(&[("email", email.as_str())]);
    limit_ip(&services, "signin")?;
    crate::context::turnstile(&services, turnstile.as_deref())
        .await
        .map_err(keep)?;
    // The slot is taken before the slow check, so a burst cannot get past the allowance.
    let slot = reserve_sign_in(&services, &email).await.map_err(keep)?;
    let password = secrecy::SecretString::from(password);
    match accounts::authenticate(services.landlord(), &email, &password).await {
        Ok(account) => {
            services
                .limits
                .failures_per_account
                .clear(&account_key(&services, &email));
            slot.succeeded(&services);
            let needs_code = accounts::requires_sign_in_code(services.landlord(), account.id).await?;
            if needs_code {
                recovery::send_sign_in_code(services.landlord(), &account, now()).await?;
                set_pending(&Pending {
                    account_id: account.id,
                    at: now(),
                    next: safe_next(next.as_deref()),
                })
                .await?;
                tracing::info!(
                    event = "sign_in_code_sent",
                    account = account.id,
                    "password accepted; code sent"
                );
                redirect("/signin/code");
                return Ok(());
            }
            begin(&account, "password").await?;
            redirect(&landing(&account, next.as_deref()).await?);
            Ok(())
        }
        Err(AuthError::InvalidCredentials) => {
            // The address as typed is not logged (a password typed into it would be), only its keyed hash.
            tracing::warn!(event = "sign_in_failed", typed = %typed_hash(&services, &email), ip = ?crate::context::client_ip(), "wrong email or password");
            fail(keep(AppError::form(AuthError::InvalidCredentials.to_string())))
        }
        Err(AuthError::Other(other)) => fail(AppError::from(other)),
    }
}

/// The second step: the code emailed after the password was accepted.
#[server(endpoint = "signin/code")]
pub async fn verify_sign_in_code(code: String) -> Result<(), AppError> {
    use crate::context::{begin, fail, landing, limit_ip, now, pending, redirect, reserve_failure, services};
    use domain::auth::{accounts, recovery, tokens::CodeCheck};
    let services = services()?;
    limit_ip(&services, "signin_code")?;
    let Some(pending) = pending().await? else {
        return fail(AppError::form("Your sign-in has timed out. Please sign in again."));
    };
    let slot = reserve_failure(&services, &format!("account-id:{}", pending.account_id))?;
    let code = secrecy::SecretString::from(code);
    match recovery::check_sign_in_code(services.landlord(), pending.account_id, &code, now()).await? {
        CodeCheck::Accepted => {
            slot.succeeded(&services);
            let account = accounts::by_id(services.landlord(), pending.account_id).await?;
            if account.disabled_at.is_some() {
                return fail(AppError::form("Your sign-in has timed out. Please sign in again."));
            }
            begin(&account, "password+code").await?;
            redirect(&landing(&account, pending.next.as_deref()).await?);
            Ok(())
        }
        CodeCheck::Wrong { remaining } => {
            tracing::warn!(
                event = "sign_in_code_failed",
                account = pending.account_id,
                remaining,
                "wrong sign-in code"
            );
            fail(code_refused(Some(remaining), "Sign in again"))
        }
        CodeCheck::NoCode => {
            slot.succeeded(&services);
            fail(code_refused(None, "Sign in again"))
        }
    }
}

/// The error for a refused code: wrong with `remaining` tries left, or no live code; `renew` says how to get
/// a new one ("Sign in again", "Ask").
#[cfg(feature = "ssr")]
fn code_refused(remaining: Option<i64>, renew: &str) -> AppError {
    let message = match remaining {
        Some(0) => format!("That code is not right, and it has now stopped working. {renew} for a new one."),
        Some(remaining) => format!("That code is not right. {remaining} tries left."),
        None => format!("This code has expired or was replaced. {renew} for a new one."),
    };
    AppError::field("code", message)
}

/// Emails a sign-in link. The answer is the same whether or not the address has an account.
#[server(endpoint = "signin/link")]
pub async fn request_magic_link(email: String, turnstile: Option<String>) -> Result<(), AppError> {
    request_link(LinkKind::SignIn, &email, turnstile.as_deref()).await
}

#[cfg(feature = "ssr")]
enum LinkKind {
    SignIn,
    PasswordReset,
}

/// A request for a sign-in or reset link: limits, Turnstile, the address checked, the message queued, and
/// the same answer whether or not the address has an account.
#[cfg(feature = "ssr")]
async fn request_link(kind: LinkKind, email: &str, turnstile: Option<&str>) -> Result<(), AppError> {
    use crate::context::{fail, limit_ip, limit_mail, now, redirect, services};
    use domain::auth::recovery;
    let services = services()?;
    let keep = |error: AppError| error.keeping(&[("email", email)]);
    let (endpoint, back) = match kind {
        LinkKind::SignIn => ("magic_link", "/signin/link?sent=1"),
        LinkKind::PasswordReset => ("password_reset", "/password/forgot?sent=1"),
    };
    limit_ip(&services, endpoint)?;
    crate::context::turnstile(&services, turnstile).await.map_err(keep)?;
    if let Err(error) = domain::auth::accounts::normalize_email(email) {
        return fail(keep(AppError::field("email", error.to_string())));
    }
    limit_mail(&services, email).map_err(keep)?;
    let (landlord, base_url) = (services.landlord(), services.base_url.as_str());
    match kind {
        LinkKind::SignIn => recovery::request_magic_link(landlord, email, base_url, now()).await,
        LinkKind::PasswordReset => recovery::request_password_reset(landlord, email, base_url, now()).await,
    }?;
    tracing::info!(event = "link_requested", kind = endpoint, typed = %crate::context::typed_hash(&services, email), "link requested");
    redirect(back);
    Ok(())
}

/// Uses a sign-in link: only this POST, from the confirm page, redeems it (mail scanners only GET).
#[server(endpoint = "signin/link/redeem")]
pub async fn redeem_magic_link(token: String) -> Result<(), AppError> {
    use crate::context::{begin, fail, landing, limit_ip, now, redirect, services};
    let services = services()?;
    limit_ip(&services, "magic_link_redeem")?;
    match domain::auth::recovery::redeem_magic_link(services.landlord(), token.trim(), now()).await {
        Ok(account) => {
            begin(&account, "magic_link").await?;
            redirect(&landing(&account, None).await?);
            Ok(())
        }
        Err(domain::Error::NotFound) => {
            tracing::warn!(event = "magic_link_failed", "expired, used or unknown sign-in link");
            redirect("/signin/link?expired=1");
            fail(AppError::form(
                "This sign-in link has expired or was already used. Ask for a new one.",
            ))
        }
        Err(other) => fail(AppError::from(other)),
    }
}

/// Emails a password-reset link. The answer is the same whether or not the address has an account.
#[server(endpoint = "password/forgot")]
pub async fn request_password_reset(email: String, turnstile: Option<String>) -> Result<(), AppError> {
    request_link(LinkKind::PasswordReset, &email, turnstile.as_deref()).await
}

/// Sets a new password with a reset link, ends every other session of the account, and signs in here.
#[server(endpoint = "password/reset")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::context::{begin, fail, landing, limit_ip, now, redirect, services};
    use domain::auth::{recovery::ResetError, sign_ins};
    let services = services()?;
    limit_ip(&services, "password_reset_redeem")?;
    let token = token.trim().to_owned();
    let password = secrecy::SecretString::from(password);
    match domain::auth::recovery::reset_password(services.landlord(), &token, &password, now()).await {
        Ok(account) => {
            let ended = sign_ins::end_all(services.landlord(), account.id, None).await?;
            tracing::info!(
                event = "password_reset",
                account = account.id,
                sessions_ended = ended,
                "password reset by link"
            );
            begin(&account, "password_reset").await?;
            redirect(&landing(&account, None).await?);
            Ok(())
        }
        Err(ResetError::Password(reason)) => back_with_error::<ResetPassword>(
            &format!("/password/reset/{token}"),
            AppError::field("password", reason.to_string()),
        ),
        Err(ResetError::Invalid) => back_with_error::<ResetPassword>(
            &format!("/password/reset/{token}"),
            AppError::form(ResetError::Invalid.to_string()),
        ),
        Err(ResetError::Other(other)) => fail(AppError::from(other)),
    }
}

/// Pages whose address holds a token send no Referer, so a plain form post from them cannot be sent back
/// by Leptos: send it back to `path` with the error in the URL, as Leptos would.
#[cfg(feature = "ssr")]
pub(crate) fn back_with_error<S: leptos::server_fn::ServerFn>(path: &str, error: AppError) -> Result<(), AppError> {
    use leptos::server_fn::error::ServerFnUrlError;
    if crate::context::wants_html()
        && let Ok(url) = ServerFnUrlError::new(S::PATH, error.clone()).to_url(&format!("http://local{path}"))
    {
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        crate::context::redirect(&format!("{}{query}", url.path()));
    }
    crate::context::fail(error)
}

/// Signs out here.
#[server(endpoint = "signout")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::context::end().await?;
    tracing::info!(event = "signed_out", "signed out");
    crate::context::redirect("/signin?signed_out=1");
    Ok(())
}

/// Signs out every session of the account, this one included.
#[server(endpoint = "signout/everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use crate::context::{require, services};
    let current = require().await?;
    let ended = domain::auth::sign_ins::end_all(services()?.landlord(), current.account.id, None).await?;
    crate::context::end().await?;
    tracing::info!(
        event = "signed_out_everywhere",
        account = current.account.id,
        sessions_ended = ended,
        "signed out everywhere"
    );
    crate::context::redirect("/signin?signed_out=1");
    Ok(())
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

/// Checks the emailed code that verifies the account's address.
#[server(endpoint = "account/verify")]
pub async fn verify_email(code: String) -> Result<(), AppError> {
    use crate::context::{fail, limit_ip, now, require, reserve_failure, services};
    use domain::auth::tokens::CodeCheck;
    let services = services()?;
    limit_ip(&services, "verify_email")?;
    let current = require().await?;
    let slot = reserve_failure(&services, &format!("account-id:{}", current.account.id))?;
    let code = secrecy::SecretString::from(code);
    match domain::auth::registration::verify_email(services.landlord(), current.account.id, &code, now()).await? {
        CodeCheck::Accepted => {
            slot.succeeded(&services);
            tracing::info!(
                event = "email_verified",
                account = current.account.id,
                "address verified"
            );
            Ok(())
        }
        CodeCheck::Wrong { remaining } => {
            tracing::warn!(
                event = "verification_code_failed",
                account = current.account.id,
                remaining,
                "wrong verification code"
            );
            fail(code_refused(Some(remaining), "Ask"))
        }
        CodeCheck::NoCode => {
            slot.succeeded(&services);
            fail(code_refused(None, "Ask"))
        }
    }
}

/// Mails a new verification code.
#[server(endpoint = "account/verify/resend")]
pub async fn resend_verification() -> Result<(), AppError> {
    use crate::context::{fail, limit_ip, limit_mail, now, require, services};
    let services = services()?;
    limit_ip(&services, "verify_resend")?;
    let current = require().await?;
    if current.account.email_verified_at.is_some() {
        return fail(AppError::form("Your address is verified already."));
    }
    limit_mail(&services, &current.account.email)?;
    domain::auth::registration::resend_verification(services.landlord(), &current.account, now()).await?;
    crate::context::redirect("/account?resent=1");
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
