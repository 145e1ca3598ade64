//! Progress bars of the long commands: the live crawl, a scan's stages,
//! `export` and `eval-images`, drawn on stderr with indicatif.
//!
//! Library code gets [`Bars::hidden`] by default (tests, benches, the
//! daemon): a hidden [`Bar`] draws nothing and still counts
//! ([`Bar::position`]). Only the command line asks for drawn bars, with
//! [`Bars::for_stderr`], and gets them only when stderr is a terminal and
//! the output is not JSON: piped or redirected, stderr stays free of escape
//! codes and carriage returns.
//!
//! Every drawn bar is a line of one [`MultiProgress`] ([`multi`]). The CLI
//! hands tracing a writer over that same `MultiProgress`
//! (`tracing_indicatif::IndicatifWriter`), so a warning logged while bars
//! are drawn is printed above them instead of through them. (The layer of
//! tracing-indicatif draws a bar per tracing span; knockoff's bars count
//! things, so they are explicit bars, and only its writer is used.)
//!
//! It lives in `fetch/` because the crawl is the lowest folder that draws
//! progress; the scan (`run/`), export (`file/`) and the image evaluation
//! (`judge/`) sit above it.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::LazyLock;
use std::time::Duration;

/// How often a drawn bar redraws while nothing counts (its elapsed time
/// and spinner move on during a slow fetch).
pub const TICK_INTERVAL: Duration = Duration::from_millis(200);

/// The one set of lines every drawn bar belongs to (stderr).
static MULTI: LazyLock<MultiProgress> = LazyLock::new(MultiProgress::new);

/// The `MultiProgress` drawn bars join: give its writer to tracing so
/// logged lines print above the bars.
pub fn multi() -> MultiProgress {
    MULTI.clone()
}

/// Whether progress is drawn: hidden (the default) or on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bars {
    drawn: bool,
}

impl Bars {
    /// Bars that count and never draw.
    pub fn hidden() -> Bars {
        Bars { drawn: false }
    }

    /// Bars on stderr when it is a terminal and the output is not JSON;
    /// hidden otherwise.
    pub fn for_stderr(json: bool) -> Bars {
        Bars {
            drawn: !json && std::io::stderr().is_terminal(),
        }
    }

    /// True when bars made from this are drawn.
    pub fn is_drawn(self) -> bool {
        self.drawn
    }

    /// A bar counting `len` things: `label [=====>    ] 12/40 (3s)`.
    pub fn counter(self, label: impl Into<Cow<'static, str>>, len: u64) -> Bar {
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} ({elapsed})")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        self.bar(ProgressBar::new(len), style, label)
    }

    /// A bar with no end, showing a message (at first `message`):
    /// `⠋ message (3s)`.
    pub fn spinner(self, message: impl Into<Cow<'static, str>>) -> Bar {
        let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = self.bar(ProgressBar::new_spinner(), style, "");
        bar.set_message(message);
        bar
    }

    fn bar(
        self,
        bar: ProgressBar,
        style: ProgressStyle,
        label: impl Into<Cow<'static, str>>,
    ) -> Bar {
        if !self.drawn {
            // A hidden bar keeps its length and position, nothing else.
            let hidden = ProgressBar::hidden();
            if let Some(len) = bar.length() {
                hidden.set_length(len);
            }
            return Bar(hidden);
        }
        let bar = MULTI.add(bar.with_style(style).with_prefix(label));
        bar.enable_steady_tick(TICK_INTERVAL);
        Bar(bar)
    }
}

/// One progress bar (a cheap handle: clones count on the same bar).
/// Dropping it leaves its last state on screen; [`Bar::finish`] says it
/// is done.
#[derive(Debug, Clone)]
pub struct Bar(ProgressBar);

impl Default for Bar {
    fn default() -> Bar {
        Bar(ProgressBar::hidden())
    }
}

impl Bar {
    /// A bar that counts and never draws.
    pub fn hidden() -> Bar {
        Bar::default()
    }

    /// Counts `n` more done.
    pub fn inc(&self, n: u64) {
        self.0.inc(n);
    }

    /// Counts `n` more to do.
    pub fn inc_length(&self, n: u64) {
        self.0.inc_length(n);
    }

    /// Done so far.
    pub fn position(&self) -> u64 {
        self.0.position()
    }

    /// To do in all (`None` for a spinner).
    pub fn length(&self) -> Option<u64> {
        self.0.length()
    }

    /// Replaces the text after the label.
    pub fn set_message(&self, message: impl Into<Cow<'static, str>>) {
        if !self.0.is_hidden() {
            self.0.set_message(message);
        }
    }

    /// True when nothing is drawn.
    pub fn is_hidden(&self) -> bool {
        self.0.is_hidden()
    }

    /// Stops the bar, counted as all done, and leaves it on screen.
    pub fn finish(&self) {
        self.0.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_bars_count_and_draw_nothing() {
        let bars = Bars::default();
        assert_eq!(bars, Bars::hidden());
        let bar = bars.counter("pages", 10);
        bar.inc(3);
        bar.inc_length(5);
        bar.set_message("ignored");
        assert!(bar.is_hidden());
        assert_eq!((bar.position(), bar.length()), (3, Some(15)));
        // Finished is all done, as on screen.
        bar.finish();
        assert_eq!(bar.position(), 15);
        let spinner = bars.spinner("crawl");
        spinner.inc(2);
        assert!(spinner.is_hidden());
        assert_eq!(spinner.position(), 2);
        assert!(Bar::default().is_hidden());
    }

    #[test]
    fn json_output_never_draws() {
        // Whatever stderr is (a terminal when run by hand), JSON hides.
        assert!(!Bars::for_stderr(true).is_drawn());
        assert!(Bars::for_stderr(true).counter("x", 1).is_hidden());
    }
}
