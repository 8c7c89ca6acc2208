//! Tokens of a litmus file, each with the byte offset where it starts, for both dialects and
//! the parts they share (the init block, the final condition).

use crate::scenario::resolve::{Result, problem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    Int(i64),
    Sym(&'static str),
    /// A double-quoted string, without its quotes.
    Str(String),
}

impl Tok {
    /// As an error message quotes it.
    pub fn shown(&self) -> String {
        match self {
            Tok::Ident(w) => format!("'{w}'"),
            Tok::Int(n) => format!("'{n}'"),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::Str(s) => format!("\"{s}\""),
        }
    }
}

/// Longest first, so that `/\` is not read as `/`.
const SYMBOLS: &[&str] = &[
    "/\\", "\\/", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "->", "++", "--", "~", "(", ")",
    "{", "}", "[", "]", ";", ",", ":", "=", "<", ">", "!", "+", "-", "*", "/", "%", "&", "|", "$",
    "^", "?", ".",
];

/// Which comments a part of the file has: OCaml's `(* *)` outside the threads' C code, C's
/// `//` and `/* */` inside it (where `(*x)` is a dereference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comments {
    Litmus,
    C,
}

/// The tokens of `text[start..end]`, with offsets into `text`.
pub fn tokens(
    text: &str,
    start: usize,
    end: usize,
    comments: Comments,
) -> Result<Vec<(Tok, usize)>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    let closing = |from: usize, close: &str, what: &str| -> Result<usize> {
        match text[from..end].find(close) {
            Some(k) => Ok(from + k + close.len()),
            None => problem(from, format!("{what} is never closed")),
        }
    };
    while i < end {
        let c = bytes[i];
        let rest = &text[i..end];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if comments == Comments::Litmus && rest.starts_with("(*") {
            i = closing(i + 2, "*)", "a '(*' comment")?;
        } else if comments == Comments::C && rest.starts_with("//") {
            i = text[i..end].find('\n').map_or(end, |k| i + k + 1);
        } else if comments == Comments::C && rest.starts_with("/*") {
            i = closing(i + 2, "*/", "a '/*' comment")?;
        } else if c == b'"' {
            let close = closing(i + 1, "\"", "a string")?;
            out.push((Tok::Str(text[i + 1..close - 1].to_string()), i));
            i = close;
        } else if c.is_ascii_digit() {
            let from = i;
            while i < end && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let n = text[from..i]
                .parse()
                .or_else(|_| problem(from, format!("number {} is too large", &text[from..i])))?;
            out.push((Tok::Int(n), from));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let from = i;
            while i < end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(text[from..i].to_string()), from));
        } else if let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            out.push((Tok::Sym(sym), i));
            i += sym.len();
        } else {
            let ch = rest.chars().next().unwrap_or('?');
            return problem(i, format!("unexpected character '{ch}'"));
        }
    }
    Ok(out)
}

/// A cursor over tokens, with the offset to blame when they run out.
pub struct Tokens {
    pub toks: Vec<(Tok, usize)>,
    pub pos: usize,
    /// Where the text they came from ends.
    pub end: usize,
}

impl Tokens {
    pub fn new(toks: Vec<(Tok, usize)>, end: usize) -> Tokens {
        Tokens { toks, pos: 0, end }
    }

    pub fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    pub fn peek_at(&self, ahead: usize) -> Option<&Tok> {
        self.toks.get(self.pos + ahead).map(|t| &t.0)
    }

    /// Where the next token starts (the end of the text when there is none).
    pub fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.1)
    }

    pub fn next(&mut self) -> Option<(Tok, usize)> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += usize::from(t.is_some());
        t
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub fn is(&self, sym: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym)
    }

    pub fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == word)
    }

    pub fn eat(&mut self, sym: &str) -> bool {
        let is = self.is(sym);
        self.pos += usize::from(is);
        is
    }

    pub fn expect(&mut self, sym: &str, context: &str) -> Result<usize> {
        let at = self.offset();
        if self.eat(sym) {
            return Ok(at);
        }
        problem(
            at,
            format!("expected '{sym}' {context}, found {}", self.found()),
        )
    }

    pub fn ident(&mut self, what: &str) -> Result<(String, usize)> {
        match self.next() {
            Some((Tok::Ident(w), at)) => Ok((w, at)),
            Some((t, at)) => problem(at, format!("expected {what}, found {}", t.shown())),
            None => problem(self.end, format!("expected {what}, found the end")),
        }
    }

    /// A possibly negative integer.
    pub fn int(&mut self, what: &str) -> Result<(i64, usize)> {
        let at = self.offset();
        let negative = self.eat("-");
        match self.next() {
            Some((Tok::Int(n), _)) => Ok((if negative { -n } else { n }, at)),
            Some((t, at)) => problem(at, format!("expected {what}, found {}", t.shown())),
            None => problem(self.end, format!("expected {what}, found the end")),
        }
    }

    /// The next token as an error message quotes it.
    pub fn found(&self) -> String {
        self.peek().map_or("the end".to_string(), Tok::shown)
    }
}
