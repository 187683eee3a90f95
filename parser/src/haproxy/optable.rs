//! Option tables: the keyword machinery `bind` and `server` lines share.
//!
//! A line's options are words looked up, one after another, in one static table of
//! [`OptKeyword`]s: name, how many words follow, parse function, whether rsproxy carries it
//! out, whether `default-server` takes it. [`parse_options`] only looks up and advances;
//! what differs between `bind` and `server` is data, in the tables and in [`OptLine`]
//! (message prefix, the object named in messages, the unknown-keyword hint, how HAProxy ends
//! the sentences of the shared helpers). The same tables drive "did you mean" and the
//! README's keyword list ([`keyword_names`]).
//!
//! Input: the words of one line, from the first option on, and the options value to fill.
//! Output: the options set, diagnostics, and an [`Outcome`]. As HAProxy does, an unknown
//! keyword ends the line: nothing after it is read.

use super::kw::{unsupported, Args, Support};
use crate::diag::best_match;
use crate::ir::haproxy::{BindOptions, ServerOptions, TlsVersion};
use crate::{Diagnostic, Diagnostics};
use std::cell::RefCell;

/// How one line words its messages; everything the dispatcher and the shared helpers need
/// to know about whether they are reading a `bind`, a `server` or a `default-server` line.
pub struct OptLine<'a> {
    /// The word before the keyword in "recognised but not supported" errors: `bind`, `server`.
    pub section: &'static str,
    /// Put before option messages: `'bind :80' : `, `'server s1' : `, empty for
    /// `default-server`.
    pub prefix: String,
    /// The object messages name: the bind address word, the server name, `default-server`.
    pub name: &'a str,
    /// How HAProxy ends the messages of the shared helpers ([`ssl_min_ver`], ...): "" for
    /// `bind`, "." for `server`.
    pub stop: &'static str,
    /// Appended to the unknown-keyword message ("" unless HAProxy adds a hint).
    pub unknown_hint: &'static str,
    /// A `default-server` line: keywords whose [`OptKeyword::default_server`] is false are
    /// refused with a warning (HAProxy's alert that does not fail the check).
    pub default_server: bool,
}

impl OptLine<'_> {
    /// `PREFIX unknown keyword 'NAME'` with HAProxy's "did you mean" (none for words under
    /// three characters, which match anything) and the line's hint.
    fn unknown_keyword<T>(&self, name: &str, keywords: &[OptKeyword<T>]) -> String {
        let mut msg = format!("{}unknown keyword '{name}'", self.prefix);
        match best_match(name, keywords.iter().map(|k| k.name)).filter(|_| name.len() >= 3) {
            Some(m) => msg.push_str(&format!("; did you mean '{m}' maybe ?")),
            None => msg.push('.'),
        }
        msg.push_str(self.unknown_hint);
        msg
    }
}

/// What an option parser sees: the line, the index of its keyword, the line's wording, and
/// a cell for warnings it gives while still accepting the value.
pub struct OptCtx<'a> {
    pub args: Args<'a>,
    /// The index of the keyword in `args`.
    pub i: usize,
    line: &'a OptLine<'a>,
    warnings: RefCell<Vec<Diagnostic>>,
}

impl OptCtx<'_> {
    /// The keyword itself.
    pub fn kw(&self) -> &str {
        self.args.at(self.i)
    }

    /// The object messages name (see [`OptLine::name`]).
    pub fn name(&self) -> &str {
        self.line.name
    }

    /// The raw argument (possibly "" past the end, as HAProxy's `args[cur+1]`).
    pub fn raw(&self) -> &str {
        self.args.at(self.i + 1)
    }

    /// The argument after the keyword, or an error at the keyword: `'KW' : {missing}`.
    pub fn arg(&self, missing: &str) -> Result<&str, Diagnostic> {
        self.arg_or(|k| format!("'{k}' : {missing}"))
    }

    /// The argument after the keyword, or an error at the keyword whose message `missing`
    /// makes from the keyword.
    pub fn arg_or(&self, missing: impl FnOnce(&str) -> String) -> Result<&str, Diagnostic> {
        match self.args.get(self.i + 1) {
            Some(w) if !w.is_empty() => Ok(w),
            _ => Err(self.err_kw(missing(self.kw()))),
        }
    }

    /// An error at the keyword, after the line's prefix.
    pub fn err_kw(&self, msg: impl AsRef<str>) -> Diagnostic {
        self.args
            .error(self.i, format!("{}{}", self.line.prefix, msg.as_ref()))
    }

    /// An error at the argument, after the line's prefix.
    pub fn err_arg(&self, msg: impl AsRef<str>) -> Diagnostic {
        self.args
            .error(self.i + 1, format!("{}{}", self.line.prefix, msg.as_ref()))
    }

    /// Reports `d` as a warning (after any error of this option) and goes on.
    pub fn warn(&self, mut d: Diagnostic) {
        d.severity = crate::Severity::Warning;
        self.warnings.borrow_mut().push(d);
    }
}

