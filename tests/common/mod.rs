pub mod binary;
pub mod run;
pub mod sim;
pub mod tmux;
pub mod transcript;
