//! haproxy.cfg → IR.
//!
//! Files are read in the order given (a directory contributes its non-hidden `*.cfg` files
//! in C-locale order, as `haproxy -f DIR` does). Each file is split into lines of words by
//! [`lexer`], then every line is dispatched by the section it is in: a section keyword opens
//! a section; any other word is looked up in that section's keyword table ([`global`],
//! [`proxy`], [`aux`]). After the last file, [`validate`] resolves names and inheritance
//! over the whole configuration.
//!
//! Invariant: no problem stops the parse. Each is a diagnostic with a span; the caller reads
//! the verdict off the diagnostics.

pub mod acl;
pub mod aux;
pub mod bind;
pub mod cond;
pub mod errorfile;
pub mod global;
pub mod httpcheck;
pub mod kw;
pub mod lexer;
pub mod logformat;
pub mod optable;
pub mod options;
pub mod proxy;
pub mod rules;
pub mod server;
pub mod validate;

use crate::ir::haproxy::{Config, Defaults, Proxy, ProxyKind, ProxySettings};
use crate::{diag, Diagnostic, Diagnostics, Dialect, Env, FileId, SourceMap, Span, Spanned};
use kw::{Args, Support};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The section keywords HAProxy 2.6 knows, and whether rsproxy carries each out.
pub const SECTIONS: &[(&str, Support)] = &[
    ("global", Support::Yes),
    ("defaults", Support::Yes),
    ("frontend", Support::Yes),
    ("backend", Support::Yes),
    ("listen", Support::Yes),
    ("userlist", Support::Yes),
    ("http-errors", Support::Yes),
    ("peers", Support::No),
    ("resolvers", Support::No),
    ("cache", Support::No),
    ("program", Support::No),
    ("ring", Support::No),
    ("mailers", Support::No),
    ("fcgi-app", Support::No),
];

/// Which section the lines being read belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    /// Before the first section keyword of a file.
    None,
    Global,
    /// Index into `Builder::defaults`.
    Defaults(usize),
    /// Index into `Config::proxies`.
    Proxy(usize),
    Userlist(usize),
    HttpErrors(usize),
    /// A section rsproxy recognises but does not support (already reported at its header).
    Unsupported,
    /// A proxy whose header line was invalid: HAProxy rejects each line of its body.
    Broken,
}

/// Accumulates the IR while lines are read.
struct Builder {
    config: Config,
    section: Section,
    /// The `defaults` section later proxies inherit from (the last one seen).
    current_defaults: Option<usize>,
    /// Proxy indices by name, for the duplicate check without a scan per proxy.
    by_name: HashMap<String, Vec<usize>>,
    /// For the variables HAProxy expands inside addresses (see [`expand_address_vars`]).
    env: Env,
}

impl Builder {
    fn new() -> Self {
        Builder {
            config: Config::default(),
            section: Section::None,
            current_defaults: None,
            by_name: HashMap::new(),
            env: Env::empty(),
        }
    }
}

/// Reads and parses `paths` (files or directories) into one configuration.
pub fn parse_paths(
    paths: &[PathBuf],
    env: &Env,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Config {
    let mut b = Builder::new();
    for path in expand_paths(paths, sources, diags) {
        let file = match sources.load(&path) {
            Ok(f) => f,
            Err(e) => {
                let f = sources.add(&path, String::new());
                diags.push(Diagnostic::error(
                    Dialect::Haproxy,
                    Span::new(f, 0, 0),
                    format!(
                        "Could not open configuration file {} : {}",
                        path.display(),
                        io_reason(&e)
                    ),
                ));
                continue;
            }
        };
        let name = path.display().to_string();
        let text = sources
            .get(file)
            .map(|f| f.text.as_str())
            .unwrap_or_default();
        b.file(file, &name, text, env, diags);
    }
    let mut config = b.config;
    validate::validate(&mut config, diags);
    config
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

/// Files in argument order; a directory gives its non-hidden `*.cfg` files sorted bytewise.
fn expand_paths(
    paths: &[PathBuf],
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        match std::fs::read_dir(p) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|f| is_cfg_file(f))
                    .collect();
                files.sort_by(|a, b| {
                    a.as_os_str()
                        .as_encoded_bytes()
                        .cmp(b.as_os_str().as_encoded_bytes())
                });
                out.extend(files);
            }
            Err(e) => {
                let f = sources.add(p, String::new());
                diags.push(Diagnostic::error(
                    Dialect::Haproxy,
                    Span::new(f, 0, 0),
                    format!(
                        "Cannot open configuration directory {} : {}",
                        p.display(),
                        io_reason(&e)
                    ),
                ));
            }
        }
    }
    out
}

