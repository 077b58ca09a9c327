import type { ServerModule } from '../binding.ts';

/**
 * Role `authorization`: an empty slot. By default it allows every call and costs nothing (its
 * service is the next one's). It sits after admission (a denial should not cost more than a shed)
 * and before telemetry and the handler (a denied call never runs user code). Replace it by role —
 * `stack: (s) => s.replace('authorization', myAuthorization)` — with a module that throws a
 * `WeftError` with code `WEFT_PERMISSION_DENIED` (HTTP 403, gRPC PERMISSION_DENIED, never retried).
 */
export function serverAuthorizationModule(): ServerModule {
  return {
    role: 'authorization',
    description: 'empty slot: allows every call (replace by role to authorize)',
    params: {},
    spec: {},
    make: (_params, next) => next,
  };
}
