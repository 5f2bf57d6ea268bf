//! Staff accounts and their memberships. Accounts are global: one person, many workspaces.

use super::password::{self, PasswordError, Verification};
use crate::{Error, Landlord, Result, WorkspaceId, db::Tx, on_db, on_tx, on_write};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;

pub use vocab::Role;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, name, email_verified_at, disabled_at, created_at";

/// Lower-cases and trims an address, and refuses what cannot be one.
pub fn normalize_email(email: &str) -> Result<String> {
    vocab::EmailAddress::parse(email)
        .map(vocab::EmailAddress::into_string)
        .map_err(|invalid| Error::Invalid(invalid.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum NewAccountError {
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Other(#[from] Error),
}

/// A validated account with its password hashed, ready to insert.
pub struct NewAccount {
    pub email: String,
    pub name: String,
    password_hash: String,
}

/// Validates the fields and hashes the password (slow: done before any transaction opens).
/// `context` is more of what an attacker would try first (an organization's name, say).
pub async fn prepare(
    email: &str,
    name: &str,
    password: &SecretString,
    context: &[&str],
) -> Result<NewAccount, NewAccountError> {
    use secrecy::ExposeSecret;
    let email = normalize_email(email)?;
    let name = person_name(name)?;
    let mut words = vec![email.as_str(), name.as_str()];
    words.extend_from_slice(context);
    password::check_policy(password.expose_secret(), &words)?;
    let password_hash = hash_blocking(password.clone()).await?;
    Ok(NewAccount {
        email,
        name,
        password_hash,
    })
}

pub fn person_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::Invalid("Enter your name (at most 100 characters).".into()));
    }
    Ok(name.to_owned())
}

pub async fn insert_in(tx: &mut Tx, new: &NewAccount, now: DateTime<Utc>) -> Result<Account> {
    let sql = format!(
        "insert into accounts (email, name, password_hash, created_at, updated_at) values ($1, $2, $3, $4, $4)
         returning {COLUMNS}"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.password_hash)
        .bind(now)
        .fetch_one(conn)
        .await)
    .map_err(|e| Error::unique_or(e, || "An account with this email exists already.".into()))
}

/// Creates an account with a password that meets the policy.
pub async fn create(
    landlord: &Landlord,
    email: &str,
    name: &str,
    password: &SecretString,
) -> Result<Account, NewAccountError> {
    let new = prepare(email, name, password, &[]).await?;
    let mut tx = landlord.db().begin().await.map_err(Error::from)?;
    let account = insert_in(&mut tx, &new, Utc::now()).await?;
    tx.commit().await.map_err(Error::from)?;
    Ok(account)
}

pub async fn mark_email_verified(landlord: &Landlord, account_id: i64, now: DateTime<Utc>) -> Result<()> {
    on_write!(landlord.db(), conn => sqlx::query(
        "update accounts set email_verified_at = $2, updated_at = $2 where id = $1 and email_verified_at is null",
    )
    .bind(account_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

pub async fn by_id(landlord: &Landlord, id: i64) -> Result<Account> {
    let sql = format!("select {COLUMNS} from accounts where id = $1");
    let found: Option<Account> =
        on_db!(landlord.db(), pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    found.ok_or(Error::NotFound)
}

pub async fn by_email(landlord: &Landlord, email: &str) -> Result<Account> {
    let email = normalize_email(email)?;
    let sql = format!("select {COLUMNS} from accounts where email = $1");
    let found: Option<Account> =
        on_db!(landlord.db(), pool => sqlx::query_as(&sql).bind(&email).fetch_optional(pool).await)?;
    found.ok_or(Error::NotFound)
}

/// Checks an email and password. Unknown emails, disabled accounts and wrong passwords all give
/// `InvalidCredentials` after the same argon2 work, so neither the answer nor its timing tells them apart.
/// A hash made with weaker parameters is replaced by a current one.
pub async fn authenticate(landlord: &Landlord, email: &str, password: &SecretString) -> Result<Account, AuthError> {
    let email = normalize_email(email).unwrap_or_default();
    let row: Option<(i64, Option<String>, Option<DateTime<Utc>>)> = on_db!(landlord.db(), pool => sqlx::query_as(
        "select id, password_hash, disabled_at from accounts where email = $1",
    )
    .bind(&email)
    .fetch_optional(pool)
    .await)
    .map_err(Error::from)?;
    let password = password.clone();
    let Some((id, Some(stored), disabled_at)) = row else {
        tokio::task::spawn_blocking(move || password::verify_dummy(&password))
            .await
            .ok();
        return Err(AuthError::InvalidCredentials);
    };
    let verification = tokio::task::spawn_blocking(move || password::verify(&password, &stored))
        .await
        .map_err(|_| Error::Config("password verification panicked".into()))?;
    match verification {
        Verification::Invalid => Err(AuthError::InvalidCredentials),
        Verification::Valid { .. } if disabled_at.is_some() => Err(AuthError::InvalidCredentials),
        Verification::Valid { rehash } => {
            if let Some(hash) = rehash {
                on_write!(landlord.db(), conn => sqlx::query("update accounts set password_hash = $2 where id = $1")
                    .bind(id)
                    .bind(&hash)
                    .execute(conn)
                    .await
                    .map(|done| done.rows_affected()))
                .map_err(Error::from)?;
            }
            Ok(by_id(landlord, id).await?)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("The email or password is not right.")]
    InvalidCredentials,
    #[error(transparent)]
    Other(#[from] Error),
}

async fn hash_blocking(password: SecretString) -> Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|_| Error::Config("password hashing panicked".into()))
}

/// A new password for `account`, checked against the policy and hashed (off the async threads).
pub(crate) async fn new_password_hash(account: &Account, password: &SecretString) -> Result<String, NewAccountError> {
    use secrecy::ExposeSecret;
    password::check_policy(password.expose_secret(), &[&account.email, &account.name])?;
    Ok(hash_blocking(password.clone()).await?)
}

/// Stores a new password hash, in the caller's transaction.
pub(crate) async fn set_password_in(tx: &mut Tx, account_id: i64, hash: &str, now: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("update accounts set password_hash = $2, updated_at = $3 where id = $1")
        .bind(account_id)
        .bind(hash)
        .bind(now)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Adds (or changes) a person's role in a workspace.
pub async fn set_membership(landlord: &Landlord, account_id: i64, workspace: WorkspaceId, role: Role) -> Result<()> {
    let mut tx = landlord.db().begin().await?;
    set_membership_in(&mut tx, account_id, workspace, role).await?;
    Ok(tx.commit().await?)
}

pub async fn set_membership_in(tx: &mut Tx, account_id: i64, workspace: WorkspaceId, role: Role) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "insert into memberships (account_id, workspace_id, role, created_at) values ($1, $2, $3, $4)
         on conflict (account_id, workspace_id) do update set role = excluded.role",
    )
    .bind(account_id)
    .bind(workspace.get())
    .bind(role.as_str())
    .bind(Utc::now())
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// The person's role in the workspace, if they are a member.
pub async fn role_in(landlord: &Landlord, account_id: i64, workspace: WorkspaceId) -> Result<Option<Role>> {
    let role: Option<String> = on_db!(landlord.db(), pool => sqlx::query_scalar(
        "select role from memberships where account_id = $1 and workspace_id = $2",
    )
    .bind(account_id)
    .bind(workspace.get())
    .fetch_optional(pool)
    .await)?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// A workspace the person belongs to, with their role there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MembershipOf {
    pub workspace_id: i64,
    pub slug: String,
    pub name: String,
    pub role: Role,
    pub require_sign_in_code: bool,
    /// The workspace's team as of this reading (see [`team::members_at`](super::team::members_at)).
    pub team_version: i64,
}

/// The active workspaces the person belongs to, by name.
pub async fn memberships(landlord: &Landlord, account_id: i64) -> Result<Vec<MembershipOf>> {
    let rows: Vec<(i64, String, String, String, bool, i64)> = on_db!(landlord.db(), pool => sqlx::query_as(
        "select w.id, w.slug, w.name, m.role, w.require_sign_in_code, w.team_version from memberships m
         join workspaces w on w.id = m.workspace_id
         where m.account_id = $1 and w.status = 'active' order by w.name, w.id",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(workspace_id, slug, name, role, require_sign_in_code, team_version)| {
            Some(MembershipOf {
                workspace_id,
                slug,
                name,
                role: Role::parse(&role)?,
                require_sign_in_code,
                team_version,
            })
        })
        .collect())
}

/// Whether any workspace the person belongs to asks its staff for an emailed code at sign-in.
pub async fn requires_sign_in_code(landlord: &Landlord, account_id: i64) -> Result<bool> {
    Ok(memberships(landlord, account_id)
        .await?
        .iter()
        .any(|m| m.require_sign_in_code))
}

/// Turns the emailed second step on or off for a workspace's staff.
pub async fn set_require_sign_in_code(landlord: &Landlord, workspace: WorkspaceId, required: bool) -> Result<()> {
    on_write!(landlord.db(), conn => sqlx::query(
        "update workspaces set require_sign_in_code = $2, updated_at = $3 where id = $1",
    )
    .bind(workspace.get())
    .bind(required)
    .bind(Utc::now())
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}
