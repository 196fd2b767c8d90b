//! `echo_bench`: our echo server (`examples/echo.rs`) beside a tokio echo server
//! (`tokio_echo`), each on core 1, driven from core 0 by a raw-mio load generator, in one
//! run. See `benches/README.md` for the commands.
//!
//! Per server, on one server process: echo round trips per second (64 connections, 64-byte
//! messages, one message in flight per connection), bulk throughput (one connection, 64 KiB
//! writes, at most 4 MiB in flight), and connections served per second (connect, one byte
//! there and back, close with a reset; 32 at a time). Then, on a fresh process: the resident
//! memory each idle connection adds (RSS before and after 10,000 connections that did one
//! round trip each). For every workload the server's user and system CPU time is read from
//! `/proc/PID/stat` at the start and the end of the measured window.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tornado_benches::{Measured, Window, accepts, bulk, close_with_reset, open_idle, round_trips};

struct Opts {
    window: Window,
    rounds: usize,
    /// Rounds of the memory workload, which varies little (its own count, default 1).
    idle_rounds: usize,
    conns: usize,
    size: usize,
    idle: usize,
    servers: Vec<(String, Vec<String>)>,
    port: u16,
    /// The workloads to run: `rt`, `bulk`, `accept`, `idle`.
    only: Vec<String>,
}

impl Opts {
    fn runs(&self, workload: &str) -> bool {
        self.only.iter().any(|w| w == workload)
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: echo_bench [--duration S] [--warmup S] [--rounds N] [--idle N] [--idle-rounds N] \
         [--ours PATH] [--tokio PATH] [--port N] [--only rt,bulk,accept,idle]"
    );
    std::process::exit(2)
}

fn parse() -> Opts {
    // The binaries sit beside this one: target/release/{echo_bench,tokio_echo,examples/echo}.
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut ours = dir.join("examples/echo");
    let mut tokio = dir.join("tokio_echo");
    let mut o = Opts {
        window: Window {
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(10),
        },
        rounds: 1,
        idle_rounds: 1,
        conns: 64,
        size: 64,
        idle: 10_000,
        servers: Vec::new(),
        port: 18_801,
        only: ["rt", "bulk", "accept", "idle"].map(String::from).to_vec(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        let secs = |v: &str| Duration::from_secs_f64(v.parse().unwrap_or_else(|_| usage()));
        let num = |v: &str| v.parse::<usize>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--duration" => o.window.duration = secs(&value),
            "--warmup" => o.window.warmup = secs(&value),
            "--rounds" => o.rounds = num(&value).max(1),
            "--idle" => o.idle = num(&value),
            "--idle-rounds" => o.idle_rounds = num(&value).max(1),
            "--ours" => ours = PathBuf::from(value),
            "--tokio" => tokio = PathBuf::from(value),
            "--port" => o.port = value.parse().unwrap_or_else(|_| usage()),
            "--only" => o.only = value.split(',').map(String::from).collect(),
            _ => usage(),
        }
    }
    for path in [&ours, &tokio] {
        if !path.exists() {
            eprintln!(
                "{} not found: build it first (see benches/README.md)",
                path.display()
            );
            std::process::exit(2);
        }
    }
    let (ours, tokio) = (ours.display().to_string(), tokio.display().to_string());
    o.servers = vec![
        ("tornado-rs".into(), vec![ours]),
        (
            "tokio, 64 KiB buffer".into(),
            vec![tokio.clone(), "--buffer".into(), "65536".into()],
        ),
        (
            "tokio, 8 KiB buffer".into(),
            vec![tokio, "--buffer".into(), "8192".into()],
        ),
    ];
    o
}

