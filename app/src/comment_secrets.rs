//! The comment secrets this browser keeps, in `localStorage` under a key per account: with a
//! comment's secret, and only with it, its author reads the replies and answers back. Nothing
//! on the server links a secret to an account, so this browser is where the link lives.

/// The secrets kept under `key`.
pub fn load(key: &str) -> Vec<String> {
    browser::get(key)
        .map(|text| {
            text.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Adds `secrets` to those kept under `key`.
pub fn remember(key: &str, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    let mut kept = load(key);
    for secret in secrets {
        if !kept.contains(secret) {
            kept.push(secret.clone());
        }
    }
    browser::set(key, &kept.join("\n"));
}

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    fn storage() -> Option<JsValue> {
        // Reading localStorage throws where storage is disabled; then nothing is kept.
        Reflect::get(&js_sys::global(), &JsValue::from_str("localStorage"))
            .ok()
            .filter(|s| !s.is_null() && !s.is_undefined())
    }

    fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Option<JsValue> {
        let function: Function = Reflect::get(target, &JsValue::from_str(method))
            .ok()?
            .dyn_into()
            .ok()?;
        let args: js_sys::Array = args.iter().collect();
        function.apply(target, &args).ok()
    }

    pub fn get(key: &str) -> Option<String> {
        call(&storage()?, "getItem", &[JsValue::from_str(key)])?.as_string()
    }

    pub fn set(key: &str, value: &str) {
        if let Some(storage) = storage() {
            let _ = call(
                &storage,
                "setItem",
                &[JsValue::from_str(key), JsValue::from_str(value)],
            );
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    pub fn get(_: &str) -> Option<String> {
        None
    }

    pub fn set(_: &str, _: &str) {}
}
