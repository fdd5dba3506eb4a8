//! The one printer: it owns stdout (results) and stderr (progress, logs, warnings, errors).
//!
//! On a terminal, progress is drawn with indicatif spinners that show elapsed time; otherwise each
//! change is one plain timestamped line, and a long wait repeats its state at least once a minute.
//! Every byte that leaves through the printer or the log passes `redact`, which replaces any
//! registered secret value with `***`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// Result format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// How progress is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// indicatif spinners (stderr is a terminal).
    Bars,
    /// Plain timestamped lines (CI, pipes, `--no-progress`).
    Lines,
    /// Nothing but warnings and errors (`-q`).
    Quiet,
}

impl ProgressMode {
    pub fn detect(no_progress: bool, quiet: bool) -> Self {
        if quiet {
            ProgressMode::Quiet
        } else if no_progress || !std::io::stderr().is_terminal() {
            ProgressMode::Lines
        } else {
            ProgressMode::Bars
        }
    }
}

/// How often a long wait repeats its state in plain-line mode.
pub const HEARTBEAT: Duration = Duration::from_secs(60);

fn secrets() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Remember a secret value so that it never reaches stdout, stderr or the log.
/// Short values are ignored: masking every "1" in the output would hide nothing and garble much.
pub fn register_secret(value: &str) {
    if value.len() < 8 {
        return;
    }
    if let Ok(mut list) = secrets().write()
        && !list.iter().any(|s| s == value)
    {
        list.push(value.to_string());
        // Longest first, so that a secret containing another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Replace every registered secret in `text` with `***`.
pub fn redact(text: &str) -> String {
    let Ok(list) = secrets().read() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    for s in list.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[hour]:[minute]:[second]");
    now.format(&fmt).unwrap_or_default()
}

/// Elapsed time the way a person reads it: `42s`, `12m05s`, `1h03m`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

struct Inner {
    format: OutputFormat,
    mode: ProgressMode,
    multi: MultiProgress,
    /// Serialises writes so lines from concurrent steps never interleave mid-line.
    lock: Mutex<()>,
}

/// The printer. Cheap to clone; every clone writes through the same terminal state.
#[derive(Clone)]
pub struct Printer {
    inner: Arc<Inner>,
}

impl Printer {
    pub fn new(format: OutputFormat, mode: ProgressMode) -> Self {
        let multi = MultiProgress::with_draw_target(match mode {
            ProgressMode::Bars => ProgressDrawTarget::stderr(),
            _ => ProgressDrawTarget::hidden(),
        });
        Self {
            inner: Arc::new(Inner {
                format,
                mode,
                multi,
                lock: Mutex::new(()),
            }),
        }
    }

    pub fn format(&self) -> OutputFormat {
        self.inner.format
    }

    pub fn mode(&self) -> ProgressMode {
        self.inner.mode
    }

    fn write_stderr(&self, line: &str) {
        let line = redact(line);
        let _guard = self.inner.lock.lock();
        self.inner.multi.suspend(|| {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        });
    }

    /// A result for stdout, as text (ignored when the format is JSON).
    pub fn result_text(&self, text: &str) {
        if self.inner.format == OutputFormat::Text {
            let text = redact(text);
            let _guard = self.inner.lock.lock();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
        }
    }

    /// A result for stdout, as one JSON object (ignored when the format is text).
    pub fn result_json(&self, value: &serde_json::Value) {
        if self.inner.format == OutputFormat::Json {
            let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into());
            let text = redact(&text);
            let _guard = self.inner.lock.lock();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
        }
    }

    /// A progress line on stderr (suppressed by `-q`).
    pub fn info(&self, msg: &str) {
        match self.inner.mode {
            ProgressMode::Quiet => {}
            ProgressMode::Lines => self.write_stderr(&format!("[{}] {msg}", timestamp())),
            ProgressMode::Bars => self.write_stderr(msg),
        }
    }

    /// A warning on stderr, shown even with `-q`.
    pub fn warn(&self, msg: &str) {
        self.write_stderr(&format!("warning: {msg}"));
    }

    /// An error and its causes, the way uv and cargo print them.
    pub fn error(&self, err: &anyhow::Error) {
        self.write_stderr(&format_error(err));
    }

    /// A progress indicator for one step; see [`Step`].
    pub fn step(&self, name: &str) -> Step {
        Step::new(self.clone(), name)
    }

    /// A writer for the tracing subscriber that goes through the printer (redacted, and never
    /// tearing a progress bar).
    pub fn log_writer(&self) -> LogWriter {
        LogWriter {
            printer: self.clone(),
            buf: Vec::new(),
        }
    }
}

/// `error: top` followed by one `  Caused by: …` line per cause.
pub fn format_error(err: &anyhow::Error) -> String {
    let mut out = format!("error: {err}");
    for cause in err.chain().skip(1) {
        out.push_str(&format!("\n  Caused by: {cause}"));
    }
    redact(&out)
}

/// Progress of one step: a spinner with elapsed time on a terminal, or plain lines.
pub struct Step {
    printer: Printer,
    name: String,
    started: Instant,
    bar: Option<ProgressBar>,
    state: Arc<Mutex<String>>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl Step {
    fn new(printer: Printer, name: &str) -> Self {
        let state = Arc::new(Mutex::new(String::from("starting")));
        let started = Instant::now();
        let mut bar = None;
        let mut heartbeat = None;
        match printer.mode() {
            ProgressMode::Bars => {
                let pb = printer.inner.multi.add(ProgressBar::new_spinner());
                pb.set_style(
                    ProgressStyle::with_template("{spinner} {prefix}: {wide_msg} ({elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                pb.set_prefix(name.to_string());
                pb.enable_steady_tick(Duration::from_millis(120));
                bar = Some(pb);
            }
            ProgressMode::Lines => {
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    let (p, n, s) = (printer.clone(), name.to_string(), state.clone());
                    heartbeat = Some(handle.spawn(async move {
                        let mut tick = tokio::time::interval(HEARTBEAT);
                        tick.tick().await;
                        loop {
                            tick.tick().await;
                            let msg = s.lock().map(|m| m.clone()).unwrap_or_default();
                            p.info(&format!(
                                "{n}: {msg} ({} elapsed)",
                                human_duration(started.elapsed())
                            ));
                        }
                    }));
                }
            }
            ProgressMode::Quiet => {}
        }
        Self {
            printer,
            name: name.to_string(),
            started,
            bar,
            state,
            heartbeat,
        }
    }

    /// The step's current state, e.g. `activating`.
    pub fn set(&self, msg: &str) {
        let msg = redact(msg);
        if let Ok(mut s) = self.state.lock() {
            if *s == msg {
                return;
            }
            *s = msg.clone();
        }
        match &self.bar {
            Some(pb) => pb.set_message(msg),
            None => self.printer.info(&format!("{}: {msg}", self.name)),
        }
    }

    /// The step ended; `outcome` is a short word such as `created`, `unchanged` or `failed`.
    pub fn finish(mut self, outcome: &str) {
        self.stop();
        let line = format!(
            "{}: {outcome} ({})",
            self.name,
            human_duration(self.started.elapsed())
        );
        match self.bar.take() {
            Some(pb) => pb.finish_with_message(outcome.to_string()),
            None => self.printer.info(&line),
        }
    }

    fn stop(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.stop();
        if let Some(pb) = self.bar.take() {
            pb.abandon();
        }
    }
}

/// Line-buffered log sink for tracing; each complete line goes through the printer.
pub struct LogWriter {
    printer: Printer,
    buf: Vec<u8>,
}

impl Write for LogWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let text = String::from_utf8_lossy(&self.buf).trim_end().to_string();
            self.buf.clear();
            self.printer.write_stderr(&text);
        }
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked_and_short_values_ignored() {
        register_secret("s3cr3t-value-0123");
        register_secret("abc");
        let text = redact("key=s3cr3t-value-0123 and abc");
        assert_eq!(text, "key=*** and abc");
    }

    #[test]
    fn errors_print_with_caused_by_lines() {
        let err = anyhow::anyhow!("storage account not reachable").context("creating storage");
        assert_eq!(
            format_error(&err),
            "error: creating storage\n  Caused by: storage account not reachable"
        );
    }

    #[test]
    fn durations_read_like_a_person_says_them() {
        assert_eq!(human_duration(Duration::from_secs(42)), "42s");
        assert_eq!(human_duration(Duration::from_secs(725)), "12m05s");
        assert_eq!(human_duration(Duration::from_secs(3780)), "1h03m");
    }
}