/// Parses one option into the options value `T`.
pub type OptParse<T> = fn(&mut T, &OptCtx) -> Result<(), Diagnostic>;

/// One option: its name, how many words follow it, its parser, whether rsproxy carries it
/// out, and whether `default-server` takes it.
pub struct OptKeyword<T> {
    pub name: &'static str,
    pub args: usize,
    parse: OptParse<T>,
    pub support: Support,
    pub default_server: bool,
}

/// A supported option.
pub const fn kw<T>(name: &'static str, args: usize, parse: OptParse<T>) -> OptKeyword<T> {
    OptKeyword {
        name,
        args,
        parse,
        support: Support::Yes,
        default_server: true,
    }
}

/// An option HAProxy knows and rsproxy does not carry out: its words are skipped, and it
/// is reported as unsupported.
pub const fn no<T>(name: &'static str, args: usize) -> OptKeyword<T> {
    OptKeyword {
        name,
        args,
        parse: skip,
        support: Support::No,
        default_server: true,
    }
}

/// Refused (with an alert that does not fail the check) on `default-server` lines.
pub const fn not_default<T>(k: OptKeyword<T>) -> OptKeyword<T> {
    OptKeyword {
        default_server: false,
        ..k
    }
}

fn skip<T>(_: &mut T, _: &OptCtx) -> Result<(), Diagnostic> {
    Ok(())
}

/// How reading a line's options ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every option was known and accepted.
    Clean,
    /// Every option was known, but at least one was unsupported or had a bad value.
    Refused,
    /// An unknown keyword ended the line.
    Stopped,
}

/// `options = { keyword arg{keyword.args} }`
///
/// Reads the options of `args` from word `start` on into `target`, looking each keyword up
/// in `keywords`; `line` says how to word the messages. Each option's errors and warnings
/// go to `diags`; an unknown keyword is reported and ends the line, as in HAProxy.
pub fn parse_options<T>(
    keywords: &[OptKeyword<T>],
    args: Args,
    start: usize,
    target: &mut T,
    diags: &mut Diagnostics,
    line: &OptLine,
) -> Outcome {
    let mut outcome = Outcome::Clean;
    let mut i = start;
    while i < args.len() {
        let name = args.at(i);
        let Some(k) = keywords.iter().find(|k| k.name == name) else {
            diags.push(args.error(i, line.unknown_keyword(name, keywords)));
            return Outcome::Stopped;
        };
        if line.default_server && !k.default_server {
            diags.push(args.warning(
                i,
                format!("'{name}' option is not accepted in default-server sections"),
            ));
        } else if k.support == Support::No {
            diags.push(unsupported(
                args.span(i),
                &format!("{} {}", line.section, k.name),
            ));
            outcome = Outcome::Refused;
        } else {
            let ctx = OptCtx {
                args,
                i,
                line,
                warnings: RefCell::default(),
            };
            if let Err(d) = (k.parse)(target, &ctx) {
                diags.push(d);
                outcome = Outcome::Refused;
            }
            for w in ctx.warnings.into_inner() {
                diags.push(w);
            }
        }
        i += 1 + k.args;
    }
    outcome
}

/// Every option of a table with its support status, for the README.
pub fn keyword_names<T>(
    section: &'static str,
    keywords: &[OptKeyword<T>],
) -> Vec<(&'static str, &'static str, Support)> {
    keywords
        .iter()
        .map(|k| (section, k.name, k.support))
        .collect()
}

// ---------------------------------------------------------------------------------------
// TLS versions, shared by `bind` and `server`

/// `SSLv3 | TLSv1.0 | TLSv1.1 | TLSv1.2 | TLSv1.3` (case-sensitive, as HAProxy).
pub fn parse_tls_version(s: &str) -> Option<TlsVersion> {
    Some(match s {
        "SSLv3" => TlsVersion::Sslv3,
        "TLSv1.0" => TlsVersion::Tlsv10,
        "TLSv1.1" => TlsVersion::Tlsv11,
        "TLSv1.2" => TlsVersion::Tlsv12,
        "TLSv1.3" => TlsVersion::Tlsv13,
        _ => return None,
    })
}

/// The version a `no-*`/`force-*` keyword suffix names (`sslv3`, `tlsv10`, ...).
pub fn tls_version_suffix(s: &str) -> Option<TlsVersion> {
    Some(match s {
        "sslv3" => TlsVersion::Sslv3,
        "tlsv10" => TlsVersion::Tlsv10,
        "tlsv11" => TlsVersion::Tlsv11,
        "tlsv12" => TlsVersion::Tlsv12,
        "tlsv13" => TlsVersion::Tlsv13,
        _ => return None,
    })
}

