//! OS signals as app events: SIGTERM and SIGHUP always; SIGINT only outside raw mode
//! (in the TUI, Ctrl-C arrives as a key).

use crate::app::{Event, Signal, Stamped};
use crate::runtime::EventSender;
use std::time::Instant;
use tokio::task::JoinHandle;

pub fn spawn(tx: EventSender, with_interrupt: bool) -> JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                return;
            };
            loop {
                let which = tokio::select! {
                    _ = term.recv() => Signal::Terminate,
                    _ = hup.recv() => Signal::Hangup,
                    r = tokio::signal::ctrl_c(), if with_interrupt => {
                        if r.is_err() { return; }
                        Signal::Interrupt
                    }
                };
                if tx
                    .send(Stamped::new(Instant::now(), Event::Signal(which)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        #[cfg(not(unix))]
        loop {
            if tokio::signal::ctrl_c().await.is_err() || !with_interrupt {
                return;
            }
            if tx
                .send(Stamped::new(
                    Instant::now(),
                    Event::Signal(Signal::Interrupt),
                ))
                .await
                .is_err()
            {
                return;
            }
        }
    })
}
