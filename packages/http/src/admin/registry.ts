/**
 * The live destinations of this process, so that an admin endpoint can show each one's effective
 * policy (defaults < code < config service), stack and endpoint health.
 */
import type { Destination, DestinationDescription } from '../client/destination.ts';

const live = new Set<Destination>();

export function track(destination: Destination): void {
  live.add(destination);
}

export function untrack(destination: Destination): void {
  live.delete(destination);
}

/** Every live client's description, for `GET /weft/admin` style endpoints. */
export function describeClients(): DestinationDescription[] {
  return [...live].map((d) => d.describe());
}