/// Options that carry a range of TLS versions (`ssl-min-ver`, `ssl-max-ver`).
pub trait TlsRange {
    fn tls_range(&mut self) -> (&mut Option<TlsVersion>, &mut Option<TlsVersion>);
}

impl TlsRange for BindOptions {
    fn tls_range(&mut self) -> (&mut Option<TlsVersion>, &mut Option<TlsVersion>) {
        (&mut self.ssl_min_ver, &mut self.ssl_max_ver)
    }
}

impl TlsRange for ServerOptions {
    fn tls_range(&mut self) -> (&mut Option<TlsVersion>, &mut Option<TlsVersion>) {
        (&mut self.ssl_min_ver, &mut self.ssl_max_ver)
    }
}

/// The version after `ssl-min-ver`/`ssl-max-ver`.
fn tls_version_arg(c: &OptCtx) -> Result<TlsVersion, Diagnostic> {
    let stop = c.line.stop;
    let v = c.arg(&format!("missing the ssl/tls version{stop}"))?;
    parse_tls_version(v).ok_or_else(|| c.err_arg(format!("'{v}' : unknown ssl/tls version{stop}")))
}

/// `ssl-min-ver VER`.
pub fn ssl_min_ver<T: TlsRange>(o: &mut T, c: &OptCtx) -> Result<(), Diagnostic> {
    *o.tls_range().0 = Some(tls_version_arg(c)?);
    Ok(())
}

/// `ssl-max-ver VER`.
pub fn ssl_max_ver<T: TlsRange>(o: &mut T, c: &OptCtx) -> Result<(), Diagnostic> {
    *o.tls_range().1 = Some(tls_version_arg(c)?);
    Ok(())
}

/// `force-VER` is HAProxy's old spelling of `ssl-min-ver VER ssl-max-ver VER`.
pub fn force_tls<T: TlsRange>(o: &mut T, c: &OptCtx) -> Result<(), Diagnostic> {
    if let Some(v) = c.kw().strip_prefix("force-").and_then(tls_version_suffix) {
        let (min, max) = o.tls_range();
        *min = Some(v);
        *max = Some(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::haproxy::bind::test_util::*;

    #[derive(Default)]
    struct Toy {
        flag: bool,
        value: Option<String>,
    }

    static TOY: &[OptKeyword<Toy>] = &[
        kw("flag", 0, |o, _| {
            o.flag = true;
            Ok(())
        }),
        kw("value", 1, |o, c| {
            o.value = Some(c.arg("missing value")?.to_string());
            Ok(())
        }),
        not_default(kw("only-here", 0, |_, _| Ok(()))),
        no("later", 1),
    ];

    fn line(default_server: bool) -> OptLine<'static> {
        OptLine {
            section: "toy",
            prefix: "'toy t' : ".into(),
            name: "t",
            stop: ".",
            unknown_hint: if default_server { " Hint." } else { "" },
            default_server,
        }
    }

    fn run(text: &str, default_server: bool) -> (Toy, Diagnostics, Outcome) {
        let w = words(text);
        let mut d = Diagnostics::new();
        let mut o = Toy::default();
        let out = parse_options(
            TOY,
            Args::new(FILE, 1, &w),
            2,
            &mut o,
            &mut d,
            &line(default_server),
        );
        (o, d, out)
    }

    #[test]
    fn options_are_read_by_their_argument_counts() {
        let (o, d, out) = run("toy t value flag flag", false);
        assert!(d.is_empty());
        assert_eq!(out, Outcome::Clean);
        assert_eq!((o.flag, o.value.as_deref()), (true, Some("flag")));
    }

    #[test]
    fn unknown_keywords_stop_the_line_with_a_suggestion() {
        let (o, d, out) = run("toy t flgg flag", false);
        assert_eq!(out, Outcome::Stopped);
        assert!(!o.flag);
        let w = words("toy t flgg flag");
        assert_eq!(
            first_error(&d, &w),
            Some((
                2,
                "'toy t' : unknown keyword 'flgg'; did you mean 'flag' maybe ?".into()
            ))
        );
        let (_, d, _) = run("toy t zz", true);
        assert_eq!(
            d.errors().next().unwrap().message,
            "'toy t' : unknown keyword 'zz'. Hint."
        );
    }

    #[test]
    fn refusals_are_data() {
        let (_, d, out) = run("toy t later x value", false);
        assert_eq!(out, Outcome::Refused);
        let msgs: Vec<_> = d.iter().map(|x| x.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "'toy later' is recognised but not supported by rsproxy yet",
                "'toy t' : 'value' : missing value"
            ]
        );
        let (_, d, out) = run("toy t only-here flag", true);
        assert_eq!(out, Outcome::Clean);
        assert!(!d.has_errors());
        assert!(d.iter().any(|x| x
            .message
            .contains("'only-here' option is not accepted in default-server sections")));
    }
}
