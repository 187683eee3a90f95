//! ACL expressions, samples (fetch + converters) and `if`/`unless` conditions.
//!
//! Role: turn the words of an `acl NAME ...` line (after the name), of an anonymous ACL
//! (`{ ... }` inside a condition) and of an `if`/`unless` condition into the IR's
//! [`AclExpr`] and [`Condition`], checking them the way HAProxy 2.6 does (configuration
//! manual, sections 7.1 to 7.4).
//!
//! Inputs: [`Args`] (words with positions). Outputs: IR values or one [`Diagnostic`] at the
//! offending word. Pattern files (`-f FILE`, `map*(FILE)`) are read here, as HAProxy reads
//! them while parsing; IP patterns that are host names are resolved, as HAProxy does.
//!
//! Tables (one per thing, the parsers only look up): [`FETCHES`] (sample fetches: name,
//! argument kinds, output type, default match method, support), [`ACL_DERIVATIVES`]
//! (ACL-only keywords such as `path_beg` = `path` matched with `-m beg`), [`CONVERTERS`]
//! and [`PREDEFINED_ACLS`].
//!
//! Messages: the error texts are HAProxy's own, without the context prefix HAProxy adds
//! ("error detected while parsing ACL 'NAME' : ", "error detected while parsing switching
//! rule : ", ...): the caller knows the context and adds it.
//!
//! Invariants: an [`AclExpr`] returned by [`parse_acl_expr`] names a fetch and converters of
//! the tables with argument counts in range, a match method that applies, and patterns that
//! this method accepts (file patterns included, already read into `patterns`). Names of
//! backends, servers and userlists in fetch arguments are checked later, by validation.

use super::kw::{unsupported, Args, Support};
use crate::diag::best_match;
use crate::ir::haproxy::{AclExpr, AclRef, CondTerm, Condition, Converter, MatchMethod, Sample};
use crate::{Diagnostic, Spanned};

// ---------------------------------------------------------------------------------------
// types and tables

/// The type of a sample, as HAProxy's sample casts know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmpType {
    /// Decided at runtime (`var()`, `json_query`): needs an explicit `-m` in an ACL.
    Any,
    Bool,
    Int,
    /// An IPv4 or IPv6 address.
    Addr,
    Str,
    Bin,
    /// An HTTP method (matches like a string).
    Meth,
}

impl SmpType {
    /// Whether HAProxy can cast a sample of this type to `to` (its `sample_casts` table).
    pub fn casts_to(self, to: SmpType) -> bool {
        use SmpType::*;
        match (self, to) {
            (Any, _) | (_, Any) => true,
            (a, b) if a == b => true,
            (Bool, Int | Str | Bin) => true,
            (Int, Bool | Addr | Str | Bin) => true,
            (Addr, Int | Str | Bin) => true,
            (Str, _) => true,
            (Bin, Str) => true,
            (Meth, Str | Bin) => true,
            _ => false,
        }
    }

    /// The match method an ACL uses on a sample of this type when `-m` is not given.
    pub const fn default_method(self) -> Option<MatchMethod> {
        match self {
            SmpType::Bool => Some(MatchMethod::Bool),
            SmpType::Int => Some(MatchMethod::Int),
            SmpType::Addr => Some(MatchMethod::Ip),
            SmpType::Str | SmpType::Meth => Some(MatchMethod::Str),
            SmpType::Bin | SmpType::Any => None,
        }
    }
}

/// What one argument of a fetch or converter must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    Str,
    /// A signed decimal integer.
    Int,
    /// A backend name (checked by validation).
    Backend,
    /// A frontend name (checked by validation).
    Frontend,
    /// `[backend/]server` (checked by validation).
    Server,
    /// A userlist name (checked by validation).
    Userlist,
    /// `scope.name`.
    Var,
    /// A regular expression.
    Regex,
    /// A map file, read while parsing.
    MapFile,
    /// An IPv4 mask: bits or dotted quad.
    Mask4,
    /// An IPv6 mask: bits.
    Mask6,
}

impl ArgKind {
    fn type_name(self) -> &'static str {
        match self {
            ArgKind::Int => "integer",
            ArgKind::Backend | ArgKind::Frontend => "proxy",
            ArgKind::Server => "server",
            ArgKind::Userlist => "user list",
            ArgKind::Var => "variable",
            ArgKind::Regex => "regex",
            ArgKind::Mask4 => "IPv4 mask",
            ArgKind::Mask6 => "IPv6 mask",
            ArgKind::Str | ArgKind::MapFile => "string",
        }
    }
}

/// One sample fetch.
#[derive(Debug)]
pub struct FetchDef {
    pub name: &'static str,
    pub args: &'static [ArgKind],
    /// How many of `args` are mandatory.
    pub min_args: u8,
    pub out: SmpType,
    /// The match method of an ACL on this fetch without `-m` (`None`: `-m` is required).
    pub method: Option<MatchMethod>,
    pub support: Support,
}

/// An ACL-only keyword: a fetch matched with a fixed method (`path_beg` = `path -m beg`).
#[derive(Debug)]
pub struct AclDerivative {
    pub name: &'static str,
    pub fetch: &'static str,
    pub method: MatchMethod,
}

/// Extra checks a converter makes on its parsed arguments (given its name).
type ArgCheck = fn(&str, &[String]) -> Result<(), String>;

/// One converter.
#[derive(Debug)]
pub struct ConverterDef {
    pub name: &'static str,
    pub args: &'static [ArgKind],
    pub min_args: u8,
    pub input: SmpType,
    pub out: SmpType,
    pub check: Option<ArgCheck>,
    pub support: Support,
}

use ArgKind as A;
use MatchMethod as M;
use SmpType as T;

const fn yes(name: &'static str, args: &'static [ArgKind], min_args: u8, out: SmpType) -> FetchDef {
    FetchDef {
        name,
        args,
        min_args,
        out,
        method: out.default_method(),
        support: Support::Yes,
    }
}

/// A fetch rsproxy does not carry out: its arguments are all taken as strings.
const fn no(name: &'static str, min_args: u8, max_args: u8, out: SmpType) -> FetchDef {
    const STRS: [ArgKind; 5] = [A::Str; 5];
    let (args, _) = STRS.split_at(max_args as usize);
    FetchDef {
        name,
        args,
        min_args,
        out,
        method: out.default_method(),
        support: Support::No,
    }
}

const HDR: &[ArgKind] = &[A::Str, A::Int];
const NAME: &[ArgKind] = &[A::Str];

