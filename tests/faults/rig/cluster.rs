//! A throwaway PostgreSQL cluster for the one test that stops and starts its server: `initdb`
//! into a temporary directory, `pg_ctl` on a free loopback port, PostgreSQL's own binaries found
//! on the machine (`pg_config --bindir`, else `initdb` on the PATH). The server that
//! `TEST_DATABASE_URL` names is never stopped, restarted or reconfigured. Removed when dropped.

use std::path::PathBuf;
use std::process::{Command, Output};

use std::os::unix::process::CommandExt;

pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// PostgreSQL refuses to run as root: the cluster belongs to this user then.
    owner: Option<(u32, u32)>,
}

/// The directory of PostgreSQL's server programs on this machine, if any.
fn bin_dir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    from_pg_config
        .filter(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
            })
        })
}

/// The uid and gid of the `postgres` account, to run the cluster as when the tests run as root.
fn postgres_account() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn describe(what: &str, output: &Output) -> String {
    format!(
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

impl Cluster {
    /// A new cluster, started; `None` (with the reason printed) when this machine has no
    /// PostgreSQL server programs.
    pub fn start() -> Option<Cluster> {
        let Some(bin) = bin_dir() else {
            eprintln!("no initdb/pg_ctl on this machine: PostgreSQL run skipped");
            return None;
        };
        let owner = if is_root() {
            Some(postgres_account().expect("a postgres account to run the throwaway cluster as"))
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("consilium-pg-")
            .tempdir()
            .expect("a temporary directory");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the cluster");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster {
            bin,
            dir,
            port,
            owner,
        };
        let data = cluster.data_dir();
        let init = cluster
            .command("initdb")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
            ])
            .args(["--no-sync", "-E", "UTF8", "--locale=C"])
            .output()
            .expect("initdb runs");
        assert!(init.status.success(), "{}", describe("initdb", &init));
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.owner {
            command.uid(uid).gid(gid);
        }
        command.current_dir(self.dir.path());
        command
    }

    fn run(&self, action: &str) -> Output {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let mut command = self.command("pg_ctl");
        command.args(["-D", data.to_str().unwrap(), "-w", "-t", "30"]);
        match action {
            "start" => command.args(["-l", log.to_str().unwrap(), "-o", &options, "start"]),
            _ => command.args(["-m", "fast", action]),
        };
        command.output().expect("pg_ctl runs")
    }

    /// `pg_ctl start` or `stop` (fast: sessions are terminated), waiting for it; panics with
    /// pg_ctl's words when it fails.
    pub fn pg_ctl(&self, action: &str) {
        let output = self.run(action);
        assert!(
            output.status.success(),
            "{}\n{}",
            describe(&format!("pg_ctl {action}"), &output),
            self.log()
        );
    }

    /// The server's log, for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The URL of the cluster's `postgres` database (tests create their own beside it).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let output = self.run("stop");
        if !output.status.success() && self.data_dir().join("postmaster.pid").exists() {
            eprintln!("{}", describe("stopping the throwaway cluster", &output));
        }
    }
}
