//! What every keyword parser shares: the words of one line with their positions ([`Args`]),
//! the support status of a keyword ([`Support`]), and HAProxy's value syntaxes (durations,
//! sizes, integers, ports).

use super::lexer::Word;
use crate::ir::{Duration, Size};
use crate::{Diagnostic, Dialect, FileId, Span};

/// Whether rsproxy carries out a keyword or only recognises it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Parsed into the IR; the runtime acts on it.
    Yes,
    /// Known to HAProxy, parsed far enough to skip, and reported as an error: rsproxy does
    /// not do what it asks yet, and silently ignoring it would change behaviour.
    No,
}

/// The error for a keyword rsproxy recognises but does not carry out.
pub fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        Dialect::Haproxy,
        span,
        format!("'{what}' is recognised but not supported by rsproxy yet"),
    )
}

/// Whether `d` is the error of [`unsupported`] (HAProxy would have accepted the line).
pub fn is_unsupported(d: &Diagnostic) -> bool {
    d.message
        .ends_with("is recognised but not supported by rsproxy yet")
}

/// The words of one configuration line and where they are.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a> {
    pub file: FileId,
    pub line: u32,
    pub words: &'a [Word],
}

impl<'a> Args<'a> {
    pub fn new(file: FileId, line: u32, words: &'a [Word]) -> Self {
        Args { file, line, words }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The text of word `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.words.get(i).map(|w| w.text.as_str())
    }

    /// The text of word `i`, or "" past the end.
    pub fn at(&self, i: usize) -> &'a str {
        self.get(i).unwrap_or("")
    }

    /// Where word `i` starts; past the end, the end of the line's last word.
    pub fn span(&self, i: usize) -> Span {
        let col = match self.words.get(i) {
            Some(w) => w.col,
            None => self
                .words
                .last()
                .map(|w| w.col + w.text.len() as u32)
                .unwrap_or(1),
        };
        Span::new(self.file, self.line, col)
    }

    /// The span of the whole line (its first word).
    pub fn line_span(&self) -> Span {
        self.span(0)
    }

    /// The words from `i` on.
    pub fn from(&self, i: usize) -> Args<'a> {
        let words = self.words.get(i..).unwrap_or(&[]);
        // Keep positions meaningful for "missing argument" errors past the end.
        if words.is_empty() {
            return Args {
                file: self.file,
                line: self.line,
                words: &self.words[self.words.len()..],
            };
        }
        Args {
            file: self.file,
            line: self.line,
            words,
        }
    }

    pub fn error(&self, i: usize, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::error(Dialect::Haproxy, self.span(i), msg)
    }

    pub fn warning(&self, i: usize, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(Dialect::Haproxy, self.span(i), msg)
    }

    /// Word `i`, or an error saying what `keyword` expects there.
    pub fn require(&self, i: usize, keyword: &str, expects: &str) -> Result<&'a str, Diagnostic> {
        match self.get(i) {
            Some(w) if !w.is_empty() => Ok(w),
            _ => Err(self.error(i, format!("'{keyword}' expects {expects}."))),
        }
    }

    /// Parses word `i` as a duration with the given default unit.
    pub fn duration(
        &self,
        i: usize,
        keyword: &str,
        unit: TimeUnit,
    ) -> Result<Duration, Diagnostic> {
        let w = self.require(i, keyword, "an integer <time> argument")?;
        parse_duration(w, unit).map_err(|e| self.error(i, format!("'{keyword}': {e}")))
    }

    /// Parses word `i` as an unsigned integer no larger than `max`.
    pub fn uint(&self, i: usize, keyword: &str, max: u64) -> Result<u64, Diagnostic> {
        let w = self.require(i, keyword, "an integer argument")?;
        match parse_uint(w) {
            Some(n) if n <= max => Ok(n),
            Some(_) => Err(self.error(
                i,
                format!("'{keyword}' : value '{w}' is out of range (max {max})."),
            )),
            None => Err(self.error(
                i,
                format!("'{keyword}' expects an integer argument, not '{w}'."),
            )),
        }
    }
}

/// The default unit of a duration when it has no suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Micros,
    Millis,
    Seconds,
}

/// `time = digits [ "us" | "ms" | "s" | "m" | "h" | "d" ]`
///
/// HAProxy's time format (configuration manual, section 2.5). Returns a message on error.
pub fn parse_duration(s: &str, default: TimeUnit) -> Result<Duration, String> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits_end == 0 {
        return Err(format!(
            "unexpected character '{}' in time value '{s}'",
            s.chars().next().unwrap_or(' ')
        ));
    }
    let n: u64 = s[..digits_end]
        .parse()
        .map_err(|_| format!("time value '{s}' is too large"))?;
    let unit = &s[digits_end..];
    let micros_per = match unit {
        "" => match default {
            TimeUnit::Micros => 1,
            TimeUnit::Millis => 1_000,
            TimeUnit::Seconds => 1_000_000,
        },
        "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => {
            return Err(format!(
                "unexpected character '{}' in time value '{s}'",
                unit.chars().next().unwrap_or(' ')
            ))
        }
    };
    let micros = n
        .checked_mul(micros_per)
        .ok_or_else(|| format!("time value '{s}' is too large"))?;
    // HAProxy keeps timers in milliseconds in a signed 32-bit integer.
    if micros / 1000 > i32::MAX as u64 {
        return Err(format!(
            "timer overflow in argument '{s}' (maximum value is 2147483647 ms or ~24.8 days)"
        ));
    }
    Ok(Duration::from_micros(micros))
}

/// A duration as HAProxy 2.6 reads `timeout` values and server delays: a valid value
/// followed by other characters (`5sec`, `5ms5`) is accepted, with the warning HAProxy gives,
/// returned as the second member.
pub fn parse_duration_lenient(
    s: &str,
    default: TimeUnit,
) -> Result<(Duration, Option<String>), String> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let rest = &s[digits_end..];
    let unit_len = ["us", "ms", "s", "m", "h", "d"]
        .iter()
        .find(|u| rest.starts_with(*u))
        .map(|u| u.len());
    match unit_len {
        Some(n) if n < rest.len() && digits_end > 0 => {
            let d = parse_duration(&s[..digits_end + n], default)?;
            let c = rest[n..].chars().next().unwrap_or(' ');
            Ok((
                d,
                Some(format!(
                    "unexpected character '{c}' after the timer value '{s}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions."
                )),
            ))
        }
        _ => parse_duration(s, default).map(|d| (d, None)),
    }
}

/// `size = digits [ "k" | "K" | "m" | "M" | "g" | "G" ]` (powers of 1024).
pub fn parse_size(s: &str) -> Option<Size> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits_end == 0 {
        return None;
    }
    let n: u64 = s[..digits_end].parse().ok()?;
    let mul = match &s[digits_end..] {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mul).map(Size)
}

/// A plain unsigned decimal integer.
pub fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Whether a proxy or server name uses only the characters HAProxy allows
/// (letters, digits, '-', '_', '.', ':').
pub fn invalid_name_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
}

/// C `atol`: optional sign, then leading digits; stops at the first other character,
/// 0 when there are no digits. Saturates instead of overflowing.
pub fn atol(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// An integer as HAProxy reads many of its counts (C `atol`): leading digits count and
/// anything else reads as 0, so HAProxy accepts `maxconn abc`. rsproxy accepts it too, to
/// keep the same verdict, but warns.
pub fn lax_u32(a: Args, i: usize, d: &mut crate::Diagnostics) -> Option<crate::Spanned<u32>> {
    let Some(w) = a.get(i) else {
        d.push(a.error(0, format!("'{}' expects an integer argument.", a.at(0))));
        return None;
    };
    let n = atol(w).clamp(0, i64::from(u32::MAX)) as u32;
    if parse_uint(w).is_none() {
        d.push(a.warning(
            i,
            format!(
                "'{}' : '{w}' is not a plain integer; it is read as {n}, as HAProxy does.",
                a.at(0)
            ),
        ));
    }
    Some(crate::Spanned::new(n, a.span(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_haproxy_units() {
        let ms = |s| parse_duration(s, TimeUnit::Millis).map(|d| d.micros);
        assert_eq!(ms("5000"), Ok(5_000_000));
        assert_eq!(ms("5s"), Ok(5_000_000));
        assert_eq!(ms("1m"), Ok(60_000_000));
        assert_eq!(ms("2h"), Ok(7_200_000_000));
        assert_eq!(ms("1d"), Ok(86_400_000_000));
        assert_eq!(ms("10us"), Ok(10));
        assert!(ms("5x").is_err());
        assert!(ms("").is_err());
        assert!(ms("s").is_err());
        assert!(ms("30d").is_err());
        assert!(ms("99999999999999999999999").is_err());
        assert_eq!(
            parse_duration("3", TimeUnit::Seconds).map(|d| d.micros),
            Ok(3_000_000)
        );
    }

    /// Checked against haproxy 2.6.12: `5sec` and `5ms5` warn, `5x` is an error.
    #[test]
    fn lenient_durations_warn_on_trailing_characters() {
        let (d, w) = parse_duration_lenient("5sec", TimeUnit::Millis).unwrap();
        assert_eq!(d.as_millis(), 5000);
        assert!(w
            .unwrap()
            .starts_with("unexpected character 'e' after the timer value '5sec'"));
        let (d, w) = parse_duration_lenient("5ms5", TimeUnit::Millis).unwrap();
        assert_eq!((d.as_millis(), w.is_some()), (5, true));
        assert_eq!(
            parse_duration_lenient("5s", TimeUnit::Millis).unwrap().1,
            None
        );
        assert!(parse_duration_lenient("5x", TimeUnit::Millis).is_err());
        assert!(parse_duration_lenient("sec", TimeUnit::Millis).is_err());
    }

    #[test]
    fn sizes_are_powers_of_1024() {
        assert_eq!(parse_size("16384"), Some(Size(16384)));
        assert_eq!(parse_size("16k"), Some(Size(16384)));
        assert_eq!(parse_size("1M"), Some(Size(1 << 20)));
        assert_eq!(parse_size("1x"), None);
        assert_eq!(parse_size("k"), None);
    }
}
