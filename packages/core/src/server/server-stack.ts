/**
 * The default server stack, top (first to see a call) to bottom, the same for every protocol; the
 * binding supplies the terminal below `context` (the handler). Cheapest refusals first, so a call
 * the server will not serve costs as little as possible, and nothing of the user's runs for it:
 *
 *   drain → deadline → switch → admission → authorization → telemetry → context → (handler)
 *
 * Health, readiness and admin paths (and gRPC's health service) are answered before the stack:
 * probes must answer while draining or overloaded.
 */
import { invalidOption } from '../errors/errors.ts';
import { type CallField, checkContracts, Stack, StackContractError } from '../stack/stack.ts';
import type { ServerStack } from './binding.ts';
import { serverAdmissionModule } from './modules/admission-module.ts';
import { serverAuthorizationModule } from './modules/authorization-module.ts';
import { serverContextModule } from './modules/context-module.ts';
import { serverDeadlineModule } from './modules/deadline-module.ts';
import { serverDrainModule } from './modules/drain-module.ts';
import { serverSwitchModule } from './modules/switch-module.ts';
import { serverTelemetryModule } from './modules/telemetry-module.ts';

export function defaultServerStack(): ServerStack {
  return new Stack(
    [
      serverDrainModule(),
      serverDeadlineModule(),
      serverSwitchModule(),
      serverAdmissionModule(),
      serverAuthorizationModule(),
      serverTelemetryModule(),
      serverContextModule(),
    ],
    SERVER_STACK_OPTIONS,
  );
}

/** What the handler needs above it: it runs inside the request context `context` makes. */
export const HANDLER_NEEDS: readonly CallField[] = ['context'];

const SERVER_STACK_OPTIONS = { bottomNeeds: HANDLER_NEEDS, bottomName: 'the handler' } as const;

/**
 * Checks a server stack whole, before any module is made: each module's `needs` must be set by a
 * module above it, and the handler's ({@link HANDLER_NEEDS}) must be there (as the client checks its
 * stack, see `checkContracts`). Throws `WEFT_INVALID_OPTION` naming the modules.
 */
export function checkServerStack(stack: unknown): ServerStack {
  if (!(stack instanceof Stack))
    throw invalidOption('stack', 'must return the Stack it was given, edited (insertAfter, replace, …)');
  const s = stack as ServerStack;
  const listing = `(roles: ${s.roles.join(', ')})`;
  s.modules.forEach((m, i) => {
    if (typeof m?.make !== 'function' || typeof m.role !== 'string')
      throw invalidOption(
        'stack',
        `module ${i + 1} is not a module { role, description, params, make } ${listing}`,
      );
  });
  try {
    checkContracts(s.modules, HANDLER_NEEDS, undefined, SERVER_STACK_OPTIONS.bottomName);
  } catch (error) {
    throw invalidOption('stack', `${(error as Error).message} ${listing}`);
  }
  return s;
}

/** Runs the user's edit of the default server stack; an edit the stack refuses names the modules. */
export function editServerStack(edit: (stack: ServerStack) => unknown): ServerStack {
  let edited: unknown;
  try {
    edited = edit(defaultServerStack());
  } catch (error) {
    if (error instanceof StackContractError) throw invalidOption('stack', error.message);
    throw error;
  }
  return checkServerStack(edited);
}
