//! Runs the C test program (`tests/c/test_api.c`, compiled by build.rs against
//! `include/lwm2m_carrier.h`) linked with this library, and checks that the C sample compiles.

use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::process::Command;

// Links this library (and its weak defaults) into the test binary.
extern crate lwm2m_carrier_capi;

#[link(name = "lwm2m_carrier_capi_ctest", kind = "static")]
extern "C" {
    fn c_api_test_main() -> c_int;
}

#[test]
fn c_program_passes() {
    // SAFETY: a C function without arguments; it uses only the library's C interface.
    let rc = unsafe { c_api_test_main() };
    assert_eq!(rc, 0, "tests/c/test_api.c failed (its message is above)");
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The C compiler and flags build.rs used.
fn compiler() -> Command {
    let mut cmd = Command::new(env!("CAPI_TEST_CC"));
    cmd.args(env!("CAPI_TEST_CC_ARGS").split('\u{1f}').filter(|a| !a.is_empty()));
    cmd
}

#[test]
fn sample_compiles() {
    let root = repo_root();
    let out = std::env::temp_dir().join(format!("lwm2m_c_app_{}.o", std::process::id()));
    let status = compiler()
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-c"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("samples/c_app/main.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("the C compiler runs");
    let _ = std::fs::remove_file(&out);
    assert!(status.success(), "samples/c_app/main.c does not compile");
}

#[test]
fn header_is_clean_c99() {
    let root = repo_root();
    let dir = std::env::temp_dir();
    let src = dir.join(format!("lwm2m_hdr_{}.c", std::process::id()));
    std::fs::write(&src, "#include \"lwm2m_carrier.h\"\nint main(void) { return 0; }\n").unwrap();
    let out = dir.join(format!("lwm2m_hdr_{}.o", std::process::id()));
    let status = compiler()
        .args(["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-c"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("the C compiler runs");
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&out);
    assert!(status.success(), "include/lwm2m_carrier.h is not clean C99");
}

#[test]
fn header_compiles_as_cpp() {
    let root = repo_root();
    let dir = std::env::temp_dir();
    let src = dir.join(format!("lwm2m_hdr_{}.cpp", std::process::id()));
    let code = "#include \"lwm2m_carrier.h\"\n\
                extern \"C\" int lwm2m_carrier_event_handler(const lwm2m_carrier_event_t *e) {\n\
                  return e->type == LWM2M_CARRIER_EVENT_REBOOT ? 0 : 0; }\n";
    std::fs::write(&src, code).unwrap();
    let out = dir.join(format!("lwm2m_hdr_cpp_{}.o", std::process::id()));
    let Ok(status) = Command::new("c++")
        .args(["-x", "c++", "-Wall", "-Wextra", "-Werror", "-c"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
    else {
        eprintln!("no c++ compiler: skipped");
        return;
    };
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&out);
    assert!(status.success(), "include/lwm2m_carrier.h does not compile as C++");
}

/// The staticlib cargo built next to this test (deps/liblwm2m_carrier_capi-<hash>.a, newest).
fn staticlib() -> Option<PathBuf> {
    let deps = std::env::current_exe().ok()?.parent()?.to_path_buf();
    std::fs::read_dir(deps)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("liblwm2m_carrier_capi-") && name.ends_with(".a")
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// Links `sources` with the staticlib into `exe`.
fn link(sources: &[&Path], lib: &Path, exe: &Path) -> bool {
    let root = repo_root();
    let mut cmd = compiler();
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror"]).arg("-I").arg(root.join("include"));
    cmd.args(sources).arg(lib).arg("-o").arg(exe);
    if cfg!(target_os = "linux") {
        cmd.args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"]);
    }
    cmd.status().is_ok_and(|s| s.success())
}

/// An application that defines no handler and no hooks links against the staticlib (the
/// weak defaults) and initialises; the sample links too.
#[test]
fn staticlib_links_with_weak_defaults() {
    if !cfg!(target_os = "linux") {
        eprintln!("link test written for Linux: skipped");
        return;
    }
    let Some(lib) = staticlib() else {
        eprintln!("no liblwm2m_carrier_capi-*.a next to the test: skipped");
        return;
    };
    let dir = std::env::temp_dir();
    let pid = std::process::id();
    let src = dir.join(format!("lwm2m_nohandler_{pid}.c"));
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include \"lwm2m_carrier.h\"\n\
         int main(void) {\n\
           if (lwm2m_carrier_battery_level_set(50) != 0) return 2;\n\
           if (lwm2m_carrier_init(NULL) != 0) return 3;\n\
           if (lwm2m_carrier_memory_free_read() != 0) return 4;\n\
           if (lwm2m_carrier_utc_offset_read() != 0) return 5;\n\
           puts(\"no-handler app: init ok\");\n\
           return 0;\n\
         }\n",
    )
    .unwrap();
    let exe = dir.join(format!("lwm2m_nohandler_{pid}"));
    assert!(link(&[&src], &lib, &exe), "an app without handler does not link");
    let status = Command::new(&exe).status().expect("runs");
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&exe);
    assert!(status.success(), "the app without handler failed: {status}");

    let sample = repo_root().join("samples/c_app/main.c");
    let exe = dir.join(format!("lwm2m_c_app_{pid}"));
    assert!(link(&[&sample], &lib, &exe), "samples/c_app does not link");
    let _ = std::fs::remove_file(&exe);
}
