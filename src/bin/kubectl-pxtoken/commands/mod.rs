//! One module per subcommand: its flags, help and a thin `exec` over the library.

pub mod admin;
pub mod completion;
pub mod doctor;
pub mod generate;
pub mod inspect;
pub mod list;
pub mod man;
pub mod rotate;
pub mod rotator;
pub mod storageclass;
pub mod tenant;
