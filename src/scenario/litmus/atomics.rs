//! The C dialect's atomic operations: `atomic_load_explicit` and the rest, each call checked
//! against what C allows (its arguments, its orderings) and turned into one scenario op.

use super::c::Body;
use super::lex::{Tok, Tokens};
use crate::scenario::resolve::{Result, problem};

impl Body {
    /// An atomic operation's call (`t` just past its name), as an op whose result goes to
    /// `reg`.
    pub(super) fn call(
        &mut self,
        t: &mut Tokens,
        reg: Option<&str>,
        name: &str,
        at: usize,
    ) -> Result<()> {
        t.expect("(", "after the function's name")?;
        let mut args: Vec<(Vec<(Tok, usize)>, usize)> = Vec::new();
        if !t.eat(")") {
            loop {
                let arg_at = t.offset();
                let mut depth = 0usize;
                let mut toks = Vec::new();
                loop {
                    match t.peek() {
                        None => {
                            return problem(t.end, format!("the call to {name} is never closed"));
                        }
                        Some(Tok::Sym("," | ")")) if depth == 0 => break,
                        Some(Tok::Sym("(")) => depth += 1,
                        Some(Tok::Sym(")")) => depth -= 1,
                        _ => {}
                    }
                    toks.extend(t.next());
                }
                args.push((toks, arg_at));
                if t.eat(")") {
                    break;
                }
                t.expect(",", "between arguments")?;
            }
        }
        let explicit = name.ends_with("_explicit");
        let base = name.trim_end_matches("_explicit");
        let (n_values, n_orders) = match base {
            "atomic_load" => (1, 1),
            "atomic_store" | "atomic_exchange" | "atomic_fetch_add" | "atomic_fetch_sub" => (2, 1),
            "atomic_compare_exchange_strong" => (3, 2),
            "atomic_thread_fence" if explicit => (0, 1),
            "atomic_thread_fence" => (0, 1),
            "atomic_compare_exchange_weak" => {
                return problem(
                    at,
                    format!(
                        "unsupported: {name} (it may fail spuriously; use \
                         atomic_compare_exchange_strong_explicit)"
                    ),
                );
            }
            _ => return problem(at, format!("unsupported: a call to '{name}'")),
        };
        let fence = base == "atomic_thread_fence";
        let wanted = n_values + if explicit || fence { n_orders } else { 0 };
        if args.len() != wanted {
            return problem(
                at,
                format!("{name} takes {wanted} arguments, not {}", args.len()),
            );
        }
        let orders: Vec<&'static str> = if explicit || fence {
            args[n_values..]
                .iter()
                .map(|(toks, arg_at)| order(toks, *arg_at))
                .collect::<Result<_>>()?
        } else {
            vec!["seqcst"; n_orders]
        };
        let allowed = |o: &str, ok: &[&str], which: &str, arg: usize| -> Result<()> {
            if ok.contains(&o) {
                Ok(())
            } else {
                let role = if which.is_empty() {
                    String::new()
                } else {
                    format!(" as its {which} ordering")
                };
                problem(
                    args[arg].1,
                    format!("{name} cannot take {}{role}", c_order(o)),
                )
            }
        };
        if fence {
            if reg.is_some() {
                return problem(at, "atomic_thread_fence gives no value");
            }
            // A relaxed fence does nothing.
            if orders[0] != "relaxed" {
                self.push(format!("fence.{}", orders[0]), at);
            }
            return Ok(());
        }
        let var = self.location(&args[0])?;
        let into = reg.map_or(String::new(), |r| format!("{r} = "));
        let op = match base {
            "atomic_load" => {
                allowed(orders[0], &["relaxed", "acquire", "seqcst"], "", n_values)?;
                let Some(r) = reg else {
                    return problem(at, "the value loaded goes nowhere: 'r = atomic_load...'");
                };
                format!("{r} = load.{} {var}", orders[0])
            }
            "atomic_store" => {
                allowed(orders[0], &["relaxed", "release", "seqcst"], "", n_values)?;
                if reg.is_some() {
                    return problem(at, "atomic_store gives no value");
                }
                format!("store.{} {var} = {}", orders[0], self.expr(&args[1])?)
            }
            "atomic_exchange" => format!("{into}swap.{} {var} {}", orders[0], self.expr(&args[1])?),
            "atomic_fetch_add" => {
                format!(
                    "{into}fetch_add.{} {var} {}",
                    orders[0],
                    self.expr(&args[1])?
                )
            }
            "atomic_fetch_sub" => {
                format!(
                    "{into}fetch_add.{} {var} -({})",
                    orders[0],
                    self.expr(&args[1])?
                )
            }
            _ => {
                let failure = orders[1];
                allowed(
                    failure,
                    &["relaxed", "acquire", "seqcst"],
                    "failure",
                    n_values + 1,
                )?;
                let (toks, arg_at) = &args[1];
                let expected = match &toks[..] {
                    [(Tok::Sym("&"), _), (Tok::Ident(r), r_at)] => {
                        self.local(r, *r_at)?;
                        r.clone()
                    }
                    _ => {
                        return problem(
                            *arg_at,
                            "the expected value must be a local's address: '&r'",
                        );
                    }
                };
                let new = self.expr(&args[2])?;
                format!(
                    "{into}cas.{}.{failure} {var}: &{expected} -> {new}",
                    orders[0]
                )
            }
        };
        self.push(op, at);
        Ok(())
    }

    /// The shared variable an atomic call's first argument names.
    fn location(&self, (toks, at): &(Vec<(Tok, usize)>, usize)) -> Result<String> {
        match &toks[..] {
            [(Tok::Ident(v), v_at)] => match self.param(v) {
                Some(p) if p.atomic => Ok(v.clone()),
                Some(_) => problem(
                    *v_at,
                    format!("'{v}' is a plain int*: atomic operations need atomic_int*"),
                ),
                None => problem(
                    *v_at,
                    format!("'{v}' is not one of the thread's parameters"),
                ),
            },
            _ => problem(*at, "expected a shared variable (a parameter) here"),
        }
    }
}

/// A `memory_order_*` argument, as the scenario language's ordering.
fn order(toks: &[(Tok, usize)], at: usize) -> Result<&'static str> {
    match toks {
        [(Tok::Ident(w), _)] => Ok(match w.as_str() {
            "memory_order_relaxed" => "relaxed",
            // Every compiler strengthens consume to acquire; so does racedemo.
            "memory_order_consume" | "memory_order_acquire" => "acquire",
            "memory_order_release" => "release",
            "memory_order_acq_rel" => "acqrel",
            "memory_order_seq_cst" => "seqcst",
            _ => return problem(at, format!("unknown memory order '{w}'")),
        }),
        _ => problem(at, "expected a memory order (memory_order_relaxed ...)"),
    }
}

/// The C name of a scenario ordering.
fn c_order(order: &str) -> &'static str {
    match order {
        "relaxed" => "memory_order_relaxed",
        "acquire" => "memory_order_acquire",
        "release" => "memory_order_release",
        "acqrel" => "memory_order_acq_rel",
        _ => "memory_order_seq_cst",
    }
}