fn is_cfg_file(p: &Path) -> bool {
    let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.') && name.ends_with(".cfg") && p.is_file()
}

impl Builder {
    /// Reads one file's lines. Every file starts outside any section, as in HAProxy.
    fn file(&mut self, file: FileId, name: &str, text: &str, env: &Env, diags: &mut Diagnostics) {
        self.section = Section::None;
        self.env = env.clone();
        for line in &lexer::tokenize_file(file, name, text, env, diags) {
            let expanded = expand_address_vars(&line.words, &self.env);
            let words = expanded.as_deref().unwrap_or(&line.words);
            // An empty word ("") ends the argument list, as in HAProxy.
            let words = match words.iter().skip(1).position(|w| w.text.is_empty()) {
                Some(i) => &words[..=i],
                None => words,
            };
            self.line(Args::new(file, line.line, words), diags);
        }
    }

    fn line(&mut self, args: Args, diags: &mut Diagnostics) {
        let first = args.at(0);
        if let Some((name, support)) = SECTIONS.iter().find(|(n, _)| *n == first) {
            self.open_section(name, *support, args, diags);
            return;
        }
        match self.section {
            Section::None => {
                diags.push(args.error(0, format!("unknown keyword '{first}' out of section.")))
            }
            Section::Global => global::parse_line(&mut self.config.global, args, diags),
            Section::Defaults(i) => {
                if let Some(d) = self.config.defaults.get_mut(i) {
                    let named = d.name.is_some();
                    let mut scratch = defaults_scratch(d);
                    let stats = args.at(0) == "stats";
                    let span = args.span(0);
                    let before = diags.len();
                    proxy::parse_line(
                        &mut scratch,
                        proxy::Context::Defaults { named },
                        args,
                        diags,
                    );
                    // HAProxy's proxies inherit a defaults section's stats page; rsproxy does
                    // not carry it over yet, so the line is refused rather than dropped.
                    let refused = diags
                        .iter()
                        .skip(before)
                        .any(|d| d.severity == diag::Severity::Error);
                    if stats && !refused {
                        diags.push(Diagnostic::error(
                            Dialect::Haproxy,
                            span,
                            "'stats' in a 'defaults' section is recognised but not supported by rsproxy yet",
                        ));
                    }
                    d.settings = scratch.settings;
                }
            }
            Section::Proxy(i) => {
                if let Some(p) = self.config.proxies.get_mut(i) {
                    let kind = p.kind;
                    proxy::parse_line(p, proxy::Context::Proxy(kind), args, diags);
                }
            }
            Section::Userlist(i) => {
                if let Some(u) = self.config.userlists.get_mut(i) {
                    aux::parse_userlist_line(u, args, diags);
                }
            }
            Section::HttpErrors(i) => {
                if let Some(h) = self.config.http_errors.get_mut(i) {
                    aux::parse_http_errors_line(h, args, diags);
                }
            }
            Section::Unsupported => {}
            Section::Broken => diags.push(args.error(0, "'listen' or 'defaults' expected.")),
        }
    }

    fn open_section(&mut self, name: &str, support: Support, args: Args, diags: &mut Diagnostics) {
        if support == Support::No {
            diags.push(kw::unsupported(args.span(0), name));
            self.section = Section::Unsupported;
            return;
        }
        self.section = match name {
            "global" => {
                if args.len() > 1 {
                    diags.push(args.error(
                        1,
                        "'global' cannot handle unexpected argument '".to_string()
                            + args.at(1)
                            + "'.",
                    ));
                }
                Section::Global
            }
            "defaults" => self.open_defaults(args, diags),
            "frontend" | "backend" | "listen" => self.open_proxy(name, args, diags),
            "userlist" => match aux::open_userlist(args, diags) {
                Some(u) => {
                    self.config.userlists.push(u);
                    Section::Userlist(self.config.userlists.len() - 1)
                }
                None => Section::Unsupported,
            },
            "http-errors" => match aux::open_http_errors(args, diags) {
                Some(h) => {
                    self.config.http_errors.push(h);
                    Section::HttpErrors(self.config.http_errors.len() - 1)
                }
                None => Section::Unsupported,
            },
            _ => Section::Unsupported,
        };
    }