/// Every sample fetch HAProxy 2.6 documents (section 7.3), supported ones first.
pub static FETCHES: &[FetchDef] = &[
    // internal states
    yes("always_true", &[], 0, T::Bool),
    yes("always_false", &[], 0, T::Bool),
    yes("be_conn", &[A::Backend], 0, T::Int),
    yes("fe_conn", &[A::Frontend], 0, T::Int),
    yes("nbsrv", &[A::Backend], 0, T::Int),
    yes("srv_is_up", &[A::Server], 1, T::Bool),
    yes("env", NAME, 1, T::Str),
    yes("str", NAME, 1, T::Str),
    yes("int", &[A::Int], 1, T::Int),
    yes("var", &[A::Var, A::Str], 1, T::Any),
    yes("hostname", &[], 0, T::Str),
    // layer 4
    yes("src", &[], 0, T::Addr),
    yes("src_port", &[], 0, T::Int),
    yes("dst", &[], 0, T::Addr),
    yes("dst_port", &[], 0, T::Int),
    // layer 5
    yes("ssl_fc", &[], 0, T::Bool),
    yes("ssl_fc_sni", &[], 0, T::Str),
    yes("ssl_fc_protocol", &[], 0, T::Str),
    yes("ssl_fc_alpn", &[], 0, T::Str),
    yes("ssl_fc_cipher", &[], 0, T::Str),
    yes("ssl_fc_has_sni", &[], 0, T::Bool),
    yes("ssl_fc_has_crt", &[], 0, T::Bool),
    yes("ssl_c_used", &[], 0, T::Bool),
    yes("ssl_c_verify", &[], 0, T::Int),
    yes("ssl_c_ca_err", &[], 0, T::Int),
    yes("ssl_c_err", &[], 0, T::Int),
    yes("ssl_c_s_dn", &[A::Str, A::Int, A::Str], 0, T::Str),
    yes("ssl_c_i_dn", &[A::Str, A::Int, A::Str], 0, T::Str),
    yes("ssl_c_serial", &[], 0, T::Bin),
    yes("ssl_c_sha1", &[], 0, T::Bin),
    yes("ssl_c_der", &[], 0, T::Bin),
    yes("ssl_c_notafter", &[], 0, T::Str),
    yes("ssl_c_notbefore", &[], 0, T::Str),
    // layer 6
    yes("req.len", &[], 0, T::Int),
    yes("req_len", &[], 0, T::Int),
    yes("req.ssl_sni", &[], 0, T::Str),
    yes("req_ssl_sni", &[], 0, T::Str),
    yes("req.proto_http", &[], 0, T::Bool),
    yes("req_proto_http", &[], 0, T::Bool),
    yes("wait_end", &[], 0, T::Bool),
    // layer 7
    yes("base", &[], 0, T::Str),
    yes("base32", &[], 0, T::Int),
    yes("path", &[], 0, T::Str),
    yes("pathq", &[], 0, T::Str),
    yes("query", &[], 0, T::Str),
    yes("url", &[], 0, T::Str),
    yes("url_ip", &[], 0, T::Addr),
    yes("url_port", &[], 0, T::Int),
    yes("url_param", &[A::Str, A::Str], 0, T::Str),
    yes("urlp", &[A::Str, A::Str], 0, T::Str),
    yes("urlp_val", &[A::Str, A::Str], 0, T::Int),
    yes("method", &[], 0, T::Meth),
    yes("req.ver", &[], 0, T::Str),
    yes("req_ver", &[], 0, T::Str),
    yes("hdr", HDR, 0, T::Str),
    yes("req.hdr", HDR, 0, T::Str),
    yes("hdr_cnt", NAME, 0, T::Int),
    yes("req.hdr_cnt", NAME, 0, T::Int),
    yes("hdr_ip", HDR, 0, T::Addr),
    yes("req.hdr_ip", HDR, 0, T::Addr),
    yes("hdr_val", HDR, 0, T::Int),
    yes("req.hdr_val", HDR, 0, T::Int),
    yes("req.fhdr", HDR, 0, T::Str),
    yes("req.fhdr_cnt", NAME, 0, T::Int),
    yes("cook", NAME, 0, T::Str),
    yes("req.cook", NAME, 0, T::Str),
    yes("cook_cnt", NAME, 0, T::Int),
    yes("req.cook_cnt", NAME, 0, T::Int),
    yes("cook_val", NAME, 0, T::Int),
    yes("req.cook_val", NAME, 0, T::Int),
    yes("res.hdr", HDR, 0, T::Str),
    yes("shdr", HDR, 0, T::Str),
    yes("res.hdr_cnt", NAME, 0, T::Int),
    yes("shdr_cnt", NAME, 0, T::Int),
    yes("res.hdr_ip", HDR, 0, T::Addr),
    yes("shdr_ip", HDR, 0, T::Addr),
    yes("res.hdr_val", HDR, 0, T::Int),
    yes("shdr_val", HDR, 0, T::Int),
    yes("res.fhdr", HDR, 0, T::Str),
    yes("res.fhdr_cnt", NAME, 0, T::Int),
    yes("res.cook", NAME, 0, T::Str),
    yes("scook", NAME, 0, T::Str),
    yes("res.cook_cnt", NAME, 0, T::Int),
    yes("scook_cnt", NAME, 0, T::Int),
    yes("res.cook_val", NAME, 0, T::Int),
    yes("scook_val", NAME, 0, T::Int),
    yes("status", &[], 0, T::Int),
    yes("res.ver", &[], 0, T::Str),
    yes("resp_ver", &[], 0, T::Str),
    yes("req.body", &[], 0, T::Bin),
    yes("req.body_len", &[], 0, T::Int),
    yes("req.body_size", &[], 0, T::Int),
    yes("req.body_param", NAME, 0, T::Str),
    yes("http_auth", &[A::Userlist], 1, T::Bool),
    yes("http_auth_group", &[A::Userlist], 1, T::Str),
    yes("unique-id", &[], 0, T::Str),
    // Everything else HAProxy documents; generated from section 7.3's signatures.
    no("avg_queue", 0, 1, T::Int),
    no("be_conn_free", 0, 1, T::Int),
    no("be_sess_rate", 0, 1, T::Int),
    no("bin", 1, 1, T::Bin),
    no("bool", 1, 1, T::Bool),
    no("connslots", 0, 1, T::Int),
    no("cpu_calls", 0, 0, T::Int),
    no("cpu_ns_avg", 0, 0, T::Int),
    no("cpu_ns_tot", 0, 0, T::Int),
    no("date", 0, 2, T::Int),
    no("date_us", 0, 0, T::Int),
    no("fe_req_rate", 0, 1, T::Int),
    no("fe_sess_rate", 0, 1, T::Int),
    no("ipv4", 1, 1, T::Addr),
    no("ipv6", 1, 1, T::Addr),
    no("last_rule_file", 0, 0, T::Str),
    no("last_rule_line", 0, 0, T::Int),
    no("lat_ns_avg", 0, 0, T::Int),
    no("lat_ns_tot", 0, 0, T::Int),
    no("meth", 1, 1, T::Meth),
    no("prio_class", 0, 0, T::Int),
    no("prio_offset", 0, 0, T::Int),
    no("proc", 0, 0, T::Int),
    no("queue", 0, 1, T::Int),
    no("rand", 0, 1, T::Int),
    no("srv_conn", 0, 1, T::Int),
    no("srv_conn_free", 0, 1, T::Int),
    no("srv_queue", 0, 1, T::Int),
    no("srv_sess_rate", 0, 1, T::Int),
    no("srv_iweight", 0, 1, T::Int),
    no("srv_uweight", 0, 1, T::Int),
    no("srv_weight", 0, 1, T::Int),
    no("stopping", 0, 0, T::Bool),
    no("table_avl", 0, 1, T::Int),
    no("table_cnt", 0, 1, T::Int),
    no("thread", 0, 0, T::Int),
    no("uuid", 0, 1, T::Str),
    no("bc_dst", 0, 0, T::Addr),
    no("bc_dst_port", 0, 0, T::Int),
    no("bc_err", 0, 0, T::Int),
    no("bc_err_str", 0, 0, T::Str),
    no("bc_http_major", 0, 0, T::Int),
    no("bc_src", 0, 0, T::Addr),
    no("bc_src_port", 0, 0, T::Int),
    no("be_id", 0, 0, T::Int),
    no("be_name", 0, 0, T::Str),
    no("be_server_timeout", 0, 0, T::Int),
    no("be_tunnel_timeout", 0, 0, T::Int),
    no("cur_server_timeout", 0, 0, T::Int),
    no("cur_tunnel_timeout", 0, 0, T::Int),
    no("dst_conn", 0, 0, T::Int),
    no("dst_is_local", 0, 0, T::Bool),
    no("fc_dst", 0, 0, T::Addr),
    no("fc_dst_is_local", 0, 0, T::Bool),
    no("fc_dst_port", 0, 0, T::Int),
    no("fc_err", 0, 0, T::Int),
    no("fc_err_str", 0, 0, T::Str),
    no("fc_fackets", 0, 0, T::Int),
    no("fc_http_major", 0, 0, T::Int),
    no("fc_lost", 0, 0, T::Int),
    no("fc_pp_authority", 0, 0, T::Str),
    no("fc_pp_unique_id", 0, 0, T::Str),
    no("fc_rcvd_proxy", 0, 0, T::Bool),
    no("fc_reordering", 0, 0, T::Int),
    no("fc_retrans", 0, 0, T::Int),
    no("fc_rtt", 1, 1, T::Int),
    no("fc_rttvar", 1, 1, T::Int),
    no("fc_sacked", 0, 0, T::Int),
    no("fc_src", 0, 0, T::Addr),
    no("fc_src_is_local", 0, 0, T::Bool),
    no("fc_src_port", 0, 0, T::Int),
    no("fc_unacked", 0, 0, T::Int),
    no("fe_defbe", 0, 0, T::Str),
    no("fe_id", 0, 0, T::Int),
    no("fe_name", 0, 0, T::Str),
    no("fe_client_timeout", 0, 0, T::Int),
    no("sc_bytes_in_rate", 1, 2, T::Int),
    no("sc0_bytes_in_rate", 0, 1, T::Int),
    no("sc1_bytes_in_rate", 0, 1, T::Int),
    no("sc2_bytes_in_rate", 0, 1, T::Int),
    no("sc_bytes_out_rate", 1, 2, T::Int),
    no("sc0_bytes_out_rate", 0, 1, T::Int),
    no("sc1_bytes_out_rate", 0, 1, T::Int),
    no("sc2_bytes_out_rate", 0, 1, T::Int),
    no("sc_clr_gpc", 2, 3, T::Int),
    no("sc_clr_gpc0", 1, 2, T::Int),
    no("sc0_clr_gpc0", 0, 1, T::Int),
    no("sc1_clr_gpc0", 0, 1, T::Int),
    no("sc2_clr_gpc0", 0, 1, T::Int),
    no("sc_clr_gpc1", 1, 2, T::Int),
    no("sc0_clr_gpc1", 0, 1, T::Int),
    no("sc1_clr_gpc1", 0, 1, T::Int),
    no("sc2_clr_gpc1", 0, 1, T::Int),
    no("sc_conn_cnt", 1, 2, T::Int),
    no("sc0_conn_cnt", 0, 1, T::Int),
    no("sc1_conn_cnt", 0, 1, T::Int),
    no("sc2_conn_cnt", 0, 1, T::Int),
    no("sc_conn_cur", 1, 2, T::Int),
    no("sc0_conn_cur", 0, 1, T::Int),
    no("sc1_conn_cur", 0, 1, T::Int),
    no("sc2_conn_cur", 0, 1, T::Int),
    no("sc_conn_rate", 1, 2, T::Int),
    no("sc0_conn_rate", 0, 1, T::Int),
    no("sc1_conn_rate", 0, 1, T::Int),
    no("sc2_conn_rate", 0, 1, T::Int),
    no("sc_get_gpc", 2, 3, T::Int),
    no("sc_get_gpc0", 1, 2, T::Int),
    no("sc0_get_gpc0", 0, 1, T::Int),
    no("sc1_get_gpc0", 0, 1, T::Int),
    no("sc2_get_gpc0", 0, 1, T::Int),
    no("sc_get_gpc1", 1, 2, T::Int),
    no("sc0_get_gpc1", 0, 1, T::Int),
    no("sc1_get_gpc1", 0, 1, T::Int),
    no("sc2_get_gpc1", 0, 1, T::Int),
    no("sc_get_gpt", 2, 3, T::Int),
    no("sc_get_gpt0", 1, 2, T::Int),
    no("sc0_get_gpt0", 0, 1, T::Int),
    no("sc1_get_gpt0", 0, 1, T::Int),
    no("sc2_get_gpt0", 0, 1, T::Int),
    no("sc_gpc_rate", 2, 3, T::Int),
    no("sc_gpc0_rate", 1, 2, T::Int),
    no("sc0_gpc0_rate", 0, 1, T::Int),
    no("sc1_gpc0_rate", 0, 1, T::Int),
    no("sc2_gpc0_rate", 0, 1, T::Int),
    no("sc_gpc1_rate", 1, 2, T::Int),
    no("sc0_gpc1_rate", 0, 1, T::Int),
    no("sc1_gpc1_rate", 0, 1, T::Int),
    no("sc2_gpc1_rate", 0, 1, T::Int),
    no("sc_http_err_cnt", 1, 2, T::Int),
    no("sc0_http_err_cnt", 0, 1, T::Int),
    no("sc1_http_err_cnt", 0, 1, T::Int),
    no("sc2_http_err_cnt", 0, 1, T::Int),
    no("sc_http_err_rate", 1, 2, T::Int),
    no("sc0_http_err_rate", 0, 1, T::Int),
    no("sc1_http_err_rate", 0, 1, T::Int),
    no("sc2_http_err_rate", 0, 1, T::Int),
    no("sc_http_fail_cnt", 1, 2, T::Int),
    no("sc0_http_fail_cnt", 0, 1, T::Int),
    no("sc1_http_fail_cnt", 0, 1, T::Int),
    no("sc2_http_fail_cnt", 0, 1, T::Int),
    no("sc_http_fail_rate", 1, 2, T::Int),
    no("sc0_http_fail_rate", 0, 1, T::Int),
    no("sc1_http_fail_rate", 0, 1, T::Int),
    no("sc2_http_fail_rate", 0, 1, T::Int),
    no("sc_http_req_cnt", 1, 2, T::Int),
    no("sc0_http_req_cnt", 0, 1, T::Int),
    no("sc1_http_req_cnt", 0, 1, T::Int),
    no("sc2_http_req_cnt", 0, 1, T::Int),
    no("sc_http_req_rate", 1, 2, T::Int),
    no("sc0_http_req_rate", 0, 1, T::Int),
    no("sc1_http_req_rate", 0, 1, T::Int),
    no("sc2_http_req_rate", 0, 1, T::Int),
    no("sc_inc_gpc", 2, 3, T::Int),
    no("sc_inc_gpc0", 1, 2, T::Int),
    no("sc0_inc_gpc0", 0, 1, T::Int),
    no("sc1_inc_gpc0", 0, 1, T::Int),
    no("sc2_inc_gpc0", 0, 1, T::Int),
    no("sc_inc_gpc1", 1, 2, T::Int),
    no("sc0_inc_gpc1", 0, 1, T::Int),
    no("sc1_inc_gpc1", 0, 1, T::Int),
    no("sc2_inc_gpc1", 0, 1, T::Int),
    no("sc_kbytes_in", 1, 2, T::Int),
    no("sc0_kbytes_in", 0, 1, T::Int),
    no("sc1_kbytes_in", 0, 1, T::Int),
    no("sc2_kbytes_in", 0, 1, T::Int),
    no("sc_kbytes_out", 1, 2, T::Int),
    no("sc0_kbytes_out", 0, 1, T::Int),
    no("sc1_kbytes_out", 0, 1, T::Int),
    no("sc2_kbytes_out", 0, 1, T::Int),
    no("sc_sess_cnt", 1, 2, T::Int),
    no("sc0_sess_cnt", 0, 1, T::Int),
    no("sc1_sess_cnt", 0, 1, T::Int),
    no("sc2_sess_cnt", 0, 1, T::Int),
    no("sc_sess_rate", 1, 2, T::Int),
    no("sc0_sess_rate", 0, 1, T::Int),
    no("sc1_sess_rate", 0, 1, T::Int),
    no("sc2_sess_rate", 0, 1, T::Int),
    no("sc_tracked", 1, 2, T::Bool),
    no("sc0_tracked", 0, 1, T::Bool),
    no("sc1_tracked", 0, 1, T::Bool),
    no("sc2_tracked", 0, 1, T::Bool),
    no("sc_trackers", 1, 2, T::Int),
    no("sc0_trackers", 0, 1, T::Int),
    no("sc1_trackers", 0, 1, T::Int),
    no("sc2_trackers", 0, 1, T::Int),
    no("so_id", 0, 0, T::Int),
    no("so_name", 0, 0, T::Str),
    no("src_bytes_in_rate", 0, 1, T::Int),
    no("src_bytes_out_rate", 0, 1, T::Int),
    no("src_clr_gpc", 1, 2, T::Int),
    no("src_clr_gpc0", 0, 1, T::Int),
    no("src_clr_gpc1", 0, 1, T::Int),
    no("src_conn_cnt", 0, 1, T::Int),
    no("src_conn_cur", 0, 1, T::Int),
    no("src_conn_rate", 0, 1, T::Int),
    no("src_get_gpc", 1, 2, T::Int),
    no("src_get_gpc0", 0, 1, T::Int),
    no("src_get_gpc1", 0, 1, T::Int),
    no("src_get_gpt", 1, 2, T::Int),
    no("src_get_gpt0", 0, 1, T::Int),
    no("src_gpc_rate", 1, 2, T::Int),
    no("src_gpc0_rate", 0, 1, T::Int),
    no("src_gpc1_rate", 0, 1, T::Int),
    no("src_http_err_cnt", 0, 1, T::Int),
    no("src_http_err_rate", 0, 1, T::Int),
    no("src_http_fail_cnt", 0, 1, T::Int),
    no("src_http_fail_rate", 0, 1, T::Int),
    no("src_http_req_cnt", 0, 1, T::Int),
    no("src_http_req_rate", 0, 1, T::Int),
    no("src_inc_gpc", 1, 2, T::Int),
    no("src_inc_gpc0", 0, 1, T::Int),
    no("src_inc_gpc1", 0, 1, T::Int),
    no("src_is_local", 0, 0, T::Bool),
    no("src_kbytes_in", 0, 1, T::Int),
    no("src_kbytes_out", 0, 1, T::Int),
    no("src_sess_cnt", 0, 1, T::Int),
    no("src_sess_rate", 0, 1, T::Int),
    no("src_updt_conn_cnt", 0, 1, T::Int),
    no("srv_id", 0, 0, T::Int),
    no("srv_name", 0, 0, T::Str),
    no("51d.all", 1, 2, T::Str),
    no("ssl_bc", 0, 0, T::Bool),
    no("ssl_bc_alg_keysize", 0, 0, T::Int),
    no("ssl_bc_alpn", 0, 0, T::Str),
    no("ssl_bc_cipher", 0, 0, T::Str),
    no("ssl_bc_client_random", 0, 0, T::Bin),
    no("ssl_bc_err", 0, 0, T::Int),
    no("ssl_bc_err_str", 0, 0, T::Str),
    no("ssl_bc_is_resumed", 0, 0, T::Bool),
    no("ssl_bc_npn", 0, 0, T::Str),
    no("ssl_bc_protocol", 0, 0, T::Str),
    no("ssl_bc_unique_id", 0, 0, T::Bin),
    no("ssl_bc_server_random", 0, 0, T::Bin),
    no("ssl_bc_session_id", 0, 0, T::Bin),
    no("ssl_bc_session_key", 0, 0, T::Bin),
    no("ssl_bc_use_keysize", 0, 0, T::Int),
    no("ssl_c_ca_err_depth", 0, 0, T::Int),
    no("ssl_c_chain_der", 0, 0, T::Bin),
    no("ssl_c_key_alg", 0, 0, T::Str),
    no("ssl_c_sig_alg", 0, 0, T::Str),
    no("ssl_c_version", 0, 0, T::Int),
    no("ssl_f_der", 0, 0, T::Bin),
    no("ssl_f_i_dn", 0, 3, T::Str),
    no("ssl_f_key_alg", 0, 0, T::Str),
    no("ssl_f_notafter", 0, 0, T::Str),
    no("ssl_f_notbefore", 0, 0, T::Str),
    no("ssl_f_s_dn", 0, 3, T::Str),
    no("ssl_f_serial", 0, 0, T::Bin),
    no("ssl_f_sha1", 0, 0, T::Bin),
    no("ssl_f_sig_alg", 0, 0, T::Str),
    no("ssl_f_version", 0, 0, T::Int),
    no("ssl_fc_alg_keysize", 0, 0, T::Int),
    no("ssl_fc_cipherlist_bin", 0, 1, T::Bin),
    no("ssl_fc_cipherlist_hex", 0, 1, T::Str),
    no("ssl_fc_cipherlist_str", 0, 1, T::Str),
    no("ssl_fc_cipherlist_xxh", 0, 0, T::Int),
    no("ssl_fc_ecformats_bin", 0, 0, T::Bin),
    no("ssl_fc_eclist_bin", 0, 1, T::Bin),
    no("ssl_fc_extlist_bin", 0, 1, T::Bin),
    no("ssl_fc_client_random", 0, 0, T::Bin),
    no("ssl_fc_client_early_traffic_secret", 0, 0, T::Str),
    no("ssl_fc_client_handshake_traffic_secret", 0, 0, T::Str),
    no("ssl_fc_client_traffic_secret_0", 0, 0, T::Str),
    no("ssl_fc_exporter_secret", 0, 0, T::Str),
    no("ssl_fc_early_exporter_secret", 0, 0, T::Str),
    no("ssl_fc_err", 0, 0, T::Int),
    no("ssl_fc_err_str", 0, 0, T::Str),
    no("ssl_fc_has_early", 0, 0, T::Bool),
    no("ssl_fc_is_resumed", 0, 0, T::Bool),
    no("ssl_fc_npn", 0, 0, T::Str),
    no("ssl_fc_protocol_hello_id", 0, 0, T::Int),
    no("ssl_fc_unique_id", 0, 0, T::Bin),
    no("ssl_fc_server_handshake_traffic_secret", 0, 0, T::Str),
    no("ssl_fc_server_traffic_secret_0", 0, 0, T::Str),
    no("ssl_fc_server_random", 0, 0, T::Bin),
    no("ssl_fc_session_id", 0, 0, T::Bin),
    no("ssl_fc_session_key", 0, 0, T::Bin),
    no("ssl_fc_use_keysize", 0, 0, T::Int),
    no("ssl_s_der", 0, 0, T::Bin),
    no("ssl_s_chain_der", 0, 0, T::Bin),
    no("ssl_s_key_alg", 0, 0, T::Str),
    no("ssl_s_notafter", 0, 0, T::Str),
    no("ssl_s_notbefore", 0, 0, T::Str),
    no("ssl_s_i_dn", 0, 3, T::Str),
    no("ssl_s_s_dn", 0, 3, T::Str),
    no("ssl_s_serial", 0, 0, T::Bin),
    no("ssl_s_sha1", 0, 0, T::Bin),
    no("ssl_s_sig_alg", 0, 0, T::Str),
    no("ssl_s_version", 0, 0, T::Int),
    no("distcc_body", 1, 2, T::Bin),
    no("distcc_param", 1, 2, T::Int),
    no("payload", 2, 2, T::Bin),
    no("payload_lv", 2, 3, T::Bin),
    no("req.payload", 2, 2, T::Bin),
    no("req.payload_lv", 2, 3, T::Bin),
    no("req.rdp_cookie", 0, 1, T::Str),
    no("rdp_cookie", 0, 1, T::Str),
    no("req.rdp_cookie_cnt", 0, 1, T::Int),
    no("rdp_cookie_cnt", 0, 1, T::Int),
    no("req.ssl_alpn", 0, 0, T::Str),
    no("req.ssl_ec_ext", 0, 0, T::Bool),
    no("req.ssl_hello_type", 0, 0, T::Int),
    no("req_ssl_hello_type", 0, 0, T::Int),
    no("req.ssl_st_ext", 0, 0, T::Int),
    no("req.ssl_ver", 0, 0, T::Int),
    no("req_ssl_ver", 0, 0, T::Int),
    no("res.len", 0, 0, T::Int),
    no("res.payload", 2, 2, T::Bin),
    no("res.payload_lv", 2, 3, T::Bin),
    no("res.ssl_hello_type", 0, 0, T::Int),
    no("rep_ssl_hello_type", 0, 0, T::Int),
    no("baseq", 0, 0, T::Str),
    no("capture.req.hdr", 1, 1, T::Str),
    no("capture.req.method", 0, 0, T::Str),
    no("capture.req.uri", 0, 0, T::Str),
    no("capture.req.ver", 0, 0, T::Str),
    no("capture.res.hdr", 1, 1, T::Str),
    no("capture.res.ver", 0, 0, T::Str),
    no("cookie", 0, 1, T::Str),
    no("req.hdrs", 0, 0, T::Str),
    no("req.hdrs_bin", 0, 0, T::Bin),
    no("http_auth_bearer", 0, 1, T::Str),
    no("http_auth_pass", 0, 0, T::Str),
    no("http_auth_type", 0, 0, T::Str),
    no("http_auth_user", 0, 0, T::Str),
    no("http_first_req", 0, 0, T::Bool),
    no("req.hdr_names", 0, 1, T::Str),
    no("res.body", 0, 0, T::Bin),
    no("res.body_len", 0, 0, T::Int),
    no("res.body_size", 0, 0, T::Int),
    no("res.cache_hit", 0, 0, T::Bool),
    no("res.cache_name", 0, 0, T::Str),
    no("res.comp", 0, 0, T::Bool),
    no("res.comp_algo", 0, 0, T::Str),
    no("res.hdr_names", 0, 1, T::Str),
    no("res.hdrs", 0, 0, T::Str),
    no("res.hdrs_bin", 0, 0, T::Bin),
    no("url32", 0, 0, T::Int),
    no("internal.htx.data", 0, 0, T::Int),
    no("internal.htx.free", 0, 0, T::Int),
    no("internal.htx.free_data", 0, 0, T::Int),
    no("internal.htx.has_eom", 0, 0, T::Bool),
    no("internal.htx.nbblks", 0, 0, T::Int),
    no("internal.htx.size", 0, 0, T::Int),
    no("internal.htx.used", 0, 0, T::Int),
    no("internal.htx_blk.size", 1, 1, T::Int),
    no("internal.htx_blk.type", 1, 1, T::Str),
    no("internal.htx_blk.data", 1, 1, T::Bin),
    no("internal.htx_blk.hdrname", 1, 1, T::Str),
    no("internal.htx_blk.hdrval", 1, 1, T::Str),
    no("internal.htx_blk.start_line", 1, 1, T::Str),
    no("internal.strm.is_htx", 0, 0, T::Bool),
];

