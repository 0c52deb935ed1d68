//! An acknowledged check-in is a stored check-in: the real `candor` binary, killed with SIGKILL
//! while people are submitting, loses none of the submissions it answered 200 to. Submissions
//! are committed in groups (see `domain::surveys::submissions`), so this is what proves that a
//! group is acknowledged only after its commit.

use std::{
    io::{Read, Write},
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::Utc;
use domain::{
    surveys::{answering, closing, results, rounds},
    testing::TestDb,
};

const PEOPLE: usize = 400;
const CLIENTS: usize = 16;

/// One submission over a fresh connection; the HTTP status, or None when the server is gone.
fn post_submission(port: &str, cookie: &str, body: &str) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let request = format!(
        "POST /api/check_ins/submit HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Cookie: {cookie}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

fn port_of(line: &str) -> String {
    line.trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned()
}

async fn no_acknowledged_check_in_is_lost_to_a_kill(test_db: TestDb) {
    let now = Utc::now();
    let db = &test_db.db;
    let (owner, tenant) = domain::testing::workplace(db, "Durable", "owner@durable.test", now).await;
    let people = domain::testing::seed_active_people(&tenant, PEOPLE, None, now).await;
    domain::testing::workload_survey(&tenant, &owner, "Pulse", now).await;
    let round = rounds::open_due(db, now).await.unwrap().remove(0).round();
    let question = answering::open_check_ins(&tenant.as_person(&owner), now)
        .await
        .unwrap()
        .remove(0)
        .questions[0]
        .id;
    let mut submissions = Vec::new();
    for (n, person) in people.iter().enumerate() {
        let (cookie, _) = super::isolation::full_session(db, *person).await;
        let body = format!(
            r#"{{"round":"{round}","answers":[{{"question":"{question}","value":{},"comment":null}}]}}"#,
            1 + n % 5
        );
        submissions.push((cookie, body));
    }
    let submissions = Arc::new(submissions);

    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("CANDOR_DATABASE_URL", test_db.url.as_str()),
        ("CANDOR_MASTER_KEY", test_db.master_key.as_str()),
        ("CANDOR_NETWORK_REQUESTS_PER_SECOND", "1000000"),
        ("CANDOR_SESSION_REQUESTS_PER_SECOND", "1000000"),
    ];
    let (mut server, line) = super::cli::serve(dir.path(), Stdio::null(), &env);
    let port = port_of(&line);

    // Sixteen people's browsers at once, each going through its share of the people.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (submissions, acknowledged, port) = (submissions.clone(), acknowledged.clone(), port.clone());
            std::thread::spawn(move || {
                for n in (client..PEOPLE).step_by(CLIENTS) {
                    let (cookie, body) = &submissions[n];
                    match post_submission(&port, cookie, body) {
                        Some(200) => acknowledged.lock().unwrap().push(n),
                        Some(status) => panic!("submission {n} answered {status}"),
                        None => return,
                    }
                }
            })
        })
        .collect();
    // Killed once a quarter of the people have their answer acknowledged, the rest mid-flight.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < PEOPLE / 4 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the load did not get going"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    for client in clients {
        client.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() < PEOPLE,
        "the kill came after every submission: nothing was in flight"
    );

    // After a restart, everyone acknowledged has answered; the others answer now (or find that
    // their submission was stored though its answer never reached them).
    let (mut server, line) = super::cli::serve(dir.path(), Stdio::null(), &env);
    let port = port_of(&line);
    for (n, (cookie, body)) in submissions.iter().enumerate() {
        let status = post_submission(&port, cookie, body).unwrap();
        if acknowledged.contains(&n) {
            assert_eq!(status, 409, "acknowledged submission {n} was lost");
        } else {
            assert!(status == 200 || status == 409, "submission {n} answered {status}");
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // Each stored check-in was logged once, in its own transaction, at the day only; the
    // refused second tries are logged as refusals.
    let logged: Vec<_> = domain::testing::audit_rows(db, Some(tenant.workplace_id()))
        .await
        .into_iter()
        .filter(|row| row.action == "check_ins/submit")
        .collect();
    assert_eq!(logged.iter().filter(|row| row.outcome == "ok").count(), PEOPLE);
    assert!(logged.iter().all(|row| row.request_id.is_none()), "{logged:?}");

    // Every person's check-in is stored exactly once: the release counts one ballot each.
    closing::close_now(&tenant.as_person(&owner), round, Utc::now())
        .await
        .unwrap();
    let listed = results::rounds_with_results(&tenant.as_person(&owner))
        .await
        .unwrap();
    let (_, answered) = listed[0].counts.unwrap();
    assert_eq!(answered, results::Answered::Exactly(PEOPLE as u32));
}

domain::on_both_backends!(no_acknowledged_check_in_is_lost_to_a_kill);
