//! `smtp_alert`: the e-mail keepalived sends when an instance enters MASTER or BACKUP (or
//! FAULT), to every `notification_email`, from `notification_email_from`, through
//! `smtp_server` — a plain SMTP exchange (RFC 5321) on a thread of its own, so a slow or
//! absent mail server never delays VRRP.
//!
//! The message is keepalived 2.2.7's, header for header (captured with a sink):
//! ```text
//! Date: Wed, 25 Nov 2026 10:29:41 +0000
//! From: keepalived@example.com
//! Subject: [LB1] VRRP Instance VI_1 - Entering MASTER state
//! X-Mailer: Keepalived
//! To: admin@example.com, ops@example.com
//!
//! => VRRP Instance is now owning VRRP VIPs <=
//! ```
//! (rsproxy writes the date in UTC.)

use super::fsm::State;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where and to whom alerts go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpPlan {
    pub server: String,
    pub port: u16,
    pub helo: String,
    pub from: String,
    pub to: Vec<String>,
    pub router_id: String,
    pub connect_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("smtp_server {server}: {error}")]
    Io {
        server: String,
        error: std::io::Error,
    },
    #[error("smtp_server {server} answered {answer:?} to {command}")]
    Refused {
        server: String,
        command: String,
        answer: String,
    },
}