/// Fetches whose own name is also an ACL keyword in HAProxy; their errors say
/// "ACL keyword 'NAME'" instead of quoting the whole expression.
const ACL_KEYWORD_FETCHES: &[&str] = &[
    "base",
    "path",
    "url",
    "urlp",
    "url_param",
    "hdr",
    "cook",
    "scook",
    "shdr",
    "method",
    "req.ver",
    "req_ver",
    "res.ver",
    "resp_ver",
    "status",
    "http_auth",
    "http_auth_group",
    "hdr_cnt",
    "hdr_ip",
    "hdr_val",
    "cook_cnt",
    "cook_val",
    "scook_cnt",
    "scook_val",
    "shdr_cnt",
    "shdr_ip",
    "shdr_val",
    "urlp_val",
    "url_ip",
    "url_port",
    "req.ssl_sni",
    "ssl_fc_sni",
    "req.rdp_cookie",
    "req.rdp_cookie_cnt",
];

macro_rules! derivatives {
    ($($base:literal => [$($name:literal : $m:ident),*];)*) => {
        &[$($(AclDerivative { name: $name, fetch: $base, method: MatchMethod::$m },)*)*]
    };
}

/// The ACL-only keywords (section 7.3, "ACL derivatives"), as checked against HAProxy 2.6.12.
pub static ACL_DERIVATIVES: &[AclDerivative] = derivatives! {
    "base" => ["base_beg": Beg, "base_dir": Dir, "base_dom": Dom, "base_end": End, "base_len": Len, "base_reg": Reg, "base_sub": Sub];
    "hdr" => ["hdr_beg": Beg, "hdr_dir": Dir, "hdr_dom": Dom, "hdr_end": End, "hdr_len": Len, "hdr_reg": Reg, "hdr_sub": Sub];
    "path" => ["path_beg": Beg, "path_dir": Dir, "path_dom": Dom, "path_end": End, "path_len": Len, "path_reg": Reg, "path_sub": Sub];
    "cook" => ["cook_beg": Beg, "cook_dir": Dir, "cook_dom": Dom, "cook_end": End, "cook_len": Len, "cook_reg": Reg, "cook_sub": Sub];
    "scook" => ["scook_beg": Beg, "scook_dir": Dir, "scook_dom": Dom, "scook_end": End, "scook_len": Len, "scook_reg": Reg, "scook_sub": Sub];
    "shdr" => ["shdr_beg": Beg, "shdr_dir": Dir, "shdr_dom": Dom, "shdr_end": End, "shdr_len": Len, "shdr_reg": Reg, "shdr_sub": Sub];
    "url" => ["url_beg": Beg, "url_dir": Dir, "url_dom": Dom, "url_end": End, "url_len": Len, "url_reg": Reg, "url_sub": Sub];
    "urlp" => ["urlp_beg": Beg, "urlp_dir": Dir, "urlp_dom": Dom, "urlp_end": End, "urlp_len": Len, "urlp_reg": Reg, "urlp_sub": Sub];
    "ssl_fc_sni" => ["ssl_fc_sni_end": End, "ssl_fc_sni_reg": Reg];
};

