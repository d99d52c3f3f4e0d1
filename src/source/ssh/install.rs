//! Which gbwatch an `ssh://` box runs, and copying this one there when it has none.
//!
//! The remote command tries, in order: `gbwatch` on the login PATH, the binary a publisher
//! recorded in the slot directory (`.gbwatch-bin`: the gbwatch installed in its venv),
//! `$GBWATCH_REMOTE`, and a copy this viewer made before in `~/.cache/gbwatch/VERSION/`,
//! run only when its SHA-256 is this binary's. With none, it says what the box is, and the
//! viewer copies its own binary there over ssh (when the box runs the same OS and CPU and a
//! C library new enough, and `--no-install` was not given), checked before it is kept.

use crate::source::stream::ConnectError;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What the remote command prints when it finds no gbwatch, before the box's description.
const MISSING: &str = "gbwatch-missing";
/// What it prints when the copy in the cache failed its checksum (and was not run).
const TAMPERED: &str = "gbwatch-tampered";
/// What the slot directory's binary record is called (the publisher writes it).
pub const BIN_RECORD: &str = ".gbwatch-bin";
/// Longest a copy may take.
const COPY_LIMIT: Duration = Duration::from_secs(300);

static FORBIDDEN: AtomicBool = AtomicBool::new(false);

/// Allows or forbids copying gbwatch to boxes that have none (`--no-install`,
/// `GBWATCH_NO_INSTALL`).
pub fn set_allowed(allowed: bool) {
    FORBIDDEN.store(!allowed, Ordering::Relaxed);
}

/// The running binary, as the copy on a box must match it.
#[derive(Debug)]
pub struct OwnBinary {
    path: PathBuf,
    /// SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The newest glibc symbol version it links against (`GLIBC_2.34` is (2, 34)).
    pub glibc: Option<(u32, u32)>,
}

/// This binary's checksum and needs, read once.
pub fn own() -> Result<&'static OwnBinary, &'static str> {
    static OWN: OnceLock<Result<OwnBinary, String>> = OnceLock::new();
    OWN.get_or_init(|| {
        let path = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("cannot read this binary {}: {e}", path.display()))?;
        use sha2::Digest;
        let sha256 = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(OwnBinary {
            path,
            sha256,
            bytes: bytes.len() as u64,
            glibc: newest_glibc(&bytes),
        })
    })
    .as_ref()
    .map_err(String::as_str)
}

/// The newest `GLIBC_2.N` version named in `binary` (its symbol versions).
fn newest_glibc(binary: &[u8]) -> Option<(u32, u32)> {
    const TAG: &[u8] = b"GLIBC_2.";
    let mut best = None;
    for i in memchr::memmem::find_iter(binary, TAG) {
        let start = i + TAG.len();
        let digits: String = binary[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| b as char)
            .collect();
        if let Ok(minor) = digits.parse::<u32>() {
            best = best.max(Some((2, minor)));
        }
    }
    best
}

/// The folder of this version's copy, under the box user's home.
pub fn folder() -> String {
    format!(".cache/gbwatch/{}", env!("CARGO_PKG_VERSION"))
}