/// A server process pinned to core 1.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(command: &[String], port: u16) -> io::Result<Server> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpStream::connect(addr).is_ok() {
            return Err(io::Error::other(format!(
                "something already listens on {addr}"
            )));
        }
        let mut child = Command::new("taskset")
            .args(["-c", "1"])
            .args(command)
            .args(["--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = child.try_wait()? {
                return Err(io::Error::other(format!("{command:?} exited: {status}")));
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!("{command:?} did not listen")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // That probe connection is gone; let the server see it close before measuring.
        std::thread::sleep(Duration::from_millis(500));
        Ok(Server { child, addr })
    }

    /// (user, system) CPU time so far, all threads.
    fn cpu(&self) -> (Duration, Duration) {
        cpu_of(&self.child.id().to_string())
    }

    /// Resident memory in KiB (`VmRSS`).
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .expect("VmRSS");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// SIGTERM (so that a wrapper such as `perf record` can finish), SIGKILL after 5 s.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks_per_second() -> u64 {
    static HZ: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *HZ.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// One workload's result: the load generator's count and the server's CPU in the window.
#[derive(Clone, Copy, Default)]
struct Sample {
    m: Measured,
    user: Duration,
    sys: Duration,
}

type Workload<'a> = dyn Fn(SocketAddr, &mut dyn FnMut(bool)) -> io::Result<Measured> + 'a;

/// How long to wait before starting a server.
const SETTLE: Duration = Duration::from_secs(2);

fn measure(what: &str, server: &Server, workload: &Workload<'_>) -> io::Result<Sample> {
    let mut at_open = [Duration::ZERO; 4];
    let mut at_close = at_open;
    let m = workload(server.addr, &mut |open| {
        let (u, s) = server.cpu();
        let (cu, cs) = cpu_of("self");
        let now = [u, s, cu, cs];
        if open {
            at_open = now;
        } else {
            at_close = now;
        }
    })?;
    let d: Vec<Duration> = (0..4).map(|i| at_close[i] - at_open[i]).collect();
    // How busy each side was: if the load generator is near 100 %, it is the bottleneck.
    let pct = |a: Duration, b: Duration| (a + b).as_secs_f64() * 100.0 / m.elapsed.as_secs_f64();
    eprintln!(
        "  {what}: {} ops, {} bytes in {:.1} s; server CPU {:.0} %, load generator CPU {:.0} %",
        m.ops,
        m.bytes,
        m.elapsed.as_secs_f64(),
        pct(d[0], d[1]),
        pct(d[2], d[3])
    );
    Ok(Sample {
        m,
        user: d[0],
        sys: d[1],
    })
}

/// (user, system) CPU time of process `pid` ("self" for this one), all threads
/// (`/proc/PID/stat` fields 14 and 15).
fn cpu_of(pid: &str) -> (Duration, Duration) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The command name may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields[i].parse::<u64>().expect("clock ticks");
    let hz = clock_ticks_per_second();
    let d = |t: u64| Duration::from_secs_f64(t as f64 / hz as f64);
    (d(ticks(11)), d(ticks(12)))
}

/// Every figure of one server.
#[derive(Default, Clone)]
struct Results {
    rt: Vec<Sample>,
    bulk: Vec<Sample>,
    accept: Vec<Sample>,
    idle_kib: Vec<f64>,
}

/// The median, or NaN for a workload that did not run.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn run() -> io::Result<()> {
    let o = parse();
    let mut results = vec![Results::default(); o.servers.len()];
    let n = o.servers.len();
    let throughput = o.runs("rt") || o.runs("bulk") || o.runs("accept");
    // Each round starts with the next server, so that none is always first (or always right
    // after another's teardown), and every server starts after a pause that lets the kernel
    // finish closing the previous one's sockets.
    let order = |round: usize| (0..n).map(move |k| (k + round - 1) % n);
    for round in 1..=o.rounds {
        if !throughput {
            break;
        }
        for i in order(round) {
            let (name, command) = &o.servers[i];
            eprintln!("round {round}: {name}: {}", o.only.join(", "));
            std::thread::sleep(SETTLE);
            let server = Server::start(command, o.port + i as u16)?;
            let (conns, size, w) = (o.conns, o.size, o.window);
            let r = &mut results[i];
            if o.runs("rt") {
                r.rt.push(measure("round trips", &server, &|a, mark| {
                    round_trips(a, conns, size, w, mark)
                })?);
            }
            if o.runs("bulk") {
                r.bulk.push(measure("bulk", &server, &|a, mark| {
                    bulk(a, 64 * 1024, 4 << 20, w, mark)
                })?);
            }
            if o.runs("accept") {
                r.accept.push(measure("connections", &server, &|a, mark| {
                    accepts(a, 32, w, mark)
                })?);
            }
            server.stop();
        }
    }
    for round in 1..=o.idle_rounds {
        if !o.runs("idle") {
            break;
        }
        for i in order(round) {
            let (name, command) = &o.servers[i];
            eprintln!("round {round}: {name}: {} idle connections", o.idle);
            std::thread::sleep(SETTLE);
            let server = Server::start(command, o.port + i as u16)?;
            std::thread::sleep(Duration::from_secs(1));
            let before = server.rss_kib();
            let conns = open_idle(server.addr, o.idle, 256, 64)?;
            std::thread::sleep(Duration::from_secs(1));
            let after = server.rss_kib();
            let fds = server.open_fds();
            if fds < o.idle {
                return Err(io::Error::other(format!("{name} holds {fds} descriptors")));
            }
            let per_conn = (after as f64 - before as f64) / o.idle as f64;
            eprintln!("  {per_conn:.2} KiB per idle connection");
            results[i].idle_kib.push(per_conn);
            close_with_reset(conns);
            server.stop();
        }
    }
    report(&o, &results);
    Ok(())
}

