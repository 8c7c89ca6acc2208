//! `--store` parsing and password redaction, including a property test over generated URLs.

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
fn passwords_are_redacted_in_every_form_and_nothing_else_is_masked() {
    for (url, shown) in [
        (
            "postgres://u@127.0.0.1/test?password=SECRET",
            "postgres://u@127.0.0.1/test?password=***",
        ),
        (
            "postgres://u@h/db?sslmode=disable&pass=SECRET&application_name=x",
            "postgres://u@h/db?sslmode=disable&pass=***&application_name=x",
        ),
        (
            "postgres://u:p@ss/w:rd@127.0.0.1/test",
            "postgres://u:***@127.0.0.1/test",
        ),
        (
            "redis://:SECRET@127.0.0.1:6379/0",
            "redis://:***@127.0.0.1:6379/0",
        ),
        (
            "host=127.0.0.1 password=SECRET user=me",
            "host=127.0.0.1 password=*** user=me",
        ),
        (
            "host=h password = 'with space' dbname=x",
            "host=h password = *** dbname=x",
        ),
    ] {
        assert_eq!(redact(url), shown, "{url}");
    }
    assert_eq!(
        without_password("postgres://u:pw@h:5/db?password=x&sslmode=disable"),
        "postgres://u@h:5/db?sslmode=disable"
    );
    assert_eq!(without_password("redis://:pw@h/"), "redis://h/");
    // A one-letter password does not eat the letter out of words.
    assert_eq!(
        scrub(
            "failed to lookup address information",
            "postgres://u:p@h/db"
        ),
        "failed to lookup address information"
    );
    assert_eq!(
        scrub("password p rejected", "postgres://u:p@h/db"),
        "password *** rejected"
    );
    let ambiguous = StoreSpec::parse("postgres://u:p@ss/w:rd@127.0.0.1/test").unwrap_err();
    assert!(ambiguous.contains("percent-encode"), "{ambiguous}");
    assert!(!ambiguous.contains("p@ss"), "{ambiguous}");
}

/// A password of `secret`'s shape in every place a driver takes one.
fn with_secret(form: usize, user: &str, host: &str, secret: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let enc = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    match form {
        0 => format!("postgres://{user}:{enc}@{host}:5432/db"),
        1 => format!("postgresql://{user}:{secret}@{host}/db"),
        2 => format!("postgres://{user}@{host}/db?password={enc}"),
        3 => format!("mysql://{user}@{host}/db?pass={enc}&x=1"),
        4 => format!("mariadb://{user}:{secret}@{host}:3306/db"),
        5 => format!("host={host} user={user} password='{secret}'"),
        6 => format!("redis://:{enc}@{host}:6379/0"),
        _ => format!("redis://{user}:{secret}@{host}/"),
    }
}

proptest::proptest! {
    #[test]
    fn no_generated_password_survives_any_way_racedemo_shows_a_url(
        form in 0..8usize,
        user in "[a-z]{1,8}",
        host in "[a-z]{1,8}",
        secret in "Zq[A-Za-z0-9@/:%?#= ]{4,12}",
    ) {
        let url = with_secret(form, &user, &host, &secret);
        let enc = percent_encoding::utf8_percent_encode(&secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        let parsed = StoreSpec::parse(&url);
        let channels = [
            redact(&url),
            without_password(&url),
            parsed.clone().err().unwrap_or_default(),
            parsed.map(|s| s.shown()).unwrap_or_default(),
            scrub(&format!("driver said '{secret}' and ({enc})"), &url),
        ];
        for shown in channels {
            proptest::prop_assert!(!shown.contains(&secret), "{url} -> {shown}");
            proptest::prop_assert!(!shown.contains(&enc), "{url} -> {shown}");
            proptest::prop_assert!(!shown.contains(&secret[..6]), "{url} -> {shown}");
        }
    }
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
