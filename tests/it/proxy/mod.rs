//! A small TCP proxy of the tests' own, between racedemo and a server: it forwards, or stalls
//! (keeps every connection open and forwards nothing, as a network partition does), or resets
//! every connection, or adds latency to each chunk it forwards. Only loopback addresses.

#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Default)]
struct Shared {
    stalled: AtomicBool,
    stop: AtomicBool,
    /// Bytes forwarded either way: how far a run has got.
    bytes: AtomicU64,
    latency_us: AtomicU64,
    /// Every socket opened, both ends, so that a reset or the end can close them all.
    sockets: Mutex<Vec<TcpStream>>,
}

pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// A proxy on a free loopback port in front of `target` (host:port).
    pub fn start(target: &str) -> Proxy {
        let target: SocketAddr = target
            .to_socket_addrs()
            .expect("a server address")
            .next()
            .expect("one address");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        thread::spawn(move || {
            while !s.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        s.sockets.lock().unwrap().push(client.try_clone().unwrap());
                        // Partitioned: the connection is accepted and then nothing happens.
                        if s.stalled.load(Ordering::SeqCst) {
                            continue;
                        }
                        let Ok(upstream) = TcpStream::connect(target) else {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        };
                        s.sockets
                            .lock()
                            .unwrap()
                            .push(upstream.try_clone().unwrap());
                        pump(
                            s.clone(),
                            client.try_clone().unwrap(),
                            upstream.try_clone().unwrap(),
                        );
                        pump(s.clone(), upstream, client);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => break,
                }
            }
        });
        Proxy { port, shared }
    }

    /// Bytes forwarded so far, both ways.
    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::SeqCst)
    }

    /// From now on nothing is forwarded, and new connections are held, never answered.
    pub fn stall(&self) {
        self.shared.stalled.store(true, Ordering::SeqCst);
    }

    /// Forwards again.
    pub fn resume(&self) {
        self.shared.stalled.store(false, Ordering::SeqCst);
    }

    /// Resets every connection open now (RST, a linger of zero); new ones are forwarded.
    pub fn reset(&self) {
        let sockets: Vec<TcpStream> = self.shared.sockets.lock().unwrap().drain(..).collect();
        for s in sockets {
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Delays every forwarded chunk by `latency`, each way.
    pub fn delay(&self, latency: Duration) {
        self.shared
            .latency_us
            .store(latency.as_micros() as u64, Ordering::SeqCst);
    }

    /// `url` (a server's) pointed at this proxy instead.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (userinfo, rest) = match rest.rsplit_once('@') {
            Some((u, r)) => (format!("{u}@"), r),
            None => (String::new(), rest),
        };
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        format!("{scheme}://{userinfo}127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.reset();
    }
}

/// Copies `from` to `to` in a thread of its own, as the proxy's mode allows.
fn pump(shared: Arc<Shared>, mut from: TcpStream, mut to: TcpStream) {
    thread::spawn(move || {
        let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
        let mut buf = [0u8; 16 * 1024];
        loop {
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
            if shared.stalled.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
            match from.read(&mut buf) {
                Ok(0) => {
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    let latency = shared.latency_us.load(Ordering::SeqCst);
                    if latency > 0 {
                        thread::sleep(Duration::from_micros(latency));
                    }
                    // Read before the stall, forwarded never: a partition loses what is in
                    // flight too.
                    while shared.stalled.load(Ordering::SeqCst) {
                        if shared.stop.load(Ordering::SeqCst) {
                            return;
                        }
                        thread::sleep(Duration::from_millis(10));
                    }
                    if to.write_all(&buf[..n]).is_err() {
                        return;
                    }
                    shared.bytes.fetch_add(n as u64, Ordering::SeqCst);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => {
                    let _ = to.shutdown(Shutdown::Both);
                    return;
                }
            }
        }
    });
}

/// host:port of a server URL (the default port of its scheme when it has none).
pub fn address_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("127.0.0.1");
    if host.contains(':') {
        host.to_string()
    } else {
        let port = match scheme {
            "postgres" | "postgresql" => 5432,
            "mysql" | "mariadb" => 3306,
            _ => 6379,
        };
        format!("{host}:{port}")
    }
}
