import type { PolicySource } from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';

/** A policy source driven by hand, as the config-service client would be. */
export class Policies implements PolicySource {
  readonly #policies = new Map<string, DestinationPolicy>();
  readonly #listeners = new Set<(e: { revision: number }) => void>();
  #revision = 0;
  policy(destination: string) {
    return this.#policies.get(destination);
  }
  subscribe(listener: (e: { revision: number }) => void) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  /** Sets a destination's policy (unchecked, like a document from the wire) and notifies. */
  set(destination: string, policy: unknown) {
    this.#policies.set(destination, policy as DestinationPolicy);
    this.#revision++;
    for (const l of this.#listeners) l({ revision: this.#revision });
  }
}
