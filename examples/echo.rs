//! A TCP echo server and its client: `tornado.tcpserver` and `tornado.tcpclient` at work.
//!
//! ```sh
//! cargo run --release --example echo -- --port 8888                 # one loop
//! cargo run --release --example echo -- --port 8888 --threads 4     # four loops, SO_REUSEPORT
//! cargo run --release --example echo -- --port 8888 --tls           # TLS, self-signed
//! cargo run --release --example echo -- --client --port 8888 --connections 64 --messages 10000
//! cargo run --release --example echo -- --client --port 8888 --tls  # checks the certificate
//! ```
//!
//! The server sends back every byte it gets, on as many loops as `--threads` says (0: one
//! per core). With `--tls` it makes a self-signed certificate for `localhost` and
//! `127.0.0.1` at startup and writes it to `$TMPDIR/tornado-echo-<port>.pem`, which is where
//! the client, given `--tls` too, finds the certificate to trust: the client really checks
//! it, as `TcpClient` does by default.
//!
//! The client opens `--connections` connections to `--host` (default `localhost`) and does
//! `--messages` round trips of 64 bytes on each, all on one loop, then prints the round
//! trips per second.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tornado::r#gen::multi;
use tornado::ioloop::IoLoop;
use tornado::iostream::{IoStream, TlsClientOptions, TlsServerOptions};
use tornado::tcpserver::{
    BindOptions, ConnectSettings, ServerSettings, StreamHandler, TcpClient, TcpServer,
};

/// Sends back whatever arrives.
struct Echo;

impl StreamHandler for Echo {
    async fn handle_stream(&self, stream: IoStream, _address: Option<SocketAddr>) {
        // Small messages go out at once rather than waiting for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        // Up to 64 KiB per read (the stream's read chunk size); each write is awaited, so a
        // peer that does not read slows this connection down instead of filling memory.
        while let Ok(data) = stream.read_bytes(64 * 1024, true).await {
            if stream.write(data).await.is_err() {
                break;
            }
        }
    }
}

#[derive(Debug)]
struct Args {
    port: u16,
    address: String,
    host: String,
    threads: usize,
    tls: bool,
    client: bool,
    connections: usize,
    messages: usize,
}

const USAGE: &str = "usage: echo [--port N] [--address IP] [--threads N] [--tls]
       echo --client [--port N] [--host NAME] [--connections N] [--messages N] [--tls]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 8888,
        address: "127.0.0.1".into(),
        host: "localhost".into(),
        threads: 1,
        tls: false,
        client: false,
        connections: 64,
        messages: 10_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--port" => {
                args.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--address" => args.address = value("--address")?,
            "--host" => args.host = value("--host")?,
            "--threads" => args.threads = number(value("--threads")?)?,
            "--connections" => args.connections = number(value("--connections")?)?.max(1),
            "--messages" => args.messages = number(value("--messages")?)?.max(1),
            "--tls" => args.tls = true,
            "--client" => args.client = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// Where the server leaves its certificate for the client.
fn cert_path(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("tornado-echo-{port}.pem"))
}

fn serve(args: &Args) -> std::io::Result<()> {
    let mut settings = ServerSettings::new();
    if args.tls {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let cert = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
        let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
        std::fs::write(cert_path(args.port), &cert_pem)?;
        settings = settings.tls(TlsServerOptions::from_pem(
            cert_pem.as_bytes(),
            key_pem.as_bytes(),
        )?);
    }
    let server = TcpServer::with_settings(Echo, settings);
    let bind = BindOptions::new().address(args.address.as_str());
    let addrs = if args.threads == 1 {
        server.listen_with(args.port, &bind)?
    } else {
        let addrs = server.bind(args.port, bind)?;
        server.start(args.threads)?;
        addrs
    };
    for addr in &addrs {
        let tls = if args.tls { " (TLS)" } else { "" };
        log::info!(target: "general", "echo server listening on {addr}{tls}, {} loop(s)", args.threads);
    }
    IoLoop::current().start()
}

fn run_client(args: &Args) -> std::io::Result<()> {
    let mut settings = ConnectSettings::new().timeout(Duration::from_secs(10));
    if args.tls {
        let path = cert_path(args.port);
        let tls = TlsClientOptions::new().with_ca_certs_file(&path)?;
        settings = settings.tls(tls);
    }
    let (host, port, connections, messages) = (
        args.host.clone(),
        args.port,
        args.connections,
        args.messages,
    );
    let io_loop = IoLoop::new();
    let (total, elapsed) = io_loop
        .run_sync(
            move || async move {
                let client = TcpClient::new();
                let mut streams = Vec::new();
                for _ in 0..connections {
                    let stream = client.connect_with(&host, port, &settings).await?;
                    stream.set_nodelay(true)?;
                    streams.push(stream);
                }
                let start = Instant::now();
                let l = IoLoop::current();
                let message = bytes::Bytes::from(vec![b'x'; 64]);
                let tasks: Vec<_> = streams
                    .into_iter()
                    .map(|stream| {
                        let message = message.clone();
                        let n = messages;
                        l.spawn(async move {
                            for _ in 0..n {
                                stream.write(message.clone());
                                let echo = stream.read_bytes(message.len(), false).await?;
                                assert_eq!(echo, message, "the echo differs");
                            }
                            stream.close(None);
                            Ok::<usize, std::io::Error>(n)
                        })
                    })
                    .collect();
                let mut total = 0;
                for done in multi(tasks).await.map_err(std::io::Error::other)? {
                    total += done?;
                }
                Ok::<_, std::io::Error>((total, start.elapsed()))
            },
            None,
        )
        .map_err(std::io::Error::other)??;
    println!(
        "{total} round trips of 64 bytes over {} connections in {:.2} s: {:.0} round trips/s",
        args.connections,
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    tornado::log::enable_pretty_logging(log::LevelFilter::Info);
    let result = if args.client {
        run_client(&args)
    } else {
        serve(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo: {e}");
            ExitCode::FAILURE
        }
    }
}
