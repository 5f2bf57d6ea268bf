//! What a workspace's customers reach: their own tickets (and, where the workspace shares them, those of
//! their organization), public messages and files only, and the enquiry form that opens tickets without
//! signing in.
//!
//! Every lookup here takes the signed-in customer and answers `NotFound` for anything they may not see,
//! exactly as for something that does not exist, so ids reveal nothing.

use super::{
    attachments::{self, Attachment, BlobStore},
    customers::Customer,
    settings,
    tickets::{self, Actor, Author, NewTicket, Status, Ticket},
};
use crate::{Error, Result, WorkspaceDb, on_db, on_write};
use chrono::{DateTime, Duration, Utc};

/// The category every enquiry from the public form gets (made when the first enquiry arrives).
pub const ENQUIRY_CATEGORY: &str = "Enquiry";
/// How many of their tickets the portal lists.
pub const LIST_MAX: i64 = 200;

const BRAND_COLOR: &str = "portal.brand_color";
const SHARED_DOMAINS: &str = "portal.shared_domains";

/// How the workspace presents its portal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortalSettings {
    /// `#rrggbb`, or none for the default colour.
    pub brand_color: Option<String>,
    /// Email domains whose customers see each other's tickets (an organization's shared view).
    pub shared_domains: Vec<String>,
}

fn field(field: &'static str, message: &str) -> Error {
    Error::Field {
        field,
        message: message.into(),
    }
}

/// Checks a colour as `#rrggbb` (lower-cased).
pub fn parse_color(text: &str) -> Result<Option<String>> {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return Ok(None);
    }
    let valid = text.len() == 7 && text.starts_with('#') && text[1..].chars().all(|c| c.is_ascii_hexdigit());
    if valid {
        Ok(Some(text))
    } else {
        Err(field("brand_color", "Enter a colour as #rrggbb, for example #0b6bcb."))
    }
}

