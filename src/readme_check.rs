//! Keeps the README and the guides beside the code true to the program: every `gbwatch`
//! command in their code blocks parses as the command line it shows, and every benchmark and
//! file they name exists.

use crate::cli::Cli;
use clap::Parser;
use std::path::Path;

/// The documents a user reads: the README and the guides it links to.
const DOCS: &[&str] = &[
    "README.md",
    "examples/README.md",
    "examples/python/README.md",
    "src/cmd/COMMANDS.md",
    "src/pipeline/FEEDS.md",
    "src/serve/HTTP.md",
    "src/source/SOURCES.md",
    "src/tui/WATCH.md",
    "tests/README.md",
];

fn read(doc: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines inside the document's fenced code blocks.
fn code_lines(text: &str) -> Vec<&str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if inside {
            lines.push(line);
        }
    }
    lines
}

/// A shell line's words, single and double quotes taken off; `None` past the end of the
/// command (a comment, a pipe, a redirection, `&&`).
fn words(command: &str) -> Vec<String> {
    let (mut out, mut word, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (None, '#' | '|' | '>' | '&' | ';') if word.is_empty() && !any => break,
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

/// The `gbwatch …` commands of a document's code blocks (a synopsis with `[...]` left out).
fn gbwatch_commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in code_lines(text) {
        for part in line.split(['|', ';']).flat_map(|p| p.split("&&")) {
            let part = part.trim();
            let argv = words(part);
            if argv.first().is_some_and(|w| w == "gbwatch")
                && !argv.iter().any(|w| w.contains("..."))
            {
                out.push(argv);
            }
        }
    }
    out
}

/// Every `--example NAME` of a document.
fn examples(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("--example ") {
        rest = &rest[i + "--example ".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.push(name);
    }
    out
}

/// What is wrong with the documents' commands, one line each.
fn problems(doc: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for argv in gbwatch_commands(text) {
        if let Err(e) = Cli::try_parse_from(&argv) {
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            out.push(format!("{doc}: `{}`: {first}", argv.join(" ")));
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in examples(text) {
        if !root.join("examples").join(format!("{name}.rs")).is_file() {
            out.push(format!("{doc}: --example {name}: no examples/{name}.rs"));
        }
    }
    out
}

#[test]
fn every_command_in_the_docs_parses_and_every_benchmark_exists() {
    let mut all = Vec::new();
    let mut commands = 0;
    for doc in DOCS {
        let text = read(doc);
        commands += gbwatch_commands(&text).len();
        all.extend(problems(doc, &text));
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
    assert!(
        commands >= 36,
        "only {commands} gbwatch commands found in the docs"
    );
}

#[test]
fn a_mistyped_flag_in_a_doc_is_named() {
    let doc = "```sh\ngbwatch dump demo --count 10 --outt frames/   # a typo\n```\n";
    let found = problems("X.md", doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("--outt"), "{found:?}");
    let doc = "```sh\ncargo run --release --example bench_nothing\n```\n";
    assert_eq!(problems("X.md", doc).len(), 1);
}

#[test]
fn words_follow_the_shell() {
    assert_eq!(
        words("gbwatch stats 'sessions/*/x.jpeg'   # one env per file"),
        ["gbwatch", "stats", "sessions/*/x.jpeg"]
    );
    assert_eq!(words("gbwatch man > f"), ["gbwatch", "man"]);
}

#[test]
fn the_readme_fits_two_screens() {
    let lines = read("README.md").lines().count();
    assert!(lines <= 300, "README.md has {lines} lines");
}
