//! Test harness shared by the integration tests of every crate: each test gets its own fresh
//! database, on SQLite (a temporary file) or PostgreSQL (a new database in the cluster named by
//! `TEST_DATABASE_URL`). `scripts/test` starts a throwaway cluster and sets
//! `CANDOR_REQUIRE_POSTGRES=1`, so there a missing PostgreSQL fails the run instead of skipping.
#![allow(clippy::expect_used, clippy::panic)] // test-only code: failing loudly is the point

use crate::{Backend, Database};

/// The ordinary (not superuser) role PostgreSQL tests connect as. The throwaway cluster trusts
/// local connections, so it needs no password.
pub const APP_ROLE: &str = "candor_app";

pub struct TestDb {
    pub db: Database,
    pub url: String,
    /// The master key the database was unlocked with (base64), to reopen it as a restart would.
    pub master_key: String,
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL database this test created, dropped with it.
    postgres_name: Option<String>,
}

impl Drop for TestDb {
    /// Drops a PostgreSQL test database, so a run leaves the cluster as it found it. On a
    /// thread of its own: this may run inside the test's runtime, which must not block on itself.
    fn drop(&mut self) {
        let (Some(name), Some(admin_url)) = (self.postgres_name.take(), postgres_admin_url()) else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = Database::connect(&admin_url).await.ok()?;
                let done = admin
                    .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                let _ = admin.close().await;
                done.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("a PostgreSQL test database was not dropped");
        }
    }
}

impl TestDb {
    /// A migrated database unlocked with a fresh master key, or `None` when PostgreSQL is asked
    /// for and not configured.
    pub async fn migrated(backend: Backend) -> Option<Self> {
        let mut test_db = Self::empty(backend).await?;
        test_db
            .db
            .migrate()
            .await
            .expect("migrations apply to a fresh database");
        let master = crate::platform::crypto::MasterKey::generate();
        test_db.master_key = master.to_text().to_string();
        test_db.db = crate::operations::instance::unlock(test_db.db.clone(), master, chrono::Utc::now())
            .await
            .expect("a fresh database accepts its first master key");
        Some(test_db)
    }

    /// A database with no tables at all.
    pub async fn empty(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("candor-test.db").display()
                );
                let db = Database::connect(&url).await.expect("SQLite opens");
                Some(Self {
                    db,
                    url,
                    master_key: String::new(),
                    _dir: Some(dir),
                    postgres_name: None,
                })
            }
            Backend::Postgres => {
                let Some(admin_url) = postgres_admin_url() else {
                    eprintln!("PostgreSQL test skipped: TEST_DATABASE_URL is not set");
                    return None;
                };
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL is reachable");
                // Tests run as an ordinary role that owns its database, as Candor should in
                // production: row-level security binds it (a superuser would bypass it).
                admin
                    .execute_admin(&format!(
                        "DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; \
                         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                    ))
                    .await
                    .expect("the application role exists");
                let name = format!("candor_test_{}", uuid::Uuid::new_v4().simple());
                admin
                    .execute_admin(&format!("CREATE DATABASE {name} OWNER {APP_ROLE}"))
                    .await
                    .expect("test database is created");
                let _ = admin.close().await;
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                url.set_username(APP_ROLE).expect("the URL takes a user name");
                url.set_password(None).expect("the URL takes no password");
                let url = url.to_string();
                let db = Database::connect(&url).await.expect("test database opens");
                Some(Self {
                    db,
                    url,
                    master_key: String::new(),
                    _dir: None,
                    postgres_name: Some(name),
                })
            }
        }
    }
}

fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CANDOR_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("CANDOR_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        }
        _ => None,
    }
}

/// Cheap password hashing, for tests and benchmarks about anything but password strength.
pub fn fast_hasher() -> crate::access::auth::password::PasswordHasher {
    crate::access::auth::password::PasswordHasher::new(
        crate::access::auth::password::HashCost {
            memory_kib: 64,
            passes: 1,
            lanes: 1,
        },
        1,
    )
    .expect("valid test parameters")
}