/// `s` quoted for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/=:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The remote command line: `sh -c SCRIPT` running `GBWATCH WORDS` with the first gbwatch
/// the box has (see the module), `dir` the slot directory in the URL.
pub fn remote_line(words: &str, dir: Option<&str>, remote: Option<&str>) -> String {
    let hash = own().map(|o| o.sha256.as_str()).unwrap_or("unknown");
    let dir_arg = dir
        .map(|d| format!(" {}", shell_quote(d)))
        .unwrap_or_default();
    let set_dir = match dir {
        Some(d) => format!("d={}", shell_quote(d)),
        None => {
            "case $(uname -s) in Linux) d=/dev/shm/gbwatch;; *) d=${TMPDIR:-/tmp}/gbwatch;; esac; \
                d=${GBWATCH_DIR:-$d}"
                .to_string()
        }
    };
    let remote = remote.map(shell_quote).unwrap_or_default();
    let script = format!(
        "{set_dir}; \
         for g in \"$(command -v gbwatch)\" \"$(cat \"$d/{BIN_RECORD}\" 2>/dev/null)\" {remote}; do \
         if [ -n \"$g\" ] && [ -x \"$g\" ]; then exec \"$g\" {words}{dir_arg}; fi; done; \
         c=\"$HOME/{folder}/gbwatch\"; \
         if [ -f \"$c\" ]; then s=$(sha256sum \"$c\" 2>/dev/null || shasum -a 256 \"$c\" 2>/dev/null); \
         if [ \"${{s%% *}}\" = {hash} ]; then exec \"$c\" {words}{dir_arg}; fi; echo {TAMPERED} >&2; fi; \
         echo \"{MISSING} $(uname -s) $(uname -m) $(getconf GNU_LIBC_VERSION 2>/dev/null)\" >&2; exit 127",
        folder = folder(),
    );
    format!("sh -c {}", shell_quote(&script))
}

/// What a box with no gbwatch said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// `uname -s`: `Linux`.
    pub os: String,
    /// `uname -m`: `x86_64`, `aarch64`.
    pub arch: String,
    /// Its glibc version; None for another C library.
    pub glibc: Option<(u32, u32)>,
    /// A copy was there but failed its checksum (it was not run).
    pub tampered: bool,
}