    /// `defaults [NAME] [from DEFAULTS]`
    fn open_defaults(&mut self, args: Args, diags: &mut Diagnostics) -> Section {
        let (name, from) = match args.len() {
            1 => (None, None),
            2 => (Some(1), None),
            _ if args.at(1) == "from" => (None, Some(2)),
            _ if args.at(2) == "from" => (Some(1), Some(3)),
            _ => {
                diags.push(args.error(
                    2,
                    format!(
                        "'defaults' cannot handle unexpected argument '{}'.",
                        args.at(2)
                    ),
                ));
                (Some(1), None)
            }
        };
        if let Some(i) = name {
            if let Some(c) = kw::invalid_name_char(args.at(i)) {
                diags.push(args.error(
                    i,
                    format!(
                        "character '{c}' is not permitted in 'defaults' name '{}'.",
                        args.at(i)
                    ),
                ));
            }
        }
        let from = from.and_then(|i| match args.get(i) {
            Some(n) => Some(Spanned::new(n.to_string(), args.span(i))),
            None => {
                diags.push(args.error(i, "'defaults' expects a name after 'from'."));
                None
            }
        });
        let mut settings = ProxySettings::default();
        // A defaults section starts from the one it names, or from nothing.
        if let Some(f) = &from {
            match self
                .config
                .defaults
                .iter()
                .rev()
                .find(|d| d.name.as_ref().map(|n| n.node.as_str()) == Some(f.node.as_str()))
            {
                Some(parent) => settings = parent.settings.clone(),
                None => diags.push(Diagnostic::error(
                    Dialect::Haproxy,
                    f.span,
                    format!(
                        "defaults section '{}': unable to find defaults section '{}'.",
                        name.map(|i| args.at(i)).unwrap_or(""),
                        f.node
                    ),
                )),
            }
        }
        self.config.defaults.push(Defaults {
            name: name.map(|i| Spanned::new(args.at(i).to_string(), args.span(i))),
            from,
            span: args.line_span(),
            settings,
        });
        let idx = self.config.defaults.len() - 1;
        self.current_defaults = Some(idx);
        Section::Defaults(idx)
    }

    /// `frontend|backend|listen NAME [from DEFAULTS]`
    fn open_proxy(&mut self, keyword: &str, args: Args, diags: &mut Diagnostics) -> Section {
        let kind = match keyword {
            "frontend" => ProxyKind::Frontend,
            "backend" => ProxyKind::Backend,
            _ => ProxyKind::Listen,
        };
        let Some(name) = args.get(1) else {
            diags.push(args.error(0, format!("'{keyword}' expects an <id> argument")));
            return Section::Broken;
        };
        if let Some(c) = kw::invalid_name_char(name) {
            diags.push(args.error(
                1,
                format!("character '{c}' is not permitted in '{keyword}' name '{name}'."),
            ));
        }
        let mut from = None;
        if args.len() > 2 {
            if args.at(2) == "from" {
                match args.get(3) {
                    Some(d) => from = Some(Spanned::new(d.to_string(), args.span(3))),
                    None => diags.push(args.error(
                        2,
                        format!("'{keyword} {name}' : 'from' expects a defaults section name."),
                    )),
                }
            } else {
                // HAProxy 1.x put the listening address here; 2.x rejects it and then every
                // line of the section, since the proxy was not created.
                diags.push(args.error(2, "please use the 'bind' keyword for listening addresses."));
                return Section::Broken;
            }
        }
        // Duplicate names among proxies sharing a capability.
        let same_name = self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(prev) = same_name
            .iter()
            .filter_map(|&i| self.config.proxies.get(i))
            .find(|p| {
                (p.kind.has_frontend() && kind.has_frontend())
                    || (p.kind.has_backend() && kind.has_backend())
            })
        {
            diags.push(args.error(
                1,
                format!(
                    "{keyword} '{name}' has the same name as {} '{name}' declared at line {}.",
                    prev.kind.keyword(),
                    prev.span.line
                ),
            ));
        }
        let defaults = match &from {
            Some(f) => {
                let found = self.config.defaults.iter().rposition(|d| {
                    d.name.as_ref().map(|n| n.node.as_str()) == Some(f.node.as_str())
                });
                if found.is_none() {
                    diags.push(Diagnostic::error(
                        Dialect::Haproxy,
                        f.span,
                        format!(
                            "{keyword} '{name}': unable to find defaults section '{}'.",
                            f.node
                        ),
                    ));
                }
                found
            }
            None => self.current_defaults,
        };
        let settings = defaults
            .and_then(|i| self.config.defaults.get(i))
            .map(|d| d.settings.clone())
            .unwrap_or_default();
        let from = from.or_else(|| {
            defaults
                .and_then(|i| self.config.defaults.get(i))
                .and_then(|d| d.name.clone())
        });
        self.config.proxies.push(new_proxy(
            kind,
            Spanned::new(name.to_string(), args.span(1)),
            from,
            args.line_span(),
            settings,
        ));
        let idx = self.config.proxies.len() - 1;
        self.by_name.entry(name.to_string()).or_default().push(idx);
        Section::Proxy(idx)
    }
}

