//! The statistics page's CSV export (`<stats uri>;csv`): HAProxy 2.6's `show stat` format.
//!
//! The header line is haproxy 2.6.12's, captured from it (its base fields, then the fields
//! of the stats modules it always loads: `ssl`, `h2`, `h1`), so tools that read columns by
//! position or by name find them where HAProxy puts them. Each row has exactly as many
//! fields. A field is filled only where rsproxy counts or knows the value (the counters in
//! [`super::Snapshot`], the server's state and configuration); every other field is left
//! empty — never a made-up number. Which row kinds carry which field follows the
//! management guide (section 9.1): `ereq` only on frontends, `econ` only on backends and
//! servers, and so on.
//!
//! Strings are written as HAProxy writes them (`csv_enc`): a line break becomes a space, and
//! a value holding `,` or `"` is quoted with its `"` doubled.

use super::{Line, RowKind};
use std::fmt::Write as _;

/// haproxy 2.6.12's header line, after `# ` (with its trailing comma).
pub const HEADER: &str = "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,";

/// The field names, in order.
pub fn fields() -> impl Iterator<Item = &'static str> {
    HEADER.strip_suffix(',').unwrap_or(HEADER).split(',')
}

/// The whole export: the header line, then one line per row.
pub fn render<'a>(lines: impl IntoIterator<Item = &'a Line>, legends: bool) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("# ");
    out.push_str(HEADER);
    out.push('\n');
    for line in lines {
        for name in fields() {
            if let Some(v) = value(name, line, legends) {
                out.push_str(&escape(&v));
            }
            out.push(',');
        }
        out.push('\n');
    }
    out
}

/// A string field as HAProxy's `csv_enc` writes it.
pub fn escape(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.contains([',', '"', '\r', '\n']) {
        return v.into();
    }
    let one_line = v.replace(['\r', '\n'], " ");
    if !one_line.contains([',', '"']) {
        return one_line.into();
    }
    let mut q = String::with_capacity(one_line.len() + 2);
    q.push('"');
    q.push_str(&one_line.replace('"', "\"\""));
    q.push('"');
    q.into()
}

/// The value of field `name` on `line`, where rsproxy has one.
fn value(name: &str, line: &Line, legends: bool) -> Option<String> {
    use RowKind::{Backend as B, Frontend as F, Server as S};
    let r = &line.row;
    let c = &r.counters;
    let k = r.kind;
    let n = |v: u64| Some(v.to_string());
    let checked = line.check.is_some();
    match name {
        "pxname" => Some(r.proxy.clone()),
        "svname" => Some(r.name.clone()),
        "qcur" if k != F => n(r.qcur.into()),
        "qmax" if k != F => n(c.qmax.into()),
        "scur" => n(c.scur.into()),
        "smax" => n(c.smax.into()),
        "slim" => r.slim.map(|l| l.to_string()),
        "stot" => n(c.stot),
        "bin" => n(c.bin),
        "bout" => n(c.bout),
        "dreq" if k != S => n(c.dreq),
        "ereq" if k == F => n(c.ereq),
        "econ" if k != F => n(c.econ),
        "eresp" if k != F => n(c.eresp),
        "wretr" if k != F => n(c.wretr),
        "wredis" if k != F => n(c.wredis),
        "status" => Some(r.status.clone()),
        "weight" if k != F => n(r.weight.into()),
        "act" if k != F => n(r.act.into()),
        "bck" if k != F => n(r.bck.into()),
        "chkfail" if k == S && checked => n(r.chkfail),
        "chkdown" if k == S && checked => n(r.chkdown),
        "lastchg" if k != F => n(r.lastchg),
        "qlimit" if k == S => line.qlimit.map(|q| q.to_string()),
        // One process: HAProxy's relative process number is 1.
        "pid" => n(1),
        "sid" => n(line.sid.into()),
        "lbtot" if k != F => n(c.lbtot),
        "type" => n(match k {
            F => 0,
            B => 1,
            S => 2,
        }),
        "hrsp_1xx" | "hrsp_2xx" | "hrsp_3xx" | "hrsp_4xx" | "hrsp_5xx" | "hrsp_other"
            if line.http =>
        {
            let i = match name {
                "hrsp_1xx" => 0,
                "hrsp_2xx" => 1,
                "hrsp_3xx" => 2,
                "hrsp_4xx" => 3,
                "hrsp_5xx" => 4,
                _ => 5,
            };
            n(c.hrsp[i])
        }
        "req_tot" if k != S && line.http => n(c.req_tot),
        "check_rise" => line.check.map(|(rise, _)| rise.to_string()),
        "check_fall" => line.check.map(|(_, fall)| fall.to_string()),
        "addr" if legends => line.addr.clone(),
        "cookie" if legends => line.cookie.clone(),
        "mode" => Some(if line.http { "http" } else { "tcp" }.into()),
        "algo" if k == B => line.algo.map(str::to_string),
        _ => None,
    }
}

