//! The one supervised loop of the background work (the e-mail worker, the audit sealer, the
//! calendar's top-up): a pass, then a pause, until shutdown. A failing pass is logged and
//! retried after the pause; the loop never dies of it, and stops between two passes.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// What a pass asks of the loop next.
pub enum Next {
    /// Run again at once (there was more to do).
    Again,
    /// Wait the loop's pause.
    Pause,
}

/// Runs `pass` until `shutdown` turns true, pausing `pause` between passes (and after a
/// failure); a shutdown cuts a pause short, never a pass.
pub async fn supervise<F, Fut>(
    name: &'static str,
    pause: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut pass: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = anyhow::Result<Next>>,
{
    while !*shutdown.borrow() {
        let next = match pass(shutdown.clone()).await {
            Ok(next) => next,
            Err(error) => {
                tracing::warn!(task = name, error = %format!("{error:#}"), "background pass failed");
                Next::Pause
            }
        };
        if let Next::Pause = next {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_failing_pass_is_retried_and_shutdown_stops_the_loop() {
        let (stop, stopped) = watch::channel(false);
        let passes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&passes);
        let stop = Arc::new(stop);
        let stopper = Arc::clone(&stop);
        supervise("test", Duration::from_millis(1), stopped, move |_| {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            let stopper = Arc::clone(&stopper);
            async move {
                match n {
                    0 => anyhow::bail!("first pass fails"),
                    1 => Ok(Next::Again),
                    _ => {
                        stopper.send(true).ok();
                        Ok(Next::Pause)
                    }
                }
            }
        })
        .await;
        assert_eq!(passes.load(Ordering::SeqCst), 3);
    }
}