pub(crate) fn new_proxy(
    kind: ProxyKind,
    name: Spanned<String>,
    from: Option<Spanned<String>>,
    span: Span,
    settings: ProxySettings,
) -> Proxy {
    Proxy {
        kind,
        name,
        from,
        span,
        settings,
        binds: Vec::new(),
        servers: Vec::new(),
        acls: Vec::new(),
        rejected_acls: Vec::new(),
        use_backends: Vec::new(),
        default_backend: None,
        use_servers: Vec::new(),
        persist_rules: Vec::new(),
        redirects: Vec::new(),
        http_request: Vec::new(),
        http_response: Vec::new(),
        stats: Default::default(),
        disabled: None,
        description: None,
        id: None,
    }
}

/// A proxy value to parse a defaults section's lines into (it has every capability).
fn defaults_scratch(d: &Defaults) -> Proxy {
    let name = d
        .name
        .clone()
        .unwrap_or_else(|| Spanned::new(String::new(), d.span));
    new_proxy(ProxyKind::Listen, name, None, d.span, d.settings.clone())
}

/// HAProxy's address parser expands `$NAME` and `${NAME}` itself, even outside quotes
/// (`bind $ADDR:8080`); an unset variable expands to nothing. Returns the line's words with
/// the address of a `bind` or `server` line expanded, or `None` when there is nothing to do.
fn expand_address_vars(words: &[lexer::Word], env: &Env) -> Option<Vec<lexer::Word>> {
    let at = match words.first().map(|w| w.text.as_str()) {
        Some("bind") => 1,
        Some("server") => 2,
        _ => return None,
    };
    let word = words.get(at).filter(|w| w.text.contains('$'))?;
    let mut out = String::new();
    let mut rest = word.text.as_str();
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        out.push_str(env.get(name).unwrap_or(""));
        rest = tail;
    }
    out.push_str(rest);
    let mut v = words.to_vec();
    v[at].text = out;
    Some(v)
}

/// Every keyword rsproxy knows in haproxy.cfg, by where it is used, with its support status:
/// the source of the README's supported-keyword table.
pub fn keyword_table() -> Vec<(String, &'static str, Support)> {
    let mut out: Vec<(String, &'static str, Support)> = Vec::new();
    out.extend(
        SECTIONS
            .iter()
            .map(|(n, s)| ("section".to_string(), *n, *s)),
    );
    out.extend(
        global::keyword_names()
            .into_iter()
            .map(|(n, s)| ("global".to_string(), n, s)),
    );
    out.extend(
        proxy::keyword_names()
            .into_iter()
            .map(|(n, s)| ("proxy".to_string(), n, s)),
    );
    out.extend(
        options::keyword_names()
            .into_iter()
            .map(|(c, n, s)| (c.to_string(), n, s)),
    );
    for (c, n, s) in bind::keyword_names()
        .into_iter()
        .chain(server::keyword_names())
        .chain(acl::keyword_names())
        .chain(rules::keyword_names())
        .chain(aux::keyword_names())
    {
        out.push((c.to_string(), n, s));
    }
    out
}

/// The "did you mean" help for an unknown word among `candidates`.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    diag::best_match(word, candidates).map(|m| format!("did you mean '{m}' maybe ?"))
}

