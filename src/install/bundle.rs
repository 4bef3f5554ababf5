//! The shared libraries an installed `hauski` carries with it, and the rpath
//! that finds them there.
//!
//! The build leaves libllama and libggml* in llama-cpp-sys-2's out dir and the
//! binary's rpath pointing at it; ONNX Runtime comes from the venv's wheel.
//! An install copies every library the dynamic loader resolves outside the
//! system's own directories, plus ONNX Runtime, and rewrites the rpath with
//! patchelf (Debian's `patchelf`): nothing may point into the build tree.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::InstallError;

/// Directories whose libraries come from Debian packages, not from the build.
const SYSTEM_DIRS: [&str; 4] = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"];

/// A library to carry: the name the loader asks for (its soname) and the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    pub soname: String,
    pub file: PathBuf,
}

/// The libraries `binary` needs that no Debian package provides, as `ldd`
/// resolves them (transitively: libggml-cpu comes in through libggml).
pub fn private_libraries(binary: &Path) -> Result<Vec<Library>, InstallError> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| InstallError::Tool {
            tool: "ldd",
            reason: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(InstallError::Tool {
            tool: "ldd",
            reason: format!("{}: {}", binary.display(), String::from_utf8_lossy(&out.stderr)),
        });
    }
    let mut found = Vec::new();
    for line in text.lines() {
        let Some((soname, rest)) = line.trim().split_once(" => ") else {
            continue;
        };
        if rest.starts_with("not found") {
            return Err(InstallError::MissingLibrary {
                soname: soname.to_string(),
                binary: binary.to_path_buf(),
            });
        }
        let file = PathBuf::from(rest.split(" (").next().unwrap_or(rest).trim());
        if !is_system_library(&file) {
            found.push(Library {
                soname: soname.to_string(),
                file,
            });
        }
    }
    Ok(found)
}

fn is_system_library(file: &Path) -> bool {
    SYSTEM_DIRS.iter().any(|dir| file.starts_with(dir))
}

/// Sets `binary`'s rpath to `rpath` and only that. DT_RPATH, as the build
/// links it: unlike RUNPATH it also serves libllama's own libggml* needs.
pub fn set_rpath(binary: &Path, rpath: &str) -> Result<(), InstallError> {
    let out = Command::new("patchelf")
        .args(["--force-rpath", "--set-rpath", rpath])
        .arg(binary)
        .output()
        .map_err(|e| InstallError::Tool {
            tool: "patchelf",
            reason: format!("{e} (apt install patchelf, or run scripts/install-deps.sh)"),
        })?;
    if !out.status.success() {
        return Err(InstallError::Tool {
            tool: "patchelf",
            reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_libraries_stay_out_of_the_bundle() {
        assert!(is_system_library(Path::new("/lib/x86_64-linux-gnu/libc.so.6")));
        assert!(is_system_library(Path::new(
            "/usr/lib/x86_64-linux-gnu/pulseaudio/libpulsecommon-16.1.so"
        )));
        assert!(!is_system_library(Path::new(
            "/home/o/hauski/target/debug/build/x/out/lib/libllama.so.0"
        )));
    }
}
