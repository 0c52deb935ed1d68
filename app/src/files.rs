//! Files in the browser: reading one the person picked, as text, and saving text as a download.

/// The text of the file chosen in the `<input type="file">` with this id.
pub async fn read_chosen_file(input_id: &str) -> Result<String, String> {
    browser::read(input_id).await
}

/// Offers `text` to the person as a file download named `name`.
pub fn save_text_file(name: &str, mime: &str, text: &str) -> Result<(), String> {
    browser::save(name, mime, text)
}

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    const NO_FILE: &str = "Choose a CSV file first.";

    fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
        Reflect::get(target, &JsValue::from_str(key)).map_err(|_| NO_FILE.to_owned())
    }

    fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
        let function: Function = get(target, method)?.dyn_into().map_err(|_| NO_FILE.to_owned())?;
        let args: js_sys::Array = args.iter().collect();
        function.apply(target, &args).map_err(|_| NO_FILE.to_owned())
    }

    pub async fn read(input_id: &str) -> Result<String, String> {
        let document = get(&js_sys::global(), "document")?;
        let input = call(&document, "getElementById", &[JsValue::from_str(input_id)])?;
        if input.is_null() {
            return Err(NO_FILE.into());
        }
        let file = get(&get(&input, "files")?, "0")?;
        if file.is_undefined() || file.is_null() {
            return Err(NO_FILE.into());
        }
        let promise: Promise = call(&file, "text", &[])?
            .dyn_into()
            .map_err(|_| NO_FILE.to_owned())?;
        wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .ok()
            .and_then(|text| text.as_string())
            .ok_or_else(|| "The file could not be read.".to_owned())
    }

    const NOT_SAVED: &str = "The file could not be saved.";

    pub fn save(name: &str, mime: &str, text: &str) -> Result<(), String> {
        // The helpers' messages speak of reading a file; any failure here is one of saving.
        offer_download(name, mime, text).map_err(|_| NOT_SAVED.to_owned())
    }

    fn offer_download(name: &str, mime: &str, text: &str) -> Result<(), String> {
        let failed = |_| NOT_SAVED.to_owned();
        let global = js_sys::global();
        // new Blob([text], { type: mime }), then a temporary link to its object URL, clicked.
        let blob_type = get(&global, "Blob")?.dyn_into::<Function>().map_err(failed)?;
        let parts: js_sys::Array = std::iter::once(JsValue::from_str(text)).collect();
        let options = js_sys::Object::new();
        Reflect::set(&options, &JsValue::from_str("type"), &JsValue::from_str(mime)).map_err(failed)?;
        let args: js_sys::Array = [JsValue::from(parts), JsValue::from(options)].iter().collect();
        let blob = Reflect::construct(&blob_type, &args).map_err(failed)?;
        let urls = get(&global, "URL")?;
        let url = call(&urls, "createObjectURL", &[blob])?;
        let document = get(&global, "document")?;
        let link = call(&document, "createElement", &[JsValue::from_str("a")])?;
        Reflect::set(&link, &JsValue::from_str("href"), &url).map_err(failed)?;
        Reflect::set(&link, &JsValue::from_str("download"), &JsValue::from_str(name)).map_err(failed)?;
        let body = get(&document, "body")?;
        call(&body, "appendChild", std::slice::from_ref(&link))?;
        call(&link, "click", &[])?;
        call(&body, "removeChild", &[link])?;
        call(&urls, "revokeObjectURL", &[url])?;
        Ok(())
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    pub async fn read(_: &str) -> Result<String, String> {
        Err("Files can be read once the page has loaded.".into())
    }

    pub fn save(_: &str, _: &str, _: &str) -> Result<(), String> {
        Err("Files can be saved once the page has loaded.".into())
    }
}
