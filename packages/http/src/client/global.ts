/**
 * `installGlobalDispatcher`: the one way to put Weft under the `fetch` an application already calls.
 *
 * Node's built-in `fetch` and every undici major read their dispatcher from a global symbol, and the
 * symbol moved between majors: undici ≤ 7 (and so Node's bundled fetch) read
 * `Symbol.for('undici.globalDispatcher.1')` and speak the older handler API; undici 8 reads
 * `…globalDispatcher.2`. Calling the application's own `setGlobalDispatcher` from another major
 * installs Weft under one symbol only. This function installs it under both, through the undici that
 * Weft itself depends on, so it cannot mismatch; the dispatcher also accepts older-style handlers
 * itself, so `setGlobalDispatcher` from undici 7 works too.
 */
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { createDispatcher, type DispatcherOptions, WeftDispatcher } from './dispatcher.ts';

const CURRENT = Symbol.for('undici.globalDispatcher.2');
const LEGACY = Symbol.for('undici.globalDispatcher.1');

type Globals = Record<symbol, unknown>;

/**
 * Installs a Weft dispatcher as the process-wide dispatcher of Node's `fetch` and of undici's own
 * `fetch`/`request` (undici 7 and 8 alike), and returns it. Closing the returned dispatcher puts back
 * the dispatchers it replaced (unless something else was installed since).
 *
 * @param dispatcherOrOptions - A dispatcher from {@link createDispatcher}, or its options.
 */
export function installGlobalDispatcher(
  dispatcherOrOptions: WeftDispatcher | DispatcherOptions = {},
): WeftDispatcher {
  const dispatcher =
    dispatcherOrOptions instanceof WeftDispatcher
      ? dispatcherOrOptions
      : createDispatcher(dispatcherOrOptions);
  const globals = globalThis as unknown as Globals;
  const previous = { current: getGlobalDispatcher(), legacy: globals[LEGACY] };
  setGlobalDispatcher(dispatcher);
  const installed = globals[LEGACY];
  dispatcher.onClose(() => {
    if (globals[CURRENT] !== dispatcher) return;
    globals[CURRENT] = previous.current;
    if (globals[LEGACY] === installed) globals[LEGACY] = previous.legacy;
  });
  return dispatcher;
}
