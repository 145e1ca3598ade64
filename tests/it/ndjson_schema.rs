//! Issue 21: every NDJSON line carries `"type"` and validates against the
//! JSON Schema of a line (`knockoff schema`), which is committed as
//! `docs/ndjson.schema.json` and must equal what the code generates.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use knockoff::fetch::mock::{Faults, MockMarket};
use knockoff::model::listing::Platform;

const REGENERATE: &str = "cargo run -- schema > docs/ndjson.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed_schema() -> String {
    std::fs::read_to_string(root().join("docs/ndjson.schema.json"))
        .unwrap_or_else(|e| panic!("docs/ndjson.schema.json: {e} (write it with `{REGENERATE}`)"))
}

fn knockoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run knockoff")
}

/// stdout of a run that must succeed.
fn lines_of(args: &[&str]) -> String {
    let out = knockoff(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "knockoff {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let generated = knockoff::run::ndjson::schema();
    assert!(
        generated == committed_schema(),
        "docs/ndjson.schema.json is not the schema the code generates: \
         an output type changed. Regenerate it with `{REGENERATE}` and \
         review the diff (it is the output format's change)."
    );
    // The command prints the same bytes.
    assert_eq!(lines_of(&["schema"]), generated);
}

/// Validates every line of `stdout` against the schema, returning the
/// kinds seen.
fn validate(validator: &jsonschema::Validator, what: &str, stdout: &str) -> BTreeSet<String> {
    let mut kinds = BTreeSet::new();
    assert!(!stdout.trim().is_empty(), "{what}: no output");
    for line in stdout.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: {e}: {line}"));
        let errors: Vec<String> = validator
            .iter_errors(&v)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: a line the schema refuses: {errors:?}\n{line}"
        );
        kinds.insert(v["type"].as_str().expect("a string type").to_owned());
    }
    kinds
}

fn write_config(dir: &Path, mock: &MockMarket) -> std::path::PathBuf {
    let mut text = String::from(
        "[crawl]\nrequests_per_second = 500.0\nconcurrency_per_host = 4\nbackoff_base_millis = 5\nmax_retries = 1\nmax_pages_per_term = 5\n",
    );
    for p in Platform::ALL {
        text.push_str(&format!(
            "\n[platforms.\"{}\"]\nbase_url = \"{}\"\n",
            p.as_str(),
            mock.base_url(p)
        ));
    }
    let path = dir.join("knockoff.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_of_every_command_validates_against_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(&committed_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let mut seen = BTreeSet::new();
    let mut check = |what: &str, stdout: &str| seen.extend(validate(&validator, what, stdout));

    // A live scan of the mock marketplace: findings, then host_stats.
    let mock = MockMarket::start(Some(&root().join("seeds")), Faults::none())
        .await
        .unwrap();
    let config = write_config(tmp.path(), &mock);
    let live_data = tmp.path().join("live");
    let live = tokio::task::spawn_blocking({
        let (config, live_data) = (config.clone(), live_data.clone());
        move || {
            lines_of(&[
                "scan",
                "--live",
                "--json",
                "--config",
                config.to_str().unwrap(),
                "--data",
                live_data.to_str().unwrap(),
            ])
        }
    })
    .await
    .unwrap();
    check("scan --live --json", &live);

    check(
        "scan --json",
        &lines_of(&["scan", "--data", d, "--json", "--all"]),
    );
    for (url, file) in [
        (
            "https://www.aliexpress.com/w/wholesale-aurora.html?page=1",
            "seeds/aliexpress/search-aurora-p1.html",
        ),
        (
            "https://www.aliexpress.com/w/wholesale-aurora.html?page=3",
            "seeds/aliexpress/punish-aurora-p3.html",
        ),
        (
            "https://s.taobao.com/search?q=aurora",
            "tests/fixtures/real/blocks/taobao-search-no-results.html",
        ),
        (
            "https://www.aliexpress.com/w/wholesale-aurora.html",
            "seeds/photos/horse.png",
        ),
    ] {
        check(file, &lines_of(&["parse", "--url", url, file]));
    }
    check("search", &lines_of(&["search", "--data", d, "aurora"]));
    check(
        "search --variants",
        &lines_of(&["search", "--data", d, "--variants", "aurora"]),
    );
    let cases = lines_of(&["cases", "--data", d, "list", "--json"]);
    check("cases list", &cases);
    let first: serde_json::Value = serde_json::from_str(cases.lines().next().unwrap()).unwrap();
    let id = first["id"].as_str().expect("a case id");
    check(
        "cases show",
        &lines_of(&["cases", "--data", d, "show", id, "--json"]),
    );
    check(
        "cases good-faith",
        &lines_of(&["cases", "--data", d, "good-faith", "--json"]),
    );
    let photos = [
        "seeds/images/espresso-cup-mirror.jpg",
        "seeds/images/broken.jpg",
        "seeds/photos/horse.png",
    ];
    let mut hash = vec!["hash"];
    hash.extend(photos);
    check("hash", &lines_of(&hash));
    let mut matching = vec!["match", "--reference", "watchlists/demo/official"];
    matching.extend(photos);
    check("match", &lines_of(&matching));
    check(
        "prune",
        &lines_of(&[
            "prune",
            "--data",
            d,
            "--older-than",
            "1d",
            "--dry-run",
            "--json",
        ]),
    );

    // Every kind the schema names was seen in real output.
    let schema_kinds: BTreeSet<String> = schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            k["properties"]["type"]["const"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(seen, schema_kinds);
}

#[test]
fn the_validator_refuses_a_line_that_breaks_its_kind() {
    // The schema checks, not just parses: an image_hash line without its
    // width, with a width that is a string, or of an unknown kind is refused.
    let schema: serde_json::Value = serde_json::from_str(&committed_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let hash = lines_of(&["hash", "seeds/images/espresso-cup-mirror.jpg"]);
    let good: serde_json::Value = serde_json::from_str(hash.trim()).unwrap();
    assert!(validator.is_valid(&good), "{good}");
    let mut no_width = good.clone();
    no_width.as_object_mut().unwrap().remove("width");
    assert!(!validator.is_valid(&no_width), "{no_width}");
    let mut text_width = good.clone();
    text_width["width"] = "800".into();
    assert!(!validator.is_valid(&text_width), "{text_width}");
    let mut unknown = good;
    unknown["type"] = "image_hashes".into();
    assert!(!validator.is_valid(&unknown), "{unknown}");
}