const fn conv(
    name: &'static str,
    args: &'static [ArgKind],
    min_args: u8,
    input: SmpType,
    out: SmpType,
    support: Support,
) -> ConverterDef {
    ConverterDef {
        name,
        args,
        min_args,
        input,
        out,
        check: None,
        support,
    }
}

const fn conv_checked(
    name: &'static str,
    args: &'static [ArgKind],
    min_args: u8,
    input: SmpType,
    out: SmpType,
    check: ArgCheck,
) -> ConverterDef {
    ConverterDef {
        name,
        args,
        min_args,
        input,
        out,
        check: Some(check),
        support: Support::Yes,
    }
}

const MAP: &[ArgKind] = &[A::MapFile, A::Str];
const FIELD: &[ArgKind] = &[A::Int, A::Str, A::Int];
const Y: Support = Support::Yes;
const N: Support = Support::No;

macro_rules! maps {
    ($($name:literal : $input:ident => $out:ident),* $(,)?) => {
        [$(conv_checked($name, MAP, 1, T::$input, T::$out, check_map),)*]
    };
}

/// The `map` converters: `map_<match>[_<output>]`, as HAProxy 2.6.12 registers them.
static MAP_CONVERTERS: [ConverterDef; 29] = maps![
    "map": Str => Str, "map_str": Str => Str, "map_str_int": Str => Int, "map_str_ip": Str => Addr,
    "map_beg": Str => Str, "map_beg_int": Str => Int, "map_beg_ip": Str => Addr,
    "map_sub": Str => Str, "map_sub_int": Str => Int, "map_sub_ip": Str => Addr,
    "map_dir": Str => Str, "map_dir_int": Str => Int, "map_dir_ip": Str => Addr,
    "map_dom": Str => Str, "map_dom_int": Str => Int, "map_dom_ip": Str => Addr,
    "map_end": Str => Str, "map_end_int": Str => Int, "map_end_ip": Str => Addr,
    "map_reg": Str => Str, "map_reg_int": Str => Int, "map_reg_ip": Str => Addr,
    "map_regm": Str => Str, "map_int": Int => Str, "map_int_int": Int => Int,
    "map_int_ip": Int => Addr, "map_ip": Addr => Str, "map_ip_int": Addr => Int,
    "map_ip_ip": Addr => Addr,
];

/// Every converter HAProxy 2.6 documents (section 7.3.1) except the `map` family
/// ([`MAP_CONVERTERS`]).
pub static CONVERTERS: &[ConverterDef] = &[
    conv("lower", &[], 0, T::Str, T::Str, Y),
    conv("upper", &[], 0, T::Str, T::Str, Y),
    conv_checked(
        "regsub",
        &[A::Regex, A::Str, A::Str],
        2,
        T::Str,
        T::Str,
        check_regsub,
    ),
    conv_checked("field", FIELD, 2, T::Str, T::Str, check_field),
    conv_checked("word", FIELD, 2, T::Str, T::Str, check_field),
    conv("ipmask", &[A::Mask4, A::Mask6], 1, T::Addr, T::Addr, Y),
    conv("add", NAME, 1, T::Int, T::Int, N),
    conv("add_item", &[A::Str, A::Str, A::Str], 1, T::Str, T::Str, N),
    conv(
        "aes_gcm_dec",
        &[A::Int, A::Str, A::Str, A::Str],
        4,
        T::Bin,
        T::Bin,
        N,
    ),
    conv("and", NAME, 1, T::Int, T::Int, N),
    conv("b64dec", &[], 0, T::Str, T::Bin, N),
    conv("base64", &[], 0, T::Bin, T::Str, N),
    conv("be2dec", &[A::Str, A::Int, A::Int], 2, T::Bin, T::Str, N),
    conv("be2hex", &[A::Str, A::Int, A::Int], 0, T::Bin, T::Str, N),
    conv("bool", &[], 0, T::Int, T::Bool, N),
    conv("bytes", &[A::Int, A::Int], 1, T::Bin, T::Bin, N),
    conv("capture-req", &[A::Int], 1, T::Str, T::Str, N),
    conv("capture-res", &[A::Int], 1, T::Str, T::Str, N),
    conv("concat", &[A::Str, A::Str, A::Str], 0, T::Str, T::Str, N),
    conv("cpl", &[], 0, T::Int, T::Int, N),
    conv("crc32", &[A::Int], 0, T::Bin, T::Int, N),
    conv("crc32c", &[A::Int], 0, T::Bin, T::Int, N),
    conv("cut_crlf", &[], 0, T::Str, T::Str, N),
    conv("debug", &[A::Str, A::Str], 0, T::Any, T::Any, N),
    conv("digest", NAME, 1, T::Bin, T::Bin, N),
    conv("div", NAME, 1, T::Int, T::Int, N),
    conv("djb2", &[A::Int], 0, T::Bin, T::Int, N),
    conv("even", &[], 0, T::Int, T::Bool, N),
    conv("fix_is_valid", &[], 0, T::Bin, T::Bool, N),
    conv("fix_tag_value", NAME, 1, T::Bin, T::Bin, N),
    conv("hex", &[], 0, T::Bin, T::Str, N),
    conv("hex2i", &[], 0, T::Str, T::Int, N),
    conv("hmac", &[A::Str, A::Str], 2, T::Bin, T::Bin, N),
    conv("host_only", &[], 0, T::Str, T::Str, N),
    conv("htonl", &[], 0, T::Int, T::Bin, N),
    conv("http_date", &[A::Int, A::Str], 0, T::Int, T::Str, N),
    conv("iif", &[A::Str, A::Str], 2, T::Bool, T::Str, N),
    conv("in_table", NAME, 1, T::Any, T::Bool, N),
    conv("json", NAME, 0, T::Str, T::Str, N),
    conv("json_query", &[A::Str, A::Str], 1, T::Str, T::Any, N),
    conv("jwt_header_query", &[A::Str, A::Str], 0, T::Bin, T::Any, N),
    conv("jwt_payload_query", &[A::Str, A::Str], 0, T::Bin, T::Any, N),
    conv("jwt_verify", &[A::Str, A::Str], 2, T::Bin, T::Int, N),
    conv("language", &[A::Str, A::Str], 1, T::Str, T::Str, N),
    conv("length", &[], 0, T::Str, T::Int, N),
    conv("ltime", &[A::Str, A::Int], 1, T::Int, T::Str, N),
    conv("ltrim", NAME, 1, T::Str, T::Str, N),
    conv("mod", NAME, 1, T::Int, T::Int, N),
    conv("mqtt_field_value", &[A::Str, A::Str], 2, T::Bin, T::Str, N),
    conv("mqtt_is_valid", &[], 0, T::Bin, T::Bool, N),
    conv("mul", NAME, 1, T::Int, T::Int, N),
    conv("nbsrv", &[], 0, T::Str, T::Int, N),
    conv("neg", &[], 0, T::Int, T::Int, N),
    conv("not", &[], 0, T::Int, T::Bool, N),
    conv("odd", &[], 0, T::Int, T::Bool, N),
    conv("or", NAME, 1, T::Int, T::Int, N),
    conv("port_only", &[], 0, T::Str, T::Int, N),
    conv("protobuf", &[A::Str, A::Str], 1, T::Bin, T::Bin, N),
    conv("rtrim", NAME, 1, T::Str, T::Str, N),
    conv("sdbm", &[A::Int], 0, T::Bin, T::Int, N),
    conv("secure_memcmp", &[A::Var], 1, T::Bin, T::Bool, N),
    conv("set-var", &[A::Var], 1, T::Any, T::Any, N),
    conv("sha1", &[], 0, T::Bin, T::Bin, N),
    conv("sha2", &[A::Int], 0, T::Bin, T::Bin, N),
    conv("srv_queue", &[], 0, T::Str, T::Int, N),
    conv("strcmp", &[A::Var], 1, T::Str, T::Int, N),
    conv("sub", NAME, 1, T::Int, T::Int, N),
    conv("table_bytes_in_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_bytes_out_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_conn_cnt", NAME, 1, T::Any, T::Int, N),
    conv("table_conn_cur", NAME, 1, T::Any, T::Int, N),
    conv("table_conn_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_expire", &[A::Str, A::Int], 1, T::Any, T::Int, N),
    conv("table_gpc0", NAME, 1, T::Any, T::Int, N),
    conv("table_gpc0_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_gpc1", NAME, 1, T::Any, T::Int, N),
    conv("table_gpc1_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_gpt0", NAME, 1, T::Any, T::Int, N),
    conv("table_http_err_cnt", NAME, 1, T::Any, T::Int, N),
    conv("table_http_err_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_http_fail_cnt", NAME, 1, T::Any, T::Int, N),
    conv("table_http_fail_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_http_req_cnt", NAME, 1, T::Any, T::Int, N),
    conv("table_http_req_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_idle", &[A::Str, A::Int], 1, T::Any, T::Int, N),
    conv("table_kbytes_in", NAME, 1, T::Any, T::Int, N),
    conv("table_kbytes_out", NAME, 1, T::Any, T::Int, N),
    conv("table_server_id", NAME, 1, T::Any, T::Int, N),
    conv("table_sess_cnt", NAME, 1, T::Any, T::Int, N),
    conv("table_sess_rate", NAME, 1, T::Any, T::Int, N),
    conv("table_trackers", NAME, 1, T::Any, T::Int, N),
    conv("ub64dec", &[], 0, T::Str, T::Bin, N),
    conv("ub64enc", &[], 0, T::Bin, T::Str, N),
    conv("ungrpc", &[A::Str, A::Str], 1, T::Bin, T::Bin, N),
    conv("url_dec", &[A::Int], 0, T::Str, T::Str, N),
    conv("url_enc", NAME, 0, T::Str, T::Str, N),
    conv("utime", &[A::Str, A::Int], 1, T::Int, T::Str, N),
    conv("wt6", &[A::Int], 0, T::Bin, T::Int, N),
    conv("xor", NAME, 1, T::Int, T::Int, N),
    conv("xxh3", &[A::Int], 0, T::Bin, T::Int, N),
    conv("xxh32", &[A::Int], 0, T::Bin, T::Int, N),
    conv("xxh64", &[A::Int], 0, T::Bin, T::Int, N),
];

/// The predefined ACLs of section 7.4: name, fetch, match method, patterns.
pub static PREDEFINED_ACLS: &[(&str, &str, MatchMethod, &[&str])] = &[
    ("FALSE", "always_false", M::Bool, &[]),
    ("HTTP", "req.proto_http", M::Bool, &[]),
    ("HTTP_1.0", "req.ver", M::Str, &["1.0"]),
    ("HTTP_1.1", "req.ver", M::Str, &["1.1"]),
    ("HTTP_2.0", "req.ver", M::Str, &["2.0"]),
    ("HTTP_CONTENT", "req.hdr_val", M::Int, &["gt", "0"]),
    ("HTTP_URL_ABS", "url", M::Reg, &["^[^/:]*://"]),
    ("HTTP_URL_SLASH", "url", M::Beg, &["/"]),
    ("HTTP_URL_STAR", "url", M::Str, &["*"]),
    ("LOCALHOST", "src", M::Ip, &["127.0.0.1/8", "::1"]),
    ("METH_CONNECT", "method", M::Str, &["CONNECT"]),
    ("METH_DELETE", "method", M::Str, &["DELETE"]),
    ("METH_GET", "method", M::Str, &["GET", "HEAD"]),
    ("METH_HEAD", "method", M::Str, &["HEAD"]),
    ("METH_OPTIONS", "method", M::Str, &["OPTIONS"]),
    ("METH_POST", "method", M::Str, &["POST"]),
    ("METH_PUT", "method", M::Str, &["PUT"]),
    ("METH_TRACE", "method", M::Str, &["TRACE"]),
    ("RDP_COOKIE", "req.rdp_cookie_cnt", M::Int, &["gt", "0"]),
    ("REQ_CONTENT", "req.len", M::Int, &["gt", "0"]),
    ("TRUE", "always_true", M::Bool, &[]),
    ("WAIT_END", "wait_end", M::Bool, &[]),
];

