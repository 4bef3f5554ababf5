//! Builds whisper.cpp as a static library against llama-cpp-sys-2's ggml
//! (shared libraries, found through the CMake package it installs), and
//! generates the bindings from the same headers.

use std::env;
use std::path::PathBuf;

fn main() {
    let cmake_dir = env::var("DEP_LLAMA_GGML_CMAKE_DIR")
        .expect("llama-cpp-sys-2 did not export DEP_LLAMA_GGML_CMAKE_DIR (its ggml CMake package)");
    // <prefix>/lib/cmake: ggml's package in ggml/, the libraries in <prefix>/lib,
    // the headers in <prefix>/include.
    let cmake_dir = PathBuf::from(cmake_dir);
    let lib_dir = cmake_dir
        .parent()
        .expect("the CMake folder sits under <prefix>/lib")
        .to_path_buf();
    let prefix = lib_dir.parent().expect("<prefix>/lib").to_path_buf();
    let include_dir = prefix.join("include");
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=whisper.cpp");
    println!("cargo:rerun-if-env-changed=DEP_LLAMA_GGML_CMAKE_DIR");

    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    bindgen::Builder::default()
        .header("wrapper.h")
        .clang_arg("-I./whisper.cpp/include")
        .clang_arg(format!("-I{}", include_dir.display()))
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .expect("bindgen cannot read whisper.h and ggml.h")
        .write_to_file(out.join("bindings.rs"))
        .expect("cannot write the bindings");

    let mut config = cmake::Config::new("whisper.cpp");
    config
        .profile("Release")
        .define("CMAKE_BUILD_TYPE", "Release")
        .define("BUILD_SHARED_LIBS", "OFF")
        .define("WHISPER_USE_SYSTEM_GGML", "ON")
        .define("ggml_DIR", cmake_dir.join("ggml"))
        .define("WHISPER_BUILD_TESTS", "OFF")
        .define("WHISPER_BUILD_EXAMPLES", "OFF")
        .define("WHISPER_BUILD_SERVER", "OFF")
        .define("WHISPER_ALL_WARNINGS", "OFF")
        .define("WHISPER_ALL_WARNINGS_3RD_PARTY", "OFF")
        .pic(true);
    let destination = config.build();

    println!("cargo:rustc-link-search=native={}", destination.join("lib").display());
    println!("cargo:rustc-link-lib=static=whisper");
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=dylib=ggml");
    println!("cargo:rustc-link-lib=dylib=ggml-base");
    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:WHISPER_CPP_VERSION=1.8.3");
}
