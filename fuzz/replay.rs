//! Corpus replay on stable Rust: runs every fuzz target body over every file of its corpus
//! (`fuzz/corpus/<target>/`) and reports the counts. Exits non-zero if any input panics or a
//! target has no corpus.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --no-default-features --features engine \
//!     --example replay
//! cargo run ... --example replay -- coap_decode path/to/crash-file-or-dir ...
//! ```

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lwm2m_carrier_fuzz::{Target, TARGETS};

/// Files directly in `dir`, or `path` itself if it is a file, sorted for a stable order.
fn inputs(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let p = entry?.path();
        if p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs `target` over every input under `paths`; returns (inputs run, inputs that panicked).
fn replay(target: &Target, paths: &[PathBuf]) -> Result<(usize, usize), String> {
    let mut run = 0;
    let mut failed = 0;
    for path in paths {
        let files = inputs(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for file in files {
            let data = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            run += 1;
            if panic::catch_unwind(AssertUnwindSafe(|| (target.run)(&data))).is_err() {
                eprintln!("  PANIC in {} on {}", target.name, file.display());
                failed += 1;
            }
        }
    }
    Ok((run, failed))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let corpus_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");

    let jobs: Vec<(&Target, Vec<PathBuf>)> = match args.split_first() {
        None => TARGETS.iter().map(|t| (t, vec![corpus_root.join(t.name)])).collect(),
        Some((name, rest)) => {
            let Some(t) = TARGETS.iter().find(|t| t.name == name.as_str()) else {
                let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
                eprintln!("unknown target {name}; targets: {}", names.join(", "));
                return ExitCode::FAILURE;
            };
            let paths = if rest.is_empty() {
                vec![corpus_root.join(t.name)]
            } else {
                rest.iter().map(PathBuf::from).collect()
            };
            vec![(t, paths)]
        }
    };

    let mut ok = true;
    for (target, paths) in jobs {
        match replay(target, &paths) {
            Ok((0, _)) => {
                println!("{:<16} no inputs found (FAIL)", target.name);
                ok = false;
            }
            Ok((run, 0)) => println!("{:<16} {run:>5} inputs, no panics", target.name),
            Ok((run, failed)) => {
                println!("{:<16} {run:>5} inputs, {failed} PANICKED", target.name);
                ok = false;
            }
            Err(e) => {
                println!("{:<16} cannot read corpus: {e}", target.name);
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
