/**
 * The kill switch as a client destination or a server reads it: one flag object per destination
 * or server, updated when the config service's `TrafficSwitch` documents change, read per call by
 * the `stop` (client) and `switch` (server) modules. Reading it costs a property load; a flip
 * rebuilds nothing, and the error a stopped call fails with is made once per flip, not per call.
 */
import type { WeftError } from '../errors/errors.ts';
import { MESH_SWITCH, type TrafficSwitchSpec } from './switch-schema.ts';

/** Where the switches come from: the config-service client, or anything shaped like it. */
export interface TrafficSwitchSource {
  /** The validated `TrafficSwitch` of `name` (`mesh` or a service), if there is one. */
  trafficSwitch?(name: string): TrafficSwitchSpec | undefined;
}

/** Which switch stopped the traffic: the mesh-wide one or the service's own. */
export type StopScope = 'mesh' | 'service';

/** Makes the error a stopped call fails with, from the scope and the switch's reason. */
export type StopErrorFactory = (scope: StopScope, reason: string | undefined) => WeftError;

/** What `describe()` shows of a kill switch. */
export interface TrafficGateDescription {
  stopped: boolean;
  scope?: StopScope;
  reason?: string;
  /** Calls refused because of it so far. */
  refused: number;
}

export class TrafficGate {
  /** True while the mesh-wide switch or the service's is on. */
  stopped = false;
  /** The error stopped calls fail with (undefined while traffic flows). */
  error: WeftError | undefined;
  /** Which switch is on (the mesh-wide one wins when both are). */
  scope: StopScope | undefined;
  reason: string | undefined;
  /** Calls refused because of the switch since this gate was made. */
  refused = 0;
  readonly #service: string | undefined;
  readonly #makeError: StopErrorFactory;
  #mesh: TrafficSwitchSpec | undefined;
  #own: TrafficSwitchSpec | undefined;

  /** `service`: the service whose own switch applies too; undefined for the mesh-wide one only. */
  constructor(service: string | undefined, makeError: StopErrorFactory) {
    this.#service = service;
    this.#makeError = makeError;
  }

  /** Reads the switches from `source`; returns true when the state changed. */
  update(source: TrafficSwitchSource | undefined): boolean {
    const mesh = source?.trafficSwitch?.(MESH_SWITCH);
    const own = this.#service === undefined ? undefined : source?.trafficSwitch?.(this.#service);
    // The source hands out the same object until the document changes: nothing to do.
    if (mesh === this.#mesh && own === this.#own) return false;
    this.#mesh = mesh;
    this.#own = own;
    const scope: StopScope | undefined = mesh?.stopped ? 'mesh' : own?.stopped ? 'service' : undefined;
    const reason = scope === 'mesh' ? mesh?.reason : scope === 'service' ? own?.reason : undefined;
    if (scope === this.scope && reason === this.reason) return false;
    this.scope = scope;
    this.reason = reason;
    this.error = scope === undefined ? undefined : this.#makeError(scope, reason);
    this.stopped = scope !== undefined;
    return true;
  }

  /** For `describe()`: whether traffic is stopped, by which switch and why. */
  describe(): TrafficGateDescription {
    const refused = this.refused;
    if (!this.stopped) return { stopped: false, refused };
    return {
      stopped: true,
      scope: this.scope,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      refused,
    };
  }
}

/** `traffic is stopped mesh-wide (why)` / `traffic to orders is stopped (why)`: the start of a refusal's message. */
export function stopMessage(
  service: string | undefined,
  scope: StopScope,
  reason: string | undefined,
): string {
  const what = scope === 'mesh' ? 'traffic is stopped mesh-wide' : `traffic to ${service} is stopped`;
  return reason === undefined ? what : `${what} (${reason})`;
}
