//! The app: the run's state plus what the user sees and asks for. `update` is the only
//! way it changes; it returns the effects the runtime must carry out.

pub mod effect;
pub mod event;
pub mod keymap;
pub mod record;
pub mod report;
pub mod ring;
mod update;

pub use effect::Effect;
pub use event::{Event, Key, Signal, Stamped};
pub use report::{LogLine, Report};
pub use update::update;

use crate::comfy::http::Rejection;
use crate::comfy::{ClientId, FileRef, NodeId};
use crate::job::{Job, Outcome};
use ring::Ring;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How many lines of the server's log are kept.
pub const SERVER_LOG_CAPACITY: usize = 300;
/// How many log lines the event log keeps.
pub const LOG_CAPACITY: usize = 500;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The server as shown to the user.
    pub server: String,
    pub client_id: ClientId,
    pub download: bool,
    pub timeout: Option<Duration>,
    /// A person is at the keyboard (TUI): the view stays when the run ends.
    pub interactive: bool,
    /// The seed inputs of the graph as submitted (reported so a run can be repeated).
    pub seeds: Vec<crate::comfy::workflow::Seed>,
    /// The dynamic-prompt choices made when the graph was converted.
    pub picks: Vec<crate::convert::DynamicPick>,
    /// Following a prompt that is already on the server (`attach`): nothing is submitted.
    pub attach: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Connected,
    Reconnecting { attempt: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Popup {
    ConfirmCancel,
    ConfirmQuit,
    Help,
    /// The server's own log (`logs` messages after subscribing).
    ServerLog,
}

/// The panes that scroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Nodes,
    Error,
    Log,
}

/// Where a pane's view starts. With `follow` on, the view tracks what is happening (the
/// running node, the newest log line) and `offset` is unused; any scroll turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    /// The first visible row (for the log: the ring index, counting dropped lines, of the
    /// first visible line, so that the view stays put when old lines go).
    pub offset: usize,
    pub follow: bool,
}

impl Scroll {
    pub const FOLLOW: Self = Self {
        offset: 0,
        follow: true,
    };
    pub const TOP: Self = Self {
        offset: 0,
        follow: false,
    };
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub popup: Option<Popup>,
    pub hide_preview: bool,
    pub show_log: bool,
    pub nodes: Scroll,
    /// The traceback (or the rejection's node errors).
    pub error: Scroll,
    pub log: Scroll,
    /// The pane the scroll keys move; `None`: the error when one shows, else the nodes.
    pub focus: Option<Pane>,
    /// The terminal's size in cells, from the resize events: the keys scroll by what the
    /// view shows.
    pub screen: (u16, u16),
}

impl Default for Ui {
    fn default() -> Self {
        Self {
            popup: None,
            hide_preview: false,
            show_log: false,
            nodes: Scroll::FOLLOW,
            error: Scroll::TOP,
            log: Scroll::FOLLOW,
            focus: None,
            screen: (80, 24),
        }
    }
}

impl Ui {
    pub fn scroll_mut(&mut self, pane: Pane) -> &mut Scroll {
        match pane {
            Pane::Nodes => &mut self.nodes,
            Pane::Error => &mut self.error,
            Pane::Log => &mut self.log,
        }
    }
}

/// An output being written, as its progress events tell.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub file: FileRef,
    pub bytes: u64,
    pub total: Option<u64>,
    /// The first progress event's time and bytes: the rate is measured from there, so
    /// that time spent waiting for a download slot does not count.
    since: (Instant, u64),
    pub at: Instant,
}

impl Transfer {
    /// Shortest span a rate is given over: a first chunk says nothing of the speed.
    const RATE_SPAN: Duration = Duration::from_millis(200);

    pub fn new(file: FileRef, bytes: u64, total: Option<u64>, at: Instant) -> Self {
        Self {
            file,
            bytes,
            total,
            since: (at, bytes),
            at,
        }
    }

    pub fn advance(&mut self, bytes: u64, total: Option<u64>, at: Instant) {
        self.bytes = self.bytes.max(bytes);
        self.total = total.or(self.total);
        self.at = self.at.max(at);
    }

