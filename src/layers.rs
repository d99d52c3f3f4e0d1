//! Keeps the imports pointing one way: reads every `use` and path of `src/` (outside test
//! modules), resolves each to the file that defines the name (through `pub use`), and fails,
//! naming the files, on a circle of files or on a module that reaches up past its layer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may use modules of lower layers only, and a module of
/// its own layer only if it is itself (peers such as `tui` and `serve` never use each other).
/// The order is the data flow of the crate docs.
const LAYERS: &[&[&str]] = &[
    &["clock", "cancel", "info"],
    &["frame"],
    &["slot", "stream"],
    &["source"],
    &["pipeline"],
    &["encode"],
    &["tui", "serve"],
    &["cli"],
    &["cmd"],
];

/// Modules compiled for the unit tests only.
const TEST_ONLY: &[&str] = &["fixtures", "layers", "readme_check"];

/// One source file as a module: its path in the crate and its code without test modules.
struct File {
    module: Vec<String>,
    code: String,
}

fn module_of(src: &Path, path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code that counts: no comments, no `#[cfg(test)]` items (they may use fixtures).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<i32> = None;
    let mut depth = 0i32;
    let mut pending_test = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        let line = line.split(" //").next().unwrap_or("");
        if t.starts_with("#[cfg(test)]") {
            pending_test = true;
            continue;
        }
        let opens = line.matches('{').count() as i32;
        let closes = line.matches('}').count() as i32;
        if pending_test {
            pending_test = false;
            if opens > closes {
                skip_depth = Some(depth);
            } else {
                // A one-line test item (`mod fixtures;`, `fn x() {}`).
                continue;
            }
        }
        depth += opens - closes;
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Expands one `use` tree (`a::{b, c::{d as e}}`) into full paths.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = split_path(&tree[..open]);
        let mut base = prefix.to_vec();
        base.extend(head);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &base, out);
    } else {
        let name = tree.split(" as ").next().unwrap_or("").trim();
        if name.is_empty() {
            return;
        }
        let mut path = prefix.to_vec();
        path.extend(split_path(name).into_iter().filter(|s| s != "self"));
        out.push(path);
    }
}

fn split_path(s: &str) -> Vec<String> {
    s.split("::")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Makes `path` absolute (from the crate root) as seen from `module`; `None` for paths into
/// other crates.
fn absolute(
    module: &[String],
    path: &[String],
    modules: &HashMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let mut base: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => module.to_vec(),
        Some("super") => module.to_vec(),
        Some(child) => {
            // `use child::X` names a module declared here.
            let mut own = module.to_vec();
            own.push(child.to_string());
            if !modules.contains_key(&own) {
                return None;
            }
            let mut abs = module.to_vec();
            abs.extend(path.iter().cloned());
            return Some(abs);
        }
        None => return None,
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        base.pop();
        while rest.first().map(String::as_str) == Some("super") {
            base.pop();
            rest = &rest[1..];
        }
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Every path a file's code names: its `use` trees and the `crate::`/`super::` paths in it.
fn paths_of(
    file: &File,
    modules: &HashMap<Vec<String>, PathBuf>,
) -> (Vec<Vec<String>>, BTreeMap<String, Vec<String>>) {
    let mut used = Vec::new();
    let mut exported = BTreeMap::new();
    let mut body = String::new();
    let mut lines = file.code.lines();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        let (public, stmt) = if let Some(r) = t.strip_prefix("use ") {
            (false, r)
        } else if let Some(r) = ["pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|p| t.strip_prefix(p))
        {
            (true, r)
        } else {
            body.push_str(line);
            body.push('\n');
            continue;
        };
        let mut stmt = stmt.to_string();
        while !stmt.contains(';') {
            match lines.next() {
                Some(more) => stmt.push_str(more),
                None => break,
            }
        }
        let stmt = stmt.split(';').next().unwrap_or("");
        let mut trees = Vec::new();
        expand(stmt, &[], &mut trees);
        for t in trees {
            if let Some(abs) = absolute(&file.module, &t, modules) {
                // A re-export is the module's face, not a use: others are resolved
                // through it to the file that defines the name.
                match (public, abs.last()) {
                    (true, Some(last)) => {
                        exported.insert(last.clone(), abs.clone());
                    }
                    _ => used.push(abs),
                }
            }
        }
    }
    for word in body.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        // A word ending in `::` is the head of a use tree, expanded above.
        if (word.starts_with("crate::") || word.starts_with("super::")) && !word.ends_with("::") {
            if let Some(abs) = absolute(&file.module, &split_path(word), modules) {
                used.push(abs);
            }
        }
    }
    (used, exported)
}

/// The source tree: file path → module and code.
struct Tree {
    files: BTreeMap<PathBuf, File>,
    by_module: HashMap<Vec<String>, PathBuf>,
    exports: HashMap<PathBuf, BTreeMap<String, Vec<String>>>,
    uses: HashMap<PathBuf, Vec<Vec<String>>>,
}

impl Tree {
    fn read(src: &Path) -> Tree {
        let mut stack = vec![src.to_path_buf()];
        let mut files = BTreeMap::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let module = module_of(src, &path);
                    files.insert(
                        path,
                        File {
                            module,
                            code: code_of(&text),
                        },
                    );
                }
            }
        }
        let mut tree = Tree {
            by_module: files
                .iter()
                .map(|(p, f)| (f.module.clone(), p.clone()))
                .collect(),
            files,
            exports: HashMap::new(),
            uses: HashMap::new(),
        };
        for (path, file) in &tree.files {
            let (used, exported) = paths_of(file, &tree.by_module);
            tree.uses.insert(path.clone(), used);
            tree.exports.insert(path.clone(), exported);
        }
        tree
    }

    /// The file that defines what `path` names, through `pub use` re-exports.
    fn resolve(&self, path: &[String], hops: usize) -> Option<PathBuf> {
        let n = (0..=path.len())
            .rev()
            .find(|n| self.by_module.contains_key(&path[..*n]))?;
        let file = self.by_module[&path[..n]].clone();
        if let (Some(name), true) = (path.get(n), hops < 8) {
            if let Some(target) = self.exports[&file].get(name) {
                if target.as_slice() != path {
                    let mut next = target.clone();
                    next.extend(path[n + 1..].iter().cloned());
                    return self.resolve(&next, hops + 1).or(Some(file));
                }
            }
        }
        Some(file)
    }

    /// Arrows between files: A → B when A uses a name B defines.
    fn arrows(&self) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
        let mut arrows = BTreeMap::new();
        for (path, used) in &self.uses {
            let to: &mut BTreeSet<PathBuf> = arrows.entry(path.clone()).or_default();
            for u in used {
                if let Some(target) = self.resolve(u, 0) {
                    if &target != path {
                        to.insert(target);
                    }
                }
            }
        }
        arrows
    }
}

