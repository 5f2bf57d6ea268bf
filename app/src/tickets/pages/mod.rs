//! The agents' ticket pages: the list (views, filters, search, bulk changes), one ticket (thread, reply and
//! note composer with attachments, side panel), and the new-ticket form. Every form works without
//! JavaScript; with it, keyboard shortcuts work and changes show before the server has answered.

mod keyboard;
mod list;
mod new;
mod ticket;

pub use list::TicketList;
pub use new::NewTicket;
pub use ticket::{AttachmentList, TicketPage};

use super::api::*;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

fn param(name: &'static str) -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get(name).unwrap_or_default()))
}

fn options(choices: &[(&'static str, &'static str)], current: &str) -> impl IntoView + use<> {
    choices
        .iter()
        .map(|(value, label)| view! { <option value=*value selected=current == *value>{*label}</option> })
        .collect_view()
}

fn choice_options(choices: &[Choice], current: &str) -> impl IntoView + use<> {
    choices
        .iter()
        .map(|c| view! { <option value=c.value.clone() selected=current == c.value>{c.label.clone()}</option> })
        .collect_view()
}
