//! Zeroconf: Home Assistant finds Wyoming services by `_wyoming._tcp.local.`
//! (its Wyoming integration then offers them under "Discovered"). Advertised
//! only when the server listens beyond loopback, where someone else can
//! reach it; mdns-sd answers queries on every interface from its own thread.

use mdns_sd::{ServiceDaemon, ServiceInfo};

pub const SERVICE_TYPE: &str = "_wyoming._tcp.local.";

/// The advertisement, withdrawn when dropped (the daemon says goodbye).
pub struct Advertisement {
    daemon: ServiceDaemon,
    fullname: String,
}

/// Advertises the Wyoming server on `port` as "HausKI on HOST".
pub fn advertise(port: u16) -> Result<Advertisement, String> {
    let host = hostname();
    let instance = format!("HausKI on {host}");
    let daemon = ServiceDaemon::new().map_err(|e| format!("cannot start mDNS: {e}"))?;
    let info = ServiceInfo::new(SERVICE_TYPE, &instance, &format!("{host}.local."), "", port, None)
        .map_err(|e| format!("cannot describe the service for mDNS: {e}"))?
        .enable_addr_auto();
    let fullname = info.get_fullname().to_string();
    daemon
        .register(info)
        .map_err(|e| format!("cannot advertise over mDNS: {e}"))?;
    tracing::info!(%fullname, port, "wyoming advertised over zeroconf");
    Ok(Advertisement { daemon, fullname })
}

impl Drop for Advertisement {
    fn drop(&mut self) {
        let _ = self.daemon.unregister(&self.fullname);
        let _ = self.daemon.shutdown();
    }
}

/// This machine's name, as mDNS hosts are named (`NAME.local.`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "hauski".to_string())
}
