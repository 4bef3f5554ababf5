//! The `secrets` capability: a skill reads its own credentials (a bot
//! token, an access token) and nobody else's. The skill names only the key;
//! the host supplies the owner, so one adapter cannot ask for another's.
//! Every read is audited by key, never by value.
//!
//! Import of module `hauski`: `secret_get(key) -> value`, or -1 when the
//! owner has not set it.

use std::sync::Arc;

use wasmtime::{Caller, Linker};

use super::CallState;
use super::imports::{MAX_KEY_BYTES, hand_over, read};

/// The host's keeper of secrets (the age-encrypted vault).
pub trait SecretReader: Send + Sync {
    /// `owner`'s secret `key`, if set; `Err` says why it cannot be read.
    fn secret(&self, owner: &str, key: &str) -> Result<Option<String>, String>;
}

/// Links `secret_get` over `reader`.
pub(super) fn link(linker: &mut Linker<CallState>, reader: &Arc<dyn SecretReader>) -> wasmtime::Result<()> {
    let reader = reader.clone();
    linker.func_wrap(
        "hauski",
        "secret_get",
        move |mut caller: Caller<'_, CallState>, ptr: i32, len: i32| -> wasmtime::Result<i64> {
            let key = String::from_utf8(read(&mut caller, ptr, len, MAX_KEY_BYTES)?)
                .map_err(|_| wasmtime::format_err!("the skill passed a secret name that is not UTF-8"))?;
            let state = caller.data();
            let skill = state.skill.clone();
            let value = reader.secret(&skill, &key).map_err(wasmtime::Error::msg)?;
            let found = if value.is_some() { "found" } else { "not set" };
            state
                .audit
                .record(&skill, "secret read", &format!("{key}: {found}"))?;
            match value {
                Some(value) => hand_over(&mut caller, value.as_bytes()),
                None => Ok(-1),
            }
        },
    )?;
    Ok(())
}
