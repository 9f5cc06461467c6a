//! Generate include/zarrlib.h from the library crate (native/) with cbindgen (run through
//! tools/gen_header).
//! With `--check`, compare instead of writing, and exit 1 if the committed header is stale.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().skip(1).any(|arg| arg == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the checkout's root exists");
    let crate_dir = root.join("native");
    let crate_dir = crate_dir.as_path();
    let header_path = root.join("include/zarrlib.h");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can generate the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);

    let committed = std::fs::read(&header_path).unwrap_or_default();
    if check {
        if committed == generated {
            println!("{} is up to date", header_path.display());
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "{} is stale: run tools/gen_header and commit the result",
            header_path.display()
        );
        return ExitCode::FAILURE;
    }
    if committed != generated {
        std::fs::write(&header_path, &generated).expect("the header is writable");
        println!("wrote {}", header_path.display());
    } else {
        println!("{} is up to date", header_path.display());
    }
    ExitCode::SUCCESS
}
