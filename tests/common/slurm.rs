//! A real Slurm cluster of one node on this machine (Debian's slurm-wlm and munge): munged,
//! slurmctld and slurmd started by the test in a scratch directory, on free ports, with a
//! config of their own (`SLURM_CONF` points the client commands at it).

use super::{wait, Scratch};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The node's name in Slurm (what `squeue` prints).
pub const NODE: &str = "gbnode1";

/// The running cluster; its daemons are killed when dropped.
pub struct Slurm {
    dir: Scratch,
    daemons: Vec<Child>,
}

impl Slurm {
    /// Starts munged, slurmctld and slurmd and waits until the node is idle.
    pub fn start() -> Slurm {
        let dir = Scratch::new("slurm");
        let d = dir.path();
        for sub in ["state", "spool", "log"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        let key = d.join("munge.key");
        let out = Command::new("mungekey")
            .arg("-c")
            .arg("-k")
            .arg(&key)
            .output()
            .expect("run mungekey (install munge: bash tests/run-all.sh)");
        assert!(
            out.status.success(),
            "mungekey: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let socket = d.join("munge.sock");
        let mut daemons = Vec::new();
        let munged = Command::new("munged")
            .args(["-F", "-f"])
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--key-file={}", key.display()))
            .arg(format!("--log-file={}", d.join("log/munged.log").display()))
            .arg(format!("--pid-file={}", d.join("munged.pid").display()))
            .arg(format!("--seed-file={}", d.join("munged.seed").display()))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("log/munged.out")).unwrap())
            .spawn()
            .expect("start munged (install munge: bash tests/run-all.sh)");
        daemons.push(munged);
        wait::started("munged's socket", &d.join("log/munged.out"), || {
            socket.exists()
        });
        let host = String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        let (ctld_port, node_port) = (super::free_port(), super::free_port());
        let conf = d.join("slurm.conf");
        let p = |s: &str| d.join(s).display().to_string();
        std::fs::write(
            &conf,
            format!(
                "ClusterName=gbwatch\nSlurmctldHost={host}(127.0.0.1)\nSlurmctldPort={ctld_port}\n\
                 SlurmdPort={node_port}\nAuthType=auth/munge\nCredType=cred/munge\n\
                 AuthInfo=socket={sock}\nSlurmUser=root\nSlurmdUser=root\n\
                 StateSaveLocation={state}\nSlurmdSpoolDir={spool}\n\
                 SlurmctldPidFile={ctld_pid}\nSlurmdPidFile={node_pid}\n\
                 SlurmctldLogFile={ctld_log}\nSlurmdLogFile={node_log}\n\
                 ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
                 JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n\
                 JobCompType=jobcomp/none\nMpiDefault=none\nSelectType=select/cons_tres\n\
                 SelectTypeParameters=CR_Core\nReturnToService=2\nMinJobAge=30\n\
                 SlurmctldTimeout=60\nSlurmdTimeout=60\n\
                 NodeName={NODE} NodeHostname={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN\n\
                 PartitionName=debug Nodes={NODE} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4\n",
                sock = socket.display(),
                state = p("state"),
                spool = p("spool"),
                ctld_pid = p("slurmctld.pid"),
                node_pid = p("slurmd.pid"),
                ctld_log = p("log/slurmctld.log"),
                node_log = p("log/slurmd.log"),
            ),
        )
        .unwrap();
        let daemon = |program: &str, args: &[&str], log: &str| {
            Command::new(program)
                .args(args)
                .arg("-f")
                .arg(&conf)
                .env("SLURM_CONF", &conf)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(d.join(log)).unwrap())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("start {program} (install slurm-wlm: bash tests/run-all.sh): {e}")
                })
        };
        daemons.push(daemon(
            "slurmctld",
            &["-D", "-i", "-c"],
            "log/slurmctld.out",
        ));
        daemons.push(daemon("slurmd", &["-D", "-N", NODE], "log/slurmd.out"));
        let slurm = Slurm { dir, daemons };
        wait::started(
            "the Slurm node to be idle",
            &slurm.path("log/slurmctld.log"),
            || {
                let out = slurm
                    .command("sinfo")
                    .args(["-h", "-o", "%T"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).trim() == "idle"
            },
        );
        slurm
    }

    /// A file of the cluster's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The cluster's config (for `SLURM_CONF`).
    pub fn conf(&self) -> PathBuf {
        self.path("slurm.conf")
    }

    /// A Slurm client command (`sbatch`, `squeue`, …) of this cluster.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", self.conf());
        cmd
    }

    /// Submits `script` (a shell command line run by the job in `cwd`) and returns the job id.
    pub fn sbatch(&self, cwd: &Path, extra: &[&str], script: &str) -> String {
        let out: Output = self
            .command("sbatch")
            .current_dir(cwd)
            .arg("--parsable")
            .arg(format!(
                "--output={}",
                self.path("log/job-%j.out").display()
            ))
            .args(extra)
            .arg("--wrap")
            .arg(script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sbatch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The job's state as `squeue` prints it (`RUNNING`, `PENDING`, … or empty).
    pub fn state(&self, job: &str) -> String {
        let out = self
            .command("squeue")
            .args(["-h", "-t", "all", "-j", job, "-o", "%T"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `scancel JOB`.
    pub fn scancel(&self, job: &str) {
        let out = self.command("scancel").arg(job).output().unwrap();
        assert!(
            out.status.success(),
            "scancel: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What the job printed.
    pub fn job_output(&self, job: &str) -> String {
        std::fs::read_to_string(self.path(&format!("log/job-{job}.out"))).unwrap_or_default()
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        // Jobs first: their processes belong to slurmstepd, not to the daemons killed below.
        if let Ok(out) = self.command("squeue").args(["-h", "-o", "%i"]).output() {
            for job in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = self.command("scancel").arg(job).status();
            }
            let _ = wait::within(std::time::Duration::from_secs(10), || {
                let out = self
                    .command("squeue")
                    .args(["-h", "-o", "%i"])
                    .output()
                    .ok()?;
                out.stdout.iter().all(u8::is_ascii_whitespace).then_some(())
            });
        }
        for d in self.daemons.iter_mut().rev() {
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}
