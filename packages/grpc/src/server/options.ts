/**
 * Options of the Weft gRPC server side, checked once when the runtime is made; a bad value names
 * the option and the allowed range.
 */
import {
  checkKnownKeys,
  invalidOption,
  type KeySet,
  type ResolvedServerBase,
  resolveServerBase,
  SERVER_BASE_DEFAULTS,
  SERVER_BASE_KEYS,
  type ServerBaseOptions,
} from '@weft/core';

export interface GrpcServerOptions extends ServerBaseOptions {
  /**
   * Signals that start a drain, or `false` for none. Defaults to `['SIGTERM', 'SIGINT']`, as for HTTP
   * servers: an orchestrator's stop and a terminal's Ctrl-C both drain (a second Ctrl-C exits at once).
   */
  drainSignals?: readonly NodeJS.Signals[] | false;
  /**
   * Method paths that bypass the server stack (health checks must answer while draining).
   * Defaults to the `grpc.health.v1.Health` methods.
   */
  exemptPrefixes?: readonly string[];
}

export interface ResolvedGrpcServerOptions extends ResolvedServerBase {
  exemptPrefixes: readonly string[];
}

export const GRPC_SERVER_DEFAULTS = {
  ...SERVER_BASE_DEFAULTS,
  drainSignals: ['SIGTERM', 'SIGINT'],
  exemptPrefixes: ['/grpc.health.v1.Health/'],
} as const;

export const GRPC_SERVER_KEYS = {
  ...SERVER_BASE_KEYS,
  exemptPrefixes: true,
} as const satisfies KeySet<GrpcServerOptions>;

export function resolveGrpcServerOptions(options: GrpcServerOptions = {}): ResolvedGrpcServerOptions {
  checkKnownKeys('grpcServerRuntime', options, GRPC_SERVER_KEYS);
  const base = resolveServerBase(options, GRPC_SERVER_DEFAULTS.drainSignals);
  const exempt = options.exemptPrefixes ?? GRPC_SERVER_DEFAULTS.exemptPrefixes;
  if (!Array.isArray(exempt) || exempt.some((p) => typeof p !== 'string' || !p.startsWith('/')))
    throw invalidOption('exemptPrefixes', 'must be a list of method path prefixes starting with /');
  return { ...base, exemptPrefixes: exempt };
}
