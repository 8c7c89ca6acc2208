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
    format!(
        "unknown store '{}': racedemo knows memory, file[:PATH], sqlite[:PATH], \
         postgres://…, mysql://… and redis://…",
        redact(text)
    )
}

/// `text` with any password in a URL (`scheme://user:secret@host`) replaced by `***`, so that
/// no message ever prints one.
pub fn redact(text: &str) -> String {
    match password(text) {
        Some(secret) => {
            let (scheme, rest) = text.split_once("://").expect("a URL with a password");
            let (userinfo, host) = rest.rsplit_once('@').expect("a URL with a password");
            let user = &userinfo[..userinfo.len() - secret.len() - 1];
            format!("{scheme}://{user}:***@{host}")
        }
        None => text.to_string(),
    }
}

/// The password in a URL, if it has one.
fn password(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("://")?;
    // The user information ends at the last '@' before the path.
    let authority = rest.split('/').next().unwrap_or(rest);
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, secret) = userinfo.split_once(':')?;
    (!secret.is_empty()).then_some(secret)
}

/// `message` (a driver's, say) with `url`'s password, and the password percent-decoded,
/// replaced by `***`: drivers quote what they were given.
pub fn scrub(message: &str, url: &str) -> String {
    match password(url) {
        Some(secret) => {
            let decoded = percent_decode(secret);
            message.replace(secret, "***").replace(&decoded, "***")
        }
        None => message.to_string(),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap() * 16 + hex(l).unwrap()) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_flags_parse_to_a_kind_and_an_optional_path() {
        assert_eq!(StoreSpec::parse("memory"), Ok(StoreSpec::Memory));
        assert_eq!(StoreSpec::parse("file"), Ok(StoreSpec::File(None)));
        assert_eq!(
            StoreSpec::parse("sqlite:/tmp/x.db"),
            Ok(StoreSpec::Sqlite(Some("/tmp/x.db".into())))
        );
        assert!(
            StoreSpec::parse("file:")
                .unwrap_err()
                .contains("names no file")
        );
        let unknown = StoreSpec::parse("mongodb://me:hunter2@db/test").unwrap_err();
        assert!(unknown.contains("unknown store"), "{unknown}");
        assert!(!unknown.contains("hunter2"), "{unknown}");
    }

    #[test]
    fn server_urls_parse_to_their_kind_and_bad_ones_are_refused_without_the_password() {
        assert_eq!(
            StoreSpec::parse("postgres://localhost/test").map(|s| s.kind()),
            Ok(StoreKind::Postgres)
        );
        assert_eq!(
            StoreSpec::parse("mariadb://root@localhost/test"),
            Ok(StoreSpec::Server(
                StoreKind::Mysql,
                "mysql://root@localhost/test".into()
            ))
        );
        assert_eq!(
            StoreSpec::parse("redis://127.0.0.1/").map(|s| s.kind()),
            Ok(StoreKind::Redis)
        );
        for bad in [
            "postgres://me:hunter2@db:notaport/test",
            "mysql://me:hunter2@db:99999999/test",
            "redis://me:hunter2@db:port/",
        ] {
            let err = StoreSpec::parse(bad).unwrap_err();
            assert!(err.contains("is not a"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        assert!(StoreSpec::parse("postgres").unwrap_err().contains("URL"));
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(redact("redis://u:pw@h:6379/0"), "redis://u:***@h:6379/0");
        assert_eq!(redact("redis://:pw@h:6379/0"), "redis://:***@h:6379/0");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("sqlite:/tmp/a.db"), "sqlite:/tmp/a.db");
        assert_eq!(
            scrub("login failed for hunter 2", "postgres://u:hunter%202@h/db"),
            "login failed for ***"
        );
    }
}
