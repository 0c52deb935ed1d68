//! TLS 1.3 only, with 256-bit ciphers only (AES-256-GCM and ChaCha20-Poly1305: customers are
//! told "256-bit encryption in transit"), through rustls with the ring provider. Certificates come
//! from PEM files or are generated once as a self-signed `localhost` certificate in the data
//! directory.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
    ServerConfig,
};

use crate::config::TlsSetting;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("CANDOR_TLS_CERT: cannot read a PEM certificate chain from {path}: {detail}")]
    Certificate { path: PathBuf, detail: String },
    #[error("CANDOR_TLS_KEY: cannot read a PEM private key from {path}: {detail}")]
    Key { path: PathBuf, detail: String },
    #[error("CANDOR_TLS: the certificate and key do not form a usable TLS 1.3 configuration: {0}")]
    Config(String),
    #[error("CANDOR_TLS=self-signed: cannot write the generated certificate into {path}: {detail}")]
    Generate { path: PathBuf, detail: String },
}

/// The rustls server configuration for the setting, or `None` for plain HTTP.
pub fn server_config(setting: &TlsSetting, data_dir: &Path) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    let (cert, key) = match setting {
        TlsSetting::Off => return Ok(None),
        TlsSetting::Files { cert, key } => (cert.clone(), key.clone()),
        TlsSetting::SelfSigned => ensure_self_signed(&data_dir.join("tls"))?,
    };
    load(&cert, &key).map(|config| Some(Arc::new(config)))
}

/// Loads a certificate chain and key into a configuration that speaks TLS 1.3 and nothing older.
pub fn load(cert_path: &Path, key_path: &Path) -> Result<ServerConfig, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|err| TlsError::Certificate {
            path: cert_path.to_owned(),
            detail: err.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: cert_path.to_owned(),
            detail: "no certificate found".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|err| TlsError::Key {
        path: key_path.to_owned(),
        detail: err.to_string(),
    })?;
    tls13_only(chain, key)
}

fn tls13_only(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, TlsError> {
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            rustls::crypto::ring::cipher_suite::TLS13_AES_256_GCM_SHA384,
            rustls::crypto::ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ],
        ..rustls::crypto::ring::default_provider()
    };
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|err| TlsError::Config(err.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|err| TlsError::Config(err.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Generates `cert.pem` and `key.pem` for localhost in `dir` unless they already exist, so that a
/// browser exception made once stays valid across restarts.
pub fn ensure_self_signed(dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    let failed = |detail: String| TlsError::Generate {
        path: dir.to_owned(),
        detail,
    };
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let generated = rcgen::generate_simple_self_signed(names).map_err(|err| failed(err.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|err| failed(err.to_string()))?;
    crate::files::write_private_file(&key_path, generated.key_pair.serialize_pem().as_bytes())
        .map_err(|err| failed(err.to_string()))?;
    std::fs::write(&cert_path, generated.cert.pem()).map_err(|err| failed(err.to_string()))?;
    tracing::info!(path = %cert_path.display(), "generated a self-signed localhost certificate");
    Ok((cert_path, key_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_certificates_load_and_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = ensure_self_signed(dir.path()).unwrap();
        let first = std::fs::read(&cert).unwrap();
        load(&cert, &key).unwrap();
        ensure_self_signed(dir.path()).unwrap();
        assert_eq!(std::fs::read(&cert).unwrap(), first);
    }

    #[test]
    fn a_missing_key_names_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = ensure_self_signed(dir.path()).unwrap();
        let err = load(&cert, &dir.path().join("nope.pem")).unwrap_err();
        assert!(err.to_string().starts_with("CANDOR_TLS_KEY"), "{err}");
    }
}
