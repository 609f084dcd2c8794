pub mod binary;
pub mod run;
pub mod schema;
pub mod sim;
pub mod tmux;
pub mod transcript;
