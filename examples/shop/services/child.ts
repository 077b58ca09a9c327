/**
 * What every demo service process shares: talking to the launcher over IPC, reading its settings
 * from the environment, and stopping cleanly — when the launcher says so, on SIGTERM/SIGINT, or
 * when the launcher is gone (its IPC channel closes), so no process outlives the demo.
 */
import type { ChildMessage, ParentMessage } from '../protocol.ts';

export interface ChildEnv {
  /** Config service URL (`WEFT_CONTROL_PLANE`). */
  controlPlane: string;
  /** Instance name, such as `catalog-2`. */
  instance: string;
  /** Lease length of registrations in ms. */
  ttlMs: number;
  /** Directory for caches. */
  dataDir: string;
}

export function childEnv(): ChildEnv {
  const controlPlane = process.env.WEFT_CONTROL_PLANE;
  if (!controlPlane) throw new Error('WEFT_CONTROL_PLANE is not set: start the demo with `npm start`');
  return {
    controlPlane,
    instance: process.env.SHOP_INSTANCE ?? 'unnamed',
    ttlMs: Number(process.env.SHOP_LEASE_MS ?? 3000),
    dataDir: process.env.SHOP_DATA_DIR ?? '.',
  };
}

export function send(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}

const handlers = new Set<(message: ParentMessage) => void>();
process.on('message', (message: ParentMessage) => {
  for (const handler of handlers) handler(message);
});

/** Calls `handler` for each message from the launcher. */
export function onParentMessage(handler: (message: ParentMessage) => void): void {
  handlers.add(handler);
}

/**
 * Runs `stop` once, on a `stop` message, SIGTERM, SIGINT or a lost launcher, then exits. A stop
 * that takes longer than `graceMs` ends the process anyway.
 */
export function stopWith(stop: () => Promise<void>, graceMs = 5000): void {
  let stopping = false;
  const run = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), graceMs).unref();
    stop().then(
      () => {
        process.disconnect?.();
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`stop failed: ${(error as Error).stack ?? String(error)}\n`);
        process.exit(1);
      },
    );
  };
  onParentMessage((m) => {
    if (m.type === 'stop') run();
  });
  process.once('SIGTERM', run);
  process.once('SIGINT', run);
  process.once('disconnect', run);
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