/// Parses a list of email domains (one per line or comma-separated).
pub fn parse_domains(text: &str) -> Result<Vec<String>> {
    let mut domains = Vec::new();
    for domain in text.split([',', '\n', ' ']).map(str::trim).filter(|d| !d.is_empty()) {
        let domain = domain.trim_start_matches('@').to_lowercase();
        let valid = domain.contains('.')
            && domain.len() <= 253
            && !domain.starts_with(['.', '-'])
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        if !valid {
            return Err(field(
                "shared_domains",
                &format!("“{domain}” is not a domain name like example.com."),
            ));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() > 50 {
        return Err(field("shared_domains", "At most 50 domains can share tickets."));
    }
    Ok(domains)
}

pub async fn portal_settings(ws: &WorkspaceDb) -> Result<PortalSettings> {
    let brand_color = settings::get(ws, BRAND_COLOR).await?.filter(|c| !c.is_empty());
    let shared_domains = settings::get(ws, SHARED_DOMAINS)
        .await?
        .map(|d| d.split(',').filter(|d| !d.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(PortalSettings {
        brand_color,
        shared_domains,
    })
}

pub async fn set_portal_settings(ws: &WorkspaceDb, brand_color: &str, shared_domains: &str) -> Result<PortalSettings> {
    let brand_color = parse_color(brand_color)?;
    let shared_domains = parse_domains(shared_domains)?;
    settings::set(ws, BRAND_COLOR, brand_color.as_deref().unwrap_or("")).await?;
    settings::set(ws, SHARED_DOMAINS, &shared_domains.join(",")).await?;
    Ok(PortalSettings {
        brand_color,
        shared_domains,
    })
}

/// The customer with `email`, made (named after the address) on their first sign-in.
pub async fn customer_for_sign_in(ws: &WorkspaceDb, email: &str, now: DateTime<Utc>) -> Result<Customer> {
    let email = email.trim().to_lowercase();
    let name = email.split('@').next().unwrap_or(&email).to_owned();
    Ok(on_write!(ws.db(), conn => sqlx::query_as(
        "insert into customers (email, name, created_at, updated_at) values ($1, $2, $3, $3)
         on conflict (email) do update set updated_at = customers.updated_at
         returning id, email, name, created_at",
    )
    .bind(&email)
    .bind(&name)
    .bind(now)
    .fetch_one(conn)
    .await)?)
}

/// The domain of the customer's address when the workspace shares tickets within it.
fn shared_domain<'a>(customer: &'a Customer, portal: &PortalSettings) -> Option<&'a str> {
    let domain = customer.email.rsplit_once('@').map(|(_, d)| d)?;
    portal.shared_domains.iter().any(|d| d == domain).then_some(domain)
}

/// The tickets the customer may see, most recently updated first.
pub async fn tickets_of(ws: &WorkspaceDb, customer: &Customer, portal: &PortalSettings) -> Result<Vec<Ticket>> {
    let columns = tickets::COLUMNS;
    let rows: Vec<Ticket> = match shared_domain(customer, portal) {
        Some(domain) => {
            let sql = format!(
                "select {columns} from tickets where requester_id = $1 or requester_email like $2 escape '\\'
                 order by updated_at desc, id desc limit $3"
            );
            let pattern = format!(
                "%@{}",
                domain.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
            );
            on_db!(ws.db(), pool => sqlx::query_as(&sql)
                .bind(customer.id)
                .bind(&pattern)
                .bind(LIST_MAX)
                .fetch_all(pool)
                .await)?
        }
        None => {
            let sql = format!(
                "select {columns} from tickets where requester_id = $1 order by updated_at desc, id desc limit $2"
            );
            on_db!(ws.db(), pool => sqlx::query_as(&sql)
                .bind(customer.id)
                .bind(LIST_MAX)
                .fetch_all(pool)
                .await)?
        }
    };
    Ok(rows)
}

/// Whether the customer may see `ticket`.
pub fn may_see(customer: &Customer, portal: &PortalSettings, ticket: &Ticket) -> bool {
    ticket.requester_id == customer.id
        || shared_domain(customer, portal).is_some_and(|domain| {
            ticket
                .requester_email
                .rsplit_once('@')
                .is_some_and(|(_, d)| d == domain)
        })
}

/// The ticket `number`, if the customer may see it; `NotFound` otherwise.
pub async fn ticket(ws: &WorkspaceDb, customer: &Customer, portal: &PortalSettings, number: i64) -> Result<Ticket> {
    let ticket = tickets::get(ws, vocab::TicketNumber(number)).await?;
    if may_see(customer, portal, &ticket) {
        Ok(ticket)
    } else {
        Err(Error::NotFound)
    }
}

/// An attachment of a public message of a ticket the customer may see; files of internal notes, like
/// everything else out of reach, are `NotFound`.
pub async fn open_attachment(
    ws: &WorkspaceDb,
    store: &dyn BlobStore,
    customer: &Customer,
    portal: &PortalSettings,
    number: i64,
    id: i64,
) -> Result<(Attachment, Vec<u8>)> {
    let ticket = ticket(ws, customer, portal, number).await?;
    let public = attachments::of_ticket(ws, ticket.id, true).await?;
    if !public.iter().any(|a| a.id == id) {
        return Err(Error::NotFound);
    }
    attachments::open(ws, store, ticket.id, id).await
}

/// The customer closes their ticket.
pub async fn close(
    ws: &WorkspaceDb,
    actor: &Actor,
    customer: &Customer,
    portal: &PortalSettings,
    number: i64,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let ticket = ticket(ws, customer, portal, number).await?;
    let changes = tickets::Changes {
        status: Some(Status::Closed),
        ..Default::default()
    };
    tickets::update(ws, actor, ticket.id, &changes, now).await
}

/// An enquiry from the public form.
#[derive(Clone, Debug, Default)]
pub struct Enquiry {
    pub name: String,
    pub email: String,
    pub company: String,
    pub phone: String,
    pub message: String,
}

impl Enquiry {
    /// What was typed, by input name (for a refused form to show again).
    pub fn typed(&self) -> [(&'static str, &str); 5] {
        [
            ("name", &self.name),
            ("email", &self.email),
            ("company", &self.company),
            ("phone", &self.phone),
            ("message", &self.message),
        ]
    }
}

/// The longest enquiry message, in characters.
pub const ENQUIRY_MAX: usize = 10_000;

/// Checks an enquiry's fields; the error names the field to correct. Returns the normalized address.
pub fn check_enquiry(enquiry: &Enquiry) -> Result<String> {
    let name = enquiry.name.trim();
    if name.is_empty() {
        return Err(field("name", "Enter your name."));
    }
    if name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(field("name", "A name can be at most 120 characters long, on one line."));
    }
    let email = crate::auth::accounts::normalize_email(&enquiry.email).map_err(|e| e.on_field("email"))?;
    if enquiry.company.trim().chars().count() > 200 || enquiry.company.chars().any(char::is_control) {
        return Err(field(
            "company",
            "A company name can be at most 200 characters long, on one line.",
        ));
    }
    let phone = enquiry.phone.trim();
    let phone_ok = phone.len() <= 40
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | '.' | ' ' | '/'))
        && (phone.is_empty() || phone.chars().filter(char::is_ascii_digit).count() >= 4);
    if !phone_ok {
        return Err(field(
            "phone",
            "Enter a phone number with digits (and + ( ) - . / if you like), or leave it empty.",
        ));
    }
    let message = enquiry.message.trim();
    if message.is_empty() {
        return Err(field("message", "Write your message."));
    }
    if message.chars().count() > ENQUIRY_MAX {
        return Err(field("message", "A message can be at most 10,000 characters long."));
    }
    Ok(email)
}

