//! Signing in with a password (and an emailed code when a workspace asks for one), and signing out.

#[cfg(feature = "ssr")]
use super::code_refused;
use crate::error::AppError;
use leptos::prelude::*;

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