/// `show stat`'s human form of a duration in seconds, as the HTML page shows `lastchg`:
/// `42s`, `3m12s`, `2h05m`, `1d03h`.
pub fn human_secs(s: u64) -> String {
    let mut out = String::new();
    let (d, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    let _ = match (d, h, m) {
        (0, 0, 0) => write!(out, "{sec}s"),
        (0, 0, _) => write!(out, "{m}m{sec}s"),
        (0, _, _) => write!(out, "{h}h{m:02}m"),
        _ => write!(out, "{d}d{h:02}h"),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Snapshot, StatRow};

    fn line(kind: RowKind, name: &str, status: &str) -> Line {
        Line {
            row: StatRow {
                proxy: "app".into(),
                name: name.into(),
                kind,
                counters: Snapshot {
                    scur: 1,
                    stot: 7,
                    bin: 100,
                    bout: 2000,
                    hrsp: [0, 5, 0, 1, 1, 0],
                    ..Snapshot::default()
                },
                qcur: 0,
                slim: None,
                status: status.into(),
                weight: 1,
                act: 1,
                bck: 0,
                chkfail: 2,
                chkdown: 1,
                lastchg: 5,
            },
            http: true,
            algo: Some("roundrobin"),
            sid: 1,
            addr: Some("127.0.0.1:80".into()),
            cookie: None,
            check: Some((2, 3)),
            qlimit: None,
            backup: false,
        }
    }

    /// description: the header has haproxy 2.6.12's 128 fields in its order; every row has
    /// exactly as many, ending with the same trailing comma.
    #[test]
    fn every_row_has_the_header_s_columns() {
        let names: Vec<&str> = fields().collect();
        assert_eq!(names.len(), 128);
        assert_eq!(
            &names[..6],
            ["pxname", "svname", "qcur", "qmax", "scur", "smax"]
        );
        assert_eq!(names[17], "status");
        assert_eq!(names[36], "check_status");
        let lines = [
            line(RowKind::Frontend, "FRONTEND", "OPEN"),
            line(RowKind::Server, "web, \"one\"", "DOWN 1/2"),
            line(RowKind::Backend, "BACKEND", "UP"),
        ];
        let out = render(&lines, true);
        let mut rows = out.lines();
        assert_eq!(rows.next(), Some(&*format!("# {HEADER}")));
        for row in rows {
            // Split as a CSV reader would: commas inside quotes do not separate.
            let (mut count, mut quoted) = (0, false);
            for ch in row.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => count += 1,
                    _ => {}
                }
            }
            assert_eq!(count, names.len(), "{row}");
        }
    }

    /// description: values where rsproxy has them, empty where HAProxy leaves a row kind's
    /// field empty (a frontend has no queue, no econ); legends add the server's address.
    #[test]
    fn fields_by_row_kind() {
        let at = |row: &str, name: &str| -> String {
            let i = fields().position(|f| f == name).unwrap_or(usize::MAX);
            row.split(',').nth(i).unwrap_or("?").to_string()
        };
        let fe = render(&[line(RowKind::Frontend, "FRONTEND", "OPEN")], false);
        let fe = fe.lines().nth(1).unwrap_or_default();
        assert!(fe.starts_with("app,FRONTEND,,,1,0,,7,100,2000,"), "{fe}");
        assert_eq!(at(fe, "econ"), "");
        assert_eq!(at(fe, "type"), "0");
        assert_eq!(at(fe, "hrsp_2xx"), "5");
        let sv = render(&[line(RowKind::Server, "s1", "UP")], false);
        let sv = sv.lines().nth(1).unwrap_or_default();
        assert_eq!(at(sv, "status"), "UP");
        assert_eq!(
            (at(sv, "chkfail"), at(sv, "chkdown")),
            ("2".into(), "1".into())
        );
        assert_eq!(at(sv, "addr"), "");
        assert_eq!(at(sv, "mode"), "http");
        let sv = render(&[line(RowKind::Server, "s1", "UP")], true);
        assert_eq!(
            at(sv.lines().nth(1).unwrap_or_default(), "addr"),
            "127.0.0.1:80"
        );
    }

    /// description: strings are written as HAProxy's csv_enc writes them.
    #[test]
    fn escaping() {
        assert_eq!(escape("Layer7 check passed"), "Layer7 check passed");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape("two\r\nlines"), "two  lines");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_secs(42), "42s");
        assert_eq!(human_secs(192), "3m12s");
        assert_eq!(human_secs(7500), "2h05m");
        assert_eq!(human_secs(97200), "1d03h");
    }
}