/// The predefined ACL names (`TRUE`, `HTTP`, `METH_GET`, ...). Case-sensitive, as in HAProxy.
pub fn is_predefined_acl(name: &str) -> bool {
    PREDEFINED_ACLS.iter().any(|(n, ..)| *n == name)
}

/// What a predefined ACL means, as the expression it stands for.
pub fn predefined_acl(name: &str) -> Option<AclExpr> {
    let (_, fetch, method, patterns) = PREDEFINED_ACLS.iter().find(|(n, ..)| *n == name)?;
    let args = if *fetch == "req.hdr_val" {
        vec!["content-length".to_string()]
    } else {
        Vec::new()
    };
    Some(AclExpr {
        sample: Sample {
            fetch,
            args,
            converters: Vec::new(),
        },
        method: *method,
        ignore_case: false,
        pattern_files: Vec::new(),
        patterns: patterns.iter().map(|p| p.to_string()).collect(),
    })
}

pub fn fetch_def(name: &str) -> Option<&'static FetchDef> {
    FETCHES.iter().find(|f| f.name == name)
}

pub fn converter_def(name: &str) -> Option<&'static ConverterDef> {
    CONVERTERS
        .iter()
        .chain(MAP_CONVERTERS.iter())
        .find(|c| c.name == name)
}

/// Every fetch, ACL keyword and converter with its support status, for the README.
pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    let mut out: Vec<_> = FETCHES
        .iter()
        .map(|f| ("fetch", f.name, f.support))
        .collect();
    out.extend(ACL_DERIVATIVES.iter().map(|d| {
        (
            "acl keyword",
            d.name,
            fetch_def(d.fetch).map_or(Support::No, |f| f.support),
        )
    }));
    out.extend(
        CONVERTERS
            .iter()
            .chain(MAP_CONVERTERS.iter())
            .map(|c| ("converter", c.name, c.support)),
    );
    out
}

// ---------------------------------------------------------------------------------------
// sample expressions

/// A sample expression parsed from one word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedSample {
    pub sample: Sample,
    /// The type of the expression's value (the last converter's output, or the fetch's).
    pub out: SmpType,
    /// Without converters, the match method of the ACL keyword or fetch; with converters,
    /// the default method of `out`.
    pub method: Option<MatchMethod>,
    /// Keywords of the expression rsproxy does not carry out (`"converter base64"`).
    pub unsupported: Vec<String>,
}

/// Where a sample expression is being parsed; decides the wording of errors and whether
/// ACL-only keywords (`path_beg`) are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleContext {
    /// The first word of an ACL expression.
    Acl,
    /// An action's expression (`set-var`, `capture`, `%[...]` in a log-format string).
    Expr,
}

/// `expr = fetch [ "(" args ")" ] { "," [ converter [ "(" args ")" ] ] }`
///
/// `args = arg { "," arg }`, where an argument runs to the next unquoted `,` or `)`, and
/// may use `'...'`, `"..."` and `\x` as in HAProxy. Empty converters (`path,`, `a,,lower`)
/// are skipped, as HAProxy does. Returns HAProxy's message on error.
pub fn parse_sample(expr: &str, ctx: SampleContext) -> Result<ParsedSample, String> {
    let name_end = expr.find(['(', ',']).unwrap_or(expr.len());
    let name = &expr[..name_end];
    if name.is_empty() {
        return Err(match ctx {
            SampleContext::Acl => format!("missing fetch method in ACL expression '{expr}'."),
            SampleContext::Expr => "missing fetch method".to_string(),
        });
    }
    let derivative = match ctx {
        SampleContext::Acl => ACL_DERIVATIVES.iter().find(|d| d.name == name),
        SampleContext::Expr => None,
    };
    let fetch = match derivative.map_or(fetch_def(name), |d| fetch_def(d.fetch)) {
        Some(f) => f,
        None => {
            return Err(match ctx {
                SampleContext::Acl => {
                    format!("unknown fetch method '{name}' in ACL expression '{expr}'.")
                }
                SampleContext::Expr => format!("unknown fetch method '{name}'"),
            })
        }
    };
    let keyword_style = ctx == SampleContext::Acl
        && (derivative.is_some() || ACL_KEYWORD_FETCHES.contains(&fetch.name));
    // Wraps an error about the fetch or a converter the way HAProxy words it here.
    let wrap = |msg: String, about_fetch: bool| -> String {
        match (ctx, keyword_style) {
            (SampleContext::Acl, true) => format!("ACL keyword '{name}' : {msg}."),
            (SampleContext::Acl, false) => {
                let msg = msg.trim_end_matches('.');
                if about_fetch {
                    format!("fetch method '{name}' : {msg} in ACL expression '{expr}'.")
                } else {
                    format!("{msg} in ACL expression '{expr}'.")
                }
            }
            (SampleContext::Expr, _) if about_fetch => format!("fetch method '{name}' : {msg}"),
            (SampleContext::Expr, _) => msg.trim_end_matches('.').to_string(),
        }
    };

    let mut rest = &expr[name_end..];
    let mut args = Vec::new();
    if let Some(after) = rest.strip_prefix('(') {
        let (a, used) = parse_arg_list(after, fetch.args.len()).map_err(|e| wrap(e.msg, true))?;
        rest = &after[used..];
        args = a;
    }
    if let Err(e) = check_args(&args, fetch.args, fetch.min_args) {
        return Err(match e.invalid_args {
            true => wrap(
                format!("invalid args in fetch method '{}' : {}", fetch.name, e.msg),
                false,
            ),
            false => wrap(e.msg, true),
        });
    }
    if !rest.is_empty() && !rest.starts_with(',') {
        return Err(wrap(
            "missing comma after fetch keyword.".to_string(),
            false,
        ));
    }

    let mut unsupported = Vec::new();
    if fetch.support == Support::No {
        unsupported.push(format!("fetch {}", fetch.name));
    }
    let mut out = fetch.out;
    let mut converters = Vec::new();
    while let Some(r) = rest.strip_prefix(',') {
        let end = r.find(['(', ',']).unwrap_or(r.len());
        let cname = &r[..end];
        rest = &r[end..];
        if cname.is_empty() {
            if rest.starts_with('(') {
                return Err(wrap("missing converter name.".to_string(), false));
            }
            continue;
        }
        let Some(def) = converter_def(cname) else {
            return Err(wrap(format!("unknown converter '{cname}'."), false));
        };
        if !out.casts_to(def.input) {
            return Err(wrap(
                format!("converter '{cname}' cannot be applied."),
                false,
            ));
        }
        let mut cargs = Vec::new();
        if let Some(after) = rest.strip_prefix('(') {
            let (a, used) = parse_arg_list(after, def.args.len()).map_err(|e| {
                wrap(
                    format!("invalid arg {} in converter '{cname}' : {}.", e.arg, e.msg),
                    false,
                )
            })?;
            rest = &after[used..];
            cargs = a;
        }
        check_args(&cargs, def.args, def.min_args).map_err(|e| {
            wrap(
                format!("invalid arg {} in converter '{cname}' : {}.", e.arg, e.msg),
                false,
            )
        })?;
        if let Some(check) = def.check {
            check(def.name, &cargs)
                .map_err(|e| wrap(format!("invalid args in converter '{cname}' : {e}."), false))?;
        }
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(wrap(
                format!("missing comma after converter '{cname}'."),
                false,
            ));
        }
        if def.support == Support::No {
            unsupported.push(format!("converter {}", def.name));
        }
        if !(def.input == SmpType::Any && def.out == SmpType::Any) {
            out = def.out;
        }
        converters.push(Converter {
            name: def.name,
            args: cargs,
        });
    }
    let method = if converters.is_empty() {
        derivative.map(|d| d.method).or(fetch.method)
    } else {
        out.default_method()
    };
    Ok(ParsedSample {
        sample: Sample {
            fetch: fetch.name,
            args,
            converters,
        },
        out,
        method,
        unsupported,
    })
}

/// An error in an argument list: which argument (1-based) and what is wrong.
struct ArgError {
    arg: usize,
    msg: String,
    /// HAProxy words it "invalid args in ..." (a whole-list check) rather than per argument.
    invalid_args: bool,
}

impl ArgError {
    fn at(arg: usize, msg: String) -> Self {
        ArgError {
            arg,
            msg,
            invalid_args: false,
        }
    }
}

/// Splits `a,b,c)` (the text after `(`) into at most `max` arguments; returns them and
/// how many bytes were used, `)` included.
fn parse_arg_list(s: &str, max: usize) -> Result<(Vec<String>, usize), ArgError> {
    if max == 0 {
        return match s.strip_prefix(')') {
            Some(_) => Ok((Vec::new(), 1)),
            None if s.is_empty() => Err(ArgError::at(1, "expected ')'".into())),
            None => Err(ArgError::at(1, format!("expected ')' before '{s}'"))),
        };
    }
    let mut args = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        let mut stop = None;
        while let Some((i, c)) = chars.next() {
            match (quote, c) {
                (_, '\\') if quote != Some('\'') => {
                    if let Some((_, n)) = chars.next() {
                        arg.push(n);
                    }
                }
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), _) if c == q => quote = None,
                (None, ',' | ')') => {
                    stop = Some((i, c));
                    break;
                }
                _ => arg.push(c),
            }
        }
        args.push(arg);
        match stop {
            None => return Err(ArgError::at(args.len(), "expected ')'".into())),
            Some((i, ')')) => return Ok((args, i + 1)),
            Some((i, _)) if args.len() == max => {
                return Err(ArgError::at(
                    args.len() + 1,
                    format!("expected ')' before '{}'", &s[i..]),
                ))
            }
            Some(_) => {}
        }
    }
}

/// Checks argument count and each argument's syntax.
fn check_args(args: &[String], kinds: &[ArgKind], min: u8) -> Result<(), ArgError> {
    if args.len() < min as usize {
        let pos = args.len() + 1;
        let t = kinds.get(args.len()).map_or("string", |k| k.type_name());
        let msg = if args.is_empty() {
            format!("expected type '{t}' at position {pos}, but got nothing")
        } else {
            format!(
                "missing arguments (got {}/{min}), type '{t}' expected",
                args.len()
            )
        };
        return Err(ArgError::at(pos, msg));
    }
    for (i, (a, kind)) in args.iter().zip(kinds).enumerate() {
        let pos = i + 1;
        let bad = || {
            ArgError::at(
                pos,
                format!(
                    "failed to parse '{a}' as type '{}' at position {pos}",
                    kind.type_name()
                ),
            )
        };
        match kind {
            ArgKind::Int if parse_int(a).is_none() => return Err(bad()),
            ArgKind::Mask4 if !is_ipv4_mask(a) => return Err(bad()),
            ArgKind::Mask6 if !matches!(a.parse::<u8>(), Ok(n) if n <= 128) => return Err(bad()),
            ArgKind::Var => check_var_name(a).map_err(|msg| ArgError {
                arg: pos,
                msg,
                invalid_args: true,
            })?,
            ArgKind::Regex => check_regex(a).map_err(|msg| ArgError {
                arg: pos,
                msg,
                invalid_args: true,
            })?,
            _ => {}
        }
    }
    Ok(())
}

fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_ipv4_mask(s: &str) -> bool {
    matches!(s.parse::<u8>(), Ok(n) if n <= 32) || s.parse::<std::net::Ipv4Addr>().is_ok()
}

/// The scopes a variable name may start with.
pub const VAR_SCOPES: &[&str] = &["proc", "sess", "txn", "req", "res", "check"];

/// `var-name = scope "." name`, name made of letters, digits, `.` and `_`.
pub fn check_var_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("Empty variable name cannot be accepted".into());
    }
    let name = s
        .split_once('.')
        .filter(|(scope, name)| VAR_SCOPES.contains(scope) && !name.is_empty())
        .map(|(_, name)| name)
        .ok_or_else(|| {
            format!(
                "invalid variable name '{s}'. A variable name must be start by its scope. The scope \
                 can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
            )
        })?;
    match name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_')) {
        Some(i) => Err(format!("invalid syntax at char '{}'", &name[i..])),
        None => Ok(()),
    }
}