    /// Bytes per second so far, by the events' clock.
    pub fn rate(&self) -> Option<f64> {
        let span = self.at.saturating_duration_since(self.since.0);
        (span >= Self::RATE_SPAN)
            .then(|| self.bytes.saturating_sub(self.since.1) as f64 / span.as_secs_f64())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SavedOutput {
    pub node: NodeId,
    pub file: FileRef,
    pub path: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HistoryFetch {
    NotYet,
    Requested,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cancel {
    None,
    /// Sent at this time; the run should end as interrupted soon.
    Sent {
        at: Instant,
    },
}

#[derive(Debug)]
pub struct App {
    pub job: Job,
    pub config: AppConfig,
    pub connection: Connection,
    pub saved: Vec<SavedOutput>,
    pub failed_saves: Vec<(FileRef, String)>,
    /// Outputs being written, while their progress events come.
    pub transfers: Vec<Transfer>,
    pub rejection: Option<Rejection>,
    /// Why the run could not go on (unreachable, lost), for the summary.
    pub fatal: Option<String>,
    pub log: Ring<LogLine>,
    pub ui: Ui,
    pub cancel: Cancel,
    /// When the app began, and the time of the latest event (the clock for display).
    pub started: Instant,
    pub now: Instant,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// New reports since the face last took them (headless prints them).
    pending_reports: Vec<LogLine>,
    requested: HashSet<FileRef>,
    /// Outputs being written now; reported as not saved if the app leaves first.
    in_flight: Vec<(NodeId, FileRef)>,
    history: HistoryFetch,
    /// After a reconnect, waiting for `/queue` and `/history` to say where the run is.
    resyncing: bool,
    /// Queue polls in a row that did not find our prompt.
    absent_polls: u32,
    /// A cancel waits for the POST's answer before it can name a queued prompt.
    cancel_on_submit: bool,
    /// The targeted interrupt went out (never twice).
    interrupt_sent: bool,
    /// `--timeout` ran out: the run is being cancelled and ends as a timeout.
    timed_out: bool,
    last_queue_poll: Option<Instant>,
    /// The app left before the prompt ended (why): it may still run on the server.
    pub detached: Option<String>,
    /// "Cancel it, then quit" was chosen: leave once the cancelled run has settled.
    quit_when_settled: bool,
    /// The server's log, its newest lines (only once the user asked to see it).
    pub server_log: Ring<String>,
    /// The log stream was asked for (once).
    pub server_log_subscribed: bool,
    /// The user was told once that the cancel is not confirmed yet.
    grace_warned: bool,
    /// The user was told once that our socket hears nothing of our running prompt.
    deaf_warned: bool,
    /// The server has answered the submission (or nothing could be submitted): until
    /// then reports are held, so that the answer is always the first line.
    answered: bool,
    held: Vec<LogLine>,
    /// What the job store is told of this run (none: nothing is recorded).
    pub recording: Option<record::Recording>,
}

impl App {
    pub fn new(job: Job, config: AppConfig, now: Instant) -> Self {
        Self {
            job,
            config,
            connection: Connection::Connecting,
            saved: Vec::new(),
            failed_saves: Vec::new(),
            transfers: Vec::new(),
            rejection: None,
            fatal: None,
            log: Ring::new(LOG_CAPACITY),
            ui: Ui::default(),
            cancel: Cancel::None,
            started: now,
            now,
            dirty: true,
            pending_reports: Vec::new(),
            requested: HashSet::new(),
            in_flight: Vec::new(),
            history: HistoryFetch::NotYet,
            resyncing: false,
            absent_polls: 0,
            cancel_on_submit: false,
            interrupt_sent: false,
            timed_out: false,
            last_queue_poll: None,
            detached: None,
            quit_when_settled: false,
            grace_warned: false,
            server_log: Ring::new(SERVER_LOG_CAPACITY),
            server_log_subscribed: false,
            deaf_warned: false,
            answered: false,
            held: Vec::new(),
            recording: None,
        }
    }

    /// The run is over and nothing is left to fetch or save.
    pub fn is_settled(&self) -> bool {
        self.job.is_finished()
            && self.in_flight.is_empty()
            && self.history != HistoryFetch::Requested
    }

    /// The app leaves as soon as the run has settled (the user asked to quit meanwhile).
    pub fn quitting(&self) -> bool {
        self.quit_when_settled
    }

    pub fn user_cancelled(&self) -> bool {
        matches!(self.cancel, Cancel::Sent { .. })
    }

    /// The process exit code for the run as it stands.
    pub fn exit_code(&self) -> i32 {
        if self.detached.is_some() {
            return crate::exit::DETACHED;
        }
        match self.job.outcome() {
            Some(Outcome::Success) if !self.failed_saves.is_empty() => crate::exit::EXECUTION_ERROR,
            Some(outcome) => crate::exit::for_outcome(outcome),
            None if self.user_cancelled() => crate::exit::CANCELLED,
            None => crate::exit::SUCCESS,
        }
    }

    /// The run's status word, as the `done` line and the summary give it.
    pub fn status(&self) -> &'static str {
        if self.detached.is_some() {
            return "detached";
        }
        match self.job.outcome() {
            Some(Outcome::Success) if !self.failed_saves.is_empty() => "incomplete",
            Some(outcome) => outcome.as_str(),
            None => "lost",
        }
    }

    /// Takes the reports added since the last call.
    pub fn take_reports(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.pending_reports)
    }

    fn report(&mut self, at: Instant, report: Report) {
        let answer = matches!(
            report,
            Report::Submitted { .. }
                | Report::Rejected(_)
                | Report::NotSubmitted { .. }
                | Report::Attached { .. }
        );
        let line = LogLine { at, report };
        if !self.answered && !answer {
            // The socket can hear of our prompt before the POST answers (the id is ours
            // to choose): what it says waits for the answer.
            self.held.push(line);
            if self.job.is_finished() {
                self.release_held();
            }
            return;
        }
        self.publish(line);
        if answer {
            self.release_held();
        }
    }

    /// The answer came (or the run ended without one): held reports follow it.
    fn release_held(&mut self) {
        self.answered = true;
        for line in std::mem::take(&mut self.held) {
            self.publish(line);
        }
    }

    fn publish(&mut self, line: LogLine) {
        if !self.config.interactive {
            self.pending_reports.push(line.clone());
        }
        self.log.push(line);
    }

    /// Time since the app started, by the latest event's clock.
    pub fn elapsed(&self) -> Duration {
        self.now.saturating_duration_since(self.started)
    }
}
