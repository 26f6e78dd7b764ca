//! Everything that reaches the terminal: the printer (text or JSON), prompts, messages.

pub mod codeset;
pub mod help;
pub mod i18n;
pub mod interrupt;
#[cfg(test)]
pub mod korean_style;
pub mod mask;
pub mod printer;
pub mod progress;
pub mod table;

pub use printer::Printer;
