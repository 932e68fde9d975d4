//! The server crate's import graph, read from its source: every module sits in one layer,
//! imports only from its own layer or the ones below, and no import cycle exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first. A module may import from its own layer (without a cycle) and below.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "clock",
            "error",
            "store",
            "auth",
            "config",
            "tags",
            "amazon",
            "metrics",
            "ratelimit",
            "outbox",
            "secret_key",
            "clicks",
            "webhooks",
        ],
    ),
    ("state", &["state"]),
    // The JSON objects endpoints return and background work renders into webhook events.
    ("objects", &["objects"]),
    (
        "services",
        &[
            "accounts",
            "brand_amazon",
            "linking",
            "login",
            "quotas",
            "ingest",
            "jobs",
            "demo",
            "joining",
            "api_keys",
            "invitations",
            "mail",
            "statements",
        ],
    ),
    ("http", &["http"]),
    // `connections` is the HTTP server's accept loop, which `app` runs.
    ("entry points", &["app", "connections", "cli"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Every `crate::a::b::C` path a source text names, `use crate::{a, b::C}` groups
/// included, as its segments.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `quiver_crate::` and the like
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => return true,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    false
                })
                .map_or(group.len(), |(j, _)| j);
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let path: String = item
                            .trim()
                            .chars()
                            .take_while(|&c| is_path_char(c))
                            .collect();
                        if !path.is_empty() {
                            paths.push(path.split("::").map(str::to_owned).collect());
                        }
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            let path: String = rest.chars().take_while(|&c| is_path_char(c)).collect();
            paths.push(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    paths
}

/// Top-level module -> the top-level modules it imports, with one example path each.
fn import_graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for path in crate_paths(&text) {
            let Some(target) = path.first() else { continue };
            if *target == module {
                continue;
            }
            // `error.rs` is the one place typed errors become HTTP answers, so it names
            // the error types of the layers above it, and only those.
            if module == "error" && path.last().is_some_and(|item| item.ends_with("Error")) {
                continue;
            }
            edges
                .entry(target.clone())
                .or_insert_with(|| format!("{} uses crate::{}", rel.display(), path.join("::")));
        }
    }
    graph
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

#[test]
fn modules_import_only_their_own_layer_and_below() {
    let graph = import_graph();
    let mut problems = Vec::new();
    for (module, edges) in &graph {
        let Some(from) = layer_of(module) else {
            problems.push(format!("`{module}` is in no layer: add it to LAYERS"));
            continue;
        };
        for (target, example) in edges {
            match layer_of(target) {
                Some(to) if to <= from => {}
                Some(to) => problems.push(format!(
                    "{} module `{module}` imports {} module `{target}`: {example}",
                    LAYERS[from].0, LAYERS[to].0
                )),
                None => problems.push(format!("`{target}` is in no layer: add it to LAYERS")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The graph was read at all: the lower layers are imported.
    assert!(graph["http"].contains_key("state") && graph["linking"].contains_key("store"));
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = import_graph();
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_owned());
            cycles.push(cycle.join(" -> "));
            return;
        }
        if !done.insert(node.to_owned()) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(|e| e.keys()) {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}