/// The box's answer in `stderr`, when the remote command found no gbwatch.
pub fn parse_missing(stderr: &str) -> Option<Missing> {
    let line = stderr.lines().rfind(|l| l.starts_with(MISSING))?;
    let mut words = line.split_whitespace().skip(1);
    let (os, arch) = (words.next()?.to_string(), words.next()?.to_string());
    let glibc = match (words.next(), words.next()) {
        (Some("glibc"), Some(v)) => parse_version(v),
        _ => None,
    };
    Some(Missing {
        os,
        arch,
        glibc,
        tampered: stderr.lines().any(|l| l.trim() == TAMPERED),
    })
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Why this binary cannot run on that box; Ok when it can.
pub fn compatible(box_: &Missing, own: &OwnBinary) -> Result<(), String> {
    let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
    if !box_.os.eq_ignore_ascii_case(os) || box_.arch != arch {
        return Err(format!(
            "it runs {} {}, this gbwatch is {os} {arch}",
            box_.os, box_.arch
        ));
    }
    match (own.glibc, box_.glibc) {
        (Some(need), Some(has)) if has < need => Err(format!(
            "its glibc {}.{} is older than the {}.{} this gbwatch needs",
            has.0, has.1, need.0, need.1
        )),
        (Some(_), None) => Err("it has no glibc".into()),
        _ => Ok(()),
    }
}

/// The one line for a box where gbwatch cannot be run or copied.
fn not_installed(host: &str, why: &str) -> ConnectError {
    ConnectError::error(format!(
        "gbwatch is not installed on {host} ({why}): pip install a gbwatch wheel into the training env there \
         (maturin build --release -m examples/python/pyproject.toml makes one), or set GBWATCH_REMOTE to its path"
    ))
}

/// The box to copy to: its host and `ssh` with its arguments up to the destination.
pub struct Target {
    /// The host, as the user named it.
    pub host: String,
    /// `ssh` and its arguments; the remote command goes after them.
    pub ssh: (String, Vec<String>),
}

/// What to do about a box that answered `missing`: copy this binary there (the next
/// connection runs it) or say in one line why not.
pub fn resolve(target: &Target, missing: &Missing) -> ConnectError {
    let host = target.host.as_str();
    if FORBIDDEN.load(Ordering::Relaxed) {
        return not_installed(host, "not on the login PATH, in a publisher's venv or $GBWATCH_REMOTE; not copied: --no-install");
    }
    let own = match own() {
        Ok(own) => own,
        Err(e) => return not_installed(host, e),
    };
    if let Err(why) = compatible(missing, own) {
        return not_installed(host, &format!("this binary cannot be copied there: {why}"));
    }
    match copy(target, own) {
        Ok(()) => {
            let replaced = if missing.tampered {
                ", replacing a copy that failed its checksum"
            } else {
                ""
            };
            let line = format!(
                "installed gbwatch {} on {host} (~/{}, {} MB{replaced})",
                env!("CARGO_PKG_VERSION"),
                folder(),
                own.bytes.div_ceil(1 << 20)
            );
            eprintln!("gbwatch: {line}");
            ConnectError::offline(line)
        }
        Err(e) => ConnectError::error(format!("could not copy gbwatch to {host}: {e}")),
    }
}

/// Sends this binary to the box's cache folder over ssh; the box keeps it only when its
/// SHA-256 is right.
fn copy(target: &Target, own: &OwnBinary) -> Result<(), String> {
    let script = format!(
        "set -e; d=\"$HOME/{folder}\"; mkdir -p \"$d\"; t=\"$d/.gbwatch.tmp-$$\"; cat > \"$t\"; \
         s=$(sha256sum \"$t\" 2>/dev/null || shasum -a 256 \"$t\"); \
         if [ \"${{s%% *}}\" != {hash} ]; then rm -f \"$t\"; echo \"the copy arrived damaged (checksum ${{s%% *}}); not kept\" >&2; exit 3; fi; \
         chmod 700 \"$t\"; mv -f \"$t\" \"$d/gbwatch\"; echo installed",
        folder = folder(),
        hash = own.sha256
    );
    let (program, mut args) = target.ssh.clone();
    args.push(format!("sh -c {}", shell_quote(&script)));
    let mut child = Command::new(&program)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let mut file = std::fs::File::open(&own.path).map_err(|e| e.to_string())?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let sent = std::io::copy(&mut file, &mut stdin);
    drop(stdin);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > COPY_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no answer in {} s", COPY_LIMIT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut said = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut said);
    }
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let last = said.lines().map(str::trim).rfind(|l| !l.is_empty());
    if !status.success() || out.trim() != "installed" {
        return Err(last.unwrap_or("the copy did not finish").to_string());
    }
    sent.map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_that_has_no_gbwatch_describes_itself() {
        let said = "gbwatch-tampered\ngbwatch-missing Linux x86_64 glibc 2.36\n";
        assert_eq!(
            parse_missing(said),
            Some(Missing {
                os: "Linux".into(),
                arch: "x86_64".into(),
                glibc: Some((2, 36)),
                tampered: true,
            })
        );
        let musl = parse_missing("gbwatch-missing Linux aarch64 \n").unwrap();
        assert_eq!((musl.glibc, musl.tampered), (None, false));
        assert_eq!(parse_missing("bash: gbwatch: command not found"), None);
    }

    #[test]
    fn only_a_box_of_the_same_kind_with_a_new_enough_glibc_gets_a_copy() {
        let own = OwnBinary {
            path: PathBuf::new(),
            sha256: String::new(),
            bytes: 0,
            glibc: Some((2, 34)),
        };
        let box_ = |os: &str, arch: &str, glibc| Missing {
            os: os.into(),
            arch: arch.into(),
            glibc,
            tampered: false,
        };
        let (os, arch) = ("Linux", std::env::consts::ARCH);
        assert_eq!(compatible(&box_(os, arch, Some((2, 36))), &own), Ok(()));
        assert!(compatible(&box_(os, arch, Some((2, 31))), &own)
            .unwrap_err()
            .contains("older than the 2.34"));
        assert!(compatible(&box_(os, "riscv64", Some((2, 36))), &own).is_err());
        assert!(compatible(&box_("Darwin", arch, None), &own).is_err());
        assert_eq!(
            compatible(&box_(os, arch, None), &own),
            Err("it has no glibc".into())
        );
    }

    #[test]
    fn the_newest_glibc_version_named_in_a_binary_is_found() {
        let bytes = b"\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0GLIBC_PRIVATE\0";
        assert_eq!(newest_glibc(bytes), Some((2, 34)));
        assert_eq!(newest_glibc(b"no versions"), None);
    }
}
