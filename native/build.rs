//! Give the shared library a SONAME on ELF platforms: without one, programs linked against it
//! record its absolute build path instead of its name, and break once it is installed elsewhere.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzarrlib.so");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