fn check_regsub(_: &str, args: &[String]) -> Result<(), String> {
    match args
        .get(2)
        .and_then(|f| f.chars().find(|c| !matches!(c, 'i' | 'g')))
    {
        Some(c) => Err(format!(
            "invalid regex flag '{c}', only 'i' and 'g' are supported"
        )),
        None => Ok(()),
    }
}

fn check_field(_: &str, args: &[String]) -> Result<(), String> {
    match args.first().and_then(|a| parse_int(a)) {
        Some(0) => Err("Unexpected value 0 for index".into()),
        _ => Ok(()),
    }
}

/// Reads a map file the way a `map_<match>_<out>` converter does: keys must suit the
/// match (`ip`, `int`) and values the output (`int`, `ip`).
fn check_map(name: &str, args: &[String]) -> Result<(), String> {
    let path = args.first().map(String::as_str).unwrap_or("");
    let lines = read_pattern_file(path)?;
    let mut parts = name.split('_').skip(1);
    let key = parts.next().unwrap_or("str");
    let out = parts.next().unwrap_or("str");
    for (n, line) in lines {
        let (k, v) = match line.find([' ', '\t']) {
            Some(i) => (&line[..i], line[i..].trim_start()),
            None => (line.as_str(), ""),
        };
        // HAProxy checks addresses now; integers are only read when the map is used.
        let key_ok = key != "ip" || is_ip_pattern(k);
        let val_ok = out != "ip" || is_ip_pattern(v);
        if !key_ok || !val_ok {
            let bad = if key_ok { v } else { k };
            return Err(format!(
                "unable to parse '{bad}' at line {n} of file '{path}'"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// patterns

/// The lines of a pattern file that hold patterns, with their 1-based numbers: leading
/// blanks are dropped, and so are empty lines and lines starting with `#`.
pub fn read_pattern_file(path: &str) -> Result<Vec<(usize, String)>, String> {
    let bytes = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(format!(
                "error encountered while reading  <{path}> : Is a directory"
            ))
        }
        Ok(_) => {
            std::fs::read(path).map_err(|_| format!("failed to open pattern file <{path}>"))?
        }
        Err(_) => return Err(format!("failed to open pattern file <{path}>")),
    };
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .split('\n')
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l
                .strip_suffix('\r')
                .unwrap_or(l)
                .trim_start_matches([' ', '\t']);
            (!l.is_empty() && !l.starts_with('#')).then(|| (i + 1, l.to_string()))
        })
        .collect())
}

/// Checks one pattern for a match method; returns HAProxy's message if it is not valid.
/// `after_op` tells an integer pattern that an operator (`eq`, `gt`, ...) preceded it.
fn pattern_error(method: MatchMethod, p: &str, after_op: bool) -> Option<String> {
    match method {
        M::Int | M::Len => int_pattern_error(p, after_op),
        M::Ip if !is_ip_pattern(p) => Some(format!("'{p}' is not a valid IPv4 or IPv6 address")),
        M::Reg => check_regex(p).err(),
        M::Bin if p.len() & 1 != 0 => Some("an even number of hex digit is expected".into()),
        M::Bin => p
            .chars()
            .find(|c| !c.is_ascii_hexdigit())
            .map(|c| format!("an hex digit is expected (found '{c}')")),
        _ => None,
    }
}

/// The integer operators an int pattern list may contain.
const INT_OPERATORS: &[&str] = &["eq", "ge", "gt", "le", "lt"];

/// `int-pattern = int | int ":" [int] | ":" int` (HAProxy also takes `int "-" int`).
fn int_pattern_error(p: &str, after_op: bool) -> Option<String> {
    let unsigned = p.strip_prefix('-').unwrap_or(p);
    let sep = p
        .find(':')
        .or_else(|| unsigned.find('-').map(|i| i + p.len() - unsigned.len()));
    if let Some(sep) = sep {
        let (a, b) = (&p[..sep], &p[sep + 1..]);
        let a_ok = a.is_empty() || parse_int(a).is_some();
        let b_ok = b.is_empty() || parse_int(b).is_some();
        if a_ok && b_ok && !(a.is_empty() && b.is_empty()) {
            return None;
        }
        if parse_int(a).is_some() || a.is_empty() {
            return Some(format!("'{p}' is not a valid number range"));
        }
    } else if parse_int(p).is_some() {
        return None;
    }
    Some(match after_op {
        true => format!("'{p}' is neither a number nor a supported operator"),
        false => format!("'{p}' is not a number"),
    })
}

/// `ip-pattern = ( ipv4 [ "/" ( bits | dotted-mask ) ] ) | ( ipv6 [ "/" bits ] ) | hostname`
///
/// IPv4 addresses may be shortened as `inet_aton` allows (`10/8`, `1.2.3`); host names are
/// resolved now, as HAProxy resolves them while parsing.
pub fn is_ip_pattern(p: &str) -> bool {
    let (addr, mask) = match p.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (p, None),
    };
    if is_short_ipv4(addr) {
        return match mask {
            None => true,
            Some(m) => {
                matches!(m.parse::<u8>(), Ok(n) if n <= 32)
                    || m.parse::<std::net::Ipv4Addr>().is_ok()
            }
        };
    }
    if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        return match mask {
            None => true,
            Some(m) => matches!(m.parse::<u8>(), Ok(n) if n <= 128),
        };
    }
    let host_like = !addr.is_empty()
        && addr
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !addr.starts_with(|c: char| c.is_ascii_digit());
    if !host_like || mask.is_some_and(|m| !matches!(m.parse::<u8>(), Ok(n) if n <= 32)) {
        return false;
    }
    use std::net::ToSocketAddrs;
    (addr, 0u16)
        .to_socket_addrs()
        .map(|mut a| a.any(|s| s.is_ipv4()))
        .unwrap_or(false)
}

/// IPv4 in dotted decimal with 1 to 4 parts (`inet_aton` without hex/octal forms).
fn is_short_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 10)
    {
        return false;
    }
    let last_bits = 8 * (5 - parts.len() as u32);
    parts.iter().enumerate().all(|(i, p)| {
        let v: u64 = p.parse().unwrap_or(u64::MAX);
        if i + 1 == parts.len() {
            v < (1u64 << last_bits)
        } else {
            v <= 255
        }
    })
}

/// Checks a regular expression for the errors PCRE2 reports that matter most in
/// configurations: unbalanced parentheses and brackets, a trailing backslash, and a
/// quantifier with nothing to repeat. Messages and offsets are PCRE2's. The regex is not
/// compiled: other errors are found at runtime.
pub fn check_regex(re: &str) -> Result<(), String> {
    /// What came before the current character, for quantifiers.
    #[derive(PartialEq)]
    enum Prev {
        /// Start, `(`, `|`, `^`, `$`: nothing to repeat.
        Nothing,
        /// A character, class, escape or group: may be repeated.
        Item,
        /// A quantifier: may take one `?` or `+` modifier.
        Quantifier,
        /// A modified quantifier.
        Modified,
    }
    let err = |msg: &str, off: usize| {
        Err(format!(
            "regex '{re}' is invalid (error={msg}, erroffset={off})"
        ))
    };
    let b = re.as_bytes();
    let mut depth = 0usize;
    let mut prev = Prev::Nothing;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let mut next = i + 1;
        prev = match c {
            b'\\' if i + 1 >= b.len() => return err("\\ at end of pattern", b.len()),
            b'\\' => {
                next = i + 2;
                Prev::Item
            }
            b'(' => {
                depth += 1;
                if b.get(next) == Some(&b'?') {
                    next += 1;
                }
                Prev::Nothing
            }
            b')' if depth == 0 => return err("unmatched closing parenthesis", i),
            b')' => {
                depth -= 1;
                Prev::Item
            }
            b'[' => {
                let mut j = i + 1;
                if b.get(j) == Some(&b'^') {
                    j += 1;
                }
                if b.get(j) == Some(&b']') {
                    j += 1;
                }
                loop {
                    match b.get(j) {
                        None => return err("missing terminating ] for character class", b.len()),
                        Some(b'\\') => j += 2,
                        Some(b'[') if b.get(j + 1) == Some(&b':') => {
                            j = re[j + 2..].find(":]").map_or(j + 1, |k| j + 2 + k + 2);
                        }
                        Some(b']') => break,
                        Some(_) => j += 1,
                    }
                }
                next = j + 1;
                Prev::Item
            }
            b'|' | b'^' | b'$' => Prev::Nothing,
            b'?' | b'+' if prev == Prev::Quantifier => Prev::Modified,
            b'*' | b'+' | b'?' if prev != Prev::Item => {
                return err("quantifier does not follow a repeatable item", i)
            }
            b'*' | b'+' | b'?' => Prev::Quantifier,
            b'{' => match counted_quantifier(&re[i..]) {
                Some(len) if prev != Prev::Item => {
                    return err("quantifier does not follow a repeatable item", i + len - 1)
                }
                Some(len) => {
                    next = i + len;
                    Prev::Quantifier
                }
                None => Prev::Item,
            },
            _ => Prev::Item,
        };
        i = next;
    }
    if depth > 0 {
        return err("missing closing parenthesis", b.len());
    }
    Ok(())
}

/// The length of `{n}`, `{n,}` or `{n,m}` at the start of `s`, if it is one.
fn counted_quantifier(s: &str) -> Option<usize> {
    let end = s.find('}')?;
    let inner = &s[1..end];
    let (a, b) = inner.split_once(',').unwrap_or((inner, ""));
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    (!a.is_empty() && digits(a) && digits(b)).then_some(end + 1)
}

/// One pattern to check: its text, its file and line when it came from `-f`, and the
/// word to blame.
type PatternSource = (String, Option<(String, usize)>, usize);

