/**
 * Exporters replaced by a document change: each is shut down once what it is sending has gone (an
 * OTLP exporter's `shutdown()` waits for its exports in flight), and a final `shutdown()` waits for
 * all of them, so a change loses nothing that was already handed to the old destination.
 */
export class Retiring {
  readonly #pending = new Set<Promise<void>>();

  retire(exporter: { shutdown(): Promise<void> }): void {
    const done: Promise<void> = exporter
      .shutdown()
      .catch(() => {}) // an unreachable old destination must not fail the new configuration
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }
}
