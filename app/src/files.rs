//! Reading a file the person picked, in the browser, as text.

/// The text of the file chosen in the `<input type="file">` with this id.
pub async fn read_chosen_file(input_id: &str) -> Result<String, String> {
    browser::read(input_id).await
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
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    pub async fn read(_: &str) -> Result<String, String> {
        Err("Files can be read once the page has loaded.".into())
    }
}
