//! Typed settings, loaded once at start-up: built-in defaults, then an optional TOML file, then `FERRODESK_*`
//! environment variables (the names operators' scripts rely on: see the README).

use domain::{
    StorageConfig,
    config::{expose_option, expose_vec},
};
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
};
use url::Url;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where the server listens (`FERRODESK_ADDR`).
    pub addr: SocketAddr,
    /// Databases, files and generated keys (`FERRODESK_DATA_DIR`).
    pub data_dir: PathBuf,
    /// The public URL, used in emails and to check the `Origin` of form posts (`FERRODESK_BASE_URL`).
    /// Unset: `http://` + the address the server is listening on.
    pub base_url: Option<Url>,
    /// `pretty` for people, `json` for log collectors (`FERRODESK_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// The built site: `pkg/` (wasm, js, css) and the public assets. cargo-leptos passes it as
    /// `LEPTOS_SITE_ROOT`; `FERRODESK_SITE_ROOT` wins over that.
    pub site_root: PathBuf,
    /// PostgreSQL landlord (`DATABASE_URL`). Unset: SQLite files in the data directory.
    #[serde(serialize_with = "expose_option")]
    pub database_url: Option<SecretString>,
    /// PostgreSQL servers for workspace databases (admin URLs). Empty: the landlord's server.
    #[serde(serialize_with = "expose_vec")]
    pub tenant_servers: Vec<SecretString>,
    /// Prefix of PostgreSQL database and role names.
    pub name_prefix: String,
    /// The master key, base64 of 32 bytes (`FERRODESK_MASTER_KEY`). Unset: `<data_dir>/master.key`.
    #[serde(serialize_with = "expose_option")]
    pub master_key: Option<SecretString>,
    /// A file holding the master key (base64 of 32 bytes), read at start when `master_key` is unset
    /// (`FERRODESK_MASTER_KEY_FILE`): for a secret mounted by the orchestrator. In production it must lie
    /// outside the data directory.
    pub master_key_file: Option<PathBuf>,
    /// Earlier master keys, until `ferrodesk rotate-key` has run (`FERRODESK_RETIRED_MASTER_KEYS`).
    #[serde(serialize_with = "expose_vec")]
    pub retired_master_keys: Vec<SecretString>,
    /// Workspace databases open at once, at most; the least recently used closes first.
    pub max_open_workspaces: u64,
    /// Seconds after which an unused workspace database is closed.
    pub idle_workspace_secs: u64,
    /// Turnstile's secret key (`FERRODESK_TURNSTILE_SECRET`). Unset: the check is off (development only).
    #[serde(serialize_with = "expose_option")]
    pub turnstile_secret: Option<SecretString>,
    /// Turnstile's site key, put in the forms' widget (`FERRODESK_TURNSTILE_SITE_KEY`).
    pub turnstile_site_key: Option<String>,
    /// Where siteverify is (`FERRODESK_TURNSTILE_VERIFY_URL`); tests point it at a local double.
    pub turnstile_verify_url: String,
    /// The SMTP server (`FERRODESK_SMTP_URL`: `smtp://`, `smtp://…?tls=required`, `smtps://`). Unset: mail
    /// is written to `<data_dir>/mail/*.eml`.
    #[serde(serialize_with = "expose_option")]
    pub smtp_url: Option<SecretString>,
    /// The sender of every message (`FERRODESK_MAIL_FROM`).
    pub mail_from: String,
    /// Sign-in, sign-up, link and code requests allowed per client address per minute
    /// (`FERRODESK_AUTH_REQUESTS_PER_MINUTE`).
    pub auth_requests_per_minute: usize,
    /// How often, in milliseconds, the mail worker looks for messages to send (`FERRODESK_MAIL_POLL_MS`).
    pub mail_poll_ms: u64,
    /// The largest attachment, in bytes (`FERRODESK_ATTACHMENT_MAX_BYTES`).
    pub attachment_max_bytes: usize,
    /// The most all attachments of one message may come to, in bytes (`FERRODESK_MESSAGE_ATTACHMENTS_MAX_BYTES`).
    pub message_attachments_max_bytes: usize,
    /// Enquiries accepted from one client address per hour (`FERRODESK_ENQUIRIES_PER_IP_HOUR`).
    pub enquiries_per_ip_hour: usize,
    /// Enquiries accepted from one client address per day (`FERRODESK_ENQUIRIES_PER_IP_DAY`).
    pub enquiries_per_ip_day: usize,
    /// Enquiries one workspace accepts in 24 hours (`FERRODESK_ENQUIRIES_PER_WORKSPACE_DAY`).
    pub enquiries_per_workspace_day: i64,
    /// Whether an enquiry's email domain must have MX records, when DNS answers (`FERRODESK_CHECK_MX`).
    pub check_mx: bool,
    /// The DNS server for that check, `ip:port` (`FERRODESK_DNS_SERVER`). Unset: the first `nameserver` of
    /// `/etc/resolv.conf`.
    pub dns_server: Option<SocketAddr>,
    /// `production` refuses to start without Turnstile and an https base URL (`FERRODESK_ENVIRONMENT`).
    pub environment: Environment,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`FERRODESK_TRUSTED_PROXIES`). Empty: the
    /// socket's peer is the client, and forwarding headers are ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// A sign-in unused for this many seconds ends (`FERRODESK_SESSION_IDLE_SECS`; 8 hours).
    pub session_idle_secs: u64,
    /// A sign-in ends this many seconds after it began, however busy (`FERRODESK_SESSION_LIFETIME_SECS`;
    /// 7 days).
    pub session_lifetime_secs: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        let storage = StorageConfig::default();
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            base_url: None,
            log_format: LogFormat::Pretty,
            site_root: PathBuf::from("target/site"),
            database_url: None,
            tenant_servers: Vec::new(),
            name_prefix: storage.name_prefix,
            master_key: None,
            master_key_file: None,
            retired_master_keys: Vec::new(),
            max_open_workspaces: storage.max_open_workspaces,
            idle_workspace_secs: storage.idle_workspace_secs,
            turnstile_secret: None,
            turnstile_site_key: None,
            turnstile_verify_url: domain::turnstile::SITEVERIFY_URL.into(),
            smtp_url: None,
            mail_from: "Ferrodesk <no-reply@localhost>".into(),
            mail_poll_ms: 2000,
            attachment_max_bytes: 10 * 1024 * 1024,
            message_attachments_max_bytes: 25 * 1024 * 1024,
            auth_requests_per_minute: 30,
            enquiries_per_ip_hour: 5,
            enquiries_per_ip_day: 20,
            enquiries_per_workspace_day: 500,
            check_mx: true,
            dns_server: None,
            environment: Environment::Development,
            trusted_proxies: Vec::new(),
            session_idle_secs: 8 * 3600,
            session_lifetime_secs: 7 * 24 * 3600,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Invalid(#[from] Box<figment::Error>),
    #[error("the configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("base_url must be an http:// or https:// URL with a host, got {0}")]
    BaseUrl(Url),
    #[error("in production, {0}")]
    Production(&'static str),
    #[error("session_idle_secs and session_lifetime_secs must be at least 60, and idle no longer than the lifetime")]
    SessionTimes,
    #[error("the master key file {0} cannot be read: {1}")]
    MasterKeyFile(PathBuf, std::io::Error),
}

impl Settings {
    /// Loads the settings from the defaults, `config_file` (if given) and the environment.
    pub fn load(config_file: Option<&std::path::Path>) -> Result<Settings, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = config_file {
            // A named file that is missing is an operator's mistake, not a reason to run on defaults.
            if !path.is_file() {
                return Err(SettingsError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let settings: Settings = figment
            .merge(Env::raw().only(&["LEPTOS_SITE_ROOT"]).map(|_| "site_root".into()))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("FERRODESK_").only(&[
                "addr",
                "data_dir",
                "base_url",
                "log_format",
                "site_root",
                "tenant_servers",
                "name_prefix",
                "master_key",
                "master_key_file",
                "retired_master_keys",
                "max_open_workspaces",
                "idle_workspace_secs",
                "turnstile_secret",
                "turnstile_site_key",
                "turnstile_verify_url",
                "smtp_url",
                "mail_from",
                "mail_poll_ms",
                "attachment_max_bytes",
                "message_attachments_max_bytes",
                "auth_requests_per_minute",
                "enquiries_per_ip_hour",
                "enquiries_per_ip_day",
                "enquiries_per_workspace_day",
                "check_mx",
                "dns_server",
                "environment",
                "trusted_proxies",
                "session_idle_secs",
                "session_lifetime_secs",
            ]))
            .extract()
            .map_err(Box::new)?;
        settings.read_master_key_file()?.validate()
    }

    fn read_master_key_file(mut self) -> Result<Settings, SettingsError> {
        if self.master_key.is_none()
            && let Some(path) = &self.master_key_file
        {
            let key = std::fs::read_to_string(path).map_err(|e| SettingsError::MasterKeyFile(path.clone(), e))?;
            self.master_key = Some(SecretString::from(key.trim().to_owned()));
        }
        Ok(self)
    }

    /// Whether `path` lies inside the data directory (compared as absolute paths, through symlinks where
    /// they exist).
    fn inside_data_dir(&self, path: &std::path::Path) -> bool {
        let resolve = |p: &std::path::Path| {
            std::fs::canonicalize(p)
                .or_else(|_| std::path::absolute(p))
                .unwrap_or_else(|_| p.to_owned())
        };
        resolve(path).starts_with(resolve(&self.data_dir))
    }

    /// The storage layer's part of the settings.
    pub fn storage(&self) -> StorageConfig {
        StorageConfig {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            tenant_servers: self.tenant_servers.clone(),
            name_prefix: self.name_prefix.clone(),
            master_key: self.master_key.clone(),
            retired_master_keys: self.retired_master_keys.clone(),
            max_open_workspaces: self.max_open_workspaces,
            idle_workspace_secs: self.idle_workspace_secs,
            ..StorageConfig::default()
        }
    }

    fn validate(self) -> Result<Settings, SettingsError> {
        if let Some(url) = &self.base_url
            && (!matches!(url.scheme(), "http" | "https") || url.host().is_none())
        {
            return Err(SettingsError::BaseUrl(url.clone()));
        }
        if self.session_idle_secs < 60 || self.session_idle_secs > self.session_lifetime_secs {
            return Err(SettingsError::SessionTimes);
        }
        if self.environment == Environment::Production {
            if self.turnstile_secret.is_none() || self.turnstile_site_key.is_none() {
                return Err(SettingsError::Production(
                    "FERRODESK_TURNSTILE_SECRET and FERRODESK_TURNSTILE_SITE_KEY must be set: public forms need Turnstile",
                ));
            }
            match &self.master_key_file {
                _ if self.master_key.is_none() => {
                    return Err(SettingsError::Production(
                        "FERRODESK_MASTER_KEY or FERRODESK_MASTER_KEY_FILE must be set: the key generated inside the data directory would sit next to what it encrypts",
                    ));
                }
                Some(file) if self.inside_data_dir(file) => {
                    return Err(SettingsError::Production(
                        "FERRODESK_MASTER_KEY_FILE must lie outside the data directory: a copy of the data would carry its key",
                    ));
                }
                _ => {}
            }
            if self.base_url.as_ref().is_none_or(|url| url.scheme() != "https") {
                return Err(SettingsError::Production(
                    "FERRODESK_BASE_URL must be an https:// URL: session cookies are Secure and __Host- prefixed",
                ));
            }
        }
        Ok(self)
    }

    /// How long sign-ins last.
    pub fn session_policy(&self) -> domain::auth::sign_ins::SessionPolicy {
        domain::auth::sign_ins::SessionPolicy {
            idle: chrono::Duration::seconds(self.session_idle_secs as i64),
            absolute: chrono::Duration::seconds(self.session_lifetime_secs as i64),
        }
    }
}

#[cfg(test)]
// `Jail::expect_with` fixes the closure's error type to figment's own (large) error.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_serve_loopback_port_3000_with_data_in_data() {
        Jail::expect_with(|_| {
            let settings = Settings::load(None).expect("defaults load");
            assert_eq!(settings.addr.to_string(), "127.0.0.1:3000");
            assert_eq!(settings.data_dir, PathBuf::from("data"));
            assert_eq!(settings.base_url, None);
            assert_eq!(settings.log_format, LogFormat::Pretty);
            Ok(())
        });
    }

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "ferrodesk.toml",
                r#"
                    addr = "0.0.0.0:8080"
                    data_dir = "/srv/ferrodesk"
                    log_format = "json"
                "#,
            )?;
            jail.set_env("FERRODESK_ADDR", "127.0.0.1:9000");
            jail.set_env("FERRODESK_BASE_URL", "https://help.example.com");
            let settings = Settings::load(Some("ferrodesk.toml".as_ref())).expect("loads");
            assert_eq!(settings.addr.to_string(), "127.0.0.1:9000");
            assert_eq!(settings.data_dir, PathBuf::from("/srv/ferrodesk"));
            assert_eq!(settings.log_format, LogFormat::Json);
            assert_eq!(settings.base_url.unwrap().as_str(), "https://help.example.com/");
            Ok(())
        });
    }

    #[test]
    fn ferrodesk_site_root_wins_over_the_one_cargo_leptos_passes() {
        Jail::expect_with(|jail| {
            jail.set_env("LEPTOS_SITE_ROOT", "from-leptos");
            assert_eq!(Settings::load(None).unwrap().site_root, PathBuf::from("from-leptos"));
            jail.set_env("FERRODESK_SITE_ROOT", "from-ferrodesk");
            assert_eq!(Settings::load(None).unwrap().site_root, PathBuf::from("from-ferrodesk"));
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_errors_that_name_the_setting() {
        Jail::expect_with(|jail| {
            jail.set_env("FERRODESK_ADDR", "not an address");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("addr"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("FERRODESK_BASE_URL", "ftp://files.example.com");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("base_url"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("typo.toml", "adress = \"127.0.0.1:1\"")?;
            let error = Settings::load(Some("typo.toml".as_ref())).unwrap_err().to_string();
            assert!(error.contains("adress"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn database_url_and_the_master_key_come_from_their_documented_variables() {
        use secrecy::ExposeSecret;
        Jail::expect_with(|jail| {
            jail.set_env("DATABASE_URL", "postgres://ferrodesk@db/landlord");
            jail.set_env("FERRODESK_MASTER_KEY", "a2V5");
            let settings = Settings::load(None).unwrap();
            assert_eq!(
                settings.database_url.unwrap().expose_secret(),
                "postgres://ferrodesk@db/landlord"
            );
            assert_eq!(settings.master_key.unwrap().expose_secret(), "a2V5");
            Ok(())
        });
    }

    #[test]
    fn secrets_are_not_printed_in_debug_output() {
        Jail::expect_with(|jail| {
            jail.set_env("FERRODESK_MASTER_KEY", "c2VjcmV0LW1hc3Rlci1rZXk=");
            let settings = Settings::load(None).unwrap();
            assert!(!format!("{settings:?}").contains("c2VjcmV0LW1hc3Rlci1rZXk="));
            Ok(())
        });
    }

    #[test]
    fn production_refuses_to_start_without_turnstile_or_https() {
        Jail::expect_with(|jail| {
            jail.set_env("FERRODESK_ENVIRONMENT", "production");
            jail.set_env("FERRODESK_BASE_URL", "https://help.example.com");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("TURNSTILE"), "{error}");
            jail.set_env("FERRODESK_TURNSTILE_SECRET", "0x4AAAAAAAtest");
            jail.set_env("FERRODESK_TURNSTILE_SITE_KEY", "0x4AAAAAAAsite");
            jail.set_env("FERRODESK_MASTER_KEY", "a2V5");
            assert!(Settings::load(None).is_ok());
            jail.set_env("FERRODESK_BASE_URL", "http://help.example.com");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("https"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn production_refuses_a_master_key_kept_in_the_data_directory() {
        use secrecy::ExposeSecret;
        Jail::expect_with(|jail| {
            jail.set_env("FERRODESK_ENVIRONMENT", "production");
            jail.set_env("FERRODESK_BASE_URL", "https://help.example.com");
            jail.set_env("FERRODESK_TURNSTILE_SECRET", "0x4AAAAAAAtest");
            jail.set_env("FERRODESK_TURNSTILE_SITE_KEY", "0x4AAAAAAAsite");
            jail.set_env("FERRODESK_DATA_DIR", "data");
            // The generated key file (no key configured): refused.
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FERRODESK_MASTER_KEY"), "{error}");
            // A key file inside the data directory, however it is named: refused.
            std::fs::create_dir_all(jail.directory().join("data/keys")).expect("a directory in the jail");
            jail.create_file("data/keys/master.key", "a2V5\n")?;
            jail.set_env("FERRODESK_MASTER_KEY_FILE", "data/keys/../keys/master.key");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("outside the data directory"), "{error}");
            // A key file elsewhere: read, trimmed, accepted.
            jail.create_file("master.key", "a2V5\n")?;
            jail.set_env("FERRODESK_MASTER_KEY_FILE", "master.key");
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.master_key.unwrap().expose_secret(), "a2V5");
            // A key file that cannot be read: an error naming it.
            jail.set_env("FERRODESK_MASTER_KEY_FILE", "missing.key");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("missing.key"), "{error}");
            // The key in the environment: accepted.
            jail.set_env("FERRODESK_MASTER_KEY_FILE", "");
            jail.set_env("FERRODESK_MASTER_KEY", "a2V5");
            assert!(Settings::load(None).is_ok());
            Ok(())
        });
    }

    #[test]
    fn trusted_proxies_and_session_times_are_read_and_checked() {
        Jail::expect_with(|jail| {
            jail.set_env("FERRODESK_TRUSTED_PROXIES", "[\"10.0.0.2\", \"::1\"]");
            jail.set_env("FERRODESK_SESSION_IDLE_SECS", "1800");
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.trusted_proxies.len(), 2);
            assert_eq!(settings.session_policy().idle, chrono::Duration::minutes(30));
            jail.set_env("FERRODESK_SESSION_IDLE_SECS", "30");
            assert!(matches!(Settings::load(None), Err(SettingsError::SessionTimes)));
            Ok(())
        });
    }

    #[test]
    fn a_named_config_file_that_is_missing_is_an_error() {
        Jail::expect_with(|_| {
            let error = Settings::load(Some("nowhere.toml".as_ref())).unwrap_err();
            assert!(matches!(error, SettingsError::MissingFile(_)));
            Ok(())
        });
    }
}
