//! `knockoff export` and `knockoff verify` through the binary, on the data
//! folder of a real demo scan: complaints and bundles are written, a second
//! export is byte-identical, verify passes, then fails (exit 1, naming the
//! file) once one byte of the evidence is flipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn knockoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn export_then_verify_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let scan = knockoff(&["scan", "--data", d, "--json"]);
    assert_eq!(scan.status.code(), Some(0), "{scan:?}");

    let out1 = tmp.path().join("export1");
    let o1 = out1.to_str().unwrap();
    let export = knockoff(&["export", "--data", d, "--out", o1]);
    let stdout = String::from_utf8_lossy(&export.stdout);
    assert_eq!(
        export.status.code(),
        Some(0),
        "{stdout} {:?}",
        export.stderr
    );
    assert!(out1.join("manifest.json").is_file());
    assert!(out1.join("report.html").is_file());
    assert!(out1.join("complaints.csv").is_file());
    let batches: Vec<_> = std::fs::read_dir(out1.join("batches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!batches.is_empty(), "batches written: {stdout}");

    // A second export of the same data is byte-identical.
    let out2 = tmp.path().join("export2");
    let again = knockoff(&["export", "--data", d, "--out", out2.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(files(&out1), files(&out2));

    let ok = knockoff(&["verify", o1]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("OK"));

    // Flip one byte of one evidence file.
    let (victim, mut bytes) = files(&out1)
        .into_iter()
        .find(|(p, _)| {
            p.starts_with("evidence")
                && p.extension().is_some_and(|e| e == "html" || e == "json")
                && !p.ends_with("manifest.json")
        })
        .expect("a bundle file");
    bytes[0] ^= 0x01;
    std::fs::write(out1.join(&victim), bytes).unwrap();
    let bad = knockoff(&["verify", o1]);
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    let report = String::from_utf8_lossy(&bad.stdout);
    let name = victim.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        report.contains("changed") && report.contains(&name),
        "{report}"
    );
}

/// Nothing on stderr a terminal would draw: no escape sequence, no
/// carriage return, no bar.
fn assert_no_progress_drawn(what: &str, stderr: &[u8]) {
    let text = String::from_utf8_lossy(stderr);
    assert!(
        !text.contains("\x1b[") && !text.contains('\r'),
        "{what}: escape codes on a piped stderr: {text:?}"
    );
    assert!(
        !text.contains("=>") && !text.contains("pages parsed") && !text.contains("bundles"),
        "{what}: a progress bar on a piped stderr: {text:?}"
    );
}

// Regression test for issue #21: the progress bars (indicatif) are drawn
// only on a terminal. Tests pipe stderr, as a script or a log file would.
#[test]
fn progress_bars_stay_off_a_piped_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    // Not `--json`: the human output, which draws bars on a terminal.
    let scan = knockoff(&["scan", "--data", d]);
    assert_eq!(scan.status.code(), Some(0), "{scan:?}");
    assert!(String::from_utf8_lossy(&scan.stdout).contains("flag"));
    assert_no_progress_drawn("scan", &scan.stderr);
    let json = knockoff(&["scan", "--data", d, "--json"]);
    assert_eq!(json.status.code(), Some(0), "{json:?}");
    assert_no_progress_drawn("scan --json", &json.stderr);

    let out = tmp.path().join("export");
    let export = knockoff(&["export", "--data", d, "--out", out.to_str().unwrap()]);
    assert_eq!(export.status.code(), Some(0), "{export:?}");
    assert!(out.join("manifest.json").is_file());
    assert_no_progress_drawn("export", &export.stderr);
}

/// Runs the binary with stderr on a pseudo-terminal (120 columns) and
/// stdout piped; returns what the terminal received.
#[cfg(target_os = "linux")]
fn knockoff_on_a_terminal(args: &[&str]) -> (Option<i32>, Vec<u8>) {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors we then own; the other
    // pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here only.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .current_dir(root())
        .env("TERM", "xterm")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::from(slave))
        .spawn()
        .unwrap();
    // Read the terminal while the child writes (a full pty would block it).
    let reader = std::thread::spawn(move || {
        let mut file = std::fs::File::from(master);
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        // Linux answers EIO once the child's end is closed.
        while let Ok(n @ 1..) = file.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
        }
        seen
    });
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code(), reader.join().unwrap())
}

// The other side of the test above: on a terminal the bars are drawn, so
// their absence from a piped stderr means something.
#[cfg(target_os = "linux")]
#[test]
fn progress_bars_are_drawn_on_a_terminal_but_not_with_json() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let (code, tty) = knockoff_on_a_terminal(&["scan", "--data", d]);
    assert_eq!(code, Some(0));
    let text = String::from_utf8_lossy(&tty);
    for bar in [
        "scan: pages loaded",
        "scan: pages parsed",
        "scan: photos matched",
        "scan: listings judged",
    ] {
        assert!(text.contains(bar), "{bar} not drawn: {text:?}");
    }

    let (code, tty) = knockoff_on_a_terminal(&["scan", "--data", d, "--json"]);
    assert_eq!(code, Some(0));
    assert!(tty.is_empty(), "{:?}", String::from_utf8_lossy(&tty));

    let out = tmp.path().join("export");
    let (code, tty) =
        knockoff_on_a_terminal(&["export", "--data", d, "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let text = String::from_utf8_lossy(&tty);
    assert!(text.contains("export: evidence bundles"), "{text:?}");
}

#[test]
fn export_of_a_folder_without_a_store_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = knockoff(&[
        "export",
        "--data",
        tmp.path().join("nothing").to_str().unwrap(),
        "--out",
        tmp.path().join("out").to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no store here"));
    let missing = knockoff(&["verify", tmp.path().to_str().unwrap()]);
    assert_ne!(missing.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("manifest.json"));
}
