//! `--store`, as given: a kind and a path or URL, checked before anything connects; and the one
//! place that hides passwords in URLs.

use std::path::PathBuf;

use super::StoreKind;

/// Where the counter lives, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreSpec {
    /// One process's memory: today's counter.
    #[default]
    Memory,
    /// The counter as decimal text in a file; `None`: a fresh file in a temporary folder.
    File(Option<PathBuf>),
    /// One row of a SQLite table; `None`: a fresh database in a temporary folder.
    Sqlite(Option<PathBuf>),
    /// A server, by URL (`postgres://`, `mysql://`, `redis://`), password and all: never
    /// printed as given, only through [`redact`].
    Server(StoreKind, String),
}

impl StoreSpec {
    /// Parses `memory`, `file[:PATH]`, `sqlite[:PATH]` or a server URL; the message names what
    /// is wrong, without the URL's password.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some((scheme, _)) = text.split_once("://") {
            let kind = match scheme {
                "postgres" | "postgresql" => StoreKind::Postgres,
                "mysql" | "mariadb" => StoreKind::Mysql,
                "redis" => StoreKind::Redis,
                _ => return Err(unknown(text)),
            };
            if let Some(why) = ambiguous(text) {
                return Err(format!(
                    "'{}' is not a {} URL: {why}",
                    redact(text),
                    kind.title()
                ));
            }
            // The MySQL driver knows only mysql://.
            let url = match scheme {
                "mariadb" => format!("mysql{}", &text[scheme.len()..]),
                _ => text.to_string(),
            };
            super::check_url(kind, &url).map_err(|e| {
                format!(
                    "'{}' is not a {} URL: {}",
                    redact(text),
                    kind.title(),
                    scrub(&e, text)
                )
            })?;
            return Ok(StoreSpec::Server(kind, url));
        }
        let (scheme, path) = match text.split_once(':') {
            Some((scheme, path)) => (scheme, Some(path)),
            None => (text, None),
        };
        let to_path = |p: Option<&str>| -> Result<Option<PathBuf>, String> {
            match p {
                None => Ok(None),
                Some("") => Err(format!("'{text}' names no file after the colon")),
                Some(p) => Ok(Some(PathBuf::from(p))),
            }
        };
        match scheme {
            "memory" if path.is_none() => Ok(StoreSpec::Memory),
            "file" => Ok(StoreSpec::File(to_path(path)?)),
            "sqlite" => Ok(StoreSpec::Sqlite(to_path(path)?)),
            "postgres" | "postgresql" | "mysql" | "mariadb" | "redis" => Err(format!(
                "'{text}': a server is named by a URL, such as {scheme}://localhost/"
            )),
            _ => Err(unknown(text)),
        }
    }

    pub fn kind(&self) -> StoreKind {
        match self {
            StoreSpec::Memory => StoreKind::Memory,
            StoreSpec::File(_) => StoreKind::File,
            StoreSpec::Sqlite(_) => StoreKind::Sqlite,
            StoreSpec::Server(kind, _) => *kind,
        }
    }

    /// `kind:location`, or the URL with its password hidden.
    pub fn shown_at(&self, location: &str) -> String {
        match self {
            StoreSpec::Server(_, url) => redact(url),
            _ => format!("{}:{location}", self.kind().name()),
        }
    }

    /// How reports and messages name it: a path, or the URL with its password hidden.
    pub fn shown(&self) -> String {
        match self {
            StoreSpec::Memory => "memory".into(),
            StoreSpec::File(p) | StoreSpec::Sqlite(p) => match p {
                Some(p) => format!("{}:{}", self.kind().name(), p.display()),
                None => self.kind().name().into(),
            },
            StoreSpec::Server(_, url) => redact(url),
        }
    }
}

fn unknown(text: &str) -> String {
    // A libpq connection string is the one other form a driver here accepts: say how to write
    // it, still without its password.
    let hint = if text.contains('=') && !text.contains("://") {
        " (a key=value connection string: give it as a URL, postgres://user@host:port/db)"
    } else {
        ""
    };
    format!(
        "unknown store '{}': racedemo knows memory, file[:PATH], sqlite[:PATH], \
         postgres://…, mysql://… and redis://…{hint}",
        redact(text)
    )
}

/// Query parameters and connection-string keys that hold a password, in any driver's
/// spelling.
fn is_secret_key(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    matches!(
        key.as_str(),
        "password" | "pass" | "passwd" | "pwd" | "requirepass"
    ) || key.contains("password")
}

/// A URL cut into what redaction needs: `scheme://`, the user information (up to the last
/// '@' before the query, so that a raw '@' or '/' in a password is all inside it), the host
/// and path, and the query.
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host_path: &'a str,
    query: Option<&'a str>,
}

fn parts(text: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = text.split_once("://")?;
    // A scheme is a word (`postgres`, `redis`); text with "://" later in it (inside a quoted
    // password of a key=value string, say) is not a URL.
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return None;
    }
    // A password may hold a raw '?' too: the query starts after the last '@', if any.
    let after_at = rest.rfind('@').map_or(0, |i| i + 1);
    let (before_query, query) = match rest[after_at..].find('?') {
        Some(q) => (&rest[..after_at + q], Some(&rest[after_at + q + 1..])),
        None => (rest, None),
    };
    let (userinfo, host_path) = match before_query.rfind('@') {
        Some(at) => (Some(&before_query[..at]), &before_query[at + 1..]),
        None => (None, before_query),
    };
    Some(Parts {
        scheme,
        userinfo,
        host_path,
        query,
    })
}

