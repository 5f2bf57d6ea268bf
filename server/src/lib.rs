//! The Ferrodesk server: configuration, start-up, HTTP middleware and the routes that are not Leptos pages.
#![forbid(unsafe_code)]

pub mod assets;
pub mod health;
pub mod middleware;
pub mod multipart;
pub mod portal_routes;
pub mod seeding;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod ticket_files;

pub use settings::Settings;
pub use startup::Application;
