//! `gbwatch.wrap(env)` with no name inside real vector-env stacks around real PyBoy envs:
//! gymnasium's AsyncVectorEnv (spawn and forkserver) of 8 envs and a multiprocessing Pool
//! (fork) of 4 workers. Every env gets its own slot, the parent's dummy env none, names
//! survive reset(), and a killed worker's index goes to its replacement while no other env
//! changes name. The stacks run in tests/py/vector_envs.py; this checks what it saw.

use crate::common;

use common::{python, root, Scratch};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::process::Command;

fn run(args: &[&str]) -> (Value, Scratch) {
    let dir = Scratch::new("vector");
    // Bounded: a vector env that hangs fails the test instead of holding up the suite.
    let out = Command::new("timeout")
        .args(["-k", "5", "120"])
        .arg(python())
        .arg(root().join("tests/py/vector_envs.py"))
        .args(args)
        .env("GBWATCH_DIR", dir.path())
        .env_remove("GBWATCH_ENV")
        .env_remove("GBWATCH_RUN")
        .output()
        .expect("run tests/py/vector_envs.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(124),
        "{args:?} did not end within 120 s: {stderr}"
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("already published"),
        "no name was asked twice: {stderr}"
    );
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    });
    (json, dir)
}

fn owners(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, p)| (k.clone(), p.as_u64().unwrap()))
        .collect()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn async_vector_env(context: &str) {
    let (r, _dir) = run(&["async", context]);
    let names = names(&r["names"]);
    let expected: Vec<String> = (0..8).map(|i| format!("vector_envs-{i:02}")).collect();
    // The run prefix is the script's name; each worker takes its own index.
    assert_eq!(names, expected, "{r}");
    assert_eq!(
        names,
        self::names(&r["after_reset"]),
        "names change on reset()"
    );
    let before = owners(&r["before"]);
    let parent = r["parent"].as_u64().unwrap();
    assert_eq!(
        before.len(),
        8,
        "one slot per env, none for the dummy env: {before:?}"
    );
    assert!(
        before.values().all(|&p| p != parent),
        "the parent published: {before:?}"
    );
    assert_eq!(before.values().collect::<HashSet<_>>().len(), 8);
    assert_eq!(
        r["replacement"], r["killed"],
        "the freed index is reused: {r}"
    );
    let after = owners(&r["after"]);
    assert_eq!(after.len(), 8, "{after:?}");
    for (name, pid) in &before {
        if *name == r["killed"] {
            assert_ne!(after[name], *pid, "{name} is the replacement's now");
        } else {
            assert_eq!(after[name], *pid, "{name} changed hands");
        }
    }
}

#[test]
fn async_vector_env_spawn_names_every_env_once() {
    async_vector_env("spawn");
}

#[test]
fn async_vector_env_forkserver_names_every_env_once() {
    async_vector_env("forkserver");
}

#[test]
fn fork_pool_workers_never_share_the_parents_name() {
    let (r, _dir) = run(&["forkpool"]);
    let parent = r["parent"].as_u64().unwrap();
    let parent_name = r["parent_name"].as_str().unwrap().to_string();
    let first: BTreeMap<String, String> = serde_json::from_value(r["first"].clone()).unwrap();
    let second: BTreeMap<String, String> = serde_json::from_value(r["second"].clone()).unwrap();
    assert_eq!(first.len(), 4, "every worker ran: {r}");
    let worker_names: HashSet<_> = first.values().collect();
    assert_eq!(worker_names.len(), 4, "distinct names: {first:?}");
    assert!(
        !worker_names.contains(&parent_name),
        "a child took the parent's name: {r}"
    );
    let before = owners(&r["before"]);
    let after = owners(&r["after"]);
    // The parent's slot stayed the parent's although every child inherited its publisher.
    assert_eq!(before[&parent_name], parent);
    assert_eq!(after[&parent_name], parent);
    let killed_pid = r["killed_pid"].as_u64().unwrap().to_string();
    let killed = r["killed"].as_str().unwrap();
    for (pid, name) in &second {
        if let Some(old) = first.get(pid) {
            assert_eq!(old, name, "worker {pid} changed name");
        } else {
            assert_eq!(name, killed, "the replacement reuses the freed index: {r}");
        }
    }
    assert!(!second.contains_key(&killed_pid));
    assert_eq!(second.len(), 4, "{r}");
    assert_eq!(after.len(), 5, "{after:?}");
}
