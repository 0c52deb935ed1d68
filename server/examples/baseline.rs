//! A trivial axum handler: the yardstick `scripts/bench-landing` measures the landing page against.

use axum::{response::Html, routing::get, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("baseline listening on http://{}/", listener.local_addr()?);
    let app = Router::new().route(
        "/",
        get(|| async { Html("<!DOCTYPE html><title>ok</title><p>ok</p>") }),
    );
    axum::serve(listener, app).await
}
