//! The host functions a skill may import from module `hauski`, linked only
//! for the capabilities its manifest grants. Pointers and lengths are i32
//! offsets into the skill's own memory; bytes handed back are written into
//! memory the skill allocates (`hauski_alloc`) and returned packed as
//! `(ptr << 32) | len`, or -1 for none.

use std::sync::Arc;

use wasmtime::{Caller, Extern, Linker, Memory};

use super::manifest::Capability;
use super::{CallState, HostServices, Message, Notifier};

/// Longest kv key and value a skill may store, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Longest text a skill may log or notify, in bytes.
const MAX_TEXT_BYTES: usize = 8192;

fn memory(caller: &mut Caller<'_, CallState>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => wasmtime::bail!("the skill exports no memory"),
    }
}

/// `len` bytes at `ptr` of the skill's memory, at most `max`.
pub(super) fn read(
    caller: &mut Caller<'_, CallState>,
    ptr: i32,
    len: i32,
    max: usize,
) -> wasmtime::Result<Vec<u8>> {
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    if len > max {
        wasmtime::bail!("the skill passed {len} bytes where at most {max} are allowed");
    }
    let memory = memory(caller)?;
    let data = memory.data(&*caller);
    let end = ptr.checked_add(len).filter(|end| *end <= data.len());
    match end {
        Some(end) => Ok(data[ptr..end].to_vec()),
        None => wasmtime::bail!("the skill passed memory outside its own"),
    }
}

fn read_text(caller: &mut Caller<'_, CallState>, ptr: i32, len: i32, max: usize) -> wasmtime::Result<String> {
    String::from_utf8(read(caller, ptr, len, max)?)
        .map_err(|_| wasmtime::format_err!("the skill passed text that is not UTF-8"))
}

/// Writes `bytes` into memory the skill allocates; returns them packed.
pub(super) fn hand_over(caller: &mut Caller<'_, CallState>, bytes: &[u8]) -> wasmtime::Result<i64> {
    let Some(Extern::Func(alloc)) = caller.get_export("hauski_alloc") else {
        wasmtime::bail!("the skill exports no hauski_alloc");
    };
    let ptr = alloc
        .typed::<i32, i32>(&*caller)?
        .call(&mut *caller, bytes.len() as i32)?;
    memory(caller)?.write(&mut *caller, ptr as u32 as usize, bytes)?;
    Ok((i64::from(ptr as u32) << 32) | bytes.len() as i64)
}

/// Links the host functions of `granted` into `linker`.
pub fn link(
    linker: &mut Linker<CallState>,
    granted: &[Capability],
    services: &Arc<HostServices>,
) -> wasmtime::Result<()> {
    for capability in granted {
        match capability {
            Capability::Clock => {
                let clock = services.clock.clone();
                linker.func_wrap("hauski", "clock_now_ms", move || clock())?;
            }
            Capability::Kv => link_kv(linker)?,
            Capability::Notify => {
                let notify = services.notify.clone();
                linker.func_wrap(
                    "hauski",
                    "notify",
                    move |mut caller: Caller<'_, CallState>, ptr: i32, len: i32| -> wasmtime::Result<i32> {
                        let bytes = read(&mut caller, ptr, len, MAX_TEXT_BYTES)?;
                        let message: Message = serde_json::from_slice(&bytes).map_err(|e| {
                            wasmtime::format_err!(
                                "the skill's message is not {{\"sender\", \"room\", \"text\", \"urgency\"}}: {e}"
                            )
                        })?;
                        let state = caller.data();
                        let from = Notifier {
                            skill: &state.skill,
                            source: state.source.as_deref(),
                        };
                        notify(from, message);
                        Ok(0)
                    },
                )?;
            }
            Capability::Alarms => match &services.alarms {
                Some(desk) => super::alarms::link(linker, desk)?,
                None => {
                    wasmtime::bail!("this host keeps no alarms, so it cannot grant the alarms capability")
                }
            },
            Capability::Http => match &services.egress {
                Some(egress) => super::egress::link(linker, egress)?,
                None => wasmtime::bail!("this host has no way out, so it cannot grant the http capability"),
            },
            Capability::Secrets => match &services.secrets {
                Some(vault) => super::secrets::link(linker, vault)?,
                None => {
                    wasmtime::bail!("this host keeps no secrets, so it cannot grant the secrets capability")
                }
            },
            Capability::Log => {
                linker.func_wrap(
                    "hauski",
                    "log",
                    |mut caller: Caller<'_, CallState>,
                     level: i32,
                     ptr: i32,
                     len: i32|
                     -> wasmtime::Result<()> {
                        let text = read_text(&mut caller, ptr, len, MAX_TEXT_BYTES)?;
                        let skill = &caller.data().skill;
                        match level {
                            0 => tracing::debug!(skill, "{text}"),
                            1 => tracing::info!(skill, "{text}"),
                            _ => tracing::warn!(skill, "{text}"),
                        }
                        Ok(())
                    },
                )?;
            }
        }
    }
    Ok(())
}

fn link_kv(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "hauski",
        "kv_get",
        |mut caller: Caller<'_, CallState>, kptr: i32, klen: i32| -> wasmtime::Result<i64> {
            let key = read_text(&mut caller, kptr, klen, MAX_KEY_BYTES)?;
            let value = {
                let state = caller.data();
                state.kv.get(&state.skill, &key)?
            };
            match value {
                Some(value) => hand_over(&mut caller, &value),
                None => Ok(-1),
            }
        },
    )?;
    linker.func_wrap(
        "hauski",
        "kv_set",
        |mut caller: Caller<'_, CallState>,
         kptr: i32,
         klen: i32,
         vptr: i32,
         vlen: i32|
         -> wasmtime::Result<i32> {
            let key = read_text(&mut caller, kptr, klen, MAX_KEY_BYTES)?;
            let value = read(&mut caller, vptr, vlen, MAX_VALUE_BYTES)?;
            let state = caller.data();
            state.kv.set(&state.skill, &key, &value)?;
            Ok(0)
        },
    )?;
    linker.func_wrap(
        "hauski",
        "kv_delete",
        |mut caller: Caller<'_, CallState>, kptr: i32, klen: i32| -> wasmtime::Result<i32> {
            let key = read_text(&mut caller, kptr, klen, MAX_KEY_BYTES)?;
            let state = caller.data();
            state.kv.delete(&state.skill, &key)?;
            Ok(0)
        },
    )?;
    Ok(())
}
