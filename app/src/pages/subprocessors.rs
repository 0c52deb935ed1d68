//! The public subprocessors page: whom Candor's operator entrusts with processing, for what,
//! where, and every change as it was announced to the workplaces' Owners.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::instance::{subprocessors, SubprocessorView};

#[component]
pub fn SubprocessorsPage() -> impl IntoView {
    let listing = Resource::new(|| (), |_| subprocessors());
    view! {
        <Title text="Subprocessors" />
        <section class="max-w-3xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Subprocessors"</h1>
            <p class="mt-3 text-slate-700">"The companies this Candor instance's operator uses to process workplace data, read from the instance itself. Every change is emailed to the Owner of every workplace before it takes effect, so a workplace can object in time."</p>
        </section>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(listing) => {
                        let notice = listing.notice_days;
                        view! {
                            <section aria-labelledby="current-heading" class="mt-8">
                                <h2 id="current-heading" class="text-xl font-semibold text-slate-900">"In use"</h2>
                                {if listing.current.is_empty() {
                                    view! { <p class="mt-3 text-slate-700">"This instance uses no subprocessors: it runs on its operator's own infrastructure."</p> }.into_any()
                                } else {
                                    view! { <ul class="mt-3 grid gap-4 sm:grid-cols-2">{listing.current.into_iter().map(|s| view! { <Entry entry=s /> }).collect_view()}</ul> }.into_any()
                                }}
                            </section>
                            {(!listing.planned.is_empty()).then(|| view! {
                                <section aria-labelledby="planned-heading" class="mt-8">
                                    <h2 id="planned-heading" class="text-xl font-semibold text-slate-900">"Announced, not yet in use"</h2>
                                    <ul class="mt-3 grid gap-4 sm:grid-cols-2">{listing.planned.into_iter().map(|s| view! { <Entry entry=s /> }).collect_view()}</ul>
                                </section>
                            })}
                            <section aria-labelledby="changes-heading" class="mt-8 max-w-3xl">
                                <h2 id="changes-heading" class="text-xl font-semibold text-slate-900">"Changes"</h2>
                                <p class="mt-1 text-sm text-slate-700">{format!("Announced {notice} days ahead unless the change only removes a subprocessor sooner. Newest first.")}</p>
                                {if listing.changes.is_empty() {
                                    view! { <p class="mt-3 text-slate-700">"No changes yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ol class="mt-3 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white shadow-sm">
                                            {listing.changes.into_iter().map(|c| view! {
                                                <li class="px-5 py-3">
                                                    <p class="text-slate-900">{c.summary}</p>
                                                    <p class="mt-1 text-sm text-slate-600">{format!("Announced {} · takes effect {}", c.announced, c.effective_on)}</p>
                                                </li>
                                            }).collect_view()}
                                        </ol>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(err) => view! {
                        <p role="alert" class="mt-6 text-red-800">{err.message} " (" <code>{err.code}</code> ")"</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Entry(entry: SubprocessorView) -> impl IntoView {
    let dates = match &entry.until_date {
        Some(until) => format!("From {} to {until}", entry.from_date),
        None => format!("Since {}", entry.from_date),
    };
    view! {
        <li class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <h3 class="text-lg font-semibold text-slate-900">{entry.name}</h3>
            <dl class="mt-2 space-y-1 text-sm">
                <div class="flex flex-wrap gap-x-2"><dt class="font-medium text-slate-600">"Purpose:"</dt><dd class="text-slate-900">{entry.purpose}</dd></div>
                <div class="flex flex-wrap gap-x-2"><dt class="font-medium text-slate-600">"Where:"</dt><dd class="text-slate-900">{entry.location}</dd></div>
                <div class="flex flex-wrap gap-x-2"><dt class="font-medium text-slate-600">"Data:"</dt><dd class="text-slate-900">{entry.data_categories}</dd></div>
                <div class="flex flex-wrap gap-x-2"><dt class="font-medium text-slate-600">"When:"</dt><dd class="text-slate-900">{dates}</dd></div>
            </dl>
        </li>
    }
}