/// The subject and body for `instance` entering `state` (`None`: no alert for it).
pub fn text(router_id: &str, instance: &str, state: State) -> Option<(String, &'static str)> {
    let (word, body) = match state {
        State::Master => ("MASTER", "=> VRRP Instance is now owning VRRP VIPs <="),
        State::Backup => (
            "BACKUP",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        State::Fault => ("FAULT", "=> VRRP Instance is in FAULT state <="),
        State::Init => return None,
    };
    Some((
        format!("[{router_id}] VRRP Instance {instance} - Entering {word} state"),
        body,
    ))
}

/// The DATA of the message, CRLF line ends, dot-stuffed, without the final `.`.
pub fn message(plan: &SmtpPlan, subject: &str, body: &str, now: SystemTime) -> String {
    let mut m = format!(
        "Date: {}\r\nFrom: {}\r\nSubject: {subject}\r\nX-Mailer: Keepalived\r\nTo: {}\r\n\r\n",
        rfc2822(now),
        plan.from,
        plan.to.join(", ")
    );
    for line in body.lines() {
        if line.starts_with('.') {
            m.push('.');
        }
        m.push_str(line);
        m.push_str("\r\n");
    }
    m.push_str("\r\n");
    m
}

/// `Wed, 25 Nov 2026 10:29:41 +0000`.
pub fn rfc2822(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let wd = DAYS
        .get(days.rem_euclid(7) as usize)
        .copied()
        .unwrap_or("Thu");
    let mon = MONTHS
        .get((month - 1).clamp(0, 11) as usize)
        .copied()
        .unwrap_or("Jan");
    format!("{wd}, {day:02} {mon} {year} {h:02}:{m:02}:{s:02} +0000")
}

/// One SMTP exchange delivering `data` to every recipient.
pub fn send(plan: &SmtpPlan, data: &str) -> Result<(), SmtpError> {
    let server = format!("{}:{}", plan.server, plan.port);
    let io = |error| SmtpError::Io {
        server: server.clone(),
        error,
    };
    let addr = (plan.server.as_str(), plan.port)
        .to_socket_addrs()
        .map_err(io)?
        .next()
        .ok_or_else(|| io(std::io::Error::other("no address")))?;
    let stream = TcpStream::connect_timeout(&addr, plan.connect_timeout).map_err(io)?;
    stream
        .set_read_timeout(Some(plan.connect_timeout))
        .map_err(io)?;
    let mut w = stream.try_clone().map_err(io)?;
    let mut r = BufReader::new(stream);
    let expect = |r: &mut BufReader<TcpStream>, command: &str, ok: u8| {
        // Multi-line replies: `250-...` lines then `250 ...`.
        loop {
            let mut line = String::new();
            r.read_line(&mut line).map_err(io)?;
            let code = line.as_bytes().first().copied().unwrap_or(b'5');
            if code != ok {
                return Err(SmtpError::Refused {
                    server: server.clone(),
                    command: command.to_string(),
                    answer: line.trim_end().to_string(),
                });
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    };
    expect(&mut r, "the greeting", b'2')?;
    let say = |w: &mut TcpStream, r: &mut BufReader<TcpStream>, cmd: String, ok: u8| {
        w.write_all(format!("{cmd}\r\n").as_bytes()).map_err(io)?;
        expect(r, &cmd, ok)
    };
    say(&mut w, &mut r, format!("HELO {}", plan.helo), b'2')?;
    say(&mut w, &mut r, format!("MAIL FROM:<{}>", plan.from), b'2')?;
    for to in &plan.to {
        say(&mut w, &mut r, format!("RCPT TO:<{to}>"), b'2')?;
    }
    say(&mut w, &mut r, "DATA".into(), b'3')?;
    say(&mut w, &mut r, format!("{data}."), b'2')?;
    let _ = w.write_all(b"QUIT\r\n");
    Ok(())
}

/// Sends the alert for `instance` entering `state` on a thread of its own.
pub fn alert(plan: &SmtpPlan, instance: &str, state: State) {
    let Some((subject, body)) = text(&plan.router_id, instance, state) else {
        return;
    };
    if plan.to.is_empty() {
        return;
    }
    let plan = plan.clone();
    let instance = instance.to_string();
    let _ = std::thread::Builder::new()
        .name("vrrp smtp_alert".into())
        .spawn(move || {
            let data = message(&plan, &subject, body, SystemTime::now());
            match send(&plan, &data) {
                Ok(()) => tracing::info!("({instance}) smtp_alert sent: {subject}"),
                Err(e) => tracing::warn!("({instance}) smtp_alert not sent: {e}"),
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn plan(port: u16) -> SmtpPlan {
        SmtpPlan {
            server: "127.0.0.1".into(),
            port,
            helo: "lb1".into(),
            from: "keepalived@example.com".into(),
            to: vec!["admin@example.com".into(), "ops@example.com".into()],
            router_id: "LB1".into(),
            connect_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn dates_as_rfc2822() {
        assert_eq!(rfc2822(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 +0000");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_602_581);
        assert_eq!(rfc2822(t), "Wed, 25 Nov 2026 10:29:41 +0000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc2822(leap), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn the_message_is_keepalived_s() {
        let (subject, body) = text("LB1", "VI_1", State::Master).unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1_795_602_581);
        assert_eq!(
            message(&plan(25), &subject, body, t),
            "Date: Wed, 25 Nov 2026 10:29:41 +0000\r\nFrom: keepalived@example.com\r\n\
             Subject: [LB1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n\
             To: admin@example.com, ops@example.com\r\n\r\n\
             => VRRP Instance is now owning VRRP VIPs <=\r\n\r\n"
        );
        assert_eq!(text("LB1", "VI_1", State::Init), None);
    }

    #[test]
    fn one_smtp_exchange_with_a_sink() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let mut seen = Vec::new();
            w.write_all(b"220 sink\r\n").unwrap();
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                seen.push(line.trim_end().to_string());
                match line.trim_end() {
                    "DATA" => {
                        w.write_all(b"354 go\r\n").unwrap();
                        loop {
                            line.clear();
                            r.read_line(&mut line).unwrap();
                            if line == ".\r\n" {
                                break;
                            }
                        }
                        w.write_all(b"250 ok\r\n").unwrap();
                    }
                    "QUIT" => break,
                    _ => w.write_all(b"250-hello\r\n250 ok\r\n").unwrap(),
                }
            }
            seen
        });
        send(&plan(port), "Subject: x\r\n\r\nbody\r\n").unwrap();
        assert_eq!(
            sink.join().unwrap(),
            [
                "HELO lb1",
                "MAIL FROM:<keepalived@example.com>",
                "RCPT TO:<admin@example.com>",
                "RCPT TO:<ops@example.com>",
                "DATA",
                "QUIT"
            ]
        );
    }

    #[test]
    fn a_refusal_is_an_error_naming_the_command() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"554 go away\r\n").unwrap();
        });
        let e = send(&plan(port), "x").unwrap_err();
        assert!(e.to_string().contains("554 go away"), "{e}");
    }
}
