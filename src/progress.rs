//! The one place progress bars are made: on stderr, and hidden unless the caller decided that
//! stderr is a terminal and the user did not ask for `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `total` trials; a hidden one costs nothing to update.
pub fn trials_bar(total: u64, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{msg:>8} [{bar:30.cyan/blue}] {pos}/{len} trials  {elapsed} elapsed, ETA {eta}",
    )
    .expect("the template is valid")
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}
