//! What earlier runs of the same graph shape took, per node, and the ETA it gives a run
//! in progress. Pure arithmetic over the node states and the caller's clock.

use super::{NodeRun, NodeState};
use crate::comfy::NodeId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The expected duration of each node that ran before (nodes never seen to run, such
/// as ones always served from the cache, are absent: they are expected to take nothing).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expected {
    per_node: HashMap<NodeId, Duration>,
}

impl Expected {
    pub fn new(per_node: HashMap<NodeId, Duration>) -> Self {
        Self { per_node }
    }

    pub fn node(&self, id: &NodeId) -> Option<Duration> {
        self.per_node.get(id).copied()
    }

    /// The whole graph's expected duration: every node of `nodes` running once.
    pub fn total(&self, nodes: &[NodeRun]) -> Duration {
        nodes.iter().filter_map(|n| self.node(&n.id)).sum()
    }

    /// Expected time left at `now`: the nodes not yet run in full, the running ones
    /// less what they have done (their step fraction when they report steps, else the
    /// time they have run). A node over its time counts as about to end.
    pub fn remaining(&self, nodes: &[NodeRun], now: Instant) -> Duration {
        nodes
            .iter()
            .map(|node| {
                let Some(expected) = self.node(&node.id) else {
                    return Duration::ZERO;
                };
                match node.state {
                    NodeState::Pending => expected,
                    NodeState::Running if node.max > 0.0 && node.value > 0.0 => {
                        expected.mul_f64(1.0 - node.fraction())
                    }
                    NodeState::Running => {
                        expected.saturating_sub(node.elapsed(now).unwrap_or_default())
                    }
                    NodeState::Cached
                    | NodeState::Done
                    | NodeState::Failed
                    | NodeState::Interrupted
                    | NodeState::Skipped => Duration::ZERO,
                }
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, state: NodeState) -> NodeRun {
        let mut node = NodeRun::new(NodeId::from(id), "K", None);
        node.state = state;
        node
    }

    fn expected() -> Expected {
        Expected::new(HashMap::from([
            (NodeId::from("1"), Duration::from_secs(2)),
            (NodeId::from("2"), Duration::from_secs(10)),
            (NodeId::from("3"), Duration::from_secs(1)),
        ]))
    }

    #[test]
    fn the_total_counts_each_node_of_the_graph_once() {
        let nodes = [
            node("1", NodeState::Pending),
            node("2", NodeState::Pending),
            node("3", NodeState::Pending),
            node("9", NodeState::Pending),
        ];
        assert_eq!(expected().total(&nodes), Duration::from_secs(13));
        assert_eq!(
            expected().remaining(&nodes, Instant::now()),
            Duration::from_secs(13)
        );
    }

    #[test]
    fn finished_and_cached_nodes_count_nothing_and_a_running_one_its_rest() {
        let t0 = Instant::now();
        let mut sampler = node("2", NodeState::Running);
        sampler.started = Some(t0);
        sampler.value = 3.0;
        sampler.max = 4.0;
        let nodes = [
            node("1", NodeState::Cached),
            sampler,
            node("3", NodeState::Pending),
        ];
        // 10 s × (1 - 3/4) for the sampler, 1 s for the rest.
        assert_eq!(
            expected().remaining(&nodes, t0 + Duration::from_secs(1)),
            Duration::from_millis(3500)
        );
    }

    #[test]
    fn a_node_without_steps_is_judged_by_the_time_it_has_run() {
        let t0 = Instant::now();
        let mut loader = node("1", NodeState::Running);
        loader.started = Some(t0);
        let nodes = [
            loader,
            node("2", NodeState::Done),
            node("3", NodeState::Pending),
        ];
        let at = |ms| expected().remaining(&nodes, t0 + Duration::from_millis(ms));
        assert_eq!(at(500), Duration::from_millis(2500));
        // Over its time: only what follows is left.
        assert_eq!(at(5000), Duration::from_secs(1));
    }
}
