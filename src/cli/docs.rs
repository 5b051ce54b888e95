//! What is generated from the clap definitions, so it cannot drift from
//! the commands: shell completion scripts (`hookgate completions SHELL`)
//! and the man page (`hookgate man`).

use std::io::Write as _;

use clap::CommandFactory;

use super::Cli;

/// Writes `shell`'s completion script for every command and option.
pub fn completions(shell: clap_complete::Shell) {
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "hookgate",
        &mut std::io::stdout(),
    );
}

/// Writes the man page, section 1, in roff, with a section per command.
pub fn man() -> std::io::Result<()> {
    let command = Cli::command();
    let mut out = std::io::stdout().lock();
    let page = clap_mangen::Man::new(command.clone());
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;
    page.render_synopsis_section(&mut out)?;
    page.render_description_section(&mut out)?;
    page.render_options_section(&mut out)?;
    page.render_subcommands_section(&mut out)?;
    // Each command's own options, which the overview above does not list.
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        writeln!(out, ".SH \"HOOKGATE {}\"", name.to_uppercase())?;
        let sub = sub.clone().bin_name(format!("hookgate {name}"));
        let page = clap_mangen::Man::new(sub);
        let mut section = Vec::new();
        page.render_synopsis_section(&mut section)?;
        page.render_description_section(&mut section)?;
        page.render_options_section(&mut section)?;
        out.write_all(&demote_headings(&section))?;
    }
    page.render_version_section(&mut out)?;
    Ok(())
}

/// A command's sections become sub-sections (`.SS`) under its heading.
fn demote_headings(roff: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(roff)
        .lines()
        .map(|line| match line.strip_prefix(".SH ") {
            Some(title) => format!(".SS {title}\n"),
            None => format!("{line}\n"),
        })
        .collect::<String>()
        .into_bytes()
}
