/**
 * Drain on process signals. `onShutdownSignal` runs `drain` on the first SIGTERM (by default); once
 * it settles, if nobody else listens for that signal, the signal is raised again so the process ends
 * the way it would have without us (the approach of graceful-shutdown helpers such as terminus).
 */

export function onShutdownSignal(
  signals: readonly NodeJS.Signals[],
  drain: () => Promise<unknown>,
): () => void {
  const handler = (signal: NodeJS.Signals) => {
    remove();
    drain()
      .catch(() => {})
      .finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  };
  const remove = () => {
    for (const s of signals) process.removeListener(s, handler);
  };
  for (const s of signals) process.once(s, handler);
  return remove;
}
