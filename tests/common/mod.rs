pub mod sim;
pub mod transcript;
