//! The skills and messenger adapters that ship with HausKI, built to WebAssembly by `build.rs` and
//! run in the same sandbox, with the same manifests, as anyone's.

use crate::host::manifest::Manifest;

/// (manifest, module) of every built-in skill.
pub fn skills() -> Vec<(Manifest, &'static [u8])> {
    let built_in: [(&str, &'static [u8]); 6] = [
        (
            include_str!("../builtin/lists/skill.yaml"),
            include_bytes!(concat!(env!("OUT_DIR"), "/hauski_skill_lists.wasm")),
        ),
        (
            include_str!("../builtin/timers/skill.yaml"),
            include_bytes!(concat!(env!("OUT_DIR"), "/hauski_skill_timers.wasm")),
        ),
        (
            include_str!("../builtin/reminders/skill.yaml"),
            include_bytes!(concat!(env!("OUT_DIR"), "/hauski_skill_reminders.wasm")),
        ),
        (
            include_str!("../builtin/telegram/skill.yaml"),
            include_bytes!(concat!(env!("OUT_DIR"), "/hauski_adapter_telegram.wasm")),
        ),
        (
            include_str!("../builtin/matrix/skill.yaml"),
            include_bytes!(concat!(env!("OUT_DIR"), "/hauski_adapter_matrix.wasm")),
        ),
        (
            include_str!("../builtin/signal/skill.yaml"),
            include_bytes!(concat!(env!("OUT_DIR"), "/hauski_adapter_signal.wasm")),
        ),
    ];
    built_in
        .into_iter()
        .filter_map(|(manifest, wasm)| match Manifest::parse(manifest) {
            Ok(manifest) => Some((manifest, wasm)),
            Err(reason) => {
                tracing::error!(%reason, "a built-in skill's manifest is broken");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_built_in_manifest_parses() {
        assert_eq!(super::skills().len(), 6);
    }
}
