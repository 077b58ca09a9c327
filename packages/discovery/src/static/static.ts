/**
 * A fixed list of endpoints: the core {@link StaticResolver}, with its input checked first. Its set
 * can still be replaced by hand with `set()`.
 */
import type { Endpoint } from '@weft/core';
import { invalidOption, parseEndpoint, StaticResolver } from '@weft/core';
import { EndpointInputError, validateEndpoints } from '../endpoint/validate.ts';

/**
 * Builds a resolver over `endpoints` (objects, or `host:port` / `[v6]:port` / URL strings).
 * Throws `WEFT_INVALID_OPTION` naming the bad entry and field.
 */
export function staticResolver(endpoints: readonly (Endpoint | string)[]): StaticResolver {
  if (!Array.isArray(endpoints)) throw invalidOption('endpoints', 'must be an array of endpoints');
  let parsed: unknown[];
  try {
    parsed = endpoints.map((e, i) => {
      if (typeof e !== 'string') return e;
      try {
        return parseEndpoint(e);
      } catch {
        throw new EndpointInputError(
          `endpoints[${i}]`,
          `is not host:port or a URL (got ${JSON.stringify(e)})`,
        );
      }
    });
    return new StaticResolver(validateEndpoints(parsed, 'endpoints'));
  } catch (err) {
    if (err instanceof EndpointInputError)
      throw invalidOption(err.field, err.message.slice(err.field.length + 1));
    throw err;
  }
}
