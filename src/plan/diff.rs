//! Unified diff of a plan, as `--dry-run` and the confirmation prompt show it.

use super::{Action, Edit, Ownership, Plan, RegChange, RegValue, Validation};
use crate::msg;
use similar::{ChangeTag, TextDiff};

/// Renders every changed file; `redact` hides secrets (the license) in what is shown.
pub fn render(plan: &Plan, redact: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    for step in &plan.run {
        let line = msg!("diff-run", command = redact(&step.display()));
        out.push_str(&format!("{line}\n"));
        if !step.rewrites.is_empty() {
            let files: Vec<String> = step
                .rewrites
                .iter()
                .map(|r| r.path.display().to_string())
                .collect();
            let line = msg!("diff-run-rewrites", files = files.join(", "));
            out.push_str(&format!("{line}\n"));
        }
    }
    for edit in &plan.edits {
        if edit.action() == Action::Unchanged {
            continue;
        }
        out.push_str(&render_edit(edit, redact));
    }
    for mode in &plan.modes {
        out.push_str(&format!(
            "mode {:04o} -> {:04o} {}\n",
            mode.before,
            mode.after,
            mode.path.display()
        ));
    }
    for change in &plan.registry {
        if change.action() != Action::Unchanged {
            out.push_str(&render_edit(&registry_text(change), redact));
        }
    }
    for link in &plan.remove_links {
        let line = msg!(
            "diff-remove-symlink",
            path = link.path.display(),
            target = link.target.display()
        );
        out.push_str(&format!("{line}\n"));
    }
    for link in &plan.links {
        let line = msg!(
            "diff-create-symlink",
            path = link.path.display(),
            target = link.target.display()
        );
        out.push_str(&format!("{line}\n"));
    }
    for step in &plan.run_after {
        let line = msg!("diff-run", command = redact(&step.display()));
        out.push_str(&format!("{line}\n"));
    }
    for dir in &plan.remove_dirs {
        let line = msg!("diff-remove-dir", path = dir.display());
        out.push_str(&format!("{line}\n"));
    }
    out
}

fn render_edit(edit: &Edit, redact: &dyn Fn(&str) -> String) -> String {
    let path = edit.path.display().to_string();
    let old_name = if edit.before.is_some() {
        format!("a{path}")
    } else {
        "/dev/null".into()
    };
    let new_name = if edit.after.is_some() {
        format!("b{path}")
    } else {
        "/dev/null".into()
    };
    if edit.binary {
        let line = match edit.action() {
            Action::Created => msg!("diff-binary-created", path = path),
            Action::Deleted => msg!("diff-binary-deleted", path = path),
            _ => msg!("diff-binary-replaced", path = path),
        };
        return format!("{line}\n");
    }
    let before = String::from_utf8_lossy(edit.before.as_deref().unwrap_or_default());
    let after = String::from_utf8_lossy(edit.after.as_deref().unwrap_or_default());
    let diff = TextDiff::from_lines(before.as_ref(), after.as_ref());
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    if let Some(via) = &edit.via {
        out = format!("# {} -> {path}\n{out}", via.display());
    }
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            hunk_range(old.start, old.len()),
            hunk_range(new.start, new.len())
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let value = change.value();
                let body = value.strip_suffix('\n').unwrap_or(value);
                let (body, cr) = match body.strip_suffix('\r') {
                    Some(b) => (b, "\u{240d}"),
                    None => (body, ""),
                };
                out.push(sign);
                out.push_str(&redact(body));
                out.push_str(cr);
                out.push('\n');
                if !value.ends_with('\n') {
                    out.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// A registry value as a text file for the diff: a `REG_MULTI_SZ` one string a line.
fn registry_text(change: &RegChange) -> Edit {
    let text = |value: &Option<RegValue>| {
        value.as_ref().map(|v| match v.strings() {
            Some(strings) => strings.iter().map(|s| format!("{s}\n")).collect::<String>(),
            None => format!("(type {}, {} bytes)\n", v.kind, v.data.len()),
        })
    };
    Edit {
        path: change.display().into(),
        via: None,
        before: text(&change.before).map(String::into_bytes),
        after: text(&change.after).map(String::into_bytes),
        create_mode: 0,
        create_owner: None,
        validation: Validation::None,
        ownership: Ownership::Whole,
        binary: false,
    }
}

fn hunk_range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{}", start + 1, len),
    }
}