/// Parses `-m` method names.
pub fn match_method(name: &str) -> Option<MatchMethod> {
    Some(match name {
        "found" => M::Found,
        "bool" => M::Bool,
        "int" => M::Int,
        "ip" => M::Ip,
        "bin" => M::Bin,
        "len" => M::Len,
        "str" => M::Str,
        "sub" => M::Sub,
        "reg" => M::Reg,
        "beg" => M::Beg,
        "end" => M::End,
        "dir" => M::Dir,
        "dom" => M::Dom,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// ACL expressions

/// Parses the words after an ACL's name: `fetch[(args)][,conv(args)...] [flags] [patterns]`.
///
/// `flags = { "-i" | "-n" | "-M" | "-u" id | "-f" file | "-m" method | "--" }`; the first
/// word that is not a flag starts the patterns, and every later word is a pattern.
/// Errors carry HAProxy's message without the "error detected while parsing ACL 'NAME' : "
/// prefix.
pub fn parse_acl_expr(args: Args) -> Result<AclExpr, Diagnostic> {
    parse_acl_expr_warn(args, &mut Vec::new())
}

/// [`parse_acl_expr`], also collecting HAProxy's warnings (an ACL without patterns).
pub fn parse_acl_expr_warn(
    args: Args,
    warnings: &mut Vec<Diagnostic>,
) -> Result<AclExpr, Diagnostic> {
    let expr = args.at(0);
    let parsed =
        parse_sample(expr, SampleContext::Acl).map_err(|m| args.error(0, m).with_help_for(expr))?;
    let mut method = None;
    let mut ignore_case = false;
    let mut pattern_files = Vec::new();
    let mut file_patterns: Vec<(String, usize, String, usize)> = Vec::new();
    let mut i = 1;
    let mut flags = 0;
    while let Some(w) = args.get(i) {
        if !w.starts_with('-') {
            break;
        }
        flags += 1;
        match w {
            "--" => {
                i += 1;
                break;
            }
            "-i" => ignore_case = true,
            "-n" | "-M" => {}
            "-u" => {
                i += 1;
                if parse_uint_strict(args.at(i)).is_none() {
                    return Err(args.error(i, "the argument of -u must be an integer."));
                }
            }
            "-f" => {
                i += 1;
                let path = args.at(i);
                let lines = read_pattern_file(path).map_err(|m| args.error(i, format!("{m}.")))?;
                pattern_files.push(path.to_string());
                file_patterns.extend(lines.into_iter().map(|(n, l)| (path.to_string(), n, l, i)));
            }
            "-m" => {
                i += 1;
                if !pattern_files.is_empty() {
                    return Err(args.error(
                        i - 1,
                        "'-m' must only be specified before patterns and files in parsing ACL expression.",
                    ));
                }
                let name = args.at(i);
                method = Some(match_method(name).ok_or_else(|| {
                    args.error(i, format!("unknown matching method '{name}' when parsing ACL expression."))
                })?);
            }
            _ => {
                return Err(args.error(
                    i,
                    format!("'{w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'."),
                ))
            }
        }
        i += 1;
    }
    let method = match method.or(parsed.method) {
        Some(m) => m,
        None => {
            return Err(args.error(
                0,
                format!(
                    "matching method must be specified first (using '-m') when using a sample fetch of this type ('{}').",
                    parsed.sample.fetch
                ),
            ))
        }
    };
    // Patterns from files first (with their file and line), then those on the line.
    let mut sources: Vec<PatternSource> = file_patterns
        .into_iter()
        .map(|(path, line, p, at)| (p, Some((path, line)), at))
        .collect();
    sources.extend((i..args.len()).map(|j| (args.at(j).to_string(), None, j)));
    let mut patterns = Vec::new();
    let mut after_op = false;
    for (p, from, at) in sources {
        if matches!(method, M::Int | M::Len) && INT_OPERATORS.contains(&p.as_str()) {
            after_op = true;
        } else if let Some(m) = pattern_error(method, &p, after_op) {
            let m = match from {
                Some((path, line)) => format!("{m} at line {line} of file '{path}'."),
                None => format!("{m}."),
            };
            return Err(args.error(at, m));
        } else {
            after_op = false;
        }
        patterns.push(p);
    }
    if parsed.sample.fetch == "http_auth_group" && patterns.is_empty() {
        return Err(args.error(0, format!("acl {expr}: no groups specified.")));
    }
    if let Some(what) = parsed.unsupported.first() {
        return Err(unsupported(args.span(0), what));
    }
    if patterns.is_empty() && flags == 0 && !matches!(method, M::Bool | M::Found) {
        warnings.push(
            args.warning(
                0,
                format!(
                    "parsing acl keyword '{expr}' : no pattern to match against were provided, so this ACL will never match."
                ),
            )
            .with_help(
                "add '--' to get rid of this warning; use '-m found' to match only for existence, or '-m bool' to match an int as a bool",
            ),
        );
    }
    Ok(AclExpr {
        sample: parsed.sample,
        method,
        ignore_case,
        pattern_files,
        patterns,
    })
}

fn parse_uint_strict(s: &str) -> Option<u64> {
    super::kw::parse_uint(s)
}

trait DidYouMean {
    fn with_help_for(self, expr: &str) -> Self;
}

impl DidYouMean for Diagnostic {
    /// Adds "did you mean" for an unknown fetch or converter.
    fn with_help_for(self, expr: &str) -> Self {
        if let Some(name) = unknown_name(&self.message, "unknown fetch method '") {
            let all = FETCHES
                .iter()
                .map(|f| f.name)
                .chain(ACL_DERIVATIVES.iter().map(|d| d.name));
            if let Some(best) = best_match(name, all) {
                return self.with_help(format!("did you mean '{best}'?"));
            }
        } else if let Some(name) = unknown_name(&self.message, "unknown converter '") {
            let all = CONVERTERS
                .iter()
                .chain(MAP_CONVERTERS.iter())
                .map(|c| c.name);
            if let Some(best) = best_match(name, all) {
                return self.with_help(format!("did you mean '{best}'?"));
            }
        }
        let _ = expr;
        self
    }
}

fn unknown_name<'m>(msg: &'m str, lead: &str) -> Option<&'m str> {
    let start = msg.find(lead)? + lead.len();
    let len = msg[start..].find('\'')?;
    Some(&msg[start..start + len])
}

// ---------------------------------------------------------------------------------------
// conditions

/// Parses a condition starting at the `if`/`unless` word.
///
/// `cond = ("if" | "unless") { term | "||" | "or" }`, `term = { "!" } ( acl-name | "{" expr "}" )`
///
/// Terms next to each other are AND'ed; `||` (or `or`, any case) starts a new group and
/// groups are OR'ed. `!` may stand alone or be glued to the term (`!secure`, `!{`); a `!`
/// with nothing after it and empty groups are ignored, and a condition with no terms never
/// matches (so `unless` alone always does), all as HAProxy 2.6 behaves. The words between
/// `{` and the first `}` form an anonymous ACL. Named ACLs are not looked up here.
/// Errors carry HAProxy's message without the rule's context prefix.
pub fn parse_condition(args: Args) -> Result<Condition, Diagnostic> {
    parse_condition_warn(args, &mut Vec::new())
}

/// [`parse_condition`], also collecting the warnings of anonymous ACLs.
pub fn parse_condition_warn(
    args: Args,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Condition, Diagnostic> {
    let unless = match args.at(0) {
        "if" => false,
        "unless" => true,
        other => {
            return Err(args.error(
                0,
                format!(
                    "expects either 'if' or 'unless' followed by a condition but found '{other}'."
                ),
            ))
        }
    };
    let mut any_of: Vec<Vec<CondTerm>> = Vec::new();
    let mut group: Vec<CondTerm> = Vec::new();
    let mut negated = false;
    let mut i = 1;
    while i < args.len() {
        let w = args.at(i);
        if w == "||" || w.eq_ignore_ascii_case("or") {
            if !group.is_empty() {
                any_of.push(std::mem::take(&mut group));
            }
            negated = false;
            i += 1;
            continue;
        }
        let bangs = w.len() - w.trim_start_matches('!').len();
        let name = &w[bangs..];
        negated ^= bangs % 2 == 1;
        let span = {
            let mut s = args.span(i);
            s.col += bangs as u32;
            s
        };
        if name.is_empty() {
            i += 1;
            continue;
        }
        if name == "{" {
            let close = (i + 1..args.len()).find(|&j| args.at(j) == "}");
            let Some(close) = close else {
                return Err(args.error(i, "missing closing '}' in condition."));
            };
            let inner = Args {
                words: &args.words[i + 1..close],
                ..args
            };
            let inner = if inner.is_empty() {
                Args {
                    words: &args.words[close..close],
                    ..args
                }
            } else {
                inner
            };
            let expr = if inner.is_empty() {
                Err(args.error(close, "missing fetch method in ACL expression ''."))
            } else {
                parse_acl_expr_warn(inner, warnings)
            }?;
            let at = args.span(i + 1);
            group.push(CondTerm {
                negated,
                acl: AclRef::Anonymous(Spanned::new(expr, at)),
            });
            i = close + 1;
        } else {
            group.push(CondTerm {
                negated,
                acl: AclRef::Named(Spanned::new(name.to_string(), span)),
            });
            i += 1;
        }
        negated = false;
    }
    if !group.is_empty() {
        any_of.push(group);
    }
    Ok(Condition {
        unless,
        any_of,
        span: args.span(0),
    })
}

/// Splits a rule at its first `if`/`unless`: the words before, and the condition's words.
pub fn split_condition(args: Args) -> (Args, Option<Args>) {
    match args
        .words
        .iter()
        .position(|w| w.text == "if" || w.text == "unless")
    {
        Some(i) => (
            Args {
                words: &args.words[..i],
                ..args
            },
            Some(args.from(i)),
        ),
        None => (args, None),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::haproxy::lexer::Word;
    use crate::FileId;

    /// Splits a line on whitespace into words with 1-based columns, as the lexer would for
    /// a line without quotes.
    pub(crate) fn words(line: &str) -> Vec<Word> {
        let mut out = Vec::new();
        let mut col = 0;
        for w in line.split_whitespace() {
            let off = line[col..].find(w).expect("word in line") + col;
            col = off + w.len();
            out.push(Word {
                text: w.to_string(),
                col: off as u32 + 1,
            });
        }
        out
    }

    fn acl(line: &str) -> Result<AclExpr, (usize, String)> {
        let ws = words(line);
        let args = Args::new(FileId(0), 1, &ws);
        parse_acl_expr(args).map_err(|d| {
            let i = ws
                .iter()
                .position(|w| w.col == d.span.col)
                .unwrap_or(ws.len());
            (i, d.message)
        })
    }

    // Every verdict below was checked with `haproxy -c` 2.6.12 (the line inside a frontend
    // `acl a LINE`); messages are HAProxy's unless noted.
    #[test]
    fn valid_acls_give_fetch_method_and_patterns() {
        let cases: &[(&str, &str, MatchMethod, &[&str])] = &[
            ("path_beg /api/ /v1/", "path", M::Beg, &["/api/", "/v1/"]),
            ("hdr_beg(host) -i www.", "hdr", M::Beg, &["www."]),
            ("hdr(host) foo", "hdr", M::Str, &["foo"]),
            (
                "src 10.0.0.0/8 ::1 10/8 1.2.3",
                "src",
                M::Ip,
                &["10.0.0.0/8", "::1", "10/8", "1.2.3"],
            ),
            ("method GET", "method", M::Str, &["GET"]),
            ("ssl_fc", "ssl_fc", M::Bool, &[]),
            (
                "status 200:300 ge 500 :5 5: 1-2",
                "status",
                M::Int,
                &["200:300", "ge", "500", ":5", "5:", "1-2"],
            ),
            ("path -m beg /x", "path", M::Beg, &["/x"]),
            ("path_beg -m str /x", "path", M::Str, &["/x"]),
            ("path_len,lower x", "path", M::Str, &["x"]),
            ("path,ipmask(24) 1.2.3.4", "path", M::Ip, &["1.2.3.4"]),
            ("path -- -x", "path", M::Str, &["-x"]),
            ("path x -i", "path", M::Str, &["x", "-i"]),
            ("var(txn.x) -m str foo", "var", M::Str, &["foo"]),
            ("path -m bin 0aff", "path", M::Bin, &["0aff"]),
            (
                "path -m reg a(?<n>b) a[]] a+? \\(",
                "path",
                M::Reg,
                &["a(?<n>b)", "a[]]", "a+?", "\\("],
            ),
            ("cook_beg(x) foo", "cook", M::Beg, &["foo"]),
            ("urlp_len(x) 3", "urlp", M::Len, &["3"]),
            ("hdr(host,-1) foo", "hdr", M::Str, &["foo"]),
        ];
        for (line, fetch, method, patterns) in cases {
            let e = acl(line).unwrap_or_else(|e| panic!("{line}: {e:?}"));
            assert_eq!((e.sample.fetch, e.method), (*fetch, *method), "{line}");
            assert_eq!(
                e.patterns,
                patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                "{line}"
            );
        }
    }

    #[test]
    fn converters_are_kept_in_order_with_args() {
        let e = acl("hdr(host),lower,map_dom(/etc/hostname,default) x").unwrap();
        assert_eq!(e.sample.args, vec!["host"]);
        let convs: Vec<_> = e
            .sample
            .converters
            .iter()
            .map(|c| (c.name, c.args.clone()))
            .collect();
        assert_eq!(
            convs,
            vec![
                ("lower", vec![]),
                ("map_dom", vec!["/etc/hostname".into(), "default".into()])
            ]
        );
        // Quoted arguments keep their commas; empty converters are skipped.
        let e = acl("path,regsub('/+','/','g'),,upper x").unwrap();
        assert_eq!(e.sample.converters[0].args, vec!["/+", "/", "g"]);
        assert_eq!(e.sample.converters[1].name, "upper");
    }

    #[test]
    fn invalid_acls_fail_at_the_right_word() {
        let cases: &[(&str, usize, &str)] = &[
            ("xyz", 0, "unknown fetch method 'xyz' in ACL expression 'xyz'."),
            ("xyz(1),lower x", 0, "unknown fetch method 'xyz' in ACL expression 'xyz(1),lower'."),
            ("", 0, "missing fetch method in ACL expression ''."),
            ("hdr(host,1,2) foo", 0, "ACL keyword 'hdr' : expected ')' before ',2)'."),
            ("path(x) foo", 0, "ACL keyword 'path' : expected ')' before 'x)'."),
            ("hdr(host x", 0, "ACL keyword 'hdr' : expected ')'."),
            ("hdr(host)x y", 0, "ACL keyword 'hdr' : missing comma after fetch keyword.."),
            ("hdr(host,x) foo", 0, "ACL keyword 'hdr' : failed to parse 'x' as type 'integer' at position 2."),
            ("int(x) 1", 0, "fetch method 'int' : failed to parse 'x' as type 'integer' at position 1 in ACL expression 'int(x)'."),
            ("path,lowr foo", 0, "ACL keyword 'path' : unknown converter 'lowr'.."),
            ("path,lower(1) foo", 0, "ACL keyword 'path' : invalid arg 1 in converter 'lower' : expected ')' before '1)'.."),
            ("path,regsub(a) foo", 0, "ACL keyword 'path' : invalid arg 2 in converter 'regsub' : missing arguments (got 1/2), type 'string' expected.."),
            ("path,regsub(a,b,x) foo", 0, "ACL keyword 'path' : invalid args in converter 'regsub' : invalid regex flag 'x', only 'i' and 'g' are supported.."),
            ("path,field(0,/) x", 0, "ACL keyword 'path' : invalid args in converter 'field' : Unexpected value 0 for index.."),
            ("path,map(/nonexistent) x", 0, "ACL keyword 'path' : invalid args in converter 'map' : failed to open pattern file </nonexistent>.."),
            ("path,ipmask 1.2.3.4", 0, "ACL keyword 'path' : invalid arg 1 in converter 'ipmask' : expected type 'IPv4 mask' at position 1, but got nothing.."),
            ("src,ipmask(33) 1.2.3.4", 0, "invalid arg 1 in converter 'ipmask' : failed to parse '33' as type 'IPv4 mask' at position 1 in ACL expression 'src,ipmask(33)'."),
            ("method,add(1) 1", 0, "ACL keyword 'method' : converter 'add' cannot be applied.."),
            ("ssl_fc,ipmask(24) 1.2.3.4", 0, "converter 'ipmask' cannot be applied in ACL expression 'ssl_fc,ipmask(24)'."),
            ("var(foo) -m str x", 0, "invalid args in fetch method 'var' : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check' in ACL expression 'var(foo)'."),
            ("req.body foo", 0, "matching method must be specified first (using '-m') when using a sample fetch of this type ('req.body')."),
            ("src foo.invalid.", 1, "'foo.invalid.' is not a valid IPv4 or IPv6 address."),
            ("src 1.2.3.4/33", 1, "'1.2.3.4/33' is not a valid IPv4 or IPv6 address."),
            ("src 300.1.1.1", 1, "'300.1.1.1' is not a valid IPv4 or IPv6 address."),
            ("src 0x7f.1", 1, "'0x7f.1' is not a valid IPv4 or IPv6 address."),
            ("status x", 1, "'x' is not a number."),
            ("status 1.5", 1, "'1.5' is not a number."),
            ("status 1:x", 1, "'1:x' is not a valid number range."),
            ("status gt x", 2, "'x' is neither a number nor a supported operator."),
            ("status -1", 1, "'-1' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'."),
            ("path -m int x", 3, "'x' is not a number."),
            ("path -m foo x", 2, "unknown matching method 'foo' when parsing ACL expression."),
            ("path -m", 2, "unknown matching method '' when parsing ACL expression."),
            ("path -x", 1, "'-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'."),
            ("path -u x x", 2, "the argument of -u must be an integer."),
            ("path -f /nonexistent", 2, "failed to open pattern file </nonexistent>."),
            ("path -f", 2, "failed to open pattern file <>."),
            ("path -f /tmp", 2, "error encountered while reading  </tmp> : Is a directory."),
            ("path -f /etc/hostname -m beg x", 3, "'-m' must only be specified before patterns and files in parsing ACL expression."),
            ("path -m bin zz", 3, "an hex digit is expected (found 'z')."),
            ("path -m bin abc", 3, "an even number of hex digit is expected."),
            ("path -m reg (a", 3, "regex '(a' is invalid (error=missing closing parenthesis, erroffset=2)."),
            ("path_reg [a", 1, "regex '[a' is invalid (error=missing terminating ] for character class, erroffset=2)."),
            ("path_reg a)", 1, "regex 'a)' is invalid (error=unmatched closing parenthesis, erroffset=1)."),
            ("path_reg *a", 1, "regex '*a' is invalid (error=quantifier does not follow a repeatable item, erroffset=0)."),
            ("path_reg a|*b", 1, "regex 'a|*b' is invalid (error=quantifier does not follow a repeatable item, erroffset=2)."),
            ("path_reg a**", 1, "regex 'a**' is invalid (error=quantifier does not follow a repeatable item, erroffset=2)."),
            ("path_reg a{2}{3}", 1, "regex 'a{2}{3}' is invalid (error=quantifier does not follow a repeatable item, erroffset=6)."),
            ("path_reg ((a)", 1, "regex '((a)' is invalid (error=missing closing parenthesis, erroffset=4)."),
            ("path_reg a\\", 1, "regex 'a\\' is invalid (error=\\ at end of pattern, erroffset=2)."),
            ("path_reg a[\\]", 1, "regex 'a[\\]' is invalid (error=missing terminating ] for character class, erroffset=4)."),
            // rsproxy's own: recognised keywords it does not carry out.
            ("path,base64 x", 0, "'converter base64' is recognised but not supported by rsproxy yet"),
            ("sc0_get_gpc0 1", 0, "'fetch sc0_get_gpc0' is recognised but not supported by rsproxy yet"),
        ];
        for (line, at, msg) in cases {
            assert_eq!(acl(line).err(), Some((*at, msg.to_string())), "{line}");
        }
    }

    #[test]
    fn pattern_files_are_read_and_checked_per_line() {
        let dir = std::env::temp_dir().join(format!("rsproxy-acl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pats");
        std::fs::write(&f, "# comment\n\n  /x\n/y\n(bad\n").unwrap();
        let path = f.display().to_string();
        let e = acl(&format!("path -f {path} /z")).unwrap();
        assert_eq!(e.patterns, vec!["/x", "/y", "(bad", "/z"]);
        assert_eq!(e.pattern_files, vec![path.clone()]);
        let err = acl(&format!("path_reg -f {path}")).unwrap_err();
        assert_eq!(
            err,
            (2, format!("regex '(bad' is invalid (error=missing closing parenthesis, erroffset=4) at line 5 of file '{path}'."))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn acls_without_patterns_warn_unless_flagged() {
        let check = |line: &str| {
            let ws = words(line);
            let mut warnings = Vec::new();
            parse_acl_expr_warn(Args::new(FileId(0), 1, &ws), &mut warnings).unwrap();
            warnings.len()
        };
        assert_eq!(check("hdr"), 1);
        assert_eq!(check("nbsrv(b)"), 1);
        assert_eq!(check("path --"), 0);
        assert_eq!(check("path -i"), 0);
        assert_eq!(check("path -m found"), 0);
        assert_eq!(check("ssl_fc"), 0);
    }

    fn cond(line: &str) -> Result<Condition, (usize, String)> {
        let ws = words(line);
        parse_condition(Args::new(FileId(0), 1, &ws)).map_err(|d| {
            (
                ws.iter()
                    .position(|w| w.col == d.span.col)
                    .unwrap_or(ws.len()),
                d.message,
            )
        })
    }

    /// A condition as text: groups joined by " | ", terms by " ", `!` for negation,
    /// `{fetch}` for anonymous ACLs.
    fn shape(c: &Condition) -> String {
        let term = |t: &CondTerm| {
            let name = match &t.acl {
                AclRef::Named(n) => n.node.clone(),
                AclRef::Anonymous(e) => format!("{{{}}}", e.node.sample.fetch),
            };
            format!("{}{name}", if t.negated { "!" } else { "" })
        };
        let groups: Vec<String> = c
            .any_of
            .iter()
            .map(|g| g.iter().map(term).collect::<Vec<_>>().join(" "))
            .collect();
        format!(
            "{}{}",
            if c.unless { "unless " } else { "" },
            groups.join(" | ")
        )
    }

    // Checked with `use_backend b LINE` and, for the meaning of empty groups and of a bare
    // `if`, with requests to a running haproxy 2.6.12 (`if` alone never matches; a trailing
    // `||` adds nothing; a trailing `!` is ignored).
    #[test]
    fn conditions_group_terms() {
        let cases: &[(&str, &str)] = &[
            ("if TRUE", "TRUE"),
            ("if !TRUE", "!TRUE"),
            ("if ! TRUE", "!TRUE"),
            ("if !!TRUE", "TRUE"),
            ("if a b || c", "a b | c"),
            ("if a or b OR c Or d", "a | b | c | d"),
            ("if", ""),
            ("if !", ""),
            ("if TRUE ||", "TRUE"),
            ("if || TRUE", "TRUE"),
            ("if a || || b", "a | b"),
            ("if TRUE !", "TRUE"),
            ("unless a", "unless a"),
            ("if { path /x } !{ src 10.0.0.0/8 }", "{path} !{src}"),
            ("if ! { path /x } { path /y }", "!{path} {path}"),
            ("if { path { /x } }", "{path} }"),
            ("if {path /x }", "{path /x }"),
        ];
        for (line, want) in cases {
            let c = cond(line).unwrap_or_else(|e| panic!("{line}: {e:?}"));
            assert_eq!(shape(&c), *want, "{line}");
        }
        let c = cond("if !secure").unwrap();
        let AclRef::Named(n) = &c.any_of[0][0].acl else {
            panic!()
        };
        assert_eq!(n.span.col, 5, "the name's span skips the '!'");
    }

    #[test]
    fn invalid_conditions() {
        let cases: &[(&str, usize, &str)] = &[
            ("if { path /x", 1, "missing closing '}' in condition."),
            ("if { path /x}", 1, "missing closing '}' in condition."),
            ("if {", 1, "missing closing '}' in condition."),
            ("if { }", 2, "missing fetch method in ACL expression ''."),
            (
                "if { xyz /x }",
                2,
                "unknown fetch method 'xyz' in ACL expression 'xyz'.",
            ),
            (
                "if { path_reg (a }",
                3,
                "regex '(a' is invalid (error=missing closing parenthesis, erroffset=2).",
            ),
        ];
        for (line, at, msg) in cases {
            assert_eq!(cond(line).err(), Some((*at, msg.to_string())), "{line}");
        }
    }

    #[test]
    fn predefined_acls_are_all_there() {
        for name in [
            "FALSE",
            "HTTP",
            "HTTP_1.0",
            "HTTP_1.1",
            "HTTP_2.0",
            "HTTP_CONTENT",
            "HTTP_URL_ABS",
            "HTTP_URL_SLASH",
            "HTTP_URL_STAR",
            "LOCALHOST",
            "METH_CONNECT",
            "METH_DELETE",
            "METH_GET",
            "METH_HEAD",
            "METH_OPTIONS",
            "METH_POST",
            "METH_PUT",
            "METH_TRACE",
            "RDP_COOKIE",
            "REQ_CONTENT",
            "TRUE",
            "WAIT_END",
        ] {
            assert!(is_predefined_acl(name), "{name}");
            let e = predefined_acl(name).unwrap();
            assert!(
                fetch_def(e.sample.fetch).is_some(),
                "{name} uses a known fetch"
            );
        }
        assert!(!is_predefined_acl("METH_PATCH"));
        assert!(!is_predefined_acl("true"));
        assert_eq!(
            predefined_acl("METH_GET").unwrap().patterns,
            vec!["GET", "HEAD"]
        );
        assert_eq!(
            predefined_acl("HTTP_CONTENT").unwrap().sample.args,
            vec!["content-length"]
        );
    }

    #[test]
    fn tables_have_unique_names_and_derivatives_resolve() {
        let mut names: Vec<_> = FETCHES.iter().map(|f| f.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate fetch");
        for d in ACL_DERIVATIVES {
            assert!(fetch_def(d.fetch).is_some(), "{}", d.name);
        }
        for f in FETCHES {
            assert!(f.min_args as usize <= f.args.len(), "{}", f.name);
        }
        assert!(keyword_names()
            .iter()
            .any(|(c, n, s)| *c == "converter" && *n == "lower" && *s == Support::Yes));
    }

    #[test]
    fn did_you_mean_for_unknown_fetches() {
        let ws = words("path_bge /x");
        let d = parse_acl_expr(Args::new(FileId(0), 1, &ws)).unwrap_err();
        assert_eq!(d.help.as_deref(), Some("did you mean 'path_beg'?"));
    }
}
