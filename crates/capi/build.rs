//! Compiles the C side: the weak defaults (linked into the library) and, for the tests only,
//! the C test program (archived in OUT_DIR, never linked into the library: the tests link it
//! by name). Also tells the tests which C compiler to use for compile-only checks.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let include = manifest.join("../../include");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets it");

    for path in ["c/weak_handler.c", "tests/c/test_api.c", "../../include/lwm2m_carrier.h"] {
        println!("cargo:rerun-if-changed={}", manifest.join(path).display());
    }
    println!("cargo:rerun-if-changed=../../samples/c_app/main.c");

    let base = || {
        let mut b = cc::Build::new();
        b.include(&include)
            .std("c11")
            .warnings(true)
            .extra_warnings(true)
            .warnings_into_errors(true);
        b
    };

    // Part of the library: weak defaults of the application hooks, errno values.
    base().file(manifest.join("c/weak_handler.c")).compile("lwm2m_carrier_capi_weak");

    // The C test program: built here, linked only by tests/c_api.rs.
    base()
        .file(manifest.join("tests/c/test_api.c"))
        .cargo_metadata(false)
        .compile("lwm2m_carrier_capi_ctest");
    println!("cargo:rustc-link-search=native={out_dir}");

    // The compiler the tests use to compile the sample (compile only).
    let tool = base().get_compiler();
    println!("cargo:rustc-env=CAPI_TEST_CC={}", tool.path().display());
    let args: Vec<String> = tool.args().iter().map(|a| a.to_string_lossy().into_owned()).collect();
    println!("cargo:rustc-env=CAPI_TEST_CC_ARGS={}", args.join("\u{1f}"));
}
