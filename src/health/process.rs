//! The process's own metrics in the Prometheus text format, read from
//! `/proc/self` at scrape time: resident memory, CPU time and open file
//! descriptors (the families every Prometheus client library exports under
//! these names). Three small files are cheaper to read than a crate that
//! wraps all of `/proc`, and CPU time stays fractional, which a `metrics`
//! counter (whole numbers) could not carry.

use std::fmt::Write;

/// Clock ticks per second in `/proc/self/stat` (`USER_HZ`, 100 on every
/// Linux architecture hookgate builds for).
const TICKS_PER_SECOND: f64 = 100.0;

/// Appends the process families to `out`; on a system without `/proc`
/// (not Linux), or where a file cannot be read, those families are left out.
pub fn render(out: &mut String) {
    if let Some(bytes) = resident_bytes() {
        family(
            out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            bytes as f64,
        );
    }
    if let Some(seconds) = cpu_seconds() {
        family(
            out,
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            seconds,
        );
    }
    if let Some(open) = open_fds() {
        family(
            out,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            open as f64,
        );
    }
    if let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        family(
            out,
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors (the soft limit).",
            soft as f64,
        );
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    let _ = write!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
    );
}

/// `VmRSS` from `/proc/self/status`, which states it in kB.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_seconds(&stat)
}

/// utime and stime, fields 14 and 15 of `/proc/self/stat`; counted after
/// the command name, which is in parentheses and may hold spaces.
fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SECOND)
}

/// Entries of `/proc/self/fd`, less the one the listing itself holds open.
fn open_fds() -> Option<usize> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?.count();
    Some(entries.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_and_cpu_from_proc_text() {
        let status = "Name:\thookgate\nVmPeak:\t  20000 kB\nVmRSS:\t   16384 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss(status), Some(16 * 1024 * 1024));
        // A command name with spaces and a parenthesis must not shift fields.
        let stat = "4242 (hook gate) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 125 0 0 20 0 6 0";
        assert_eq!(parse_cpu_seconds(stat), Some(3.75));
    }

    #[test]
    fn renders_families_with_help_and_type() {
        let mut out = String::new();
        render(&mut out);
        if cfg!(target_os = "linux") {
            for name in [
                "process_resident_memory_bytes",
                "process_cpu_seconds_total",
                "process_open_fds",
            ] {
                assert!(out.contains(&format!("# HELP {name} ")), "{out}");
                assert!(out.contains(&format!("# TYPE {name} ")), "{out}");
            }
            assert!(resident_bytes().unwrap() > 0);
        }
    }
}
