//! The gbwatch wheel (maturin: the publisher and the binary in one package), installed into
//! a fresh venv with no cargo on the PATH: `gbwatch --version`, `python -m gbwatch list`,
//! its publisher, and its `gbwatch stats` reading real PyBoy. The wheel is the one
//! `tests/run-all.sh` built (`$GBWATCH_WHEEL`), else this test builds it (maturin, release).

use crate::common;

use common::{pyboy_publisher, run_ok, Scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The wheel to test: `$GBWATCH_WHEEL`, else one built by maturin into `dir`.
fn wheel(dir: &Path) -> PathBuf {
    if let Some(w) = std::env::var_os("GBWATCH_WHEEL") {
        return PathBuf::from(w);
    }
    let maturin = common::python().with_file_name("maturin");
    run_ok(
        Command::new(&maturin)
            .args(["build", "--quiet", "--release", "--out"])
            .arg(dir)
            .current_dir(common::root().join("examples/python")),
    );
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("maturin made a wheel")
}

/// The newest `GLIBC_2.N` a binary names.
fn newest_glibc(binary: &[u8]) -> u32 {
    let tag = b"GLIBC_2.";
    binary
        .windows(tag.len())
        .enumerate()
        .filter(|(_, w)| w == tag)
        .filter_map(|(i, _)| {
            let digits: String = binary[i + tag.len()..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .map(|&b| b as char)
                .collect();
            digits.parse().ok()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn the_wheel_installs_without_cargo_and_its_gbwatch_reads_real_pyboy() {
    let dir = Scratch::new("wheel");
    let wheel = wheel(dir.path());
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    // gbwatch-0.1.0-py3-none-manylinux_2_NN_x86_64.whl: an honest platform tag.
    let tag = name
        .strip_prefix(&format!("gbwatch-{}-py3-none-", env!("CARGO_PKG_VERSION")))
        .and_then(|t| t.strip_suffix(".whl"))
        .unwrap_or_else(|| panic!("{name}"));
    let glibc_tag: u32 = tag
        .strip_prefix("manylinux_2_")
        .and_then(|t| t.strip_suffix(&format!("_{}", std::env::consts::ARCH)))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a manylinux tag of this CPU: {name}"));

    let venv = dir.path().join("venv");
    run_ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    let bin = venv.join("bin");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let which_cargo = Command::new("sh")
        .args(["-c", "command -v cargo"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(!which_cargo.status.success(), "cargo is on {path}");
    let slots = dir.path().join("slots");
    let in_venv = |program: &str| {
        let mut cmd = Command::new(bin.join(program));
        cmd.env("PATH", &path)
            .env("GBWATCH_DIR", &slots)
            .env_remove("PYTHONPATH")
            .current_dir(dir.path());
        cmd
    };
    run_ok(
        in_venv("pip")
            .args(["install", "-q", "--no-index", "--disable-pip-version-check"])
            .arg(&wheel),
    );

    // The binary it installed needs no newer glibc than its tag says.
    let installed = std::fs::read(bin.join("gbwatch")).unwrap();
    let needs = newest_glibc(&installed);
    assert!(
        needs > 0 && needs <= glibc_tag,
        "the binary needs glibc 2.{needs}, the wheel says 2.{glibc_tag}"
    );

    let out = run_ok(in_venv("gbwatch").arg("--version"));
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(
        version.starts_with(&format!(
            "gbwatch {} (slot format 1, stream format ",
            env!("CARGO_PKG_VERSION")
        )),
        "{version}"
    );
    run_ok(in_venv("python").args(["-m", "gbwatch", "list"]));

    // Its publisher, and the record that lets ssh:// find its gbwatch.
    let out = run_ok(in_venv("python").args([
        "-c",
        "import gbwatch; print(gbwatch.__file__); print(gbwatch.find_gbwatch_bin())",
    ]));
    let said = String::from_utf8_lossy(&out.stdout);
    let mut lines = said.lines();
    assert!(
        lines.next().unwrap().starts_with(venv.to_str().unwrap()),
        "{said}"
    );
    assert_eq!(Path::new(lines.next().unwrap()), bin.join("gbwatch"));

    let _pyboy = pyboy_publisher(&slots, "env-00", &["--fps", "30", "--seconds", "60"]);
    let out = run_ok(in_venv("gbwatch").args(["stats", "--json", "--duration", "3"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let feeds = v["feeds"].as_array().unwrap();
    assert_eq!(feeds.len(), 1, "{v:#}");
    assert_eq!(feeds[0]["name"], "env-00");
    assert!(feeds[0]["captured"].as_u64().unwrap() >= 10, "{v:#}");
    let out = run_ok(in_venv("python").args(["-m", "gbwatch", "list"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("env-00"));
}
