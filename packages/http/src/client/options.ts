/**
 * HTTP client options: the options every Weft client shares (endpoints, policy, config service,
 * zone; see `ClientPolicyOptions` in @weft/core), the transport, and the stack.
 */
import {
  CLIENT_POLICY_KEYS,
  type ClientPolicyOptions,
  checkKnownKeys,
  type KeySet,
  type Stack,
} from '@weft/core';
import type { HttpCall } from './call.ts';
import type { HttpExchange } from './exchange.ts';
import { TRANSPORT_KEYS, type TransportOptions } from './transport.ts';

export interface ClientOptions extends ClientPolicyOptions, TransportOptions {
  /** The destination service's logical name. One of `endpoints` and `resolver` is required. */
  service: string;
  /** Changes the stack: insert, replace, remove or configure modules by role. */
  stack?: (stack: Stack<HttpCall, HttpExchange>) => Stack<HttpCall, HttpExchange>;
}

export const CLIENT_KEYS = {
  ...CLIENT_POLICY_KEYS,
  ...TRANSPORT_KEYS,
  service: true,
  stack: true,
} as const satisfies KeySet<ClientOptions>;

/** Refuses keys `createClient` (or a dispatcher's service entry, named by `where`) does not know. */
export function checkClientKeys(where: string, options: object | undefined, service = true): void {
  if (service) checkKnownKeys(where, options as ClientOptions, CLIENT_KEYS);
  else {
    const { service: _omit, ...rest } = CLIENT_KEYS;
    checkKnownKeys(where, options as Omit<ClientOptions, 'service'>, rest);
  }
}
