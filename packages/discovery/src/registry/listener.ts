/**
 * Registration tied to a listening server: the port is read from the bound socket and the address
 * to advertise is worked out from what the server bound, so a server registers itself with one
 * option (`mesh.attach(server, { register: { service } })`) and deregisters when it drains.
 */
import { networkInterfaces } from 'node:os';
import { checkKnownKeys, invalidOption, type KeySet, sleep, systemClock } from '@weft/core';
import {
  type InstanceRegistration,
  REGISTER_KEYS,
  type RegisterInstanceOptions,
  registerInstance,
} from './register.ts';

/** What a server registers as: `registerInstance`'s options, with address and port found from the listener. */
export interface ServerRegistrationOptions extends Omit<RegisterInstanceOptions, 'address' | 'port'> {
  /**
   * The address other services should call. Defaults to the address the server bound, or, when it
   * bound every interface (`0.0.0.0`, `::`), to `WEFT_ADVERTISE_ADDRESS`, else the first
   * non-internal IPv4 address of this host, else 127.0.0.1.
   */
  address?: string;
  /** The port to advertise. Defaults to the port the server bound (behind a port mapping, set it). */
  port?: number;
  /**
   * After the deregistration is acknowledged, how long the server keeps answering (new requests get
   * the retryable draining rejection) before its listener closes, in ms (0–60000), so every caller's
   * watch stream hears of the removal before the port closes. Without it a caller that has not heard
   * yet may write on a keep-alive connection the server is closing: a reset that a POST cannot be
   * retried after. Defaults to 500 (watch propagation measures tens of ms; see docs/benchmarks.md).
   */
  graceMs?: number;
}

export const SERVER_REGISTRATION_DEFAULTS = { graceMs: 500 } as const;

const SERVER_REGISTRATION_KEYS = {
  ...REGISTER_KEYS,
  graceMs: true,
} as const satisfies KeySet<ServerRegistrationOptions>;

/** Checks registration options before a server is started (so a typo fails at start-up, not at listen). */
export function checkServerRegistration(options: ServerRegistrationOptions): void {
  checkKnownKeys('register', options, SERVER_REGISTRATION_KEYS);
  if (typeof options.service !== 'string')
    throw invalidOption('register.service', 'the service to register as is required');
  const grace = options.graceMs ?? SERVER_REGISTRATION_DEFAULTS.graceMs;
  if (!(Number.isFinite(grace) && grace >= 0 && grace <= 60_000))
    throw invalidOption('register.graceMs', 'must be within 0–60000');
}

const WILDCARD = new Set(['0.0.0.0', '::', '::0', '']);

/** The address to advertise for a server bound to `bound`. */
export function advertisedAddress(bound: string, explicit?: string): string {
  if (explicit) return explicit;
  if (!WILDCARD.has(bound)) return bound.startsWith('::ffff:') ? bound.slice(7) : bound;
  const env = process.env.WEFT_ADVERTISE_ADDRESS;
  if (env) return env;
  for (const list of Object.values(networkInterfaces()))
    for (const info of list ?? []) if (info.family === 'IPv4' && !info.internal) return info.address;
  return '127.0.0.1';
}

/** Registers a server that listens on `bound` (its address and port, as `server.address()` gives them). */
export function registerListener(
  bound: { address: string; port: number },
  options: ServerRegistrationOptions,
): InstanceRegistration {
  checkServerRegistration(options);
  const { graceMs = SERVER_REGISTRATION_DEFAULTS.graceMs, ...rest } = options;
  const registration = registerInstance({
    ...rest,
    address: advertisedAddress(bound.address, options.address),
    port: options.port ?? bound.port,
  });
  const clock = options.clock ?? systemClock;
  return {
    get id() {
      return registration.id;
    },
    get registered() {
      return registration.registered;
    },
    get lastError() {
      return registration.lastError;
    },
    async close() {
      const was = registration.registered;
      await registration.close();
      if (was && graceMs > 0) await sleep(clock, graceMs);
    },
  };
}
