//! The browser half of passkeys: hands the server's options to `navigator.credentials` and
//! returns the credential as JSON. Uses the W3C JSON helpers
//! (`PublicKeyCredential.parseCreationOptionsFromJSON` and friends, and the credential's
//! `toJSON()`), so no binary conversion happens here.

/// Why the browser did not produce a credential, in words for the person at the screen.
pub type BrowserError = String;

/// Creates a passkey from registration options (the server's JSON).
pub async fn create_passkey(options_json: String) -> Result<String, BrowserError> {
    browser::ceremony(&options_json, "parseCreationOptionsFromJSON", "create").await
}

/// Uses a passkey for authentication options (the server's JSON).
pub async fn use_passkey(options_json: String) -> Result<String, BrowserError> {
    browser::ceremony(&options_json, "parseRequestOptionsFromJSON", "get").await
}

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Function, Object, Promise, Reflect, JSON};
    use wasm_bindgen::{JsCast, JsValue};

    use super::BrowserError;

    const UNSUPPORTED: &str =
        "This browser cannot use passkeys here. Update it, or use an authenticator app instead.";

    fn property(target: &JsValue, name: &str) -> Result<JsValue, BrowserError> {
        Reflect::get(target, &JsValue::from_str(name)).map_err(|_| UNSUPPORTED.to_owned())
    }

    fn function(target: &JsValue, name: &str) -> Result<Function, BrowserError> {
        property(target, name)?
            .dyn_into::<Function>()
            .map_err(|_| UNSUPPORTED.to_owned())
    }

    /// Turns a DOMException from the authenticator into a sentence.
    fn explain(error: &JsValue) -> BrowserError {
        let name = Reflect::get(error, &JsValue::from_str("name"))
            .ok()
            .and_then(|name| name.as_string())
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" => "The passkey request was cancelled or timed out. Try again.".into(),
            "InvalidStateError" => "This passkey is already registered to your account.".into(),
            "SecurityError" => "Passkeys are not allowed on this address.".into(),
            "NotSupportedError" => UNSUPPORTED.into(),
            _ => "The passkey could not be used. Try again, or use another way to sign in.".into(),
        }
    }

    pub async fn ceremony(options_json: &str, parse: &str, method: &str) -> Result<String, BrowserError> {
        let window = js_sys::global();
        let public_key_credential = property(&window, "PublicKeyCredential")?;
        if public_key_credential.is_undefined() {
            return Err(UNSUPPORTED.into());
        }
        let parse = function(&public_key_credential, parse)?;
        let options = JSON::parse(options_json).map_err(|_| UNSUPPORTED.to_owned())?;
        let public_key = parse
            .call1(&public_key_credential, &options)
            .map_err(|err| explain(&err))?;
        let request = Object::new();
        Reflect::set(&request, &JsValue::from_str("publicKey"), &public_key)
            .map_err(|_| UNSUPPORTED.to_owned())?;
        let credentials = property(&property(&window, "navigator")?, "credentials")?;
        let promise: Promise = function(&credentials, method)?
            .call1(&credentials, &request)
            .map_err(|err| explain(&err))?
            .dyn_into()
            .map_err(|_| UNSUPPORTED.to_owned())?;
        let credential = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|err| explain(&err))?;
        if credential.is_null() {
            return Err(explain(&JsValue::NULL));
        }
        // JSON.stringify calls the credential's toJSON().
        JSON::stringify(&credential)
            .ok()
            .and_then(|json| json.as_string())
            .ok_or_else(|| UNSUPPORTED.to_owned())
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::BrowserError;

    /// Passkeys exist only in the browser; the server never runs this.
    pub async fn ceremony(_: &str, _: &str, _: &str) -> Result<String, BrowserError> {
        Err("Passkeys need the page to finish loading.".into())
    }
}
