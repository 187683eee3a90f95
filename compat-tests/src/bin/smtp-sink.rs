//! `smtp-sink ADDR:PORT COUNT TIMEOUT_SECS`: a minimal SMTP server for the alert tests. It
//! answers every command as a server that accepts everything would, and prints each
//! message it receives as one line: `MAIL FROM`, `RCPT TO`s and the DATA (headers and
//! body) with line ends written as `\n`, fields separated by ` | `. It stops after COUNT
//! messages or TIMEOUT_SECS. Prints `ready` once listening.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(addr), Some(count), Some(secs)) = (
        args.get(1),
        args.get(2).and_then(|a| a.parse::<usize>().ok()),
        args.get(3).and_then(|a| a.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: smtp-sink ADDR:PORT COUNT TIMEOUT_SECS");
        std::process::exit(2);
    };
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("smtp-sink: {addr}: {e}");
            std::process::exit(1);
        }
    };
    let _ = listener.set_nonblocking(true);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut out = std::io::stdout();
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    let mut got = 0;
    while got < count && Instant::now() < end {
        let Ok((stream, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let Ok(mut w) = stream.try_clone() else {
            continue;
        };
        let mut r = BufReader::new(stream);
        let _ = w.write_all(b"220 sink ESMTP\r\n");
        let (mut from, mut to, mut data) = (String::new(), Vec::new(), String::new());
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let cmd = line.trim_end().to_string();
            let upper = cmd.to_ascii_uppercase();
            if upper.starts_with("MAIL FROM:") {
                from = cmd[10..].to_string();
                let _ = w.write_all(b"250 OK\r\n");
            } else if upper.starts_with("RCPT TO:") {
                to.push(cmd[8..].to_string());
                let _ = w.write_all(b"250 OK\r\n");
            } else if upper == "DATA" {
                let _ = w.write_all(b"354 go on\r\n");
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.trim_end_matches(['\r', '\n']));
                    data.push_str("\\n");
                }
                let _ = w.write_all(b"250 queued\r\n");
            } else if upper == "QUIT" {
                let _ = w.write_all(b"221 bye\r\n");
                break;
            } else {
                let _ = w.write_all(b"250 OK\r\n");
            }
        }
        if !from.is_empty() {
            let _ = writeln!(out, "{from} | {} | {data}", to.join(","));
            let _ = out.flush();
            got += 1;
        }
    }
}
