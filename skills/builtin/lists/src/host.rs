//! The host's side of the skill ABI (see `hauski_skills::host`), wrapped:
//! the imports of module `hauski` this skill is granted (`kv`, `log`), and
//! the two exports every skill has (`hauski_alloc`, `hauski_call`).

#[link(wasm_import_module = "hauski")]
unsafe extern "C" {
    fn kv_get(key_ptr: *const u8, key_len: usize) -> i64;
    fn kv_set(key_ptr: *const u8, key_len: usize, value_ptr: *const u8, value_len: usize) -> i32;
    fn kv_delete(key_ptr: *const u8, key_len: usize) -> i32;
    fn log(level: i32, ptr: *const u8, len: usize);
}

/// Bytes the host wrote into this module's memory (after `hauski_alloc`),
/// as `(ptr << 32) | len`.
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

pub fn get(key: &str) -> Option<Vec<u8>> {
    // SAFETY: the pointer and length describe `key`, alive for the call.
    take_packed(unsafe { kv_get(key.as_ptr(), key.len()) })
}

pub fn set(key: &str, value: &[u8]) -> bool {
    // SAFETY: both slices are alive for the call.
    unsafe { kv_set(key.as_ptr(), key.len(), value.as_ptr(), value.len()) == 0 }
}

pub fn delete(key: &str) {
    // SAFETY: the slice is alive for the call.
    unsafe {
        kv_delete(key.as_ptr(), key.len());
    }
}

pub fn info(message: &str) {
    // SAFETY: the slice is alive for the call.
    unsafe { log(1, message.as_ptr(), message.len()) }
}

/// Room in this module's memory for the host to write `len` bytes into.
#[unsafe(no_mangle)]
pub extern "C" fn hauski_alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// One call: the request JSON at `ptr` (from `hauski_alloc`), the reply
/// JSON returned packed as `(ptr << 32) | len`, left for the host to read.
#[unsafe(no_mangle)]
pub extern "C" fn hauski_call(ptr: *mut u8, len: usize) -> i64 {
    // SAFETY: the host wrote `len` bytes at `ptr`, allocated by `hauski_alloc`.
    let request = unsafe { Vec::from_raw_parts(ptr, len, len) };
    let reply = crate::handle(&request).into_bytes().into_boxed_slice();
    let len = reply.len() as i64;
    let ptr = Box::into_raw(reply) as *mut u8 as usize as i64;
    (ptr << 32) | len
}