/// For tests: parse a configuration given as text.
pub fn parse_str(text: &str, env: &Env) -> (Config, Diagnostics, SourceMap) {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let file: FileId = sources.add("test.cfg", text.to_string());
    let mut b = Builder::new();
    b.file(file, "test.cfg", text, env, &mut diags);
    let mut config = b.config;
    validate::validate(&mut config, &mut diags);
    (config, diags, sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<lexer::Word> {
        s.split_whitespace()
            .enumerate()
            .map(|(i, w)| lexer::Word {
                text: w.into(),
                col: i as u32 + 1,
            })
            .collect()
    }

    /// Checked against haproxy 2.6.12: `bind $A:8080` binds 127.0.0.1 with A set and all
    /// addresses with A unset; `${A}` works in a server address too.
    #[test]
    fn addresses_expand_variables_even_unquoted() {
        let env = Env::empty().with("A", "127.0.0.1");
        let got = |s: &str, env: &Env| {
            expand_address_vars(&words(s), env)
                .map(|w| w.iter().map(|w| w.text.clone()).collect::<Vec<_>>())
        };
        assert_eq!(
            got("bind $A:8080", &env),
            Some(vec!["bind".into(), "127.0.0.1:8080".into()])
        );
        assert_eq!(
            got("server s ${A}:80 check", &env).map(|w| w[2].clone()),
            Some("127.0.0.1:80".into())
        );
        assert_eq!(
            got("bind $A:8080", &Env::empty()).map(|w| w[1].clone()),
            Some(":8080".into())
        );
        assert_eq!(got("bind :80", &env), None);
        assert_eq!(got("acl x $A", &env), None);
    }

    /// description: `stats` in a defaults section (HAProxy's proxies inherit it) is refused at
    /// its line, not dropped; its own syntax errors are reported as such.
    #[test]
    fn stats_in_defaults_is_refused() {
        let (_, diags, _) = parse_str(
            "defaults\n  mode http\n  stats enable\n  stats bogus\nlisten a\n  bind :80\n",
            &Env::empty(),
        );
        let errors: Vec<(u32, &str)> = diags
            .iter()
            .filter(|d| d.severity == diag::Severity::Error)
            .map(|d| (d.span.line, d.message.as_str()))
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].0, 3);
        assert!(kw::is_unsupported(&diags.iter().next().cloned().unwrap()));
        assert_eq!(errors[1].0, 4);
        assert!(errors[1].1.starts_with("'stats' expects"), "{errors:?}");
    }

    #[test]
    fn a_directory_is_read_in_byte_order_and_sections_end_with_files() {
        let dir = std::env::temp_dir().join(format!("rsproxy-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("b.cfg"), "  timeout client 5s\n").unwrap();
        std::fs::write(dir.join("a.cfg"), "defaults\n  mode http\n").unwrap();
        std::fs::write(dir.join(".hidden.cfg"), "bogus\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "bogus\n").unwrap();
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        parse_paths(
            std::slice::from_ref(&dir),
            &Env::empty(),
            &mut sources,
            &mut diags,
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let errs: Vec<_> = diags
            .errors()
            .map(|d| (sources.name(d.span.file), d.span.line, d.message.clone()))
            .collect();
        // b.cfg starts outside any section, as in HAProxy; the hidden and .txt files are not read.
        assert!(
            errs.iter()
                .any(|(f, l, m)| f.ends_with("b.cfg") && *l == 1 && m.contains("out of section")),
            "{errs:?}"
        );
        assert!(
            !errs
                .iter()
                .any(|(f, _, _)| f.contains("hidden") || f.contains("notes")),
            "{errs:?}"
        );
    }
}
