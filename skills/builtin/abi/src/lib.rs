//! The guest side of HausKI's skill ABI (see `hauski_skills::host`): the
//! host functions of module `hauski`, wrapped safely, and [`export_skill!`],
//! which gives a skill the two exports every skill has (`hauski_alloc`,
//! `hauski_call`). A skill imports only the functions it calls (the linker
//! drops the rest), and the host refuses it at load unless its manifest
//! grants every capability those imports belong to.

use serde_json::Value;

mod imports {
    #[link(wasm_import_module = "hauski")]
    unsafe extern "C" {
        pub fn kv_get(key_ptr: *const u8, key_len: usize) -> i64;
        pub fn kv_set(key_ptr: *const u8, key_len: usize, value_ptr: *const u8, value_len: usize) -> i32;
        pub fn kv_delete(key_ptr: *const u8, key_len: usize) -> i32;
        pub fn log(level: i32, ptr: *const u8, len: usize);
        pub fn alarm_add(ptr: *const u8, len: usize) -> i64;
        pub fn alarm_pending(ptr: *const u8, len: usize) -> i64;
        pub fn alarm_cancel(ptr: *const u8, len: usize) -> i64;
        pub fn http_request(ptr: *const u8, len: usize) -> i64;
        pub fn secret_get(key_ptr: *const u8, key_len: usize) -> i64;
        pub fn notify(ptr: *const u8, len: usize) -> i32;
        pub fn clock_now_ms() -> i64;
    }
}

/// What an action answers: the words to say and data for programs, or why it failed.
pub type Answer = Result<(String, Value), String>;

