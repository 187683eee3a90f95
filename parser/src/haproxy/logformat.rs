//! Log-format strings (`log-format`, `unique-id-format`): checked once at parse time, as
//! HAProxy checks them.
//!
//! Grammar (configuration manual 8.2.6):
//! `fmt = { literal | "%%" | "%" [ "{" flags "}" ] ( var | "[" sample "]" ) }`
//! where `var` is a run of ASCII letters naming one of HAProxy's log variables.

use super::acl;

/// HAProxy 2.6's log-format variables (configuration manual, section 8.2.6).
pub const VARIABLES: &[&str] = &[
    "B", "CC", "CS", "H", "HM", "HP", "HPO", "HQ", "HU", "HV", "ID", "ST", "T", "TR", "Ta", "Tc",
    "Td", "Th", "Ti", "Tl", "Tq", "Tr", "Ts", "Tt", "Tu", "Tw", "U", "ac", "b", "bc", "bi", "bp",
    "bq", "ci", "cp", "f", "fc", "fi", "fp", "ft", "hr", "hrl", "hs", "hsl", "lc", "ms", "o",
    "pid", "r", "rc", "rt", "s", "sc", "si", "sp", "sq", "sslc", "sslv", "t", "tr", "trg", "trl",
    "ts", "tsc",
];

/// Checks a log-format string; the error is HAProxy's message (after its
/// "failed to parse log-format : " prefix, which the caller adds).
pub fn check(fmt: &str) -> Result<(), String> {
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        let percent = i;
        i += 1;
        match b.get(i) {
            None => return Err("truncated line after '%'.".into()),
            Some(b'%') => {
                i += 1;
                continue;
            }
            _ => {}
        }
        if b.get(i) == Some(&b'{') {
            match fmt[i..].find('}') {
                Some(end) => i += end + 1,
                None => {
                    return Err(format!(
                        "missing '}}' after '%{{' near '{}'.",
                        &fmt[percent..]
                    ))
                }
            }
            if i >= b.len() || !(b[i].is_ascii_alphabetic() || b[i] == b'[') {
                return Err(format!(
                    "parse argument modifier without variable name near '{}'.",
                    &fmt[percent..i]
                ));
            }
        }
        if b.get(i) == Some(&b'[') {
            let inner = &fmt[i + 1..];
            let Some(end) = sample_end(inner) else {
                // HAProxy parses the expression first, so its error comes before this one.
                acl::parse_sample(inner, acl::SampleContext::Expr)
                    .map_err(|m| format!("failed to parse sample expression <{inner}> : {m}."))?;
                return Err(format!("missing ']' after '{inner}'."));
            };
            if end == 0 {
                return Err("failed to parse sample expression <]> : missing fetch method.".into());
            }
            let parsed = acl::parse_sample(&inner[..end], acl::SampleContext::Expr)
                .map_err(|m| format!("failed to parse sample expression <{inner}> : {m}."))?;
            if let Some(what) = parsed.unsupported.first() {
                return Err(format!(
                    "'{what}' is recognised but not supported by rsproxy yet"
                ));
            }
            i += end + 2;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let var = &fmt[start..i];
        if var.is_empty() {
            let near: String = fmt[start..].chars().take(1).collect();
            return Err(format!(
                "unexpected variable name near '{near}' at position {} line : '{fmt}'. Maybe you want to write a single '%', use the syntax '%%'.",
                start
            ));
        }
        if !VARIABLES.contains(&var) {
            return Err(format!(
                "no such format variable '{var}'. If you wanted to emit the '%' character verbatim, you need to use '%%'."
            ));
        }
    }
    Ok(())
}

/// Where the sample expression at the start of `s` ends: the first `]` outside converter
/// arguments (so `regsub(:[0-9]+$,)` stays whole).
pub fn sample_end(s: &str) -> Option<usize> {
    let mut depth = 0u32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ']' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The HAProxy httplog format, and the error case checked against haproxy 2.6.12.
    #[test]
    fn formats() {
        assert!(check("%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r").is_ok());
        assert!(check("100%% %[src] %[req.hdr(host),lower]").is_ok());
        assert!(check("plain %% text %[src] %{+Q}[req.hdr(host),lower] %ci").is_ok());
        assert!(check("%[req.hdr(host),lower,regsub(:[0-9]+$,)]").is_ok());
        assert!(check("%[nope]").is_err());
        assert!(check("%[path").is_err());
        assert_eq!(
            check("%ci %zz"),
            Err("no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'.".into())
        );
        // Each checked against haproxy 2.6.12.
        assert_eq!(check("%[src"), Err("missing ']' after 'src'.".into()));
        assert!(check("50% off")
            .unwrap_err()
            .starts_with("unexpected variable name near ' ' at position 3"));
        assert_eq!(check("%"), Err("truncated line after '%'.".into()));
        assert_eq!(
            check("%{+Q}"),
            Err("parse argument modifier without variable name near '%{+Q}'.".into())
        );
        assert_eq!(
            check("%[]"),
            Err("failed to parse sample expression <]> : missing fetch method.".into())
        );
    }
}
