//! The op and expression grammar: what parses, into what, and where errors point.

use super::*;

fn name(text: &str, offset: usize) -> Name {
    Name {
        text: text.into(),
        offset,
    }
}

#[test]
fn loads_and_stores_parse_with_orderings() {
    assert_eq!(
        op("r = load.acquire flag").unwrap(),
        OpSyntax::Load {
            reg: name("r", 0),
            var: name("flag", 17),
            order: Order::Acquire
        }
    );
    let OpSyntax::Store { var, value, order } = op("store counter = r + 1").unwrap() else {
        panic!()
    };
    assert_eq!(
        (var.text.as_str(), value.to_string(), order),
        ("counter", "(r + 1)".into(), Order::Relaxed)
    );
}

#[test]
fn expressions_respect_precedence() {
    assert_eq!(
        expr("a + b * 2 == 10 && !c").unwrap().to_string(),
        "(((a + (b * 2)) == 10) && !c)"
    );
    assert_eq!(expr("-(x - 1)").unwrap().to_string(), "-(x - 1)");
    assert_eq!(
        expr("reader.r == 0").unwrap().to_string(),
        "(reader.r == 0)"
    );
}

#[test]
fn cas_loop_takes_a_guard_after_the_new_value() {
    let OpSyntax::CasLoop {
        reg,
        current,
        new,
        guard,
        ..
    } = op("ok = cas_loop seats: s -> s - 1 if s > 0").unwrap()
    else {
        panic!()
    };
    assert_eq!(reg.unwrap().text, "ok");
    assert_eq!(
        (current.text.as_str(), new.to_string()),
        ("s", "(s - 1)".into())
    );
    assert_eq!(guard.unwrap().to_string(), "(s > 0)");
}

#[test]
fn errors_point_at_the_offending_text() {
    let e = op("r = load.release x").unwrap_err();
    assert_eq!(e.offset, 9);
    assert!(
        e.message.contains("'load' cannot be release"),
        "{}",
        e.message
    );
    assert_eq!(op("frobnicate x").unwrap_err().offset, 0);
    assert_eq!(op("store x = r +").unwrap_err().offset, 13);
    assert_eq!(op("store x = r ) 1").unwrap_err().offset, 12);
    assert!(
        op("r = lock m")
            .unwrap_err()
            .message
            .contains("gives no value")
    );
    assert!(op("spin -3").is_err());
    assert!(
        op("x = 99999999999999999999")
            .unwrap_err()
            .message
            .contains("too large")
    );
    assert_eq!(expr("a $ b").unwrap_err().offset, 2);
}

#[test]
fn patterns_are_numbers_or_wildcards() {
    assert_eq!(pattern("1, *").unwrap(), vec![Some(1), None]);
    assert_eq!(pattern("-2").unwrap(), vec![Some(-2)]);
    assert_eq!(pattern("1, x").unwrap_err().offset, 3);
}

#[test]
fn plain_accesses_swaps_and_cs_compare_exchange_parse() {
    assert!(matches!(
        op("r = load.plain x").unwrap(),
        OpSyntax::Load {
            order: Order::Plain,
            ..
        }
    ));
    assert!(matches!(
        op("store.plain x = 1").unwrap(),
        OpSyntax::Store {
            order: Order::Plain,
            ..
        }
    ));
    // Only loads and stores can be plain.
    assert!(op("fetch_add.plain x 1").is_err());
    let OpSyntax::Swap {
        reg, value, order, ..
    } = op("r = swap.relaxed x r + 1").unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (reg.unwrap().text, value.to_string(), order),
        ("r".into(), "(r + 1)".into(), Order::Relaxed)
    );
    let OpSyntax::Cas {
        reg,
        expected,
        old,
        order,
        failure,
        ..
    } = op("ok = cas.acqrel.acquire x: &r -> 1").unwrap()
    else {
        panic!()
    };
    assert_eq!(reg.unwrap().text, "ok");
    assert_eq!(
        (expected.to_string(), old.unwrap().text),
        ("r".into(), "r".into())
    );
    assert_eq!((order, failure), (Order::AcqRel, Some(Order::Acquire)));
    // A failed compare only reads: it cannot release.
    let e = op("cas.seqcst.release x: 0 -> 1").unwrap_err();
    assert_eq!(e.offset, 11);
    assert!(e.message.contains("cannot be release"), "{}", e.message);
}