/// Bytes the host wrote into this module's memory (after `hauski_alloc`),
/// as `(ptr << 32) | len`; `None` for -1.
fn take_packed(packed: i64) -> Option<Vec<u8>> {
    if packed < 0 {
        return None;
    }
    let ptr = (packed >> 32) as usize as *mut u8;
    let len = (packed & 0xffff_ffff) as usize;
    // SAFETY: the host allocated `len` bytes at `ptr` through `hauski_alloc`,
    // which leaked a Vec of exactly that capacity; it is ours to take back.
    Some(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// The `kv` capability: this skill's own small store, kept across restarts.
pub mod kv {
    use super::{imports, take_packed};

    pub fn get(key: &str) -> Option<Vec<u8>> {
        // SAFETY: the pointer and length describe `key`, alive for the call.
        take_packed(unsafe { imports::kv_get(key.as_ptr(), key.len()) })
    }

    /// Whether the host stored it (it refuses over-long keys and values).
    pub fn set(key: &str, value: &[u8]) -> bool {
        // SAFETY: both slices are alive for the call.
        unsafe { imports::kv_set(key.as_ptr(), key.len(), value.as_ptr(), value.len()) == 0 }
    }

    pub fn delete(key: &str) {
        // SAFETY: the slice is alive for the call.
        unsafe {
            imports::kv_delete(key.as_ptr(), key.len());
        }
    }
}

/// The `log` capability: a line in HausKI's log under the skill's name.
pub fn log_info(message: &str) {
    // SAFETY: the slice is alive for the call.
    unsafe { imports::log(1, message.as_ptr(), message.len()) }
}

/// The `alarms` capability: the host keeps, schedules and rings timers and
/// reminders; a skill asks with a JSON request and gets a JSON reply.
pub mod alarms {
    use serde_json::{Value, json};

    use super::{imports, take_packed};

    fn ask(
        function: unsafe extern "C" fn(*const u8, usize) -> i64,
        request: &Value,
    ) -> Result<Value, String> {
        let request = request.to_string();
        // SAFETY: the request's bytes are alive for the call.
        let reply = take_packed(unsafe { function(request.as_ptr(), request.len()) })
            .ok_or("the host gave no answer about alarms")?;
        serde_json::from_slice(&reply).map_err(|e| format!("the host's answer about alarms is not JSON: {e}"))
    }

    /// Adds an alarm (`{"kind", "label", "seconds"}` or `{"kind", "label",
    /// "due_ms"}`); the reply is `{"alarm": {..}}` or `{"refused": ..}`.
    pub fn add(request: &Value) -> Result<Value, String> {
        ask(imports::alarm_add, request)
    }

    /// The pending alarms of `kind` ("timer", "reminder"), soonest first,
    /// each `{"id", "label", "seconds", "due_ms", "left_s", "when"}`.
    pub fn pending(kind: &str) -> Result<Vec<Value>, String> {
        let reply = ask(imports::alarm_pending, &json!({"kind": kind}))?;
        Ok(reply["alarms"].as_array().cloned().unwrap_or_default())
    }

    /// Cancels the alarms `ids`; returns how many were pending.
    pub fn cancel(ids: &[i64]) -> Result<u64, String> {
        let reply = ask(imports::alarm_cancel, &json!({"ids": ids}))?;
        Ok(reply["cancelled"].as_u64().unwrap_or(0))
    }
}

/// The `http` capability: a request to a host the owner's routing policy
/// grants this skill. A host it does not grant stops the call.
pub mod http {
    use serde_json::{Value, json};

    use super::{imports, take_packed};

    /// A response: its status and body.
    pub struct Response {
        pub status: u16,
        pub body: String,
    }

    /// Sends `method url` with `headers` and `body`; `timeout_s` bounds the
    /// whole exchange (a long-poll's wait and its margin). `Err` says why
    /// nothing usable came back (refused connection, timeout, a response
    /// over the host's limit).
    pub fn request(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
        timeout_s: u64,
    ) -> Result<Response, String> {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
            .collect();
        let request =
            json!({"method": method, "url": url, "headers": headers, "body": body, "timeout_s": timeout_s})
                .to_string();
        // SAFETY: the request's bytes are alive for the call.
        let reply = take_packed(unsafe { imports::http_request(request.as_ptr(), request.len()) })
            .ok_or("the host gave no answer to the request")?;
        let reply: Value =
            serde_json::from_slice(&reply).map_err(|e| format!("the host's answer is not JSON: {e}"))?;
        if let Some(error) = reply["error"].as_str() {
            return Err(error.to_string());
        }
        Ok(Response {
            status: reply["status"].as_u64().unwrap_or(0) as u16,
            body: reply["body"].as_str().unwrap_or_default().to_string(),
        })
    }

    /// `GET url` with `headers`, its body parsed as JSON when the status is 2xx.
    pub fn get_json(url: &str, headers: &[(&str, &str)], timeout_s: u64) -> Result<Value, String> {
        let response = request("GET", url, headers, None, timeout_s)?;
        if !(200..300).contains(&response.status) {
            let start: String = response.body.chars().take(200).collect();
            return Err(format!("the server answered {}: {start}", response.status));
        }
        serde_json::from_str(&response.body).map_err(|e| format!("the server's answer is not JSON: {e}"))
    }
}

/// `text` for a URL's query or path segment: everything but RFC 3986's
/// unreserved characters percent-encoded.
pub fn url_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The `secrets` capability: this skill's own credentials, which the owner
/// set with `hauski secrets set SKILL KEY`.
pub fn secret(key: &str) -> Option<String> {
    // SAFETY: the slice is alive for the call.
    let bytes = take_packed(unsafe { imports::secret_get(key.as_ptr(), key.len()) })?;
    String::from_utf8(bytes).ok()
}

/// The `notify` capability: a message for the owner, read aloud by the
/// core (which names the source from this skill's manifest).
pub fn notify(sender: &str, room: Option<&str>, text: &str) {
    let message = serde_json::json!({"sender": sender, "room": room, "text": text}).to_string();
    // SAFETY: the slice is alive for the call.
    unsafe {
        imports::notify(message.as_ptr(), message.len());
    }
}

/// The `clock` capability: now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    // SAFETY: no arguments.
    unsafe { imports::clock_now_ms() }
}

/// Room in this module's memory for the host to write `len` bytes into.
/// Called through [`export_skill!`]'s `hauski_alloc`.
pub fn alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// One call: the request `{"action", "args"}` at `ptr`, answered by
/// `handler` as `{"reply", "data"}` or `{"error"}`, returned packed as
/// `(ptr << 32) | len` and left for the host to read.
///
/// # Safety
/// `ptr` and `len` must be what the host wrote after [`alloc`]`(len)`.
pub unsafe fn call(ptr: *mut u8, len: usize, handler: fn(&str, &Value) -> Answer) -> i64 {
    // SAFETY: the caller promises `len` bytes at `ptr`, allocated by `alloc`.
    let request = unsafe { Vec::from_raw_parts(ptr, len, len) };
    let answer = match serde_json::from_slice::<Value>(&request) {
        Ok(request) => handler(request["action"].as_str().unwrap_or_default(), &request["args"]),
        Err(e) => Err(format!("the request is not JSON: {e}")),
    };
    let reply = match answer {
        Ok((reply, data)) => serde_json::json!({"reply": reply, "data": data}),
        Err(error) => serde_json::json!({"error": error}),
    };
    let reply = reply.to_string().into_bytes().into_boxed_slice();
    let len = reply.len() as i64;
    let ptr = Box::into_raw(reply) as *mut u8 as usize as i64;
    (ptr << 32) | len
}

/// The exports every skill has, answering each call with `handler`
/// (`fn(action: &str, args: &Value) -> Answer`).
#[macro_export]
macro_rules! export_skill {
    ($handler:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn hauski_alloc(len: usize) -> *mut u8 {
            $crate::alloc(len)
        }

        /// # Safety
        /// The host calls with the `len` bytes it wrote after `hauski_alloc(len)`.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn hauski_call(ptr: *mut u8, len: usize) -> i64 {
            // SAFETY: passed on from this function's own contract.
            unsafe { $crate::call(ptr, len, $handler) }
        }
    };
}