/// How many enquiries the workspace received in the 24 hours before `now`.
pub async fn enquiries_since(ws: &WorkspaceDb, since: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(ws.db(), pool => sqlx::query_scalar(
        "select count(*) from tickets t join categories c on c.id = t.category_id
         where lower(c.name) = lower($1) and t.created_at > $2",
    )
    .bind(ENQUIRY_CATEGORY)
    .bind(since)
    .fetch_one(pool)
    .await)?)
}

/// Turns an enquiry into a ticket in the category "Enquiry", written by the sender (found or made as a
/// customer, with company and phone kept). The sender gets the usual confirmation mail. Refused with
/// `Limited`, and nothing recorded, once the workspace has had `daily_cap` enquiries in 24 hours.
#[tracing::instrument(skip_all, fields(workspace = %ws.id()))]
pub async fn submit_enquiry(
    ws: &WorkspaceDb,
    enquiry: &Enquiry,
    daily_cap: i64,
    base: &Actor,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let email = check_enquiry(enquiry)?;
    if enquiries_since(ws, now - Duration::days(1)).await? >= daily_cap {
        return Err(Error::Limited { retry_after_secs: 3600 });
    }
    let name = enquiry.name.trim();
    let company = enquiry.company.trim();
    let phone = enquiry.phone.trim();
    let customer: (i64, String) = on_write!(ws.db(), conn => sqlx::query_as(
        "insert into customers (email, name, company, phone, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)
         on conflict (email) do update set
             company = case when excluded.company <> '' then excluded.company else customers.company end,
             phone = case when excluded.phone <> '' then excluded.phone else customers.phone end,
             updated_at = excluded.updated_at
         returning id, name",
    )
    .bind(&email)
    .bind(name)
    .bind(company)
    .bind(phone)
    .bind(now)
    .fetch_one(conn)
    .await)?;
    let category = enquiry_category(ws, now).await?;
    let message = enquiry.message.trim();
    let first_line = message.lines().next().unwrap_or("").trim();
    let mut subject: String = first_line.chars().filter(|c| !c.is_control()).take(80).collect();
    if first_line.chars().count() > 80 {
        subject.push('…');
    }
    let mut body = message.to_owned();
    let mut details = Vec::new();
    if !company.is_empty() {
        details.push(format!("Company: {company}"));
    }
    if !phone.is_empty() {
        details.push(format!("Phone: {phone}"));
    }
    if !details.is_empty() {
        body.push_str("\n\n---\n");
        body.push_str(&details.join("  \n"));
    }
    let actor = Actor {
        author: Author::Customer {
            customer_id: customer.0,
            name: customer.1.clone(),
        },
        ..base.clone()
    };
    let new = NewTicket {
        requester_email: email,
        requester_name: name.to_owned(),
        subject: format!("Enquiry: {subject}"),
        body,
        category_id: Some(category),
        ..Default::default()
    };
    tickets::create(ws, &actor, &new, now).await
}

async fn enquiry_category(ws: &WorkspaceDb, now: DateTime<Utc>) -> Result<i64> {
    let found: Option<i64> = on_db!(ws.db(), pool => sqlx::query_scalar(
        "select id from categories where lower(name) = lower($1)",
    )
    .bind(ENQUIRY_CATEGORY)
    .fetch_optional(pool)
    .await)?;
    if let Some(id) = found {
        return Ok(id);
    }
    // Two first enquiries at once: the unique index lets one insert win; the other reads its row.
    let inserted: Option<i64> = on_write!(ws.db(), conn => sqlx::query_scalar(
        "insert into categories (name, created_at) values ($1, $2) on conflict do nothing returning id",
    )
    .bind(ENQUIRY_CATEGORY)
    .bind(now)
    .fetch_optional(conn)
    .await)?;
    match inserted {
        Some(id) => Ok(id),
        None => on_db!(ws.db(), pool => sqlx::query_scalar("select id from categories where lower(name) = lower($1)")
            .bind(ENQUIRY_CATEGORY)
            .fetch_one(pool)
            .await)
        .map_err(Error::from),
    }
}
