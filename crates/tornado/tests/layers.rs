//! The layer rule of DESIGN.md, checked against every crate's `Cargo.toml`: a crate depends
//! only on crates of a strictly lower layer (no sideways, no upward edges), and every crate
//! has a row in the layer table of `docs/ARCHITECTURE.md` before it exists.
//!
//! When `../shared/DESIGN.md` is beside the checkout, the test also checks that
//! `docs/ARCHITECTURE.md` gives every crate DESIGN.md lists the same layer.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/tornado is two levels below the root")
        .to_path_buf()
}

/// Rows `| <layer> | <crate> | ... |` of the first markdown table whose header starts with
/// `| layer | crate |`.
fn parse_layer_table(markdown: &str) -> BTreeMap<String, u32> {
    let mut rows = BTreeMap::new();
    let mut in_table = false;
    for line in markdown.lines() {
        let line = line.trim();
        if !in_table {
            in_table = line.starts_with("| layer | crate |");
            continue;
        }
        if !line.starts_with('|') {
            if !rows.is_empty() {
                break;
            }
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() < 2 {
            continue;
        }
        // "tornado (umbrella)" names the crate `tornado`.
        let name = cells[1].split_whitespace().next().unwrap_or_default();
        if let Ok(layer) = cells[0].parse::<u32>() {
            rows.insert(name.to_owned(), layer);
        }
    }
    rows
}

#[derive(serde::Deserialize)]
struct Manifest {
    package: Package,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, toml::Value>,
    #[serde(default, rename = "build-dependencies")]
    build_dependencies: BTreeMap<String, toml::Value>,
}

#[derive(serde::Deserialize)]
struct Package {
    name: String,
}

/// The package a dependency entry names (`package = "..."` renames it).
fn dep_package(key: &str, value: &toml::Value) -> String {
    value
        .get("package")
        .and_then(|p| p.as_str())
        .unwrap_or(key)
        .to_owned()
}

/// Every breach of the rule among `crates` (directory name -> manifest).
fn check(table: &BTreeMap<String, u32>, crates: &BTreeMap<String, Manifest>) -> Vec<String> {
    let by_package: HashMap<&str, &str> = crates
        .iter()
        .map(|(dir, m)| (m.package.name.as_str(), dir.as_str()))
        .collect();
    let mut problems = Vec::new();
    for (dir, manifest) in crates {
        let Some(&layer) = table.get(dir) else {
            problems.push(format!(
                "crates/{dir} has no row in the layer table of docs/ARCHITECTURE.md"
            ));
            continue;
        };
        let all = [
            ("dependency", &manifest.dependencies),
            ("dev-dependency", &manifest.dev_dependencies),
            ("build-dependency", &manifest.build_dependencies),
        ];
        for (kind, deps) in all {
            for (key, value) in deps {
                let package = dep_package(key, value);
                let Some(&dep_dir) = by_package.get(package.as_str()) else {
                    continue; // not a crate of this workspace
                };
                let Some(&dep_layer) = table.get(dep_dir) else {
                    continue; // reported above
                };
                if dep_layer >= layer {
                    problems.push(format!(
                        "{dir} (layer {layer}) has a {kind} on {dep_dir} (layer {dep_layer}): \
                         a crate may only depend on strictly lower layers"
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn every_dependency_points_to_a_lower_layer() {
    let root = workspace_root();
    let table = parse_layer_table(
        &fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md"),
    );
    assert!(
        table.len() >= 10,
        "layer table not found in docs/ARCHITECTURE.md"
    );
    let mut crates = BTreeMap::new();
    for entry in fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let manifest_path = dir.join("Cargo.toml");
        if !manifest_path.exists() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let manifest: Manifest =
            toml::from_str(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
        crates.insert(name, manifest);
    }
    assert!(crates.len() >= 5, "crates/ not found");
    let problems = check(&table, &crates);
    assert!(
        problems.is_empty(),
        "layer rule broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_catches_sideways_upward_and_unlisted_crates() {
    let table = parse_layer_table(
        "| layer | crate |\n|---|---|\n| 0 | low |\n| 0 | side |\n| 1 | high |\n",
    );
    let manifest = |name: &str, deps: &str| -> Manifest {
        toml::from_str(&format!("[package]\nname = \"{name}\"\n{deps}")).unwrap()
    };
    let mut crates = BTreeMap::new();
    crates.insert(
        "low".to_owned(),
        manifest(
            "t-low",
            "[dependencies]\nt-side = \"1\"\n[dev-dependencies]\nx = { package = \"t-high\", path = \"h\" }",
        ),
    );
    crates.insert("side".to_owned(), manifest("t-side", ""));
    crates.insert(
        "high".to_owned(),
        manifest("t-high", "[dependencies]\nt-low = \"1\"\nserde = \"1\""),
    );
    crates.insert("new".to_owned(), manifest("t-new", ""));
    let problems = check(&table, &crates);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("dependency on side")));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("dev-dependency on high"))
    );
    assert!(problems.iter().any(|p| p.contains("crates/new has no row")));
}

#[test]
fn architecture_agrees_with_design() {
    let root = workspace_root();
    let design = root.join("../shared/DESIGN.md");
    let Ok(design) = fs::read_to_string(design) else {
        return; // DESIGN.md is only beside checkouts of the project's own machines.
    };
    let design = parse_layer_table(&design);
    let ours = parse_layer_table(&fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap());
    assert!(!design.is_empty(), "DESIGN.md's layer table not found");
    for (name, layer) in &design {
        assert_eq!(
            ours.get(name),
            Some(layer),
            "docs/ARCHITECTURE.md must give {name} DESIGN.md's layer {layer}"
        );
    }
}

#[test]
fn table_parser_reads_rows() {
    let md = "text\n\n| layer | crate | holds |\n|---|---|---|\n| 0 | a | x |\n| 3 | b | y |\n\nafter\n| 9 | c | z |\n";
    let t = parse_layer_table(md);
    assert_eq!(t.len(), 2);
    assert_eq!(t["a"], 0);
    assert_eq!(t["b"], 3);
}
