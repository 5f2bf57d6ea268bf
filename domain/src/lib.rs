//! Ferrodesk's server-only core: storage on two backends, database-per-workspace tenancy, encryption of
//! secrets at rest. No HTTP and no Leptos here; never compiled to wasm.
// Unsafe code only where SQLite's C API has no safe wrapper: `fts_rank`, which allows it for itself.
#![deny(unsafe_code)]

pub mod auth;
pub mod client_ip;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod form;
pub mod fts_rank;
pub mod group_commit;
pub mod jobs;
pub mod landlord;
pub mod mail;
pub mod mx;
pub mod slug;
pub mod sqlite_setup;
pub mod tenancy;
pub mod turnstile;
pub mod workspace;

pub use config::StorageConfig;
pub use error::{Error, Result};
pub use landlord::{Landlord, Workspace, WorkspaceId, WorkspaceStatus};
pub use tenancy::{TenantRouter, WorkspaceDb};
