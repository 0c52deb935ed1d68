use std::sync::Arc;

use candor_server::config::{Config, RawSettings};
use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;

fn connector(
    version: &'static rustls::SupportedProtocolVersion,
    trusted: CertificateDer<'static>,
) -> TlsConnector {
    connector_with(version, trusted, rustls::crypto::ring::default_provider())
}

fn connector_with(
    version: &'static rustls::SupportedProtocolVersion,
    trusted: CertificateDer<'static>,
    provider: rustls::crypto::CryptoProvider,
) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn tls_1_2_and_128_bit_ciphers_are_refused_and_tls_1_3_is_served() {
    let data_dir = tempfile::tempdir().unwrap();
    let raw = RawSettings {
        data_dir: Some(data_dir.path().display().to_string()),
        listen: Some("127.0.0.1:0".into()),
        tls: Some("self-signed".into()),
        master_key: Some(
            domain::platform::crypto::MasterKey::generate()
                .to_text()
                .to_string(),
        ),
        ..RawSettings::default()
    };
    let config = Config::from_raw(&raw, None).unwrap();
    let running = candor_server::serve::start(&config).await.unwrap();
    assert!(running.url().starts_with("https://localhost:"));
    let addr = running.local_addr;
    let cert = CertificateDer::from_pem_file(data_dir.path().join("tls/cert.pem")).unwrap();
    let name = ServerName::try_from("localhost").unwrap();

    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let refused = connector(&rustls::version::TLS12, cert.clone())
        .connect(name.clone(), tcp)
        .await;
    assert!(refused.is_err(), "a TLS 1.2-only client must not get a session");

    // A client that offers only a 128-bit cipher gets no session: 256-bit ciphers only.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let only_128 = rustls::crypto::CryptoProvider {
        cipher_suites: vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256],
        ..rustls::crypto::ring::default_provider()
    };
    let refused = connector_with(&rustls::version::TLS13, cert.clone(), only_128)
        .connect(name.clone(), tcp)
        .await;
    assert!(
        refused.is_err(),
        "a client offering only AES-128 must not get a session"
    );

    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector(&rustls::version::TLS13, cert)
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_eq!(
        tls.get_ref().1.negotiated_cipher_suite().map(|s| s.suite()),
        Some(rustls::CipherSuite::TLS13_AES_256_GCM_SHA384),
        "the client prefers AES-256-GCM, and the server offers it"
    );
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age="),
        "HSTS over TLS"
    );

    running.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}
