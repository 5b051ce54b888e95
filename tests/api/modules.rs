//! The house plan, checked: no two modules of `src/` import each other,
//! directly or around a loop.
//!
//! Read from the source text: every `crate::`, `$crate::` and `super::` path
//! in a file (including inside `use` groups) is an edge from that file's
//! module to the module it names. An edge counts between siblings, the two
//! children of the deepest module both paths share (`store::sqlite` using
//! `store::sql` is `sqlite -> sql` inside `store`); a child naming an item
//! of its parent is not an edge. Then every folder's sibling graph must be
//! free of cycles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every module of `src/` that has its own file, with that file's text.
fn modules(root: &Path) -> BTreeMap<Module, String> {
    fn walk(dir: &Path, prefix: &Module, out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                let mut m = prefix.clone();
                m.push(name.clone());
                walk(&path, &m, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if prefix.is_empty() && name == "main" {
                    continue; // the binary is a client of the library
                }
                let mut m = prefix.clone();
                if name != "mod" && !(prefix.is_empty() && name == "lib") {
                    m.push(name);
                }
                out.insert(m, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, &Vec::new(), &mut out);
    out
}

/// The paths a file names, each as its list of segments from the crate
/// root (`use` groups expanded; what follows a group's last `::` is kept).
fn paths(module: &Module, text: &str) -> Vec<Module> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &code[i..];
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let start = if !boundary {
            None
        } else if let Some(r) = rest.strip_prefix("$crate::") {
            Some((Vec::new(), r))
        } else if let Some(r) = rest.strip_prefix("crate::") {
            Some((Vec::new(), r))
        } else if rest.starts_with("super::") {
            let mut base = module.clone();
            let mut r = rest;
            while let Some(next) = r.strip_prefix("super::") {
                base.pop();
                r = next;
            }
            Some((base, r))
        } else {
            None
        };
        match start {
            Some((base, r)) => {
                let consumed = rest.len() - r.len();
                expand(&base, r, &mut found);
                i += consumed;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    found
}

/// Adds the paths `text` (after a `crate::`-like prefix) spells.
fn expand(base: &Module, text: &str, out: &mut Vec<Module>) {
    let mut path = base.clone();
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 1;
                let mut end = 0;
                for (k, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        end = k;
                        break;
                    }
                }
                let mut depth = 0;
                let mut piece = String::new();
                for c in group[..end].chars().chain(std::iter::once(',')) {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if c == ',' && depth == 0 {
                        let p = piece.trim();
                        if !p.is_empty() && p != "self" {
                            expand(&path, p, out);
                        }
                        piece.clear();
                    } else {
                        piece.push(c);
                    }
                }
            }
            out.push(path);
            return;
        }
        path.push(ident.clone());
        rest = &rest[ident.len()..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => {
                out.push(path);
                return;
            }
        }
    }
}

/// Sibling edges: (parent, from child, to child).
fn edges(mods: &BTreeMap<Module, String>) -> BTreeSet<(Module, String, String)> {
    let mut edges = BTreeSet::new();
    for (module, text) in mods {
        for path in paths(module, text) {
            let common = module.iter().zip(&path).take_while(|(a, b)| a == b).count();
            if common >= module.len() || common >= path.len() {
                continue; // inside itself, or an item of an ancestor
            }
            let parent: Module = module[..common].to_vec();
            let mut target = parent.clone();
            target.push(path[common].clone());
            if mods.contains_key(&target) {
                edges.insert((parent, module[common].clone(), path[common].clone()));
            }
        }
    }
    edges
}

/// One cycle among the siblings of some folder, if there is one.
fn find_cycle(edges: &BTreeSet<(Module, String, String)>) -> Option<(Module, Vec<String>)> {
    let mut graphs: BTreeMap<&Module, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for (parent, from, to) in edges {
        graphs
            .entry(parent)
            .or_default()
            .entry(from)
            .or_default()
            .push(to);
    }
    for (parent, graph) in graphs {
        fn visit<'a>(
            node: &'a str,
            graph: &BTreeMap<&'a str, Vec<&'a str>>,
            stack: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) -> Option<Vec<String>> {
            if let Some(at) = stack.iter().position(|n| *n == node) {
                let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            if !done.insert(node) {
                return None;
            }
            stack.push(node);
            for next in graph.get(node).into_iter().flatten() {
                if let Some(c) = visit(next, graph, stack, done) {
                    return Some(c);
                }
            }
            stack.pop();
            None
        }
        let mut done = BTreeSet::new();
        for node in graph.keys() {
            if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
                return Some((parent.clone(), cycle));
            }
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mods = modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let edges = edges(&mods);
    assert!(
        edges.len() > 20,
        "the reader found too few edges to be trusted: {edges:?}"
    );
    let mut remaining = edges.clone();
    let mut cycles = Vec::new();
    // Report every cycle: take one out by dropping its first edge, repeat.
    while let Some((parent, cycle)) = find_cycle(&remaining) {
        let folder = if parent.is_empty() {
            "src".to_string()
        } else {
            format!("src/{}", parent.join("/"))
        };
        cycles.push(format!("{folder}: {}", cycle.join(" -> ")));
        remaining.remove(&(parent, cycle[0].clone(), cycle[1].clone()));
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_sees_a_planted_cycle() {
    let mut mods = BTreeMap::new();
    let m = |s: &str| s.split("::").map(str::to_string).collect::<Module>();
    mods.insert(Vec::new(), String::new());
    mods.insert(m("a"), "use crate::b::{Thing, other::{X}};".to_string());
    mods.insert(m("b"), "fn f() { crate::c::g() }".to_string());
    mods.insert(m("b::other"), "use super::super::a::Y;".to_string());
    mods.insert(m("c"), "use crate::a;".to_string());
    let (parent, cycle) = find_cycle(&edges(&mods)).expect("a -> b -> c -> a");
    assert!(parent.is_empty());
    assert_eq!(cycle.first(), cycle.last());
    mods.insert(m("c"), String::new());
    mods.insert(m("b::other"), String::new());
    assert_eq!(find_cycle(&edges(&mods)), None);
}
