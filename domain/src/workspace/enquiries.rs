//! The public enquiry form's rules, in the order a submission meets them: the sender's address's hourly and
//! daily caps ([`Rules::admit`]), the caller's bot check, the fields and the mail domain ([`Rules::check`]),
//! then the workspace's daily cap and the ticket ([`Rules::take`]). Only an accepted enquiry counts against
//! the caps: a refused one (bot check, bad input, a cap) records nothing.

use super::{
    portal::{self, Enquiry},
    tickets::{Actor, Ticket},
};
use crate::{
    Error, Result, WorkspaceDb,
    auth::limits::{EnquiryLimits, SlidingWindow},
    mx::{MxCheck, MxResolver},
};
use chrono::{DateTime, Utc};

pub struct Rules<'a> {
    pub limits: &'a EnquiryLimits,
    /// Checks that the sender's mail domain receives mail; `None` skips that check.
    pub mx: Option<&'a MxResolver>,
}

impl Rules<'_> {
    /// Refuses when the sender's address (`ip_key`) has used up its hourly or daily enquiries.
    pub fn admit(&self, ip_key: &str, now: DateTime<Utc>) -> Result<()> {
        within(&self.limits.per_ip_hour, "enquiries_per_ip_hour", ip_key, now)?;
        within(&self.limits.per_ip_day, "enquiries_per_ip_day", ip_key, now)
    }

    /// Checks the fields (the error names the field to correct) and that the address's domain receives
    /// mail.
    pub async fn check(&self, enquiry: &Enquiry) -> Result<()> {
        let address = portal::check_enquiry(enquiry)?;
        if let Some(mx) = self.mx {
            let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            if mx.check(domain).await == MxCheck::NoMail {
                tracing::info!(
                    event = "enquiry_refused",
                    reason = "no_mx",
                    "enquiry from a domain without mail"
                );
                return Err(Error::Field {
                    field: "email",
                    message: format!("{domain} does not receive email. Check the address."),
                });
            }
        }
        Ok(())
    }

    /// Opens the enquiry's ticket within the workspace's daily cap and counts it against the sender's.
    pub async fn take(
        &self,
        ws: &WorkspaceDb,
        enquiry: &Enquiry,
        ip_key: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        let ticket = portal::submit_enquiry(ws, enquiry, self.limits.per_workspace_day, actor, now)
            .await
            .inspect_err(|e| {
                if matches!(e, Error::Limited { .. }) {
                    tracing::warn!(event = "rate_limited", limit = "enquiries_per_workspace_day", workspace = %ws.id(), "enquiry refused");
                }
            })?;
        self.limits.per_ip_hour.record(ip_key, now);
        self.limits.per_ip_day.record(ip_key, now);
        tracing::info!(event = "enquiry_received", workspace = %ws.id(), ticket = ticket.number, "enquiry became a ticket");
        Ok(ticket)
    }
}

fn within(window: &SlidingWindow, what: &str, key: &str, now: DateTime<Utc>) -> Result<()> {
    window.check(key, now).map_err(|limit| Error::Limited {
        retry_after_secs: limit.refuse(what, key),
    })
}
