//! `/help`: ask Candor's operators for help. The question goes to their support inbox by email,
//! with who asks, and nothing else.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::help::{help_topics, AskForHelp},
    components::form::{ErrorAlert, SignInToContinue, INPUT_CLASS, PRIMARY_BUTTON_CLASS},
};

#[component]
pub fn HelpPage() -> impl IntoView {
    let topics = Resource::new(|| (), |_| help_topics());
    let ask = ServerAction::<AskForHelp>::new();
    let error = Signal::derive(move || ask.value().get().and_then(Result::err));
    view! {
        <Title text="Help" />
        <section class="max-w-2xl">
            <h1 class="text-3xl font-bold tracking-tight text-slate-900">"Ask for help"</h1>
            <p class="mt-3 text-slate-700">
                "Your question goes to the people who run Candor, with your name, email address, role and workplace so they can answer you by email. "
                "Nothing else is sent: no survey answers, comments or results."
            </p>
            <Suspense fallback=|| view! { <p class="mt-6 text-slate-600">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match topics.await {
                        Ok(topics) if topics.is_empty() => view! {
                            <p role="status" class="mt-6 rounded-md border border-slate-200 bg-white p-4 text-slate-700">
                                "Help requests are not set up on this instance yet. Ask your workplace's Owner."
                            </p>
                        }.into_any(),
                        Ok(topics) => {
                            let topics = StoredValue::new(topics);
                            view! {
                            <Show
                                when=move || !matches!(ask.value().get(), Some(Ok(())))
                                fallback=|| view! {
                                    <p role="status" class="mt-6 rounded-md border border-teal-200 bg-teal-50 p-4 text-teal-900">
                                        "Sent. The answer will come to your email address."
                                    </p>
                                }
                            >
                                <ActionForm action=ask attr:class="mt-6 space-y-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
                                    <label class="block text-sm font-medium text-slate-800">
                                        "Topic"
                                        <select name="topic" class=INPUT_CLASS>
                                            {topics.get_value().into_iter().map(|(key, label)| view! { <option value=key>{label}</option> }).collect_view()}
                                        </select>
                                    </label>
                                    <label class="block text-sm font-medium text-slate-800">
                                        "Your question"
                                        <textarea name="message" rows="6" maxlength="4000" required
                                            class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base text-slate-900 shadow-sm focus:border-teal-600 focus:outline-none focus:ring-2 focus:ring-teal-600"></textarea>
                                    </label>
                                    <p class="text-sm text-slate-600">"Please do not paste survey answers or other people's data into it."</p>
                                    <ErrorAlert error />
                                    <button type="submit" class=PRIMARY_BUTTON_CLASS>"Send question"</button>
                                </ActionForm>
                            </Show>
                        }.into_any()
                        }
                        Err(err) => view! { <SignInToContinue message=err.message /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
