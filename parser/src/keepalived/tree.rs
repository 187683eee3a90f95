//! Tokens → a tree of statements, with no knowledge of keywords.
//!
//! Grammar (one statement per logical line, braces may also sit on the next line or share a
//! line with other statements, as keepalived accepts):
//!
//! ```text
//! block     = { EOL | statement } ;
//! statement = WORD { WORD } [ EOL* "{" block "}" ] ;
//! ```
//!
//! A `}` with no open block and a block left open at the end of input are errors; a `{` with
//! no keyword before it is an error and its block is dropped.

use super::lexer::Tok;
use crate::diag::{Diagnostic, Dialect};
use crate::source::{Span, Spanned};
use crate::Diagnostics;

/// `keyword args... [{ block }]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    pub keyword: Spanned<String>,
    pub args: Vec<Spanned<String>>,
    pub block: Option<Block>,
}

/// The statements between `{` and `}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub open: Span,
    pub stmts: Vec<Stmt>,
}

impl Stmt {
    /// The span of the `i`th argument, or of the keyword if there is no such argument.
    pub fn arg_span(&self, i: usize) -> Span {
        self.args
            .get(i)
            .map(|a| a.span)
            .unwrap_or(self.keyword.span)
    }
}

/// Builds the top-level statement list.
pub fn build(toks: &[Tok], diags: &mut Diagnostics) -> Vec<Stmt> {
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        let stmts = block(toks, &mut pos, None, diags);
        out.extend(stmts);
        match toks.get(pos) {
            Some(Tok::Close(span)) => {
                diags.push(Diagnostic::error(
                    Dialect::Keepalived,
                    *span,
                    "Extra '}' found",
                ));
                pos += 1;
            }
            _ => return out,
        }
    }
}

/// Statements until a `}` (left unconsumed) or the end of input.
fn block(toks: &[Tok], pos: &mut usize, open: Option<Span>, diags: &mut Diagnostics) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    loop {
        match toks.get(*pos) {
            None => {
                if let Some(open) = open {
                    diags.push(Diagnostic::error(
                        Dialect::Keepalived,
                        open,
                        "missing '}': this '{' is never closed",
                    ));
                }
                return stmts;
            }
            Some(Tok::Eol) => *pos += 1,
            Some(Tok::Close(_)) => return stmts,
            Some(Tok::Open(span)) => {
                let span = *span;
                diags.push(Diagnostic::error(
                    Dialect::Keepalived,
                    span,
                    "Unexpected '{' with no keyword before it",
                ));
                *pos += 1;
                block(toks, pos, Some(span), diags);
                if let Some(Tok::Close(_)) = toks.get(*pos) {
                    *pos += 1;
                }
            }
            Some(Tok::Word { text, span }) => {
                let keyword = Spanned::new(text.clone(), *span);
                *pos += 1;
                let mut args = Vec::new();
                while let Some(Tok::Word { text, span }) = toks.get(*pos) {
                    args.push(Spanned::new(text.clone(), *span));
                    *pos += 1;
                }
                // The brace may be on this line or on a following one.
                let mut look = *pos;
                while let Some(Tok::Eol) = toks.get(look) {
                    look += 1;
                }
                let block_here = match toks.get(look) {
                    Some(Tok::Open(open)) => {
                        let open = *open;
                        *pos = look + 1;
                        let stmts = block(toks, pos, Some(open), diags);
                        if let Some(Tok::Close(_)) = toks.get(*pos) {
                            *pos += 1;
                        }
                        Some(Block { open, stmts })
                    }
                    _ => None,
                };
                stmts.push(Stmt {
                    keyword,
                    args,
                    block: block_here,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keepalived::lexer::lex_str;
    use crate::SourceMap;

    fn tree(text: &str) -> (Vec<Stmt>, Diagnostics) {
        let mut map = SourceMap::new();
        let mut d = Diagnostics::new();
        let toks = lex_str("t.conf", text, &mut map, &mut d);
        (build(&toks, &mut d), d)
    }

    #[test]
    fn brace_on_next_line_and_same_line() {
        let (t, d) = tree("a x\n{\n b 1\n}\nc { d } e 2\n");
        assert!(d.is_empty());
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].block.as_ref().unwrap().stmts[0].keyword.node, "b");
        assert_eq!(t[1].block.as_ref().unwrap().stmts[0].keyword.node, "d");
        assert_eq!(t[2].keyword.node, "e");
    }

    #[test]
    fn extra_and_missing_braces_are_errors() {
        let (_, d) = tree("a {\n}\n}\n");
        assert_eq!(d.errors().next().unwrap().span.line, 3);
        let (_, d) = tree("a {\n b {\n}\n");
        assert_eq!(d.errors().next().unwrap().span.line, 1);
    }
}
