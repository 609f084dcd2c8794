//! The session: every server the app talks to, every job it knows of, and which job the
//! detail view shows. A `run` is a session of one server and one job; the cockpit and
//! batches add servers and jobs to the same model.

pub mod follow;
pub mod recording;
pub mod report;
pub mod saves;
pub mod server;
pub mod tracked;

pub use server::{Connection, Server};
pub use tracked::{JobSpec, Tracked};

/// A server of the session (its index in [`Session::servers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerKey(pub usize);

impl ServerKey {
    /// The server of a one-server session.
    pub const FIRST: Self = Self(0);
}

/// A job of the session (its index in [`Session::jobs`]); jobs are never removed, so a
/// key stays valid for the whole session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey(pub usize);

impl JobKey {
    /// The job of a one-job run.
    pub const FIRST: Self = Self(0);
}

#[derive(Debug)]
pub struct Session {
    pub servers: Vec<Server>,
    pub jobs: Vec<Tracked>,
    /// The job the detail view shows.
    pub focus: JobKey,
}

impl Session {
    /// A session of one server and one job (what `run` and `attach` follow).
    pub fn single(server: Server, job: Tracked) -> Self {
        Self {
            servers: vec![server],
            jobs: vec![job],
            focus: JobKey::FIRST,
        }
    }

    pub fn server(&self, key: ServerKey) -> &Server {
        &self.servers[key.0]
    }

    pub fn server_mut(&mut self, key: ServerKey) -> &mut Server {
        &mut self.servers[key.0]
    }

    pub fn job(&self, key: JobKey) -> &Tracked {
        &self.jobs[key.0]
    }

    pub fn job_mut(&mut self, key: JobKey) -> &mut Tracked {
        &mut self.jobs[key.0]
    }

    pub fn focused(&self) -> &Tracked {
        self.job(self.focus)
    }

    /// The keys of every job, in the order they were added.
    pub fn job_keys(&self) -> impl Iterator<Item = JobKey> + use<> {
        (0..self.jobs.len()).map(JobKey)
    }

    /// The keys of the jobs followed on one server.
    pub fn jobs_on(&self, server: ServerKey) -> Vec<JobKey> {
        self.jobs
            .iter()
            .enumerate()
            .filter(|(_, job)| job.server == server)
            .map(|(index, _)| JobKey(index))
            .collect()
    }

    /// Every job has ended and nothing is left to fetch or save.
    pub fn is_settled(&self) -> bool {
        self.jobs.iter().all(Tracked::is_settled)
    }
}
