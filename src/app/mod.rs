//! The app: the session (servers and jobs) plus what the user sees and asks for.
//! `update` is the only way it changes; it returns the effects the runtime must carry out.

pub mod effect;
pub mod event;
pub mod keymap;
pub mod record;
mod update;

pub use crate::session::report::{LogLine, Report};
pub use effect::Effect;
pub use event::{Event, JobEvent, Key, ServerEvent, Signal, Stamped};
pub use update::update;

pub use crate::session::saves::{SavedOutput, Transfer};
pub use crate::session::server::SERVER_LOG_CAPACITY;
pub use crate::session::{Connection, JobKey, ServerKey};

use crate::comfy::ClientId;
use crate::job::Job;
use crate::ring::Ring;
use crate::session::{JobSpec, Server, Session, Tracked};
use std::time::{Duration, Instant};
/// How many log lines the event log keeps.
pub const LOG_CAPACITY: usize = 500;

/// What a one-job run is made of (`App::new`).
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
pub enum Popup {
    ConfirmCancel,
    /// Cancel the whole batch?
    ConfirmCancelBatch,
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

/// Whether the app leaves when the session has settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving {
    /// Headless faces always leave when settled; the TUI stays to show the result.
    Stay,
    /// The user asked to quit (or a SIGTERM came): leave once everything has settled.
    WhenSettled,
}

#[derive(Debug)]
pub struct App {
    pub session: Session,
    /// A person is at the keyboard (TUI): the view stays when the run ends.
    pub interactive: bool,
    pub log: Ring<LogLine>,
    pub ui: Ui,
    /// When the app began, and the time of the latest event (the clock for display).
    pub started: Instant,
    pub now: Instant,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// New reports since the face last took them (headless prints them).
    pending_reports: Vec<LogLine>,
    leaving: Leaving,
}

impl App {
    /// The app of a one-job run (`run`, `attach`): one server, one job, in focus.
    pub fn new(job: Job, config: AppConfig, now: Instant) -> Self {
        let server = Server::new(config.server, config.client_id);
        let spec = JobSpec {
            download: config.download,
            timeout: config.timeout,
            seeds: config.seeds,
            picks: config.picks,
            attach: config.attach,
            swept: Vec::new(),
        };
        let tracked = Tracked::new(JobKey::FIRST, job, ServerKey::FIRST, spec, now);
        Self {
            session: Session::single(server, tracked),
            interactive: config.interactive,
            log: Ring::new(LOG_CAPACITY),
            ui: Ui::default(),
            started: now,
            now,
            dirty: true,
            pending_reports: Vec::new(),
            leaving: Leaving::Stay,
        }
    }

    /// The app of a batch: one server, many jobs, the first in focus.
    pub fn batch(
        server: Server,
        jobs: Vec<(Job, JobSpec)>,
        interactive: bool,
        now: Instant,
    ) -> Self {
        let jobs = jobs
            .into_iter()
            .enumerate()
            .map(|(index, (job, spec))| {
                Tracked::new(JobKey(index), job, ServerKey::FIRST, spec, now)
            })
            .collect();
        Self {
            session: Session {
                servers: vec![server],
                jobs,
                focus: JobKey::FIRST,
            },
            interactive,
            log: Ring::new(LOG_CAPACITY),
            ui: Ui::default(),
            started: now,
            now,
            dirty: true,
            pending_reports: Vec::new(),
            leaving: Leaving::Stay,
        }
    }

    /// More than one job: lines name their job, and the end sums them up.
    pub fn is_batch(&self) -> bool {
        self.session.jobs.len() > 1
    }

    /// The job that decides the outcome: the only one, or the worst of a batch
    /// (rejected > error > lost > interrupted > success).
    pub fn deciding(&self) -> &Tracked {
        self.session
            .jobs
            .iter()
            .rev()
            .max_by_key(|t| crate::batch::severity(t.status()))
            .unwrap_or_else(|| self.focused())
    }

    /// The job the view shows.
    pub fn focused(&self) -> &Tracked {
        self.session.focused()
    }

    /// The state machine of the job the view shows.
    pub fn job(&self) -> &Job {
        &self.focused().job
    }

    /// The server of the job the view shows.
    pub fn server(&self) -> &Server {
        self.session.server(self.focused().server)
    }

    /// Every job has ended and nothing is left to fetch or save.
    pub fn is_settled(&self) -> bool {
        self.session.is_settled()
    }

    /// The app leaves as soon as the session has settled (the user asked to quit).
    pub fn quitting(&self) -> bool {
        self.leaving == Leaving::WhenSettled
    }

    /// The process exit code: the only job's, or the worst of a batch.
    pub fn exit_code(&self) -> i32 {
        self.deciding().exit_code()
    }

    /// The run's status word, as the `done` line and the summary give it.
    pub fn status(&self) -> &'static str {
        self.deciding().status()
    }

    /// Takes the reports added since the last call.
    pub fn take_reports(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.pending_reports)
    }

    /// Lines the jobs reported (already past their holds) go to the log, and to the
    /// headless face.
    fn publish(&mut self, lines: Vec<LogLine>) {
        for line in lines {
            if !self.interactive {
                self.pending_reports.push(line.clone());
            }
            self.log.push(line);
        }
    }

    /// Time since the app started, by the latest event's clock.
    pub fn elapsed(&self) -> Duration {
        self.now.saturating_duration_since(self.started)
    }
}
