//! The tenant scope is the only way to change a workplace's rows: every update and delete of a
//! workplace's table is filtered by the workplace through `TenantDb::update_many` and
//! `TenantDb::delete_many`, on SQLite (which has no row-level security) as on PostgreSQL.

use std::path::{Path, PathBuf};

/// Files allowed to touch workplace tables below the scope: the scope itself, the access log's
/// chain (it purges by chain, the instance's included) and the test fixtures.
const BELOW_THE_SCOPE: &[&str] = &["platform/tenant.rs", "platform/audit/chain.rs", "testing.rs"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The entities that belong to one workplace: those implementing `TenantScoped`.
fn workplace_tables(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src.join("platform/entities"), &mut files);
    let mut tables: Vec<String> = files
        .iter()
        .filter(|path| {
            std::fs::read_to_string(path)
                .unwrap()
                .contains("TenantScoped for Entity")
        })
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    tables.sort();
    tables
}

#[test]
fn workplace_tables_are_changed_only_through_the_tenant_scope() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let tables = workplace_tables(&src);
    assert!(
        tables.len() > 20 && tables.contains(&"users".to_owned()),
        "{tables:?}"
    );
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut raw = Vec::new();
    for path in files {
        let relative = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if BELOW_THE_SCOPE.contains(&relative.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            for table in &tables {
                for call in ["update_many()", "delete_many()", "delete_by_id("] {
                    let needle = format!("{table}::Entity::{call}");
                    let at_word_start = line
                        .match_indices(&needle)
                        .any(|(at, _)| !line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                    if at_word_start {
                        raw.push(format!("{relative}:{}: {}", number + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        raw.is_empty(),
        "workplace tables changed without the tenant scope (use tenant.update_many / tenant.delete_many):\n{}",
        raw.join("\n")
    );
}
