//! Home Assistant's Wyoming protocol over TCP: speech-to-text, text-to-speech
//! wake-word detection (streamed, as Home Assistant's pipeline sends it) and
//! its conversation stage (`handle`) with the daemon's engines.

pub mod advertise;
mod protocol;
mod session;
mod wake;

use tokio::net::TcpListener;

use crate::assistant::SharedAssistant;

/// Accepts connections until the process ends; each gets its own session.
pub async fn serve(listener: TcpListener, state: SharedAssistant) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if !state.config.routing.wyoming.admits(peer.ip()) {
                    tracing::warn!(
                        %peer,
                        "wyoming connection refused: its network is not under wyoming.allow in policies/routing.yaml"
                    );
                    drop(stream);
                    continue;
                }
                let state = state.clone();
                tokio::spawn(async move {
                    let _span = tracing::info_span!("wyoming", %peer);
                    if let Err(e) = session::run(stream, state).await {
                        tracing::info!(%peer, error = %e, "wyoming connection ended");
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "wyoming accept failed"),
        }
    }
}
