//! `{{name}}` placeholders in the files under `templates/`.

use crate::error::{Error, Result};

pub fn render(name: &str, template: &str, values: &[(&str, &str)]) -> Result<Vec<String>> {
    let mut text = template.to_string();
    for (key, value) in values {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    if let Some(at) = text.find("{{") {
        return Err(Error::Internal(format!(
            "template {name}: unfilled placeholder at byte {at}"
        )));
    }
    Ok(text.lines().map(str::to_string).collect())
}
