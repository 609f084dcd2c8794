//! Starting the built-in simulator on a free loopback port for a test.

#![allow(dead_code)]

use comfy_tui::sim::{self, SimConfig, SimHandle};
use std::future::Future;
use std::time::Duration;

/// Every await in the tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(20);

pub async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .expect("timed out: a bounded wait in a test ran out")
}

pub async fn start_sim(step_delay: Duration) -> SimHandle {
    start_sim_with(SimConfig {
        step_delay,
        ..SimConfig::default()
    })
    .await
}

pub async fn start_sim_with(config: SimConfig) -> SimHandle {
    let listener = within(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .await
        .expect("loopback port");
    within(sim::start(listener, config))
        .await
        .expect("simulator starts")
}

/// The requests the simulator received on `route` (with or without the `/api` prefix).
pub fn requests_to(
    sim: &SimHandle,
    method: &str,
    route: &str,
) -> Vec<comfy_tui::sim::CapturedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.method == method && (r.path == route || r.path == format!("/api{route}")))
        .collect()
}
