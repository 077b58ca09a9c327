/**
 * Messages between the launcher and the demo's service processes, over Node's IPC channel (the
 * services are started with `stdio: [..., 'ipc']`). Their stdout and stderr go to log files.
 */
import type { DestinationFigures } from './stats.ts';

/** A service is up: where it listens and where its metrics are. */
export interface ReadyMessage {
  type: 'ready';
  service: string;
  instance: string;
  /** The port it serves on (0 for the load generator, which serves nothing). */
  port: number;
  metricsPort: number;
  pid: number;
  /** Extra facts to show (the admin endpoint, the version label, …). */
  notes: string[];
}

/** One second of a client process's figures, per destination it calls. */
export interface StatsMessage {
  type: 'stats';
  service: string;
  destinations: DestinationFigures[];
  /** The process's config-service client: connection state and the revision it applied. */
  config: { state: string; revision: number };
}

/** The final totals of a client process, sent when it stops. */
export interface TotalsMessage {
  type: 'totals';
  service: string;
  totals: { destination: string; requests: number; failures: number }[];
}

export type ChildMessage = ReadyMessage | StatsMessage | TotalsMessage;

/** Instructions from the launcher. */
export type ParentMessage =
  | { type: 'stop' }
  /** Adds this much latency to every response (0 restores). */
  | { type: 'slow'; ms: number }
  /** Stops sending load (the load generator), so that shutdown counts no failures. */
  | { type: 'quiesce' };
