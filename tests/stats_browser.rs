//! The statistics page in a real browser: headless Chromium (Debian's `chromium`) loads the
//! page from a running rsproxy and the test checks what it rendered (the DOM after
//! parsing, `--dump-dom`).
//!
//! description: a `listen` with `stats uri /stats` and a backend with one server up and one
//! taken down by its checks; input: the page as Chromium renders it; output: the proxies'
//! and servers' names, UP and DOWN, the servers' rows coloured by state, the CSV link.
//!
//! Without a `chromium` binary the test is skipped with a message, except under `CI=true`,
//! where a missing browser fails it (`scripts/test.sh` installs it).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{free_port, ok_server};

/// The body of `GET path` (on its own connection), if any answer came.
fn get_body(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// A child process killed (its whole process group) and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        // The group: Chromium starts helper processes of its own.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_in_group(cmd: &mut Command) -> std::io::Result<Killed> {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0).spawn().map(Killed)
}

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let p = std::env::temp_dir().join(format!("rsproxy-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|bin| {
        Command::new(bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn chromium_renders_the_stats_page() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed: under CI=true the browser test must run (scripts/test.sh installs it)"
        );
        eprintln!("SKIPPED chromium_renders_the_stats_page: no chromium binary (apt-get install chromium)");
        return;
    };
    let (stats, fe, live, dead) = (free_port(), free_port(), ok_server(), free_port());
    let dir = TempDir::new("stats-browser");
    let cfg = dir.0.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
             listen stats_page\n  bind 127.0.0.1:{stats}\n  stats enable\n  stats uri /stats\n  stats refresh 30s\n\
             frontend www\n  bind 127.0.0.1:{fe}\n  default_backend app\n\
             backend app\n  default-server check inter 100ms fall 1 rise 1\n  \
             server web_up 127.0.0.1:{live}\n  server web_down 127.0.0.1:{dead}\n"
        ),
    )
    .expect("config written");
    let _proxy = spawn_in_group(
        Command::new(env!("CARGO_BIN_EXE_rsproxy"))
            .arg("-db")
            .arg("-c")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("rsproxy starts");

    // Serving, and the dead server's checks have taken it down.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let csv = get_body(stats, "/stats;csv").unwrap_or_default();
        if csv.contains("\napp,web_down,") && csv.contains(",DOWN,") {
            break;
        }
        assert!(Instant::now() < deadline, "web_down never DOWN: {csv}");
        std::thread::sleep(Duration::from_millis(100));
    }

    let profile = TempDir::new("chromium-profile");
    let out = dir.0.join("dom.html");
    let dom_file = std::fs::File::create(&out).expect("dom file");
    let mut browser = spawn_in_group(
        Command::new(browser)
            .args([
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("--dump-dom")
            .arg(format!("http://127.0.0.1:{stats}/stats"))
            .stdin(Stdio::null())
            .stdout(dom_file)
            .stderr(Stdio::null()),
    )
    .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match browser.0.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => panic!("chromium did not finish within 60 s"),
            Err(e) => panic!("waiting for chromium: {e}"),
        }
    }
    drop(browser);
    let dom = std::fs::read_to_string(&out).expect("the dumped DOM");

    for needle in [
        "Statistics Report",
        "stats_page",
        ">www",
        ">app",
        ">web_up</td>",
        ">web_down</td>",
        "Frontend",
        "Backend",
        "Disable refresh",
    ] {
        assert!(dom.contains(needle), "{needle:?} not rendered:\n{dom}");
    }
    // Server rows with their state's class and status text.
    let row_of = |name: &str| -> String {
        dom.split("<tr")
            .find(|r| r.contains(&format!(">{name}</td>")))
            .unwrap_or_default()
            .to_string()
    };
    let up = row_of("web_up");
    assert!(up.contains("class=\"up\"") && up.contains(" UP<"), "{up}");
    let down = row_of("web_down");
    assert!(
        down.contains("class=\"down\"") && down.contains(" DOWN<"),
        "{down}"
    );
    // The CSV export link, under the stats uri.
    assert!(
        dom.contains("href=\"/stats;csv;norefresh\""),
        "no CSV link:\n{dom}"
    );
}
