//! Groups that are one function with an index. The file can only copy a group per thread
//! (`philosopher0` … `philosopher4`, each taking `fork{k}` then `fork{k+1}`); Python says it
//! once: `philosopher(i)` over a list `forks`.

use super::names::py;
use crate::scenario::Program;

/// Locks or semaphores named `prefix0` … `prefix{size-1}`, declared alike: in Python, a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub prefix: String,
    pub size: usize,
    /// The list's name: the prefix made plural.
    pub list: String,
}

impl Family {
    /// The member a name is, if it is one: `fork3` is 3.
    pub fn member(&self, name: &str) -> Option<usize> {
        let digits = name.strip_prefix(&self.prefix)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if digits.len() > 1 && digits.starts_with('0') {
            return None;
        }
        digits.parse().ok().filter(|&m| m < self.size)
    }
}

/// The families among the program's locks and semaphores: two or more, numbered from 0 with
/// no gap, semaphores with the same start and kind.
pub fn families(p: &Program, taken: &[String]) -> Vec<Family> {
    let mut kinds: Vec<Vec<String>> = vec![p.locks.clone()];
    let mut sems = p.semaphores.clone();
    sems.sort_by_key(|s| (s.initial, s.bounded));
    for chunk in sems.chunk_by(|a, b| (a.initial, a.bounded) == (b.initial, b.bounded)) {
        kinds.push(chunk.iter().map(|s| s.name.clone()).collect());
    }
    let mut found = Vec::new();
    for names in kinds {
        for name in &names {
            let Some(prefix) = name.strip_suffix('0') else {
                continue;
            };
            if prefix.is_empty() || prefix.ends_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            let size = (0..)
                .take_while(|k| names.contains(&format!("{prefix}{k}")))
                .count();
            let list = format!("{}s", py(prefix));
            let clash = taken.iter().any(|t| py(t) == list);
            if size >= 2 && !clash {
                found.push(Family {
                    prefix: prefix.to_string(),
                    size,
                    list,
                });
            }
        }
    }
    found
}

/// A name's Python expression outside a folded group: a family's member is its list's entry.
pub fn plain(families: &[Family], name: &str) -> String {
    families
        .iter()
        .find_map(|f| f.member(name).map(|m| format!("{}[{m}]", f.list)))
        .unwrap_or_else(|| py(name))
}

/// Groups folded into one function: which groups, and how each name of the first one reads
/// with the index `i`.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    pub base: String,
    pub members: Vec<usize>,
    /// A name in the first member's ops, and its expression in `i`.
    pub renames: Vec<(String, String)>,
}

/// Names and the text between them: `lock fork1` is `lock`, ` `, `fork1`.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        let next_differs = chars
            .peek()
            .is_none_or(|&(_, n)| word(n) != word(c) || !word(c));
        if next_differs {
            let end = chars.peek().map_or(text.len(), |&(n, _)| n);
            out.push(&text[start..end]);
            start = end;
        }
    }
    out
}

/// Every run of groups `base0` … `base{n-1}` (one thread each, the same iterations, none of
/// whose registers a check reads) whose ops differ only in family members that move on by one
/// from group to group.
pub fn folds(
    p: &Program,
    written: &[Vec<String>],
    families: &[Family],
    read_by_checks: &[String],
) -> Vec<Folded> {
    let mut out: Vec<Folded> = Vec::new();
    for (first, g) in p.groups.iter().enumerate() {
        let Some(base) = g.name.strip_suffix('0') else {
            continue;
        };
        if base.is_empty() || base.ends_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let members: Vec<usize> = (0..)
            .map_while(|k| p.groups.iter().position(|h| h.name == format!("{base}{k}")))
            .collect();
        if members.len() < 2 || out.iter().any(|f| f.members.contains(&first)) {
            continue;
        }
        let alike = members.iter().all(|&m| {
            let h = &p.groups[m];
            h.threads == 1
                && h.iterations == g.iterations
                && written[m].len() == written[first].len()
                && !read_by_checks
                    .iter()
                    .any(|r| r.starts_with(&format!("{}.", h.name)))
        });
        if !alike {
            continue;
        }
        if let Some(renames) = renames(&members, written, families) {
            out.push(Folded {
                base: base.to_string(),
                members,
                renames,
            });
        }
    }
    out
}

/// How the first member's names read in `i`, if every member is the first with each family
/// member moved on by the member's index.
fn renames(
    members: &[usize],
    written: &[Vec<String>],
    families: &[Family],
) -> Option<Vec<(String, String)>> {
    let n = members.len();
    let mut moving: Vec<(String, String)> = Vec::new();
    let mut fixed: Vec<String> = Vec::new();
    for (at, text) in written[members[0]].iter().enumerate() {
        let first = tokens(text);
        let others: Vec<Vec<&str>> = members[1..]
            .iter()
            .map(|&m| tokens(&written[m][at]))
            .collect();
        if others.iter().any(|t| t.len() != first.len()) {
            return None;
        }
        for (pos, token) in first.iter().enumerate() {
            if others.iter().all(|t| t[pos] == *token) {
                fixed.push(token.to_string());
                continue;
            }
            let (family, m0) = families
                .iter()
                .find_map(|f| f.member(token).map(|m| (f, m)))?;
            let moves = others.iter().enumerate().all(|(k, t)| {
                family.member(t[pos]) == Some((m0 + k + 1) % family.size)
                    && t[pos].starts_with(&family.prefix)
            });
            if !moves {
                return None;
            }
            let index = match m0 {
                0 if n <= family.size => "i".to_string(),
                m if m + n <= family.size => format!("i + {m}"),
                m => format!("(i + {m}) % {}", family.size),
            };
            moving.push((token.to_string(), format!("{}[{index}]", family.list)));
        }
    }
    // A name both moving and fixed would read two ways.
    if moving.iter().any(|(t, _)| fixed.contains(t)) {
        return None;
    }
    moving.dedup();
    Some(moving)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_split_into_names_and_the_text_between() {
        assert_eq!(tokens("lock fork1"), ["lock", " ", "fork1"]);
        assert_eq!(
            tokens("store x = r+1"),
            ["store", " ", "x", " ", "=", " ", "r", "+", "1"]
        );
    }

    #[test]
    fn a_family_member_is_its_prefix_and_a_number_below_the_size() {
        let f = Family {
            prefix: "fork".into(),
            size: 5,
            list: "forks".into(),
        };
        assert_eq!(f.member("fork4"), Some(4));
        assert_eq!(f.member("fork5"), None);
        assert_eq!(f.member("fork01"), None);
        assert_eq!(f.member("forks"), None);
        assert_eq!(plain(&[f], "fork2"), "forks[2]");
    }
}
