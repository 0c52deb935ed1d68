use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// Starts `candor serve` on a free loopback port; returns the process and the address line it printed.
pub(crate) fn serve(
    dir: &std::path::Path,
    stderr: Stdio,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let mut command = candor(dir);
    command
        .arg("serve")
        .env("CANDOR_LISTEN", "127.0.0.1:0")
        .env(
            "CANDOR_MASTER_KEY",
            domain::platform::crypto::MasterKey::generate().to_text().as_str(),
        )
        .stdout(Stdio::piped())
        .stderr(stderr);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

fn candor(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_candor"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir);
    command
}

#[test]
fn help_lists_every_setting() {
    let dir = tempfile::tempdir().unwrap();
    let output = candor(dir.path()).arg("--help").output().unwrap();
    assert!(output.status.success());
    // clap wraps long lines: fold all white space before looking.
    let help = String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for setting in [
        "CANDOR_CONFIG",
        "CANDOR_DATA_DIR",
        "CANDOR_MASTER_KEY",
        "CANDOR_MASTER_KEY_FILE",
        "CANDOR_DATABASE_URL",
        "CANDOR_LISTEN",
        "CANDOR_TLS",
        "CANDOR_TLS_CERT",
        "CANDOR_TLS_KEY",
        "CANDOR_BEHIND_TLS_PROXY",
        "CANDOR_LOG",
        "CANDOR_LOG_FORMAT",
        "CANDOR_SITE_ROOT",
        "CANDOR_REQUEST_TIMEOUT",
        "CANDOR_BODY_LIMIT",
        "CANDOR_PUBLIC_URL",
        "CANDOR_MAIL_FROM",
        "CANDOR_SMTP_URL",
        "CANDOR_SIGNIN_MAX_FAILURES",
        "CANDOR_SIGNIN_WINDOW",
        "CANDOR_SIGNIN_BLOCK",
        "CANDOR_BACKUP_DIR",
        "CANDOR_BACKUP_RECIPIENT",
        "CANDOR_BACKUP_INTERVAL_HOURS",
        "CANDOR_BACKUP_RETENTION_DAYS",
        "CANDOR_BACKUP_DRILL_DAYS",
        "CANDOR_BACKUP_IDENTITY_FILE",
        "CANDOR_BACKUP_SCRATCH_URL",
        "CANDOR_OPERATOR_EMAIL",
    ] {
        assert!(
            help.contains(&format!("[env: {setting}")),
            "--help does not list {setting}"
        );
    }
    assert!(help.contains("serve") && help.contains("migrate"));
}

#[test]
fn invalid_configuration_is_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("CANDOR_LISTEN", "not-an-address", "CANDOR_LISTEN"),
        ("CANDOR_LISTEN", "0.0.0.0:3000", "CANDOR_LISTEN"),
        ("CANDOR_TLS", "sometimes", "CANDOR_TLS"),
        ("CANDOR_BODY_LIMIT", "-5", "CANDOR_BODY_LIMIT"),
        ("CANDOR_MASTER_KEY", "dG9vIHNob3J0", "CANDOR_MASTER_KEY"),
    ];
    for (variable, value, named) in cases {
        let output = candor(dir.path())
            .arg("serve")
            .env(variable, value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{variable}={value}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(named), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn an_unreachable_database_names_the_host_not_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let output = candor(dir.path())
        .arg("migrate")
        .env(
            "CANDOR_DATABASE_URL",
            "postgres://candor:topsecret@127.0.0.1:1/candor",
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("topsecret"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Waits for `candor serve` to exit by itself (a start-up failure) and returns its stderr.
fn failed_start(mut command: Command) -> String {
    let output = command
        .arg("serve")
        .env("CANDOR_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn the_master_key_file_is_generated_once_and_checked_at_every_start() {
    let dir = tempfile::tempdir().unwrap();
    // No key: a clear start-up error that says how to make one.
    let stderr = failed_start(candor(dir.path()));
    assert!(
        stderr.contains("CANDOR_MASTER_KEY_FILE") && stderr.contains("candor keys generate"),
        "{stderr}"
    );

    let key_file = dir.path().join("data/master.key");
    std::fs::create_dir_all(key_file.parent().unwrap()).unwrap();
    let output = candor(dir.path())
        .args(["keys", "generate", "--out", "data/master.key"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let written = std::fs::read_to_string(&key_file).unwrap();
    // Never overwritten.
    let again = candor(dir.path())
        .args(["keys", "generate", "--out", "data/master.key"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), written);

    // The default key file serves; the database then belongs to that key.
    let mut command = candor(dir.path());
    command
        .arg("serve")
        .env("CANDOR_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("Candor is listening"), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();

    // Another key on the same database is refused before anything is written under it.
    let mut wrong = candor(dir.path());
    wrong.env(
        "CANDOR_MASTER_KEY",
        domain::platform::crypto::MasterKey::generate().to_text().as_str(),
    );
    let stderr = failed_start(wrong);
    assert!(
        stderr.contains("is not the one this database was written with"),
        "{stderr}"
    );
    assert!(!stderr.contains(written.trim()), "{stderr}");
}

#[test]
fn rotating_data_keys_names_an_unknown_workplace_and_accepts_all() {
    let dir = tempfile::tempdir().unwrap();
    let key = domain::platform::crypto::MasterKey::generate();
    let rotate = |which: &str| {
        candor(dir.path())
            .env("CANDOR_MASTER_KEY", key.to_text().as_str())
            .args(["keys", "rotate-tenant", which])
            .output()
            .unwrap()
    };
    let output = rotate("all");
    assert!(output.status.success(), "{output:?}");
    for (which, says) in [
        ("not-a-workplace", "is not a workplace id"),
        ("6f1c2a44-0a4e-4c55-9d2b-3a1f5f0c9e10", "Not found"),
    ] {
        let output = rotate(which);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(says), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_operator_sets_a_workplaces_invitation_allowance() {
    let dir = tempfile::tempdir().unwrap();
    let key = domain::platform::crypto::MasterKey::generate();
    let run = |args: &[&str]| {
        candor(dir.path())
            .env("CANDOR_MASTER_KEY", key.to_text().as_str())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    let url = format!("sqlite://{}", dir.path().join("data/candor.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(async {
        let db = domain::Database::connect(&url).await.unwrap();
        let master = domain::platform::crypto::MasterKey::from_text(key.to_text().as_str()).unwrap();
        domain::operations::instance::unlock(db, master, chrono::Utc::now())
            .await
            .unwrap()
    });
    let (owner, _) = runtime.block_on(domain::testing::workplace(
        &db,
        "Northwind",
        "ada@northwind.test",
        chrono::Utc::now(),
    ));
    let workplace = owner.workplace_id.to_string();
    let allowance = || {
        runtime.block_on(domain::testing::raw_strings(
            &db,
            "SELECT COALESCE(CAST(invitations_per_day AS TEXT), 'default') FROM workplaces",
        ))
    };
    let output = run(&["workplace", "allowance", &workplace, "5000"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("may send 5000 invitations a day"));
    assert_eq!(allowance(), ["5000"]);
    for (args, says) in [
        (
            ["workplace", "allowance", workplace.as_str(), "lots"],
            "is not a number of messages",
        ),
        (
            ["workplace", "allowance", workplace.as_str(), "0"],
            "from 1 to 100000",
        ),
        (
            ["workplace", "allowance", "not-a-workplace", "10"],
            "is not a workplace id",
        ),
        (
            [
                "workplace",
                "allowance",
                "6f1c2a44-0a4e-4c55-9d2b-3a1f5f0c9e10",
                "10",
            ],
            "Not found",
        ),
    ] {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert_eq!(allowance(), ["5000"], "a refused change changes nothing");
    assert!(run(&["workplace", "allowance", &workplace, "default"])
        .status
        .success());
    assert_eq!(allowance(), ["default"]);
    let log = runtime.block_on(domain::testing::audit_rows(&db, Some(owner.workplace_id)));
    assert_eq!(
        log.iter()
            .filter(|r| r.action == "workplace.invitation_allowance_set")
            .count(),
        2
    );
}

#[test]
fn the_operator_keeps_the_subprocessor_list() {
    let dir = tempfile::tempdir().unwrap();
    let key = domain::platform::crypto::MasterKey::generate();
    let run = |args: &[&str]| {
        candor(dir.path())
            .env("CANDOR_MASTER_KEY", key.to_text().as_str())
            .arg("subprocessors")
            .args(args)
            .output()
            .unwrap()
    };
    let hosting = [
        "add",
        "--name",
        "Hetzner Online",
        "--purpose",
        "Hosting",
        "--location",
        "Germany",
        "--data",
        "All workplace data, encrypted",
    ];
    let past = run(&[&hosting[..], &["--from", "2000-01-01"]].concat());
    assert_eq!(past.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&past.stderr).contains("cannot take effect in the past"));
    let added = run(&[&hosting[..], &["--from", "today"]].concat());
    assert!(added.status.success(), "{added:?}");
    let stdout = String::from_utf8(added.stdout).unwrap();
    assert!(
        stdout.contains("announced to the Owners of 0 workplaces"),
        "{stdout}"
    );
    let listed = String::from_utf8(run(&["list"]).stdout).unwrap();
    assert!(listed.contains("Hetzner Online  Germany  Hosting"), "{listed}");
    let id = listed.split_whitespace().next().unwrap().to_owned();
    for (args, says) in [
        (vec!["remove", "nope"], "is not a subprocessor id"),
        (vec!["remove", id.as_str(), "--until", "someday"], "is not a date"),
    ] {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(says), "{stderr}");
    }
    let removed = run(&["remove", id.as_str()]);
    assert!(removed.status.success(), "{removed:?}");
    assert!(String::from_utf8(run(&["list"]).stdout).unwrap().contains(" to "));
}

#[test]
fn migrate_creates_and_migrates_the_default_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = candor(dir.path()).arg("migrate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("Schema of SQLite is current"), "{stdout}");
    assert!(dir.path().join("data/candor.db").exists());
}

#[test]
fn serve_prints_the_address_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, line) = serve(dir.path(), Stdio::null(), &[]);
    assert!(
        line.starts_with("Candor is listening on http://localhost:"),
        "{line}"
    );
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "candor did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn json_logs_carry_the_request_id_and_never_the_query_string() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let (child, line) = serve(dir.path(), Stdio::piped(), &[("CANDOR_LOG_FORMAT", "json")]);
    let port = line
        .trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    stream
        .write_all(
            b"GET /healthz?token=very-secret-token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let request_id = answer
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("the response carries its request id")
        .trim()
        .to_owned();
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8(output.stderr).unwrap();
    assert!(!logs.contains("very-secret-token"), "{logs}");
    let entry = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|entry| entry["path"] == "/healthz")
        .unwrap_or_else(|| panic!("no JSON access-log line for /healthz in:\n{logs}"));
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["span"]["request_id"], request_id.as_str());
}

#[test]
fn audit_verify_names_the_tampered_row() {
    let dir = tempfile::tempdir().unwrap();
    let migrated = candor(dir.path()).arg("migrate").output().unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let url = format!("sqlite://{}", dir.path().join("data/candor.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(domain::Database::connect(&url)).unwrap();
    let clock: std::sync::Arc<dyn domain::Clock> = std::sync::Arc::new(domain::SystemClock);
    for _ in 0..3 {
        let trail = domain::platform::audit::Trail::for_request(clock.clone(), Some("req"), "people/list");
        runtime
            .block_on(domain::platform::access_log::finish(&trail, &db, 404))
            .unwrap();
    }
    let verify = || candor(dir.path()).args(["audit", "verify"]).output().unwrap();
    let intact = verify();
    let stdout = String::from_utf8(intact.stdout).unwrap();
    assert!(intact.status.success(), "{stdout}");
    assert!(stdout.contains("instance: intact, 3 entries"), "{stdout}");

    let second = runtime.block_on(domain::testing::audit_rows(&db, None))[1].id;
    runtime.block_on(domain::testing::tamper_audit_entry(&db, second, "people/nothing"));
    let broken = verify();
    let stdout = String::from_utf8(broken.stdout).unwrap();
    assert_eq!(broken.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("BROKEN at entry 2 (row {second})")),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&broken.stderr).contains("1 of 1 chains are broken"));
}

#[test]
fn backup_list_verify_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let master = domain::platform::crypto::MasterKey::generate()
        .to_text()
        .to_string();
    let keygen = candor(dir.path())
        .args(["backup", "keygen", "--out", "backup.key"])
        .output()
        .unwrap();
    let printed = String::from_utf8(keygen.stdout).unwrap();
    assert!(keygen.status.success(), "{printed}");
    let public = printed
        .lines()
        .find(|l| l.starts_with("age1"))
        .unwrap()
        .to_owned();
    let private = std::fs::read_to_string(dir.path().join("backup.key")).unwrap();
    assert!(
        !printed.contains("AGE-SECRET-KEY"),
        "the private key is never printed"
    );
    assert!(private.contains("AGE-SECRET-KEY-1"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("backup.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the key file is private");

    let run = |args: &[&str], database: &str| {
        let mut command = candor(dir.path());
        command
            .args(args)
            .env("CANDOR_MASTER_KEY", &master)
            .env("CANDOR_BACKUP_DIR", dir.path().join("store"))
            .env("CANDOR_BACKUP_RECIPIENT", &public)
            .env(
                "CANDOR_DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join(database).display()),
            );
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&["migrate"], "live.db");
    assert_eq!(code, Some(0), "{err}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("live.db").display());
        let db = domain::Database::connect(&url)
            .await
            .unwrap()
            .unlock(
                domain::platform::crypto::MasterKey::from_text(&master).unwrap(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        domain::testing::workplace(&db, "Northwind", "ada@northwind.test", chrono::Utc::now()).await;
    });

    let (code, out, err) = run(&["backup"], "live.db");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("Backup ") && out.contains("1 workplaces"), "{out}");
    assert!(
        err.contains("writing [") && err.contains("100%"),
        "a progress line: {err}"
    );
    let (_, listed, _) = run(&["backup", "list"], "live.db");
    assert_eq!(listed.lines().count(), 1, "{listed}");

    // Restore refuses the live database, accepts an empty one, and drills.
    let (code, _, err) = run(&["restore", "latest", "--identity", "backup.key"], "live.db");
    assert_eq!(code, Some(1));
    assert!(err.contains("not empty") && err.contains("--replace"), "{err}");
    let (code, out, err) = run(&["restore", "latest", "--identity", "backup.key"], "restored.db");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("Restored backup") && out.contains("1 workplaces"),
        "{out}"
    );
    let (code, out, err) = run(&["backup", "verify", "--identity", "backup.key"], "live.db");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("Restore drill passed"), "{out}");

    // The wrong private key: a clear refusal.
    let other = dir.path().join("other.key");
    let (code, _, _) = run(&["backup", "keygen", "--out", other.to_str().unwrap()], "live.db");
    assert_eq!(code, Some(0));
    let (code, _, err) = run(&["restore", "latest", "--identity", "other.key"], "third.db");
    assert_eq!(code, Some(1));
    assert!(err.contains("does not open"), "{err}");
}