/// A tenant scope of `workplace` for one of Candor's own jobs (outside the domain only tests
/// may build one: a request always acts as a person).
pub fn system_scope(
    db: &Database,
    workplace: crate::platform::ids::WorkplaceId,
    purpose: &'static str,
) -> crate::platform::tenant::TenantDb {
    crate::platform::tenant::TenantDb::for_system(db, workplace, purpose)
}

/// A new workplace called `name` whose Owner, "Ada" at `email`, is signed in with both
/// factors: the Owner as the policy sees them, and the workplace's tenant scope.
pub async fn workplace(
    db: &Database,
    name: &str,
    email: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> (
    crate::platform::policy::Identity,
    crate::platform::tenant::TenantDb,
) {
    use crate::access::accounts::{self, SessionInfo, SignupInput, SignupOutcome};
    let input = SignupInput {
        workplace_name: name.into(),
        display_name: "Ada".into(),
        email: email.into(),
        password: "quietly orbiting marmalade kettles".into(),
    };
    let SignupOutcome::Created {
        user_id,
        workplace_id,
        ..
    } = accounts::sign_up(
        db,
        &fast_hasher(),
        &crate::access::auth::password::PasswordPolicy::default(),
        input,
        now,
    )
    .await
    .expect("sign-up works")
    else {
        panic!("the address is new, so the workplace is too");
    };
    let session = SessionInfo {
        session_id: uuid::Uuid::new_v4(),
        user_id,
        workplace_id,
        second_factor: true,
        second_factor_at: Some(now),
        password_change_required: false,
    };
    let who = crate::access::identity::load(db, &session)
        .await
        .expect("the new owner's identity loads");
    let tenant = crate::platform::tenant::TenantDb::for_identity(db, &who);
    (who, tenant)
}

/// Declares each listed `async fn name(db: TestDb)` as two tests, `sqlite::name` and
/// `postgres::name`, so every integration test runs on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let db = $crate::testing::TestDb::migrated($crate::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$test(db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if let Some(db) = $crate::testing::TestDb::migrated($crate::Backend::Postgres).await {
                        super::$test(db).await;
                    }
                }
            )+
        }
    };
}

/// The sealed name and address columns of every person in `workplace`, as stored:
/// `(row, column, bytes)`.
pub async fn sealed_user_fields(
    db: &Database,
    workplace: crate::platform::ids::WorkplaceId,
) -> Vec<(uuid::Uuid, &'static str, Vec<u8>)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    crate::platform::entities::users::Entity::find()
        .filter(crate::platform::entities::users::Column::WorkplaceId.eq(workplace.uuid()))
        .all(db.connection())
        .await
        .expect("people load")
        .into_iter()
        .flat_map(|row| {
            [
                row.name_sealed.map(|sealed| (row.id, "name", sealed)),
                row.email_sealed.map(|sealed| (row.id, "email", sealed)),
            ]
        })
        .flatten()
        .collect()
}

/// The wrapped data keys of `workplace`, as stored.
pub async fn wrapped_data_keys(db: &Database, workplace: crate::platform::ids::WorkplaceId) -> Vec<Vec<u8>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    crate::platform::entities::data_keys::Entity::find()
        .filter(crate::platform::entities::data_keys::Column::WorkplaceId.eq(workplace.uuid()))
        .all(db.connection())
        .await
        .expect("data keys load")
        .into_iter()
        .map(|row| row.wrapped)
        .collect()
}

/// Whether any data key stored anywhere in the database (any workplace, any version, unwrapped
/// with the master key) opens `sealed` as the value of `users.column` in `row` of `workplace`.
pub async fn opens_with_any_stored_key(
    db: &Database,
    workplace: crate::platform::ids::WorkplaceId,
    column: &str,
    row: uuid::Uuid,
    sealed: &[u8],
) -> bool {
    let keyring = db.keyring().expect("unlocked");
    let version = crate::platform::crypto::key_version(sealed).expect("a sealed value");
    let place = || crate::platform::crypto::FieldPlace {
        workplace: workplace.uuid(),
        table: "users",
        column,
        row,
    };
    keyring
        .every_stored_data_key(db.connection())
        .await
        .expect("keys load")
        .iter()
        .filter_map(|bytes| crate::platform::crypto::field::DataKey::from_bytes(version, bytes))
        .any(|key| key.open(place(), sealed).is_ok())
}