/// `text` with every password in it replaced by `***`: in a URL's user information (raw or
/// percent-encoded, even with a raw '@' or '/'), in `password=`/`pass=` query parameters, and
/// in a key=value connection string. Worked out from the URL's parts, so nothing else in the
/// text is touched.
pub fn redact(text: &str) -> String {
    rewrite(text, Some("***"))
}

/// `url` with its passwords left out altogether: what a printed command to run by hand gives
/// its client, which then asks for the password.
pub fn without_password(url: &str) -> String {
    rewrite(url, None)
}

fn rewrite(text: &str, mask: Option<&str>) -> String {
    let Some(p) = parts(text) else {
        return rewrite_pairs(text, mask);
    };
    let mut out = format!("{}://", p.scheme);
    if let Some(userinfo) = p.userinfo {
        match userinfo.split_once(':') {
            Some((user, _)) => match mask {
                Some(mask) => out.push_str(&format!("{user}:{mask}@")),
                None if user.is_empty() => {}
                None => out.push_str(&format!("{user}@")),
            },
            None => out.push_str(&format!("{userinfo}@")),
        }
    }
    out.push_str(p.host_path);
    if let Some(query) = p.query {
        let kept: Vec<String> = query
            .split('&')
            .filter_map(|pair| {
                let (key, _) = pair.split_once('=').unwrap_or((pair, ""));
                match (is_secret_key(&decode(key)), mask) {
                    (false, _) => Some(pair.to_string()),
                    (true, Some(mask)) => Some(format!("{key}={mask}")),
                    (true, None) => None,
                }
            })
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    out
}

/// Text that is not a URL (a libpq key=value connection string, say) with the value of every
/// password key masked or left out, key and all; the rest as it is.
fn rewrite_pairs(text: &str, mask: Option<&str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (key_at, value) in secret_values(text) {
        let end = value.end;
        match mask {
            Some(mask) => {
                out.push_str(&text[at..value.start]);
                out.push_str(mask);
            }
            None => out.push_str(text[at..key_at].trim_end()),
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Where each password key of a key=value text starts, and its value's byte range (quoted
/// values, with \' inside, included whole; spaces may stand around '=').
fn secret_values(text: &str) -> Vec<(usize, std::ops::Range<usize>)> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !word(bytes[i]) || (i > 0 && word(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let key_at = i;
        while i < bytes.len() && word(bytes[i]) {
            i += 1;
        }
        let key = &text[key_at..i];
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if !is_secret_key(key) || j == bytes.len() || bytes[j] != b'=' {
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let start = j;
        if j < bytes.len() && bytes[j] == b'\'' {
            j += 1;
            while j < bytes.len() && bytes[j] != b'\'' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            j = (j + 1).min(bytes.len());
        } else {
            while j < bytes.len() && !bytes[j].is_ascii_whitespace() {
                j += 1;
            }
        }
        found.push((key_at, start..j.min(bytes.len())));
        i = j;
    }
    found
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Every password in `url` as a driver might quote it: as written and percent-decoded (the
/// user information's, the query's, a connection string's).
fn secrets(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut add = |s: &str| {
        let s = s.trim_matches('\'');
        let encode = |t: &str| {
            percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        for form in [s.to_string(), decode(s), encode(&decode(s)), encode(s)] {
            let form = form.trim_matches('\'').to_string();
            if !form.is_empty() && !found.contains(&form) {
                found.push(form);
            }
        }
    };
    match parts(url) {
        Some(p) => {
            if let Some((_, secret)) = p.userinfo.and_then(|u| u.split_once(':')) {
                add(secret);
            }
            for pair in p.query.unwrap_or("").split('&') {
                if let Some((key, value)) = pair.split_once('=')
                    && is_secret_key(&decode(key))
                {
                    add(value);
                }
            }
        }
        None => {
            for (_, value) in secret_values(url) {
                add(&url[value]);
            }
        }
    }
    found
}

/// `message` (a driver's, say) with every password of `url` replaced by `***` wherever it
/// stands as a whole word: drivers may quote what they were given, but a password of "p"
/// must not turn "lookup" into "looku***".
pub fn scrub(message: &str, url: &str) -> String {
    let mut out = message.to_string();
    for secret in secrets(url) {
        out = replace_word(&out, &secret);
    }
    out
}

/// `text` with `word` replaced by `***` where no letter or digit touches it on either side.
fn replace_word(text: &str, word: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + word.len()..].chars().next();
        let alone = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        // A word edge is needed only where the secret itself has a letter or digit there.
        let edge_ok = (alone(before) || !word.starts_with(char::is_alphanumeric))
            && (alone(after) || !word.ends_with(char::is_alphanumeric));
        out.push_str(&rest[..i]);
        out.push_str(if edge_ok { "***" } else { word });
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Why a server URL is refused before any driver reads it: user information that a driver
/// would cut at a raw '@', '/' or '#' inside the password, connecting somewhere else.
fn ambiguous(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let last_at = rest.rfind('@')?;
    (last_at > authority_end).then(|| {
        "its user or password holds a raw '@', '/', '?' or '#', which drivers read as the \
         end of the password: percent-encode them (%40, %2F, %3F, %23)"
            .to_string()
    })
}

#[cfg(test)]
mod tests;
