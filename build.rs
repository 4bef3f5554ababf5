//! Link settings for the `hauski` binary, which holds whisper.cpp and llama.cpp
//! in one process (see ARCHITECTURE.md, "Two ggml copies in one binary").
use std::path::Path;

fn main() {
    // whisper-rs links its ggml statically; llama-cpp-2 (dynamic-link) brings
    // libllama.so with its own, newer ggml. Without this flag the executable
    // re-exports whisper's ggml symbols and libllama binds to them and aborts.
    println!("cargo:rustc-link-arg=-Wl,--exclude-libs,ALL");
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
