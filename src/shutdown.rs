//! Stopping a group of tasks: wait for them up to a grace time, then cut
//! what is left. The server's connections and the dispatcher's attempts
//! both stop this way.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Closes `tasks` and waits up to `grace` for them. Past it, `overrun` is
/// told how many are still running (to say so), `cut` is cancelled (the
/// tasks watch it to give up), and the wait goes on until they have.
pub async fn drain(
    tasks: &TaskTracker,
    grace: Duration,
    cut: &CancellationToken,
    overrun: impl FnOnce(usize),
) {
    tasks.close();
    if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
        overrun(tasks.len());
        cut.cancel();
        tasks.wait().await;
    }
}
