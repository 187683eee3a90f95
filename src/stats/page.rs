//! The statistics page's HTML: laid out as people know HAProxy's (a header, a legend of the
//! server colours, display options, then one table per proxy with the column groups Queue,
//! Session rate, Sessions, Bytes, Denied, Errors, Warnings and Server, and a row per
//! frontend, server and backend, servers coloured by state). Our own markup and style, self-
//! contained: inline CSS, no script, no external resource.
//!
//! Cells rsproxy has no value for (session rates, the last check's result, downtime,
//! throttle) are left empty rather than filled with a guess.

use super::csv::human_secs;
use super::serve::Table;
use super::{Line, RowKind};
use std::fmt::Write as _;

/// How the page is shown.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// The `stats uri`, for the page's own links.
    pub uri: &'a str,
    pub hide_version: bool,
    pub show_legends: bool,
    /// Seconds between reloads, when the page reloads itself.
    pub refresh: Option<u64>,
    pub hide_down: bool,
    /// Show that an admin action was refused (`;st=DENY`).
    pub denied: bool,
    pub uptime: u64,
    pub pid: u32,
}

const STYLE: &str = "\
body{font-family:Arial,Helvetica,sans-serif;font-size:12px;color:#111;background:#fff;margin:8px}
h1{font-size:18px;margin:0 0 4px;color:#fff;background:#3b4a6b;padding:4px 8px}
h2{font-size:14px;margin:6px 0;color:#3b4a6b}
a{color:#2a3f8f}
table.stats{border-collapse:collapse;width:100%;margin:0 0 14px}
table.stats th,table.stats td{border:1px solid #98a0b4;padding:1px 4px;text-align:right;white-space:nowrap}
table.stats th{background:#d6dbe8;font-weight:normal;text-align:center}
table.stats th.proxy{background:#3b4a6b;color:#fff;text-align:left;font-weight:bold;font-size:13px}
table.stats td.name{text-align:left}
table.stats td.st{text-align:center}
tr.fe td,tr.be td{background:#e6e9f2}
tr.be td{font-weight:bold}
.up{background:#a6e6a6}.up_bck{background:#a6c8f2}
.going_down{background:#f3e38a}.going_down_bck{background:#d8dcf0}
.going_up{background:#f5b978}.going_up_bck{background:#f5b978}
.down{background:#f49a9a}.no_check{background:#e3e3e3}.no_check_bck{background:#d2dae8}
.maint{background:#c2a58c}
table.legend td{padding:1px 6px;border:0}
table.legend td.sw{width:14px;border:1px solid #98a0b4}
table.info td{vertical-align:top;padding:0 24px 0 0}
p.denied{background:#f49a9a;border:1px solid #b04040;padding:4px 8px;font-weight:bold}
";

/// The whole page.
pub fn render(tables: &[Table], v: &View<'_>) -> String {
    let mut o = String::with_capacity(16 * 1024);
    o.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n");
    let _ = writeln!(o, "<title>Statistics Report for rsproxy</title>");
    o.push_str("<style>\n");
    o.push_str(STYLE);
    o.push_str("</style></head>\n<body>\n");
    if v.hide_version {
        o.push_str("<h1>rsproxy</h1>\n");
    } else {
        let _ = writeln!(o, "<h1>rsproxy version {}</h1>", env!("CARGO_PKG_VERSION"));
    }
    let _ = writeln!(o, "<h2>Statistics Report for pid {}</h2>", v.pid);
    general(&mut o, v);
    if v.denied {
        o.push_str("<p class=\"denied\">Action denied: this page has no admin rights.</p>\n");
    }
    for t in tables {
        table(&mut o, t, v);
    }
    o.push_str("</body></html>\n");
    o
}

/// The process line, the colour legend and the display options.
fn general(o: &mut String, v: &View<'_>) {
    let u = esc(v.uri);
    o.push_str("<table class=\"info\"><tr><td>\n");
    let _ = writeln!(
        o,
        "<p><b>pid = </b>{} (one process)<br><b>uptime = </b>{}</p>",
        v.pid,
        uptime(v.uptime)
    );
    o.push_str("</td><td>\n<table class=\"legend\">\n");
    for row in [
        [("up", "active UP"), ("up_bck", "backup UP")],
        [
            ("going_down", "active UP, going down"),
            ("going_down_bck", "backup UP, going down"),
        ],
        [
            ("going_up", "active DOWN, going up"),
            ("going_up_bck", "backup DOWN, going up"),
        ],
        [
            ("down", "active or backup DOWN"),
            ("no_check", "not checked"),
        ],
    ] {
        o.push_str("<tr>");
        for (class, text) in row {
            let _ = write!(o, "<td class=\"sw {class}\"></td><td>{text}</td>");
        }
        o.push_str("</tr>\n");
    }
    o.push_str("<tr><td class=\"sw maint\"></td><td colspan=\"3\">active or backup DOWN for maintenance (MAINT)</td></tr>\n</table>\n");
    o.push_str("</td><td>\n<b>Display option:</b><ul>\n");
    if v.hide_down {
        let _ = writeln!(o, "<li><a href=\"{u}\">Show all servers</a></li>");
    } else {
        let _ = writeln!(o, "<li><a href=\"{u};up\">Hide 'DOWN' servers</a></li>");
    }
    if v.refresh.is_some() {
        let _ = writeln!(o, "<li><a href=\"{u};norefresh\">Disable refresh</a></li>");
    }
    let _ = writeln!(o, "<li><a href=\"{u}\">Refresh now</a></li>");
    let _ = writeln!(
        o,
        "<li><a class=\"csv\" href=\"{u};csv;norefresh\">CSV export</a></li>"
    );
    o.push_str("</ul></td></tr></table>\n");
}

fn uptime(s: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        s / 86400,
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    )
}

const GROUPS: [(&str, usize); 8] = [
    ("Queue", 3),
    ("Session rate", 3),
    ("Sessions", 6),
    ("Bytes", 2),
    ("Denied", 2),
    ("Errors", 3),
    ("Warnings", 2),
    ("Server", 9),
];

const COLUMNS: [&str; 30] = [
    "Cur", "Max", "Limit", "Cur", "Max", "Limit", "Cur", "Max", "Limit", "Total", "LbTot", "Last",
    "In", "Out", "Req", "Resp", "Req", "Conn", "Resp", "Retr", "Redis", "Status", "LastChk",
    "Wght", "Act", "Bck", "Chk", "Dwn", "Dwntme", "Thrtle",
];

/// One proxy's table.
fn table(o: &mut String, t: &Table, v: &View<'_>) {
    let name = esc(&t.name);
    let _ = writeln!(
        o,
        "<table class=\"stats\" id=\"{name}\">\n<tr><th class=\"proxy\" colspan=\"31\">{name} \
         <small>({}, mode {})</small></th></tr>",
        t.cap,
        if t.http { "http" } else { "tcp" }
    );
    o.push_str("<tr><th rowspan=\"2\"></th>");
    for (g, span) in GROUPS {
        let _ = write!(o, "<th colspan=\"{span}\">{g}</th>");
    }
    o.push_str("</tr>\n<tr>");
    for c in COLUMNS {
        let _ = write!(o, "<th>{c}</th>");
    }
    o.push_str("</tr>\n");
    for line in &t.lines {
        row(o, line, v);
    }
    o.push_str("</table>\n");
}

/// A server's row colour, by state as HAProxy colours it.
fn state_class(l: &Line) -> &'static str {
    let s = l.row.status.as_str();
    let b = l.backup;
    match () {
        _ if s.starts_with("MAINT") => "maint",
        _ if s == "no check" => pick(b, "no_check", "no_check_bck"),
        _ if s.starts_with("UP ") => pick(b, "going_down", "going_down_bck"),
        _ if s.starts_with("DOWN ") => pick(b, "going_up", "going_up_bck"),
        _ if s.starts_with("UP") => pick(b, "up", "up_bck"),
        _ => "down",
    }
}

fn pick(backup: bool, active: &'static str, bck: &'static str) -> &'static str {
    if backup {
        bck
    } else {
        active
    }
}

fn row(o: &mut String, l: &Line, v: &View<'_>) {
    let r = &l.row;
    let c = &r.counters;
    let (class, label) = match r.kind {
        RowKind::Frontend => ("fe", "Frontend".to_string()),
        RowKind::Backend => ("be", "Backend".to_string()),
        RowKind::Server => (state_class(l), esc(&r.name)),
    };
    let title = match (&l.addr, r.kind) {
        (Some(a), RowKind::Server) if v.show_legends => {
            format!(" title=\"{}, id: {}\"", esc(a), l.sid)
        }
        _ => String::new(),
    };
    let _ = write!(
        o,
        "<tr class=\"{class}\"><td class=\"name\"{title}>{label}</td>"
    );
    let fe = r.kind == RowKind::Frontend;
    let sv = r.kind == RowKind::Server;
    let num = |v: u64| v.to_string();
    let opt = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_default();
    let blank = String::new;
    let cells: [String; 30] = [
        // Queue
        if fe { blank() } else { num(r.qcur.into()) },
        if fe { blank() } else { num(c.qmax.into()) },
        if sv { opt(l.qlimit) } else { blank() },
        // Session rate: not measured.
        blank(),
        blank(),
        blank(),
        // Sessions
        num(c.scur.into()),
        num(c.smax.into()),
        opt(r.slim),
        num(c.stot),
        if fe { blank() } else { num(c.lbtot) },
        blank(),
        // Bytes
        num(c.bin),
        num(c.bout),
        // Denied
        if sv { blank() } else { num(c.dreq) },
        blank(),
        // Errors
        if fe { num(c.ereq) } else { blank() },
        if fe { blank() } else { num(c.econ) },
        if fe { blank() } else { num(c.eresp) },
        // Warnings
        if fe { blank() } else { num(c.wretr) },
        if fe { blank() } else { num(c.wredis) },
        // Server
        if fe {
            r.status.clone()
        } else {
            format!("{} {}", human_secs(r.lastchg), esc(&r.status))
        },
        blank(),
        if fe { blank() } else { num(r.weight.into()) },
        match r.kind {
            RowKind::Frontend => blank(),
            RowKind::Server => yes_no(!l.backup),
            RowKind::Backend => num(r.act.into()),
        },
        match r.kind {
            RowKind::Frontend => blank(),
            RowKind::Server => yes_no(l.backup),
            RowKind::Backend => num(r.bck.into()),
        },
        if sv && l.check.is_some() {
            num(r.chkfail)
        } else {
            blank()
        },
        if sv && l.check.is_some() {
            num(r.chkdown)
        } else {
            blank()
        },
        blank(),
        blank(),
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i == 21 {
            let _ = write!(o, "<td class=\"st\">{cell}</td>");
        } else {
            let _ = write!(o, "<td>{cell}</td>");
        }
    }
    o.push_str("</tr>\n");
}

fn yes_no(b: bool) -> String {
    if b { "Y" } else { "-" }.to_string()
}

/// Text for HTML, in element content and attribute values alike.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Snapshot, StatRow};

    fn line(kind: RowKind, name: &str, status: &str, backup: bool) -> Line {
        Line {
            row: StatRow {
                proxy: "app".into(),
                name: name.into(),
                kind,
                counters: Snapshot::default(),
                qcur: 0,
                slim: None,
                status: status.into(),
                weight: 1,
                act: 1,
                bck: 0,
                chkfail: 0,
                chkdown: 0,
                lastchg: 65,
            },
            http: true,
            algo: None,
            sid: 1,
            addr: Some("127.0.0.1:80".into()),
            cookie: None,
            check: Some((2, 3)),
            qlimit: None,
            backup,
        }
    }

    /// description: a table per proxy with its rows, servers coloured by state, names
    /// escaped, the CSV link under the stats uri; the version only without hide-version.
    #[test]
    fn page_structure() {
        let t = Table {
            name: "app<1>".into(),
            cap: "backend",
            http: true,
            lines: vec![
                line(RowKind::Server, "a", "UP", false),
                line(RowKind::Server, "b", "DOWN", false),
                line(RowKind::Server, "c", "UP 1/3", true),
                line(RowKind::Backend, "BACKEND", "UP", false),
            ],
        };
        let mut v = View {
            uri: "/stats",
            hide_version: false,
            show_legends: true,
            refresh: None,
            hide_down: false,
            denied: false,
            uptime: 3,
            pid: 7,
        };
        let html = render(std::slice::from_ref(&t), &v);
        assert!(html.contains("app&lt;1&gt;"));
        assert!(html
            .contains("<tr class=\"up\"><td class=\"name\" title=\"127.0.0.1:80, id: 1\">a</td>"));
        assert!(html.contains("<tr class=\"down\">"));
        assert!(html.contains("<tr class=\"going_down_bck\">"));
        assert!(html.contains("1m5s DOWN"));
        assert!(html.contains("href=\"/stats;csv;norefresh\""));
        assert!(html.contains("rsproxy version"));
        assert!(!html.contains("Disable refresh"));
        v.hide_version = true;
        v.refresh = Some(5);
        let html = render(&[t], &v);
        assert!(!html.contains("version"));
        assert!(html.contains("Disable refresh"));
        // Every data row has the 31 cells the headers announce.
        for r in html.lines().filter(|l| l.starts_with("<tr class=")) {
            assert_eq!(r.matches("<td").count(), 31, "{r}");
        }
    }
}
