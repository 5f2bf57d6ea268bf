//! One-time tokens in the landlord: links (magic sign-in, password reset, invitation) and 6-digit codes
//! (email verification, sign-in second step).
//!
//! Only hashes are stored. A link token is 256 random bits, so SHA-256 of it is enough. A 6-digit code has
//! only ~20 bits, so it is stored as HMAC-SHA256 under a key derived from the master key: a copy of the
//! database alone does not reveal it. Redeeming is one conditional `update … returning`, so a token is used
//! once even when many requests race for it. Codes allow 5 wrong guesses, and a new code replaces the
//! previous one.

use crate::{Error, Landlord, Result, WorkspaceId, db::Tx, on_db, on_tx, on_write};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Links and codes expire after 10 minutes (ASVS 6.5.5).
pub const LIFETIME: Duration = Duration::minutes(10);
/// Wrong guesses after which a code is void.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    MagicLink,
    PasswordReset,
    Invitation,
    EmailVerification,
    SignInCode,
    /// A customer's sign-in to one workspace's portal.
    PortalLink,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::MagicLink => "magic_link",
            Purpose::PasswordReset => "password_reset",
            Purpose::Invitation => "invitation",
            Purpose::EmailVerification => "email_verification",
            Purpose::SignInCode => "sign_in_code",
            Purpose::PortalLink => "portal_link",
        }
    }
}

/// What a redeemed link was issued for.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Redeemed {
    pub account_id: Option<i64>,
    pub workspace_id: Option<i64>,
    pub email: Option<String>,
    pub payload: Option<String>,
}

/// Who a link is for: an account, or (invitations, customers) an email address in a workspace.
#[derive(Clone, Debug, Default)]
pub struct Subject<'a> {
    pub account_id: Option<i64>,
    pub workspace_id: Option<WorkspaceId>,
    pub email: Option<&'a str>,
    pub payload: Option<&'a str>,
}