/// Files that reach each other through arrows, in groups of two or more (Tarjan's SCCs).
fn circles(arrows: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct Walk<'a> {
        arrows: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: HashMap<&'a PathBuf, usize>,
        low: HashMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a PathBuf) {
        let i = w.index.len();
        w.index.insert(v, i);
        w.low.insert(v, i);
        w.stack.push(v);
        w.on_stack.insert(v);
        for next in w.arrows.get(v).into_iter().flatten() {
            if !w.index.contains_key(next) {
                visit(w, next);
                let l = w.low[next].min(w.low[v]);
                w.low.insert(v, l);
            } else if w.on_stack.contains(next) {
                let l = w.index[next].min(w.low[v]);
                w.low.insert(v, l);
            }
        }
        if w.low[v] == w.index[v] {
            let mut group = Vec::new();
            while let Some(top) = w.stack.pop() {
                w.on_stack.remove(top);
                group.push(top.clone());
                if top == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                w.found.push(group);
            }
        }
    }
    let mut w = Walk {
        arrows,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in arrows.keys() {
        if !w.index.contains_key(v) {
            visit(&mut w, v);
        }
    }
    w.found
}

fn layer_of(module: &[String]) -> Option<(usize, &str)> {
    let top = module.first()?;
    LAYERS
        .iter()
        .enumerate()
        .find_map(|(i, l)| l.iter().find(|m| **m == top.as_str()).map(|m| (i, *m)))
}

/// Arrows from a module to one of its own layer or above, as lines.
fn upward(tree: &Tree, arrows: &BTreeMap<PathBuf, BTreeSet<PathBuf>>, src: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    for (from, tos) in arrows {
        let Some((lf, mf)) = layer_of(&tree.files[from].module) else {
            continue;
        };
        for to in tos {
            let Some((lt, mt)) = layer_of(&tree.files[to].module) else {
                continue;
            };
            if mf != mt && lt >= lf {
                bad.push(format!(
                    "{} (layer {mf}) uses {} (layer {mt}, {})",
                    from.strip_prefix(src).unwrap().display(),
                    to.strip_prefix(src).unwrap().display(),
                    if lt == lf { "a peer" } else { "above it" },
                ));
            }
        }
    }
    bad
}

fn problems(src: &Path) -> Vec<String> {
    let tree = Tree::read(src);
    let arrows = tree.arrows();
    let mut out: Vec<String> = circles(&arrows)
        .into_iter()
        .map(|group| {
            let names: Vec<String> = group
                .iter()
                .map(|p| p.strip_prefix(src).unwrap().display().to_string())
                .collect();
            format!("import circle: {}", names.join(" -> "))
        })
        .collect();
    out.extend(upward(&tree, &arrows, src));
    for module in tree.files.values().filter_map(|f| f.module.first()) {
        if layer_of(std::slice::from_ref(module)).is_none() && !TEST_ONLY.contains(&module.as_str())
        {
            let line = format!("module {module} is in no layer of src/layers.rs");
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

#[test]
fn imports_point_down_the_layers_and_never_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = problems(&src);
    assert!(
        found.is_empty(),
        "imports against the data flow:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_circle_and_an_upward_arrow_are_found() {
    let dir = std::env::temp_dir().join(format!("gbwatch-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("pipeline")).unwrap();
    let write = |p: &str, s: &str| std::fs::write(dir.join(p), s).unwrap();
    write("lib.rs", "pub mod pipeline;\npub mod source;\n");
    write(
        "pipeline/mod.rs",
        "mod a;\nmod b;\npub use a::A;\npub use b::B;\n",
    );
    write("pipeline/a.rs", "use super::B;\npub struct A;\n");
    write(
        "pipeline/b.rs",
        "use crate::pipeline::A;\npub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::source::S;\n}\n",
    );
    write("source.rs", "use crate::pipeline::{A, B};\npub struct S;\n");
    let found = problems(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        found.contains(&"import circle: pipeline/a.rs -> pipeline/b.rs".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(
            &"source.rs (layer source) uses pipeline/a.rs (layer pipeline, above it)".to_string()
        ),
        "{found:?}"
    );
    assert_eq!(found.len(), 3, "test modules do not count: {found:?}");
}
