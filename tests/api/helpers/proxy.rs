//! A TCP proxy on a loopback port, written for failover tests: it can be
//! pointed at another server (or at none: connections are accepted and
//! closed at once) and it can hold its streams (bytes stop flowing both
//! ways), as a stalled network link would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

struct Shared {
    upstream: Mutex<Option<SocketAddr>>,
    /// Cancelled when the proxy is switched: ends every connection made
    /// before the switch.
    generation: Mutex<CancellationToken>,
    held: watch::Sender<bool>,
}

pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: Option<SocketAddr>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            generation: Mutex::new(CancellationToken::new()),
            held: watch::channel(false).0,
        });
        let accepting = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = *accepting.upstream.lock().unwrap();
                let Some(upstream) = upstream else {
                    drop(client);
                    continue;
                };
                let cut = accepting.generation.lock().unwrap().clone();
                let held = accepting.held.subscribe();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = cut.cancelled() => {}
                        _ = pipe(client, upstream, held) => {}
                    }
                });
            }
        });
        Proxy {
            port,
            shared,
            accept,
        }
    }

    /// Points new connections at `upstream` (`None`: refuse them) and cuts
    /// every connection made so far.
    pub fn switch(&self, upstream: Option<SocketAddr>) {
        *self.shared.upstream.lock().unwrap() = upstream;
        let mut generation = self.shared.generation.lock().unwrap();
        generation.cancel();
        *generation = CancellationToken::new();
    }

    /// Stops the bytes of every connection, old and new, for good: what
    /// was held is dropped when the proxy is switched or dropped, never
    /// delivered late.
    pub fn hold(&self) {
        self.shared.held.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.generation.lock().unwrap().cancel();
    }
}

async fn pipe(client: TcpStream, upstream: SocketAddr, held: watch::Receiver<bool>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        copy(client_read, server_write, held.clone()),
        copy(server_read, client_write, held)
    );
}

/// Copies one direction until EOF or an error, waiting while held.
async fn copy(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut held: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if held.wait_for(|held| !held).await.is_err() {
            break;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