/// Prints the medians over rounds as a markdown table: ours, each tokio, and ours against the
/// best tokio figure of the row (the highest rate, or the lowest cost). Rates also show the
/// lowest and highest round, since this kind of machine swings widely between runs.
fn report(o: &Opts, results: &[Results]) {
    let secs = |s: &Sample| s.m.elapsed.as_secs_f64();
    let per_op = |s: &Sample, cpu: Duration| cpu.as_secs_f64() * 1e6 / s.m.ops.max(1) as f64;
    let per_100mb =
        |s: &Sample, cpu: Duration| cpu.as_secs_f64() * 1e3 * 1e8 / s.m.bytes.max(1) as f64;
    /// (label, is a rate (higher is better), the per-round values of a server)
    type Row = (String, bool, Box<dyn Fn(&Results) -> Vec<f64>>);
    let each = |v: &Vec<Sample>, f: &dyn Fn(&Sample) -> f64| v.iter().map(f).collect::<Vec<_>>();
    let rows: Vec<Row> = vec![
        (
            format!("echo round trips/s ({} conns, {} B)", o.conns, o.size),
            true,
            Box::new(move |r| each(&r.rt, &|s| s.m.ops as f64 / secs(s))),
        ),
        (
            "server CPU µs per round trip: user".into(),
            false,
            Box::new(move |r| each(&r.rt, &|s| per_op(s, s.user))),
        ),
        (
            "server CPU µs per round trip: sys".into(),
            false,
            Box::new(move |r| each(&r.rt, &|s| per_op(s, s.sys))),
        ),
        (
            "bulk echo MB/s (1 conn, 64 KiB writes)".into(),
            true,
            Box::new(move |r| each(&r.bulk, &|s| s.m.bytes as f64 / 1e6 / secs(s))),
        ),
        (
            "server CPU ms per 100 MB: user".into(),
            false,
            Box::new(move |r| each(&r.bulk, &|s| per_100mb(s, s.user))),
        ),
        (
            "server CPU ms per 100 MB: sys".into(),
            false,
            Box::new(move |r| each(&r.bulk, &|s| per_100mb(s, s.sys))),
        ),
        (
            "connections served/s (32 at a time)".into(),
            true,
            Box::new(move |r| each(&r.accept, &|s| s.m.ops as f64 / secs(s))),
        ),
        (
            "server CPU µs per connection: user".into(),
            false,
            Box::new(move |r| each(&r.accept, &|s| per_op(s, s.user))),
        ),
        (
            "server CPU µs per connection: sys".into(),
            false,
            Box::new(move |r| each(&r.accept, &|s| per_op(s, s.sys))),
        ),
        (
            format!("RSS KiB per idle connection ({})", o.idle),
            false,
            Box::new(|r| r.idle_kib.clone()),
        ),
    ];
    let names: Vec<&str> = o.servers.iter().map(|(n, _)| n.as_str()).collect();
    println!(
        "| workload | {} | ours / best tokio | better |",
        names.join(" | ")
    );
    println!("|---|{}---:|---|", "---:|".repeat(names.len()));
    for (label, is_rate, f) in &rows {
        let all: Vec<Vec<f64>> = results.iter().map(f).collect();
        let v: Vec<f64> = all.iter().map(|x| median(x.clone())).collect();
        if v[0].is_nan() {
            continue;
        }
        let peers = v[1..].iter().copied();
        let best = if *is_rate {
            peers.fold(f64::MIN, f64::max)
        } else {
            peers.fold(f64::MAX, f64::min)
        };
        let cells: Vec<String> = all
            .iter()
            .zip(&v)
            .map(|(x, m)| {
                let lo = x.iter().copied().fold(f64::MAX, f64::min);
                let hi = x.iter().copied().fold(f64::MIN, f64::max);
                if *is_rate && x.len() > 1 {
                    format!("{} ({}–{})", fmt(*m), fmt(lo), fmt(hi))
                } else {
                    fmt(*m)
                }
            })
            .collect();
        let better = if *is_rate { "higher" } else { "lower" };
        println!(
            "| {label} | {} | {:.2}× | {better} |",
            cells.join(" | "),
            v[0] / best
        );
    }
    println!(
        "\n{} round(s), servers interleaved; {:.0} s measured after {:.0} s of warm-up; memory: {} \
         round(s); medians over rounds (rates: lowest–highest round in parentheses).",
        o.rounds,
        o.window.duration.as_secs_f64(),
        o.window.warmup.as_secs_f64(),
        o.idle_rounds
    );
}

fn fmt(x: f64) -> String {
    if x >= 1000.0 {
        let s = format!("{x:.0}");
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn main() {
    // The load generator runs on core 0 and the servers on core 1: re-run this program
    // under `taskset -c 0` unless that has been done.
    if std::env::var_os("ECHO_BENCH_PINNED").is_none() {
        let exe = std::env::current_exe().expect("current_exe");
        let status = Command::new("taskset")
            .args(["-c", "0"])
            .arg(exe)
            .args(std::env::args().skip(1))
            .env("ECHO_BENCH_PINNED", "1")
            .status()
            .expect("taskset (util-linux) is needed");
        std::process::exit(status.code().unwrap_or(1));
    }
    if let Err(e) = run() {
        eprintln!("echo_bench: {e}");
        std::process::exit(1);
    }
}
