/**
 * The default server stack, top (first to see a call) to bottom, the same for every protocol; the
 * binding supplies the terminal below `context` (the handler). Cheapest refusals first, so a call
 * the server will not serve costs as little as possible, and nothing of the user's runs for it:
 *
 *   drain → deadline → admission → authorization → telemetry → context → (handler)
 *
 * Health, readiness and admin paths (and gRPC's health service) are answered before the stack:
 * probes must answer while draining or overloaded.
 */
import { invalidOption } from '../errors/errors.ts';
import { Stack } from '../stack/stack.ts';
import type { ServerStack } from './binding.ts';
import { serverAdmissionModule } from './modules/admission-module.ts';
import { serverAuthorizationModule } from './modules/authorization-module.ts';
import { serverContextModule } from './modules/context-module.ts';
import { serverDeadlineModule } from './modules/deadline-module.ts';
import { serverDrainModule } from './modules/drain-module.ts';
import { serverTelemetryModule } from './modules/telemetry-module.ts';

export function defaultServerStack(): ServerStack {
  return new Stack([
    serverDrainModule(),
    serverDeadlineModule(),
    serverAdmissionModule(),
    serverAuthorizationModule(),
    serverTelemetryModule(),
    serverContextModule(),
  ]);
}

/** Roles the handler needs above it: it runs inside the context `context` makes. */
export const HANDLER_REQUIRES: readonly string[] = ['context'];

/**
 * Checks a server stack whole, before any module is made: each module's `requires` roles must sit
 * above it, and the handler's ({@link HANDLER_REQUIRES}) must be there. Throws `WEFT_INVALID_OPTION`
 * naming the module and the role it needs.
 */
export function checkServerStack(stack: unknown): ServerStack {
  if (!(stack instanceof Stack))
    throw invalidOption('stack', 'must return the Stack it was given, edited (insertAfter, replace, …)');
  const s = stack as ServerStack;
  const roles = s.roles;
  const listing = `(roles: ${roles.join(', ')})`;
  s.modules.forEach((m, i) => {
    if (typeof m?.make !== 'function' || typeof m.role !== 'string')
      throw invalidOption(
        'stack',
        `module ${i + 1} is not a module { role, description, params, make } ${listing}`,
      );
    for (const needed of m.requires ?? []) {
      const at = roles.indexOf(needed);
      if (at < 0)
        throw invalidOption(
          'stack',
          `module "${m.role}" needs "${needed}" above it, and the stack has none ${listing}`,
        );
      if (at > i)
        throw invalidOption(
          'stack',
          `module "${m.role}" needs "${needed}" above it, but "${needed}" is below it ${listing}`,
        );
    }
  });
  for (const needed of HANDLER_REQUIRES) {
    if (!roles.includes(needed))
      throw invalidOption(
        'stack',
        `the handler runs inside the context module "${needed}" makes, and the stack has none; replace it rather than remove it ${listing}`,
      );
  }
  return s;
}
