//! Structure layouts: every C program of tests/c/layout checks sizeof and the offset of each
//! field of one structure against Microsoft's layout, compiled at each TAPI_CURRENT_VERSION
//! whose guards change a structure.

mod common;

use common::{compile, manifest_dir, run, Scratch};
use std::time::Duration;

const VERSIONS: [&str; 5] = [
    "0x00010004",
    "0x00020000",
    "0x00020002",
    "0x00030000",
    "0x00030001",
];

#[test]
fn every_structure_has_microsofts_layout_at_every_version() {
    let scratch = Scratch::new("layout");
    let mut sources: Vec<_> = std::fs::read_dir(manifest_dir().join("tests/c/layout"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    assert_eq!(sources.len(), 21, "one program per structure");
    for version in VERSIONS {
        for src in &sources {
            let define = format!("-DTAPI_CURRENT_VERSION={version}");
            let exe = compile(&scratch, src, &[&define]);
            let ran = run(&scratch, &exe, &[], &[], Duration::from_secs(10));
            assert_eq!(
                ran.code(),
                Some(0),
                "{} at {version}:\n{ran}",
                src.display()
            );
            assert!(ran.stdout.contains(", 0 failures"), "{ran}");
        }
    }
}

#[test]
fn the_header_compiles_as_cxx_and_links() {
    let scratch = Scratch::new("cxx");
    let src = scratch.path("prog.cpp");
    std::fs::write(
        &src,
        "#include <tapi.h>\nint main() { HLINEAPP h; DWORD n, v = 0x00020002;\n\
         LINEINITIALIZEEXPARAMS p = {}; p.dwTotalSize = sizeof p;\n\
         p.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT;\n\
         return lineInitializeEx(&h, 0, 0, \"cxx\", &n, &v, &p) == (LONG)LINEERR_NODRIVER ? 0 : 1; }\n",
    )
    .unwrap();
    let exe = scratch.path("prog");
    let out = std::process::Command::new("c++")
        .args(["-Wall", "-Wextra", "-Werror"])
        .arg(&src)
        .arg("-I")
        .arg(common::include_dir())
        .arg("-L")
        .arg(common::lib_dir())
        .args(["-ltapi", "-o"])
        .arg(&exe)
        .output()
        .expect("run c++");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = [("TAPIGW_API", "127.0.0.1:1".to_string())];
    let ran = run(&scratch, &exe, &[], &env, Duration::from_secs(10));
    assert_eq!(ran.code(), Some(0), "{ran}");
}
