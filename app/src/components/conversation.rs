//! An anonymous conversation on a comment, as its author and its readers see it.

use leptos::prelude::*;

use crate::api::surveys::MessageView;

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
