//! The real `hidamari` binary as a separate process, for the stories that kill or stop it.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::{NamedTempFile, TempDir};
use tokio::process::{Child, Command};

use super::{Backend, Browser, MailBox, new_database};

/// How long the binary may take to answer `/healthz` (it migrates first), and to exit.
const START_LIMIT: Duration = Duration::from_secs(60);
const EXIT_LIMIT: Duration = Duration::from_secs(30);

/// What a server process needs, made before it starts and kept across restarts: a data folder, a
/// fresh database and the SMTP peer.
pub struct ProcessSetup {
    pub backend: Backend,
    pub dir: TempDir,
    pub database_url: String,
    pub mail: MailBox,
    pg_database: Option<String>,
}

/// A fresh data folder, database and SMTP peer, no server yet.
pub async fn process_setup(backend: Backend) -> ProcessSetup {
    let dir = tempfile::Builder::new()
        .prefix("hidamari-it-")
        .tempdir()
        .expect("a temporary folder");
    let (database_url, pg_database) = new_database(backend, dir.path()).await;
    let mail = MailBox::start().await;
    ProcessSetup {
        backend,
        dir,
        database_url,
        mail,
        pg_database,
    }
}

impl ProcessSetup {
    /// Drops a PostgreSQL database and stops the SMTP peer (the folder goes when `self` does).
    /// Call it after the last server process has ended.
    pub async fn finish(self) {
        if let Some(name) = &self.pg_database {
            super::postgres::drop_database(name).await;
        }
        self.mail.stop().await;
    }

    /// The environment the binary gets: its database and the SMTP peer, then `extra_env`.
    fn env<'a>(
        &'a self,
        smtp: &'a str,
        extra_env: &'a [(&'a str, &'a str)],
    ) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![
            ("DATABASE_URL", self.database_url.as_str()),
            ("HIDAMARI_SMTP_URL", smtp),
        ];
        env.extend_from_slice(extra_env);
        env
    }

    /// Starts the binary on a free port.
    pub async fn start_server(&self, extra_env: &[(&str, &str)]) -> ServerProcess {
        let smtp = self.mail.url();
        ServerProcess::start(self.dir.path(), &self.env(&smtp, extra_env)).await
    }

    /// Starts the binary on `addr`, e.g. the address of the process that was just killed, so that
    /// links already mailed still work.
    pub async fn start_server_at(
        &self,
        addr: SocketAddr,
        extra_env: &[(&str, &str)],
    ) -> ServerProcess {
        let smtp = self.mail.url();
        ServerProcess::start_at(addr, self.dir.path(), &self.env(&smtp, extra_env)).await
    }
}

/// A running `hidamari serve`. Dropping it kills the process.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Child,
    log: NamedTempFile,
}

impl ServerProcess {
    /// `hidamari serve` on 127.0.0.1 and a free port, with `HIDAMARI_DATA_DIR=data_dir`,
    /// `DATABASE_URL` (SQLite in `data_dir` unless `extra_env` says otherwise) and `extra_env`;
    /// returns once `/healthz` answers 200.
    pub async fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("finding a free port")
            .port();
        Self::start_at(
            SocketAddr::from(([127, 0, 0, 1], port)),
            data_dir,
            extra_env,
        )
        .await
    }

    /// As [`ServerProcess::start`], on the given address.
    pub async fn start_at(
        addr: SocketAddr,
        data_dir: &Path,
        extra_env: &[(&str, &str)],
    ) -> ServerProcess {
        let log = NamedTempFile::new().expect("a log file for the server process");
        let stdout = log.reopen().expect("opening the log file");
        let stderr = stdout.try_clone().expect("sharing the log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_hidamari"));
        command.arg("serve");
        // Nothing of the caller's own hidamari settings leaks into the process.
        for (name, _) in std::env::vars_os() {
            if name
                .to_str()
                .is_some_and(|n| n.starts_with("HIDAMARI_") || n == "DATABASE_URL")
            {
                command.env_remove(&name);
            }
        }
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "hidamari=info,tower_http=warn,sqlx=warn");
        }
        command
            .env("HIDAMARI_LISTEN", addr.to_string())
            .env("HIDAMARI_BASE_URL", format!("http://{addr}"))
            .env("HIDAMARI_DATA_DIR", data_dir)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/hidamari.db", data_dir.display()),
            );
        for (name, value) in extra_env {
            command.env(name, value);
        }
        command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        let child = command.spawn().expect("starting the hidamari binary");
        let mut server = ServerProcess { addr, child, log };
        server.wait_until_healthy().await;
        server
    }

    /// Polls `/healthz` with growing pauses until it answers 200.
    async fn wait_until_healthy(&mut self) {
        let http = reqwest::Client::new();
        let url = format!("{}/healthz", self.base_url());
        let deadline = Instant::now() + START_LIMIT;
        let mut pause = Duration::from_millis(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("checking the server process") {
                panic!(
                    "hidamari serve exited with {status} before answering /healthz; its log:\n{}",
                    self.log()
                );
            }
            let answer = http.get(&url).send().await;
            if answer
                .as_ref()
                .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
            {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "hidamari serve did not answer /healthz with 200 within {START_LIMIT:?} (last: {:?}); its log:\n{}",
                    answer.map(|r| r.status()),
                    self.log()
                );
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self) -> Browser {
        Browser::new(&self.base_url())
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server process is running")
    }

    /// What the process wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// SIGKILL: the process gets no chance to clean up. Returns once it is gone.
    pub async fn kill_hard(mut self) -> ExitStatus {
        self.child.start_kill().expect("sending SIGKILL");
        self.wait().await
    }

    /// SIGTERM, then waits for a graceful exit (panics if it takes over 30 s).
    pub async fn terminate(mut self) -> ExitStatus {
        let pid = self.pid().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        self.wait().await
    }

    async fn wait(&mut self) -> ExitStatus {
        match tokio::time::timeout(EXIT_LIMIT, self.child.wait()).await {
            Ok(status) => status.expect("waiting for the server process"),
            Err(_) => {
                let _ = self.child.start_kill();
                panic!(
                    "hidamari serve did not exit within {EXIT_LIMIT:?}; its log:\n{}",
                    self.log()
                );
            }
        }
    }
}
