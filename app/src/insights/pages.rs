//! The team's pages about customers: the satisfaction report (a chart drawn as SVG on the server, with the
//! same numbers in a table), and the feedback inbox.

use super::api::*;
use crate::{
    auth::pages::LoadError,
    forms::{FormError, error_of},
    portal::pages::FeedbackFields,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn param(name: &'static str) -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get(name).unwrap_or_default()))
}

const CHART_WIDTH: i64 = 640;
const CHART_HEIGHT: i64 = 200;

#[component]
pub fn Reports() -> impl IntoView {
    let slug = param("slug");
    let report = Resource::new(move || slug.get(), satisfaction);
    view! {
        <Title text="Satisfaction"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => view! { <SatisfactionChart report/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SatisfactionChart(report: SatisfactionReport) -> impl IntoView {
    let SatisfactionReport {
        slug,
        workspace,
        weeks,
        good,
        bad,
    } = report;
    let total = good + bad;
    let overall = (total > 0).then(|| (good * 100 + total / 2) / total);
    let step = CHART_WIDTH / weeks.len().max(1) as i64;
    let bar = (step * 3 / 5).max(4);
    let summary = match overall {
        Some(p) => format!("{p}% good of {total} ratings in the last 12 weeks"),
        None => "No ratings in the last 12 weeks yet".to_owned(),
    };
    view! {
        <section class="panel" aria-labelledby="report-title">
            <p><a href=format!("/w/{slug}")>{workspace}</a></p>
            <h1 id="report-title">"Customer satisfaction"</h1>
            <p class="report-summary">{summary.clone()}</p>
            <figure class="chart">
                <svg viewBox=format!("0 0 {} {}", CHART_WIDTH, CHART_HEIGHT + 24) role="img" aria-label=format!("Share of good ratings per week: {summary}")>
                    <line x1="0" y1=CHART_HEIGHT x2=CHART_WIDTH y2=CHART_HEIGHT class="axis"/>
                    <line x1="0" y1=CHART_HEIGHT / 2 x2=CHART_WIDTH y2=CHART_HEIGHT / 2 class="grid"/>
                    {weeks.iter().enumerate().map(|(i, w)| {
                        let x = i as i64 * step + (step - bar) / 2;
                        let label = w.starts[5..].to_owned();
                        view! {
                            <g class="week" data-week=w.starts.clone() data-good=w.good data-bad=w.bad>
                                {w.percent_good.map(|p| {
                                    let h = (CHART_HEIGHT * p / 100).max(2);
                                    view! {
                                        <rect class="good" x=x y=CHART_HEIGHT - h width=bar height=h></rect>
                                        <text x=x + bar / 2 y=(CHART_HEIGHT - h - 4).max(12) text-anchor="middle" class="value">{format!("{p}%")}</text>
                                    }
                                })}
                                <text x=x + bar / 2 y=CHART_HEIGHT + 16 text-anchor="middle" class="label">{label}</text>
                            </g>
                        }
                    }).collect_view()}
                </svg>
                <figcaption>"Share of good ratings per week (weeks start on Monday)."</figcaption>
            </figure>
            <table class="report-table">
                <caption>"Ratings per week"</caption>
                <thead><tr><th scope="col">"Week of"</th><th scope="col">"Good"</th><th scope="col">"Bad"</th><th scope="col">"Good %"</th></tr></thead>
                <tbody>
                    {weeks.into_iter().rev().map(|w| view! {
                        <tr>
                            <td>{w.starts}</td><td>{w.good}</td><td>{w.bad}</td>
                            <td>{w.percent_good.map(|p| format!("{p}%")).unwrap_or_else(|| "–".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

const STATES: [(&str, &str); 4] = [
    ("new", "New"),
    ("planned", "Planned"),
    ("done", "Done"),
    ("declined", "Declined"),
];

#[component]
pub fn FeedbackInbox() -> impl IntoView {
    let slug = param("slug");
    let query = use_query_map();
    let status = Memo::new(move |_| query.with(|q| q.get("status")));
    let change = ServerAction::<SetFeedbackStatus>::new();
    let vote = ServerAction::<Vote>::new();
    let change_error = error_of(change.value());
    let inbox = Resource::new(
        move || (slug.get(), status.get(), change.version().get() + vote.version().get()),
        |(slug, status, _)| inbox(slug, status),
    );
    view! {
        <Title text="Feedback"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match inbox.await {
                    Ok(inbox) => {
                        let InboxView { slug, workspace, items, status, draft } = inbox;
                        let draft = draft.unwrap_or_default();
                        let kind = draft.value("kind");
                        view! {
                            <section class="panel" aria-labelledby="inbox-title">
                                <p><a href=format!("/w/{slug}")>{workspace}</a></p>
                                <h1 id="inbox-title">"Feedback inbox"</h1>
                                <nav aria-label="Status" class="filters">
                                    <a href=format!("/w/{slug}/feedback") aria-current=status.is_none().then_some("page")>"All"</a>
                                    {STATES.iter().map(|(value, label)| view! {
                                        " · " <a href=format!("/w/{slug}/feedback?status={value}") aria-current=(status.as_deref() == Some(*value)).then_some("page")>{*label}</a>
                                    }).collect_view()}
                                </nav>
                                <FormError error=change_error/>
                                {if items.is_empty() {
                                    view! { <p>"Nothing here yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="feedback-inbox">
                                            {items.into_iter().map(|item| {
                                                let (slug, slug_again) = (slug.clone(), slug.clone());
                                                view! {
                                                    <li class="feedback-item" id=format!("f{}", item.id)>
                                                        <header>
                                                            <span class="badge">{if item.kind == "bug" { "Bug" } else { "Feature" }}</span> " "
                                                            <strong>{item.title.clone()}</strong>
                                                            " · " {item.author.clone()} {item.from_customer.then_some(" (customer)")} " · " {item.created.clone()}
                                                        </header>
                                                        <p class="description">{item.description.clone()}</p>
                                                        {item.screenshot.clone().map(|url| view! {
                                                            <a href=url.clone()><img class="thumb" src=url.clone() alt=format!("Screenshot for {}", item.title) loading="lazy"/></a>
                                                        })}
                                                        <div class="feedback-actions">
                                                            <ActionForm action=vote attr:class="inline">
                                                                <input type="hidden" name="slug" value=slug.clone()/>
                                                                <input type="hidden" name="id" value=item.id/>
                                                                <button type="submit" aria-pressed=if item.voted { "true" } else { "false" }>
                                                                    "▲ " {item.votes} {if item.voted { " · voted" } else { "" }}
                                                                </button>
                                                            </ActionForm>
                                                            <ActionForm action=change attr:class="inline">
                                                                <input type="hidden" name="slug" value=slug_again/>
                                                                <input type="hidden" name="id" value=item.id/>
                                                                <label for=format!("status-{}", item.id) class="visually-hidden">"Status"</label>
                                                                <select id=format!("status-{}", item.id) name="status">
                                                                    {STATES.iter().map(|(value, label)| view! {
                                                                        <option value=*value selected=item.status == *value>{*label}</option>
                                                                    }).collect_view()}
                                                                </select>
                                                                <button type="submit">"Set"</button>
                                                            </ActionForm>
                                                        </div>
                                                    </li>
                                                }
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </section>
                            <section class="panel" aria-labelledby="send-title">
                                <h2 id="send-title">"Report a bug or suggest a feature"</h2>
                                <form method="post" enctype="multipart/form-data" action=format!("/w/{slug}/feedback")>
                                    {draft.error_for(None).map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                                    <FeedbackFields draft=draft.clone() kind prefix="staff-fb"/>
                                    <button type="submit">"Send feedback"</button>
                                </form>
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