fn link_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a link token; only its hash is stored. The caller mails the token and forgets it.
pub async fn issue_link(
    landlord: &Landlord,
    purpose: Purpose,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> Result<SecretString> {
    let mut tx = landlord.db().begin().await?;
    let token = issue_link_in(&mut tx, purpose, subject, now).await?;
    tx.commit().await?;
    Ok(token)
}

/// As [`issue_link`], inside the caller's transaction (with the email that carries the link).
pub async fn issue_link_in(
    tx: &mut Tx,
    purpose: Purpose,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> Result<SecretString> {
    let token = URL_SAFE_NO_PAD.encode(crate::crypto::random_bytes::<32>().as_ref());
    on_tx!(tx, conn => sqlx::query(
        "insert into one_time_tokens (purpose, token_hash, account_id, workspace_id, email, payload, expires_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(purpose.as_str())
    .bind(link_hash(&token))
    .bind(subject.account_id)
    .bind(subject.workspace_id.map(WorkspaceId::get))
    .bind(subject.email)
    .bind(subject.payload)
    .bind(now + LIFETIME)
    .bind(now)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(SecretString::from(token))
}

/// What a live link is for, without using it up: for the confirm page a GET shows (mail scanners fetch
/// links; only the POST from that page redeems).
pub async fn peek_link(
    landlord: &Landlord,
    purpose: Purpose,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Redeemed>> {
    Ok(on_db!(landlord.db(), pool => sqlx::query_as(
        "select account_id, workspace_id, email, payload from one_time_tokens
         where token_hash = $1 and purpose = $2 and consumed_at is null and expires_at > $3",
    )
    .bind(link_hash(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(pool)
    .await)?)
}

/// Whether a link is still good, without using it up.
pub async fn link_is_valid(landlord: &Landlord, purpose: Purpose, token: &str, now: DateTime<Utc>) -> Result<bool> {
    Ok(peek_link(landlord, purpose, token, now).await?.is_some())
}

/// Uses a link up. Exactly one of any number of concurrent calls succeeds; expired, used or unknown tokens
/// are all `NotFound` (the caller shows one message for all three).
pub async fn redeem_link(landlord: &Landlord, purpose: Purpose, token: &str, now: DateTime<Utc>) -> Result<Redeemed> {
    let mut tx = landlord.db().begin().await?;
    let redeemed = redeem_link_in(&mut tx, purpose, token, now).await?;
    tx.commit().await?;
    Ok(redeemed)
}

/// As [`redeem_link`], inside the caller's transaction: if what the link was for fails, the link is not
/// used up.
pub async fn redeem_link_in(tx: &mut Tx, purpose: Purpose, token: &str, now: DateTime<Utc>) -> Result<Redeemed> {
    let redeemed: Option<Redeemed> = on_tx!(tx, conn => sqlx::query_as(
        "update one_time_tokens set consumed_at = $3
         where token_hash = $1 and purpose = $2 and consumed_at is null and expires_at > $3
         returning account_id, workspace_id, email, payload",
    )
    .bind(link_hash(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(conn)
    .await)?;
    redeemed.ok_or(Error::NotFound)
}

fn code_hash(landlord: &Landlord, account_id: i64, purpose: Purpose, code: &str) -> String {
    let key = landlord.keys().current().derive("ferrodesk one-time codes v1");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_ref()).expect("HMAC takes any key length");
    // Bound to the account and purpose: a code for X is no code for Y.
    mac.update(format!("{account_id}:{}:{code}", purpose.as_str()).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Issues a 6-digit code for an account, voiding any earlier unused code of the same purpose.
pub async fn issue_code(
    landlord: &Landlord,
    purpose: Purpose,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<SecretString> {
    let mut tx = landlord.db().begin().await?;
    let code = issue_code_in(landlord, &mut tx, purpose, account_id, now).await?;
    tx.commit().await?;
    Ok(code)
}

/// As [`issue_code`], inside the caller's transaction (with the email that carries the code).
pub async fn issue_code_in(
    landlord: &Landlord,
    tx: &mut Tx,
    purpose: Purpose,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<SecretString> {
    let value = u32::from_le_bytes(*crate::crypto::random_bytes::<4>()) % 1_000_000;
    let code = format!("{value:06}");
    let hash = code_hash(landlord, account_id, purpose, &code);
    on_tx!(tx, conn => {
        sqlx::query(
            "update one_time_tokens set consumed_at = $3
             where account_id = $1 and purpose = $2 and consumed_at is null",
        )
        .bind(account_id)
        .bind(purpose.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "insert into one_time_tokens (purpose, token_hash, account_id, expires_at, created_at)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(purpose.as_str())
        .bind(&hash)
        .bind(account_id)
        .bind(now + LIFETIME)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(SecretString::from(code))
}

#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    /// Wrong; this many guesses remain (0: the code is void now).
    Wrong {
        remaining: i64,
    },
    /// No live code: never issued, expired, used, replaced, or guessed at too often.
    NoCode,
}

/// Checks a code. A right code is used up; each wrong one counts toward the limit.
///
/// Each outcome is one conditional statement on a code that is still live, so racing guesses cannot
/// lose a count or bring back a code that a guess, a use or a newer code has ended: a wrong guess adds one
/// to `attempts` in the database (never a value read earlier) and ends the code on the fifth, and a right
/// guess uses the code only while it is live and under the limit.
pub async fn check_code(
    landlord: &Landlord,
    purpose: Purpose,
    account_id: i64,
    code: &SecretString,
    now: DateTime<Utc>,
) -> Result<CodeCheck> {
    let live: Option<(i64, String)> = on_db!(landlord.db(), pool => sqlx::query_as(
        "select id, token_hash from one_time_tokens
         where account_id = $1 and purpose = $2 and consumed_at is null and expires_at > $3
         order by id desc limit 1",
    )
    .bind(account_id)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    let Some((id, stored)) = live else {
        return Ok(CodeCheck::NoCode);
    };
    let offered = code_hash(landlord, account_id, purpose, code.expose_secret().trim());
    if subtle_eq(offered.as_bytes(), stored.as_bytes()) {
        let used = on_write!(landlord.db(), conn => sqlx::query(
            "update one_time_tokens set consumed_at = $2
             where id = $1 and consumed_at is null and expires_at > $2 and attempts < $3",
        )
        .bind(id)
        .bind(now)
        .bind(MAX_CODE_ATTEMPTS)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
        return Ok(if used == 1 {
            CodeCheck::Accepted
        } else {
            CodeCheck::NoCode
        });
    }
    let counted: Option<(i64,)> = on_write!(landlord.db(), conn => sqlx::query_as(
        "update one_time_tokens
         set attempts = attempts + 1,
             consumed_at = case when attempts + 1 >= $3 then $2 else consumed_at end
         where id = $1 and consumed_at is null
         returning attempts",
    )
    .bind(id)
    .bind(now)
    .bind(MAX_CODE_ATTEMPTS)
    .fetch_optional(conn)
    .await)?;
    Ok(match counted {
        Some((attempts,)) => CodeCheck::Wrong {
            remaining: (MAX_CODE_ATTEMPTS - attempts).max(0),
        },
        // Ended by a racing guess, a use or a newer code since it was read.
        None => CodeCheck::NoCode,
    })
}

/// Constant-time comparison of two equal-length hex digests.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
