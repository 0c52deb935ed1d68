//! Throughput of sealing and opening personal fields, and the people list of a 1,000-person
//! workplace (every name and address opened), on SQLite: `cargo bench -p domain --bench crypto`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use domain::{
    organisation::people,
    platform::{
        policy::{Role, RoleKey, Scope},
        tenant::TenantDb,
    },
    testing::TestDb,
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn workplace(test_db: &TestDb) -> TenantDb {
    domain::testing::workplace(
        &test_db.db,
        "Benchmark Industries",
        "owner@bench.test",
        chrono::Utc::now(),
    )
    .await
    .1
}

fn fields(c: &mut Criterion) {
    let rt = runtime();
    let test_db = rt.block_on(TestDb::migrated(domain::Backend::Sqlite)).unwrap();
    let tenant = rt.block_on(workplace(&test_db));
    let keys = rt.block_on(tenant.data_keys()).unwrap();
    let row = uuid::Uuid::new_v4();
    let mut group = c.benchmark_group("field");
    for size in [64usize, 4096] {
        let plaintext = vec![b'x'; size];
        let sealed = keys.seal("users", "name", row, &plaintext).unwrap();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("seal", size), &plaintext, |b, plaintext| {
            b.iter(|| keys.seal("users", "name", row, plaintext).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("open", size), &sealed, |b, sealed| {
            b.iter(|| keys.open("users", "name", row, sealed).unwrap())
        });
    }
    group.finish();
}

fn people_page(c: &mut Criterion) {
    let rt = runtime();
    let test_db = rt.block_on(TestDb::migrated(domain::Backend::Sqlite)).unwrap();
    let tenant = rt.block_on(workplace(&test_db));
    let now = chrono::Utc::now();
    let new_people = (0..999)
        .map(|n| people::NewPerson {
            name: format!("Person {n:04}"),
            email: format!("person{n}@bench.test"),
            department: None,
            role: RoleKey::BuiltIn(Role::Employee),
            start_date: None,
        })
        .collect();
    rt.block_on(people::invite_many(&tenant, new_people, now))
        .unwrap();
    let mut group = c.benchmark_group("people list, 1,000 people");
    group.sample_size(30);
    group.bench_function("first page, every name opened", |b| {
        b.iter(|| {
            rt.block_on(people::list(
                &tenant,
                &Scope::Everyone,
                &people::Filter::default(),
            ))
            .unwrap()
        })
    });
    group.bench_function("search", |b| {
        b.iter(|| {
            rt.block_on(people::list(
                &tenant,
                &Scope::Everyone,
                &people::Filter {
                    search: "person 09".into(),
                    ..Default::default()
                },
            ))
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, fields, people_page);
criterion_main!(benches);
