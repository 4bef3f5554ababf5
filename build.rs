//! Link settings for the `hauski` binary, which holds whisper.cpp and llama.cpp
//! in one process on one shared ggml (see ARCHITECTURE.md, "One ggml").
use std::path::Path;

fn main() {
    // An installed hauski keeps libllama.so* and libggml*.so* beside itself.
    // DT_RPATH (not RUNPATH): it also serves libllama's own dependencies (libggml*).
    println!("cargo:rustc-link-arg=-Wl,--disable-new-dtags");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
    // In the build tree the versioned libraries (libllama.so.0, the sonames the
    // binary asks for) stay in llama-cpp-sys-2's out dir: point there too.
    if let Ok(cmake_dir) = std::env::var("DEP_LLAMA_GGML_CMAKE_DIR")
        && let Some(lib_dir) = Path::new(&cmake_dir).parent()
    {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_LLAMA_GGML_CMAKE_DIR");
}
