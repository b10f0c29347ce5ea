//! Nothing acknowledged is lost: the server process is killed with SIGKILL right after
//! acknowledged writes, and after a restart every write and every queued mail is there.

use std::time::Duration;

use crate::common::{Backend, Browser, process_setup};
use crate::journeys::PASSWORD;

const INVITEES: usize = 12;

/// `hidamari create-coordinator`, as the README says, against the running server's database.
fn create_coordinator(
    database_url: &str,
    data_dir: &std::path::Path,
    base_url: &str,
    email: &str,
) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hidamari"))
        .args(["create-coordinator", "--email", email])
        .env("DATABASE_URL", database_url)
        .env("HIDAMARI_DATA_DIR", data_dir)
        .env("HIDAMARI_BASE_URL", base_url)
        .output()
        .expect("running create-coordinator");
    assert!(
        output.status.success(),
        "create-coordinator: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{base_url}/invite/")))
        .unwrap_or_else(|| panic!("no link in: {stdout}"))
        .to_owned()
}

async fn acknowledged_writes_survive_sigkill(backend: Backend) {
    let setup = process_setup(backend).await;
    let server = setup.start_server(&[]).await;
    let link = create_coordinator(
        &setup.database_url,
        setup.dir.path(),
        &server.base_url(),
        "coord@example.org",
    );
    let coordinator: Browser = server.client();
    coordinator.get(&link).await;
    let joined = coordinator
        .post_form(
            &link,
            &[
                ("display_name", "ひまわり"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(joined.status, 303);

    // Mail cannot leave while the SMTP server is down, so every invitation mail is still queued
    // when the process dies.
    setup.mail.stop().await;
    for n in 0..INVITEES {
        coordinator.get("/admin/invitations").await;
        let email = format!("person{n}@example.org");
        let page = coordinator
            .post_form(
                "/admin/invitations",
                &[
                    ("emails", &email),
                    ("role", "member"),
                    ("relation", "patient"),
                    ("locale", "ja"),
                ],
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.text());
        assert!(page.text().contains("招待を送りました"));
    }
    coordinator.get("/account").await;
    let renamed = coordinator
        .post_form("/account/name", &[("display_name", "ひまわり2")])
        .await;
    assert_eq!(renamed.status, 303);

    let addr = server.addr;
    let status = server.kill_hard().await;
    assert!(
        !status.success(),
        "the process was killed, not stopped: {status:?}"
    );

    setup.mail.start_again().await;
    let server = setup.start_server_at(addr, &[]).await;
    // The session lives in the database: the same browser is still logged in.
    let home = coordinator.get("/").await;
    assert_eq!(home.status, 200, "{}", home.text());
    assert!(
        home.text().contains("ひまわり2"),
        "the acknowledged rename survived: {}",
        home.text()
    );
    let list = coordinator.get("/admin/invitations").await;
    for n in 0..INVITEES {
        let email = format!("person{n}@example.org");
        assert!(list.body.contains(&email), "invitation to {email} survived");
        let mail = setup
            .mail
            .wait_for(|m| m.is_to(&email), Duration::from_secs(60))
            .await;
        assert!(mail.subject.contains("ご招待"));
    }
    // Exactly once each: a later mail arrives after every retry of the earlier ones.
    coordinator.get("/admin/invitations").await;
    coordinator
        .post_form(
            "/admin/invitations",
            &[
                ("emails", "last@example.org"),
                ("role", "member"),
                ("relation", "patient"),
                ("locale", "ja"),
            ],
        )
        .await;
    setup
        .mail
        .wait_for(|m| m.is_to("last@example.org"), Duration::from_secs(30))
        .await;
    for n in 0..INVITEES {
        let email = format!("person{n}@example.org");
        assert_eq!(
            setup.mail.messages_to(&email).len(),
            1,
            "{email} got its invitation once"
        );
    }

    let status = server.terminate().await;
    assert!(
        status.success(),
        "SIGTERM stops the server gracefully: {status:?}"
    );
    setup.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_sqlite() {
    acknowledged_writes_survive_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_postgres() {
    acknowledged_writes_survive_sigkill(Backend::Postgres).await;
}

/// `hidamari backup PATH` copies the database while the server runs, and refuses to overwrite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_a_running_sqlite_database() {
    let setup = process_setup(Backend::Sqlite).await;
    let server = setup.start_server(&[]).await;
    let link = create_coordinator(
        &setup.database_url,
        setup.dir.path(),
        &server.base_url(),
        "coord@example.org",
    );
    let coordinator = server.client();
    coordinator.get(&link).await;
    let joined = coordinator
        .post_form(
            &link,
            &[
                ("display_name", "ひまわり"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(joined.status, 303);

    let target = setup.dir.path().join("backup.db");
    let backup = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hidamari"))
            .arg("backup")
            .arg(&target)
            .env("DATABASE_URL", &setup.database_url)
            .env("HIDAMARI_DATA_DIR", setup.dir.path())
            .output()
            .expect("running backup")
    };
    let first = backup();
    assert!(
        first.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    let copy = sqlx::SqlitePool::connect(&format!("sqlite://{}", target.display()))
        .await
        .expect("the copy opens");
    let names: Vec<String> = sqlx::query_scalar("SELECT display_name FROM users")
        .fetch_all(&copy)
        .await
        .expect("users");
    assert_eq!(names, vec!["ひまわり".to_owned()]);
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&copy)
        .await
        .expect("check");
    assert_eq!(check, "ok");
    copy.close().await;
    let second = backup();
    assert!(
        !second.status.success(),
        "an existing file is not overwritten"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("exists already"));

    server.terminate().await;
    setup.finish().await;
}
