//! The evaluation floor on the committed seed photos (offline, small): the
//! edits knockoff handles stay at >= 95% recall, and the ones it does not
//! yet handle (see BENCHMARKS.md) do not get worse than measured.

use std::path::Path;

use knockoff::imagehash::eval::{evaluate, EvalConfig};

#[test]
fn evaluation_floor_on_seed_photos() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/photos");
    let config = EvalConfig {
        draws: 1,
        pairs: false,
        tiles_per_side: 2,
        max_side_px: 320,
    };
    let r = evaluate(&dir, &config).expect("evaluation runs");
    let recall = |name: &str| {
        r.transforms
            .iter()
            .find(|t| t.transform == name)
            .unwrap_or_else(|| panic!("{name} evaluated"))
            .recall
    };
    // Target met (recall >= 95%).
    for name in [
        "resize 25-50%",
        "jpeg q30-50",
        "crop <=10%/side",
        "mirror",
        "format png/webp",
    ] {
        assert!(recall(name) >= 0.95, "{name}: {:.2}", recall(name));
    }
    // Below target today; regression floors at the measured level minus
    // one trial's worth of noise.
    for (name, floor) in [
        ("colour/brightness", 0.6),
        ("pad <=20%/side", 0.3),
        ("overlay 5-15%", 0.3),
        ("rotate 1-5deg", 0.1),
    ] {
        assert!(
            recall(name) >= floor,
            "{name}: {:.2} < {floor}",
            recall(name)
        );
    }
    assert!(r.unrelated_pairs >= 1000, "{} pairs", r.unrelated_pairs);
    assert!(
        r.false_match_rate <= 0.01,
        "false-match rate {:.2e}",
        r.false_match_rate
    );
}