/// Overwrites the stored sealed name of person `row` with `bytes`, as an attacker with write
/// access to the database might (moving a ciphertext from another row, truncating one).
pub async fn overwrite_sealed_name(db: &Database, row: uuid::Uuid, bytes: Vec<u8>) {
    use sea_orm::{ActiveModelTrait, Set};
    crate::platform::entities::users::ActiveModel {
        id: Set(row),
        name_sealed: Set(Some(bytes)),
        ..Default::default()
    }
    .update(db.connection())
    .await
    .expect("the row exists");
}

/// A person invited into `tenant`'s workplace who accepted at once: active, signed in with both
/// factors, as the policy sees them.
pub async fn active_person(
    db: &Database,
    tenant: &crate::platform::tenant::TenantDb,
    person: crate::organisation::people::NewPerson,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::platform::policy::Identity {
    let invitation = crate::organisation::people::invite(tenant, person, now)
        .await
        .expect("the invitation is valid");
    let user_id = crate::access::accounts::accept_invitation(
        db,
        &fast_hasher(),
        &crate::access::auth::password::PasswordPolicy::default(),
        invitation.token.expose(),
        "lantern harbour gravel symphony",
        now,
    )
    .await
    .expect("the invitation is accepted");
    let session = crate::access::accounts::SessionInfo {
        session_id: uuid::Uuid::new_v4(),
        user_id,
        workplace_id: tenant.workplace_id().uuid(),
        second_factor: true,
        second_factor_at: Some(now),
        password_change_required: false,
    };
    crate::access::identity::load(db, &session)
        .await
        .expect("the person's identity loads")
}

/// A one-off survey of the built-in workload question for the whole workplace, its one round
/// opening at `at` for three days.
pub async fn workload_survey(
    tenant: &crate::platform::tenant::TenantDb,
    owner: &crate::platform::policy::Identity,
    title: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> crate::surveys::SurveyId {
    use crate::surveys::{library, Cadence, NewQuestion, NewSurvey};
    let known = library::find("workload").expect("the workload question is built in");
    crate::surveys::create(
        &tenant.as_person(owner),
        NewSurvey {
            title: title.to_owned(),
            questions: vec![NewQuestion {
                prompt: known.prompt.into(),
                kind: known.kind(),
                library_key: Some("workload".into()),
            }],
            departments: vec![],
            cadence: Cadence::Once,
            first_round_at: at,
            window_days: 3,
        },
        at,
    )
    .await
    .expect("the survey is valid")
}

/// Writes `rounds` weekly rounds of `survey` as if they had run: everyone in `people` (user,
/// department) asked each time, `answer_every` of them answering (every n-th skips), one value
/// per question from `value(person, round, question)`. For benchmarks: rows go in by the
/// thousand, not through the answering path.
pub async fn seed_survey_history(
    tenant: &crate::platform::tenant::TenantDb,
    survey: crate::surveys::SurveyId,
    rounds: usize,
    people: &[(uuid::Uuid, Option<crate::platform::ids::DepartmentId>)],
    skip_every: usize,
    value: impl Fn(usize, usize, usize) -> i32,
    first: chrono::DateTime<chrono::Utc>,
) -> Vec<uuid::Uuid> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
    let workplace = tenant.workplace_id().uuid();
    let questions: Vec<uuid::Uuid> = crate::platform::entities::survey_questions::Entity::find()
        .filter(crate::platform::entities::survey_questions::Column::SurveyId.eq(survey))
        .all(tenant.database().connection())
        .await
        .expect("questions load")
        .into_iter()
        .map(|q| q.id)
        .collect();
    let mut round_ids = Vec::new();
    for r in 0..rounds {
        let txn = tenant.begin().await.expect("transaction");
        let round = uuid::Uuid::new_v4();
        let opens = first + chrono::Duration::weeks(i64::try_from(r).unwrap_or(0));
        crate::platform::entities::rounds::Entity::insert(crate::platform::entities::rounds::ActiveModel {
            id: Set(round),
            workplace_id: Set(workplace),
            survey_id: Set(survey),
            number: Set(i32::try_from(r + 1).unwrap_or(i32::MAX)),
            opens_at: Set(opens),
            closes_at: Set(opens + chrono::Duration::days(3)),
            closed_at: Set(Some(opens + chrono::Duration::days(3))),
            reminded_at: Set(None),
            asked: Set(i32::try_from(people.len()).unwrap_or(i32::MAX)),
            answered: Set(0),
            opened_minimum: Set(None),
            opened_tree: Set(None),
        })
        .exec(&txn)
        .await
        .expect("round");
        let mut answered_count = 0i32;
        for (chunk_index, chunk) in people.chunks(1_000).enumerate() {
            let mut participants = Vec::with_capacity(chunk.len());
            let mut answers = Vec::new();
            for (offset, (user, department)) in chunk.iter().enumerate() {
                let person = chunk_index * 1_000 + offset;
                let answered = skip_every == 0 || (person + r) % skip_every != 0;
                participants.push(crate::platform::entities::round_participants::ActiveModel {
                    id: Set(uuid::Uuid::new_v4()),
                    workplace_id: Set(workplace),
                    round_id: Set(round),
                    user_id: Set(*user),
                    department_id: Set(department.map(crate::platform::ids::DepartmentId::uuid)),
                    answered: Set(answered),
                });
                if answered {
                    answered_count += 1;
                    for (q, question) in questions.iter().enumerate() {
                        answers.push(crate::platform::entities::answers::ActiveModel {
                            id: Set(uuid::Uuid::new_v4()),
                            workplace_id: Set(workplace),
                            round_id: Set(round),
                            question_id: Set(*question),
                            department_id: Set(department.map(crate::platform::ids::DepartmentId::uuid)),
                            tenure_band: Set("unknown".into()),
                            value: Set(value(person, r, q)),
                        });
                    }
                }
            }
            crate::platform::entities::round_participants::Entity::insert_many(participants)
                .exec(&txn)
                .await
                .expect("participants");
            for answers in answers.chunks(1_000) {
                crate::platform::entities::answers::Entity::insert_many(answers.to_vec())
                    .exec(&txn)
                    .await
                    .expect("answers");
            }
        }
        crate::platform::entities::rounds::Entity::update_many()
            .col_expr(
                crate::platform::entities::rounds::Column::Answered,
                sea_orm::sea_query::Expr::value(answered_count),
            )
            .filter(crate::platform::entities::rounds::Column::Id.eq(round))
            .exec(&txn)
            .await
            .expect("round counts");
        // Closed, as the scheduler leaves a round: with its counts kept.
        crate::surveys::tallies::keep_tallies(tenant, &txn, round)
            .await
            .expect("round tallies");
        txn.commit().await.expect("commit");
        round_ids.push(round);
    }
    round_ids
}

/// The ids of every comment in the workplace, whatever their group size (for isolation tests
/// that need a real comment another workplace must not reach).
pub async fn comment_ids(tenant: &crate::platform::tenant::TenantDb) -> Vec<uuid::Uuid> {
    use sea_orm::QuerySelect;
    tenant
        .select::<crate::platform::entities::comments::Entity>()
        .select_only()
        .column(crate::platform::entities::comments::Column::Id)
        .into_tuple()
        .all(tenant.database().connection())
        .await
        .expect("comments are readable")
}

/// The first question of `survey` (benchmarks put their seeded comments on it).
pub async fn comment_question(
    tenant: &crate::platform::tenant::TenantDb,
    survey: crate::surveys::SurveyId,
) -> uuid::Uuid {
    let txn = tenant.begin_read().await.expect("transaction");
    let questions = crate::surveys::questions_in(tenant, &txn, survey)
        .await
        .expect("the survey's questions load");
    txn.commit().await.expect("commit");
    questions.first().expect("the survey has a question").id
}

/// Adds `texts` as comments on `question` of a closed `round`, listed under `department` (None:
/// the whole workplace) and sealed as closing seals them, by the thousand: for tests and
/// benchmarks that need more comments than people answering one by one would write.
pub async fn seed_comments(
    tenant: &crate::platform::tenant::TenantDb,
    round: uuid::Uuid,
    question: uuid::Uuid,
    department: Option<crate::platform::ids::DepartmentId>,
    texts: &[String],
) {
    use crate::platform::entities::comments;
    use crate::surveys::answering::{COMMENTS, TEXT};
    use sea_orm::{EntityTrait, Set};
    let txn = tenant.begin().await.expect("transaction");
    let keys = tenant
        .data_keys_in(&txn)
        .await
        .expect("the workplace's keys open");
    for chunk in texts.chunks(1_000) {
        let rows: Vec<comments::ActiveModel> = chunk
            .iter()
            .map(|text| {
                let id = uuid::Uuid::new_v4();
                comments::ActiveModel {
                    id: Set(id),
                    workplace_id: Set(tenant.workplace_id().uuid()),
                    round_id: Set(round),
                    question_id: Set(question),
                    department_id: Set(department.map(crate::platform::ids::DepartmentId::uuid)),
                    tenure_band: Set(crate::surveys::answering::NOT_KEPT.to_owned()),
                    text_sealed: Set(keys.seal(COMMENTS, TEXT, id, text.as_bytes()).expect("sealed")),
                    reply_token_hash: Set(Some(uuid::Uuid::new_v4().to_string())),
                }
            })
            .collect();
        comments::Entity::insert_many(rows)
            .exec(&txn)
            .await
            .expect("comments");
    }
    txn.commit().await.expect("commit");
}

/// `person` loaded again, as a new session would load them (after a change of grants, say).
pub async fn reload_identity(
    db: &crate::Database,
    tenant: &crate::platform::tenant::TenantDb,
    person: &crate::platform::policy::Identity,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::platform::policy::Identity {
    crate::access::identity::load(
        db,
        &crate::access::accounts::SessionInfo {
            session_id: uuid::Uuid::new_v4(),
            user_id: person.user_id.uuid(),
            workplace_id: tenant.workplace_id().uuid(),
            second_factor: true,
            second_factor_at: Some(now),
            password_change_required: false,
        },
    )
    .await
    .expect("the person loads")
}

/// Moves a round's ballot box into answers and comments now, while the round stays open
/// (isolation tests need a real comment row; the product does this only when a round closes).
pub async fn mix_ballots(tenant: &crate::platform::tenant::TenantDb, round: uuid::Uuid) -> usize {
    let txn = tenant.begin().await.expect("a transaction");
    let ballots = crate::surveys::answering::open_ballots(tenant, &*txn, round)
        .await
        .expect("the ballots open");
    let mixed = ballots.len();
    let everywhere = |_: Option<uuid::Uuid>| Some(None);
    crate::surveys::answering::store_ballots(
        tenant,
        &*txn,
        round,
        ballots,
        crate::surveys::answering::Keep {
            answers: true,
            comment_group: &everywhere,
        },
    )
    .await
    .expect("the ballots are stored");
    txn.commit().await.expect("the mix commits");
    mixed
}

/// Answers `round` for `person` the way Candor did before ballots existed: the participant
/// marked answered and one answer row per value, by department, in one transaction (a round
/// that was open when Candor was upgraded holds such rows beside ballots).
pub async fn answer_without_ballot(
    tenant: &crate::platform::tenant::TenantDb,
    round: uuid::Uuid,
    person: &crate::platform::policy::Identity,
    values: &[(uuid::Uuid, i32)],
) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
    let txn = tenant.begin().await.expect("a transaction");
    let participant = tenant
        .select::<crate::platform::entities::round_participants::Entity>()
        .filter(crate::platform::entities::round_participants::Column::RoundId.eq(round))
        .filter(crate::platform::entities::round_participants::Column::UserId.eq(person.user_id.uuid()))
        .one(&*txn)
        .await
        .expect("participants load")
        .expect("the person was asked");
    crate::platform::entities::round_participants::Entity::update_many()
        .col_expr(
            crate::platform::entities::round_participants::Column::Answered,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(crate::platform::entities::round_participants::Column::Id.eq(participant.id))
        .exec(&*txn)
        .await
        .expect("marked answered");
    for (question, value) in values {
        crate::platform::entities::answers::Entity::insert(crate::platform::entities::answers::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            workplace_id: Set(tenant.workplace_id().uuid()),
            round_id: Set(round),
            question_id: Set(*question),
            department_id: Set(participant.department_id),
            tenure_band: Set("unknown".into()),
            value: Set(*value),
        })
        .exec(&*txn)
        .await
        .expect("an answer row");
    }
    txn.commit().await.expect("commit");
}

/// Runs `sql` as someone with raw access to the database would, and returns each row's first
/// column as text (write the query so that column is text on both backends).
pub async fn raw_strings(db: &crate::Database, sql: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let conn = db.connection();
    conn.query_all_raw(sea_orm::Statement::from_string(
        conn.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("the raw query runs")
    .into_iter()
    .map(|row| {
        row.try_get_by_index::<Option<String>>(0)
            .expect("a text column")
            .unwrap_or_default()
    })
    .collect()
}

/// The data-key versions the workplace's comments and replies are sealed under, as stored.
pub async fn sealed_text_versions(tenant: &crate::platform::tenant::TenantDb) -> Vec<u32> {
    use crate::platform::entities::{comment_replies, comments};
    let conn = tenant.database().connection();
    let comments = tenant
        .select::<comments::Entity>()
        .all(conn)
        .await
        .expect("comments");
    let replies = tenant
        .select::<comment_replies::Entity>()
        .all(conn)
        .await
        .expect("replies");
    comments
        .iter()
        .map(|c| &c.text_sealed)
        .chain(replies.iter().map(|r| &r.text_sealed))
        .map(|sealed| crate::platform::crypto::key_version(sealed).expect("a sealed value"))
        .collect()
}

/// How many counts the workplace keeps for its closed rounds.
pub async fn kept_tally_rows(tenant: &crate::platform::tenant::TenantDb) -> usize {
    tenant
        .select::<crate::platform::entities::round_tallies::Entity>()
        .all(tenant.database().connection())
        .await
        .expect("round tallies")
        .len()
}

/// One stored audit entry, as tests inspect it.
#[derive(Clone, Debug)]
pub struct AuditRow {
    pub id: uuid::Uuid,
    pub seq: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub request_id: Option<String>,
    pub category: String,
    pub action: String,
    pub severity: String,
    pub outcome: String,
    pub actor: Option<uuid::Uuid>,
    pub entity_type: Option<String>,
    pub entity_ids: Option<String>,
    pub entity_count: i32,
    pub network_tag: Option<String>,
    pub account_tag: Option<String>,
}

/// Every audit entry of `workplace`'s chain (None: the instance's), oldest first.
pub async fn audit_rows(
    db: &Database,
    workplace: Option<crate::platform::ids::WorkplaceId>,
) -> Vec<AuditRow> {
    use crate::platform::entities::audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let chain = workplace.map_or(uuid::Uuid::nil(), crate::platform::ids::WorkplaceId::uuid);
    audit_log::Entity::find()
        .filter(audit_log::Column::ChainId.eq(chain))
        .order_by_asc(audit_log::Column::Seq)
        .all(db.connection())
        .await
        .expect("the audit log reads")
        .into_iter()
        .map(|row| AuditRow {
            id: row.id,
            seq: row.seq,
            occurred_at: row.occurred_at,
            request_id: row.request_id,
            category: row.category,
            action: row.action,
            severity: row.severity,
            outcome: row.outcome,
            actor: row.actor_id,
            entity_type: row.entity_type,
            entity_ids: row.entity_ids,
            entity_count: row.entity_count,
            network_tag: row.network_tag,
            account_tag: row.account_tag,
        })
        .collect()
}

/// Every text and id the whole audit log stores, in one string: to search for personal data.
pub async fn audit_log_text(db: &Database) -> String {
    use crate::platform::entities::audit_log;
    use sea_orm::EntityTrait;
    audit_log::Entity::find()
        .all(db.connection())
        .await
        .expect("the audit log reads")
        .into_iter()
        .map(|row| format!("{row:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Changes one stored entry's action behind Candor's back, as someone with database access could.
pub async fn tamper_audit_entry(db: &Database, entry: uuid::Uuid, action: &str) {
    use crate::platform::entities::audit_log;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let row = audit_log::Entity::find_by_id(entry)
        .one(db.connection())
        .await
        .expect("the entry reads")
        .expect("the entry exists");
    let mut row: audit_log::ActiveModel = row.into();
    row.action = Set(action.to_owned());
    row.update(db.connection()).await.expect("the entry is changed");
}

/// Deletes the entries of `workplace`'s chain after `seq`, as someone cutting the tail would.
pub async fn cut_audit_tail(db: &Database, workplace: crate::platform::ids::WorkplaceId, seq: i64) {
    use crate::platform::entities::audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    audit_log::Entity::delete_many()
        .filter(audit_log::Column::ChainId.eq(workplace.uuid()))
        .filter(audit_log::Column::Seq.gt(seq))
        .exec(db.connection())
        .await
        .expect("the tail is deleted");
}

/// How many audit entries all chains hold together.
pub async fn audit_entry_count(db: &Database) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    crate::platform::entities::audit_log::Entity::find()
        .count(db.connection())
        .await
        .expect("the audit log counts")
}

/// What the audit log takes: the bytes of its stored values (every column, as written), and on
/// PostgreSQL the table's size on disk with its indexes.
pub async fn audit_log_storage(db: &Database) -> (u64, Option<i64>) {
    use crate::platform::entities::audit_log;
    use sea_orm::{ConnectionTrait, EntityTrait};
    let rows = audit_log::Entity::find()
        .all(db.connection())
        .await
        .expect("the audit log reads");
    let text = |value: &Option<String>| value.as_ref().map_or(0, String::len) as u64;
    let payload = rows
        .iter()
        .map(|row| {
            // id, chain, workplace, actor: 16 bytes each; seq 8, time 8, count 4.
            16 * 3
                + row.actor_id.map_or(0, |_| 16)
                + 8
                + 8
                + 4
                + text(&row.request_id)
                + (row.category.len() + row.action.len() + row.severity.len() + row.outcome.len()) as u64
                + text(&row.entity_type)
                + text(&row.entity_ids)
                + text(&row.network_tag)
                + text(&row.account_tag)
                + (row.prev_hash.len() + row.hash.len()) as u64
        })
        .sum();
    let on_disk = if db.backend() == crate::Backend::Postgres {
        db.connection()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_total_relation_size('audit_log') AS n",
            ))
            .await
            .ok()
            .flatten()
            .and_then(|row| row.try_get::<i64>("", "n").ok())
    } else {
        None
    };
    (payload, on_disk)
}

/// When the session `id` was last marked as seen, as stored.
pub async fn session_last_seen(db: &Database, id: uuid::Uuid) -> chrono::DateTime<chrono::Utc> {
    use sea_orm::EntityTrait;
    crate::platform::entities::sessions::Entity::find_by_id(id)
        .one(db.connection())
        .await
        .expect("sessions load")
        .expect("the session exists")
        .last_seen_at
}

/// Forgets the invitation mail `workplace` sent, so that a seed can invite more people than a
/// day's allowance (benchmarks and examples only; the allowance itself is tested as it is).
pub async fn forget_invitations_sent(db: &Database, workplace: crate::platform::ids::WorkplaceId) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    crate::platform::entities::invitation_mail::Entity::delete_many()
        .filter(crate::platform::entities::invitation_mail::Column::WorkplaceId.eq(workplace.uuid()))
        .exec(db.connection())
        .await
        .expect("the invitation mail is forgotten");
}

/// A mail queue for tests: mail is queued as in production and written as `.eml` files into
/// `dir` when the test calls [`MailOutbox::deliver`]. Derefs to the queue, so `&outbox` goes
/// wherever a `&MailQueue` is asked for.
pub struct MailOutbox {
    queue: crate::platform::mail_queue::MailQueue,
    mailer: crate::platform::mail::Mailer,
}

impl MailOutbox {
    pub fn new(db: &Database, dir: &std::path::Path) -> Self {
        Self {
            queue: crate::platform::mail_queue::MailQueue::new(db.clone()),
            mailer: crate::platform::mail::Mailer::outbox(dir.to_path_buf(), "Candor <no-reply@candor.test>")
                .expect("an outbox"),
        }
    }

    /// Delivers everything queued, whatever time it was queued at; returns how many were sent.
    pub async fn deliver(&self) -> usize {
        let far_future = chrono::DateTime::parse_from_rfc3339("9000-01-01T00:00:00Z")
            .expect("a time")
            .to_utc();
        self.queue
            .deliver_due(&self.mailer, far_future)
            .await
            .expect("the queue delivers")
            .sent
    }
}

impl std::ops::Deref for MailOutbox {
    type Target = crate::platform::mail_queue::MailQueue;

    fn deref(&self) -> &Self::Target {
        &self.queue
    }
}

/// `count` active people in `department` of `tenant`'s workplace, written in bulk (for benchmarks
/// of workplaces too large to invite one by one): sealed names and addresses, no password.
pub async fn seed_active_people(
    tenant: &crate::platform::tenant::TenantDb,
    count: usize,
    department: Option<crate::platform::ids::DepartmentId>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<uuid::Uuid> {
    seed_active_people_from(tenant, 0, count, department, now).await
}

/// [`seed_active_people`] numbered from `first`, so that several calls (one per department)
/// give distinct addresses.
pub async fn seed_active_people_from(
    tenant: &crate::platform::tenant::TenantDb,
    first: usize,
    count: usize,
    department: Option<crate::platform::ids::DepartmentId>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<uuid::Uuid> {
    use crate::platform::entities::users;
    use sea_orm::{EntityTrait, Set};
    let db = tenant.database();
    let keys = tenant.data_keys().await.expect("data keys");
    let keyring = db.keyring().expect("keyring");
    let workplace = tenant.workplace_id();
    let mut ids = Vec::with_capacity(count);
    let mut rows = Vec::with_capacity(count);
    for n in first..first + count {
        let id = uuid::Uuid::new_v4();
        let email = format!("person{n}-{}@bench.test", workplace.uuid().simple());
        let sealed =
            crate::platform::user_fields::seal(keyring, &keys, id, &format!("Person {n:05}"), &email)
                .expect("sealed");
        let mut row = users::ActiveModel {
            id: Set(id),
            workplace_id: Set(workplace.uuid()),
            password_hash: Set(String::new()),
            email_verified_at: Set(Some(now)),
            created_at: Set(now),
            role: Set("employee".to_owned()),
            department_id: Set(department.map(|d| d.uuid())),
            start_date: Set(None),
            status: Set(users::Status::Active),
            custom_role_id: Set(None),
            restricted_at: Set(None),
            left_at: Set(None),
            password_change_required_at: Set(None),
            ..Default::default()
        };
        sealed.apply(&mut row, id);
        rows.push(row);
        ids.push(id);
    }
    for chunk in rows.chunks(500) {
        users::Entity::insert_many(chunk.to_vec())
            .exec(db.connection())
            .await
            .expect("people inserted");
    }
    ids
}
