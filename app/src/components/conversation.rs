//! An anonymous conversation on a comment, as its author and its readers see it.

use leptos::prelude::*;

use crate::{api::surveys::MessageView, components::form::SECONDARY_BUTTON_CLASS};

/// A form that writes one message of a conversation: a labelled text box and a send button.
#[component]
pub fn MessageForm(
    /// The text box's id, unique on the page.
    id: String,
    label: &'static str,
    button: &'static str,
    text: RwSignal<String>,
    pending: Signal<bool>,
    on_send: Callback<()>,
) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_send.run(());
    };
    view! {
        <form class="mt-3" on:submit=submit>
            <label for=id.clone() class="block text-sm font-medium text-slate-800">{label}</label>
            <textarea id=id rows="2" maxlength="2000"
                class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base text-slate-900 shadow-sm focus:border-teal-600 focus:outline-none focus:ring-2 focus:ring-teal-600"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button type="submit" class=format!("mt-2 {SECONDARY_BUTTON_CLASS}") disabled=move || pending.get()>{button}</button>
        </form>
    }
}

/// A conversation's messages, the author's and the readers', oldest first.
pub fn conversation(messages: Vec<MessageView>) -> AnyView {
    view! {
        <ol class="mt-2 space-y-2" aria-label="Conversation">
            {messages.into_iter().map(|m| {
                let (who, class) = if m.from_author {
                    ("The comment's author", "mr-6 rounded-md bg-slate-100 p-3 text-slate-900")
                } else {
                    ("A reader of the results", "ml-6 rounded-md bg-teal-50 p-3 text-teal-950")
                };
                view! {
                    <li class=class>
                        <p class="text-xs font-medium text-slate-600">{format!("{who} · {}", m.day)}</p>
                        <p class="mt-1 whitespace-pre-line">{m.text}</p>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}
