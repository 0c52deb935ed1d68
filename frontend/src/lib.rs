//! The browser entry point: hydrates the server-rendered page, fetching the code of a page that
//! was split out of the first bundle before hydrating it.

use leptos::prelude::document;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(body) = document().body() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(body, app::App).await.forget();
        // Marks the document once every part of the page is live, its split-out code included,
        // so that styles and browser tests can tell a live page from the server-rendered HTML.
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    });
}
