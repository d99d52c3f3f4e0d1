//! A stream read from a child process (`ssh HOST gbwatch relay …`, or `gbwatch relay`
//! itself): its standard output is the stream, its standard input takes the requests, and
//! its standard error says why it ended.

use super::client::{ConnectError, Connection, Transport};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most bytes of the child's standard error kept for explaining its end.
const STDERR_KEPT: usize = 8 * 1024;

/// Turns how the child ended (its exit status, its standard error) into the line to show.
pub type Explain = Arc<dyn Fn(Option<i32>, &str, ConnectError) -> ConnectError + Send + Sync>;

/// Runs `program args…` for every connection.
pub struct CommandTransport {
    program: String,
    args: Vec<String>,
    explain: Explain,
}

impl CommandTransport {
    /// A transport running `program` with `args`; `explain` words its failures.
    pub fn new(program: &str, args: Vec<String>, explain: Explain) -> CommandTransport {
        CommandTransport {
            program: program.to_string(),
            args,
            explain,
        }
    }
}

/// The child of one connection, killed when the connection is done with.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl ChildGuard {
    /// The exit code once the child has ended (waiting up to `limit`).
    fn exit_code(&mut self, limit: Duration) -> Option<i32> {
        let until = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.0.try_wait() {
                return status.code();
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Transport for CommandTransport {
    fn connect(&mut self) -> Result<Connection, ConnectError> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                ConnectError::error(format!(
                    "cannot run {}: {}",
                    self.program,
                    crate::source::http::io_reason(&e)
                ))
            })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let said = Arc::new(Mutex::new(String::new()));
        let s = said.clone();
        // Detached: it ends at the child's end of standard error, when the child ends.
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut said = s.lock().unwrap();
                said.push_str(&String::from_utf8_lossy(&buf[..n]));
                if said.len() > STDERR_KEPT {
                    let cut = said.len() - STDERR_KEPT;
                    let cut = (cut..said.len())
                        .find(|i| said.is_char_boundary(*i))
                        .unwrap_or(0);
                    said.drain(..cut);
                }
            }
        });
        let mut guard = ChildGuard(child);
        let explain = self.explain.clone();
        Ok(Connection {
            read: Box::new(stdout),
            write: Box::new(stdin),
            explain: Box::new(move |problem| {
                let code = guard.exit_code(Duration::from_secs(2));
                // What it printed last, once it has finished printing.
                std::thread::sleep(Duration::from_millis(50));
                let text = said.lock().unwrap().clone();
                explain(code, &text, problem)
            }),
        })
    }
}
