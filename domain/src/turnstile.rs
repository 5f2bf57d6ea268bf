//! Cloudflare Turnstile, verified on the server against the documented siteverify API.
//!
//! Written against the API itself (POST `secret`, `response`, `remoteip`, `idempotency_key`) rather than the
//! `cf-turnstile` crate, which hard-codes the URL and sends `remote_ip`. Every failure is a refusal: a
//! network error, a timeout, a 5xx, a body that is not the documented JSON, or `success: false`. Only
//! `internal-error` is retried, once, with the same idempotency key, as Cloudflare advises.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::{net::IpAddr, time::Duration};

/// Cloudflare's endpoint; settings can point elsewhere (tests run a local double of it).
pub const SITEVERIFY_URL: &str = "https://challenges.cloudflare.com/turnstile/v0/siteverify";
/// Tokens longer than this are not Turnstile tokens.
const MAX_TOKEN_LEN: usize = 2048;

#[derive(Clone)]
pub enum Turnstile {
    /// No secret configured (development): every form passes. The server warns at start-up.
    Disabled,
    Siteverify(Siteverify),
}

#[derive(Clone)]
pub struct Siteverify {
    client: reqwest::Client,
    url: String,
    secret: SecretString,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TurnstileError {
    #[error("Please complete the check that you are not a robot.")]
    MissingToken,
    #[error("The check that you are not a robot failed ({0}). Please try again.")]
    Rejected(String),
    #[error("The check that you are not a robot could not be completed. Please try again.")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct SiteverifyResponse {
    success: bool,
    #[serde(default, rename = "error-codes")]
    error_codes: Vec<String>,
}

impl Turnstile {
    pub fn new(secret: Option<SecretString>, url: &str, timeout: Duration) -> Turnstile {
        match secret {
            None => Turnstile::Disabled,
            Some(secret) => Turnstile::Siteverify(Siteverify {
                client: reqwest::Client::builder()
                    .timeout(timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("a TLS client can be built"),
                url: url.to_owned(),
                secret,
            }),
        }
    }

    pub fn enabled(&self) -> bool {
        matches!(self, Turnstile::Siteverify(_))
    }

    /// Verifies the token a form sent (`cf-turnstile-response`).
    pub async fn verify(&self, token: Option<&str>, remote_ip: Option<IpAddr>) -> Result<(), TurnstileError> {
        let Turnstile::Siteverify(client) = self else {
            return Ok(());
        };
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TurnstileError::MissingToken)?;
        if token.len() > MAX_TOKEN_LEN {
            return Err(TurnstileError::Rejected("invalid-input-response".into()));
        }
        let idempotency_key = uuid::Uuid::new_v4().to_string();
        let first = client.call(token, remote_ip, &idempotency_key).await;
        let answer = match first {
            Err(TurnstileError::Rejected(codes)) if codes.split(',').any(|c| c == "internal-error") => {
                client.call(token, remote_ip, &idempotency_key).await
            }
            other => other,
        };
        if let Err(error) = &answer {
            tracing::warn!(event = "turnstile_failed", %error, "a form's Turnstile check failed");
        }
        answer
    }
}

impl Siteverify {
    async fn call(&self, token: &str, remote_ip: Option<IpAddr>, idempotency_key: &str) -> Result<(), TurnstileError> {
        let remote_ip = remote_ip.map(|ip| ip.to_string());
        let mut form = vec![
            ("secret", self.secret.expose_secret()),
            ("response", token),
            ("idempotency_key", idempotency_key),
        ];
        if let Some(ip) = &remote_ip {
            form.push(("remoteip", ip));
        }
        let response = self.client.post(&self.url).form(&form).send().await.map_err(|e| {
            TurnstileError::Unavailable(if e.is_timeout() {
                "timeout".into()
            } else {
                "network".into()
            })
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(TurnstileError::Unavailable(format!("HTTP {}", status.as_u16())));
        }
        let body: SiteverifyResponse = response
            .json()
            .await
            .map_err(|_| TurnstileError::Unavailable("malformed answer".into()))?;
        if body.success {
            Ok(())
        } else {
            let codes = if body.error_codes.is_empty() {
                "unknown".into()
            } else {
                body.error_codes.join(",")
            };
            Err(TurnstileError::Rejected(codes))
        }
    }
}
