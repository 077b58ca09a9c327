/**
 * `weft split <service> <subset>=<weight>...`: sets the backends of the default rule of a service's
 * Route (a canary step: `weft split catalog v1=90 v2=10`). It reads the Route, rewrites that one
 * rule and writes it back with compare-and-set on the revision it read, so a change made meanwhile
 * (another split, an apply, a rollback) is reported as a conflict and never overwritten.
 */
import {
  checkName,
  defaultRuleIndex,
  type SplitBackend,
  type StoredDocument,
  splitSpec,
  validateDocument,
} from '@weft/core/config';
import { stringify } from 'yaml';
import { type Api, ApiError } from './api.ts';
import { type Output, UsageError } from './commands.ts';
import { CommandError } from './errors.ts';

export type { SplitBackend, SplitChange } from '@weft/core/config';
export { defaultRuleIndex, splitSpec };

export interface SplitOptions {
  /** Prints the document that would be written (YAML, or JSON with `--output json`) and writes nothing. Defaults to false. */
  dryRun?: boolean;
  /** Writes only if the Route is still at this revision. Defaults to the revision read. */
  ifRevision?: number;
}

/**
 * Parses `v1=90 v2=10` into backends, in the order given. Refuses (as a usage error) a missing `=`,
 * a weight that is not an integer ≥ 0, a subset given twice, and weights that are all 0.
 */
export function parseWeights(args: readonly string[]): SplitBackend[] {
  if (args.length === 0) throw new UsageError('give at least one <subset>=<weight>, e.g. v1=90 v2=10');
  const seen = new Set<string>();
  const backends = args.map((arg) => {
    const eq = arg.indexOf('=');
    const subset = eq < 0 ? '' : arg.slice(0, eq);
    const weight = eq < 0 ? '' : arg.slice(eq + 1);
    if (!subset || !weight) throw new UsageError(`expected <subset>=<weight>, got "${arg}"`);
    if (!/^\d+$/.test(weight))
      throw new UsageError(`${subset}: the weight must be an integer ≥ 0, got "${weight}"`);
    if (seen.has(subset)) throw new UsageError(`${subset}: given twice`);
    seen.add(subset);
    return { subset, weight: Number(weight) };
  });
  if (backends.every((b) => b.weight === 0))
    throw new UsageError('every weight is 0: at least one subset must get traffic');
  return backends;
}

const weights = (backends: readonly SplitBackend[] | undefined) =>
  backends?.length ? backends.map((b) => `${b.subset}=${b.weight}`).join(' ') : 'the whole destination';

const conflict = (service: string, revision: number, issue: string) =>
  new CommandError('conflict', `${service} changed since read (revision ${revision}); run again`, {
    issues: [issue],
  });

/** How to create the missing Route, with the subsets and weights asked for. */
function createHint(service: string, backends: readonly SplitBackend[]): string {
  const example = stringify({
    kind: 'Route',
    name: service,
    spec: {
      subsets: Object.fromEntries(backends.map((b) => [b.subset, { version: b.subset }])),
      rules: [{ backends }],
    },
  });
  return [
    "create one with `weft apply -f route.yaml`, for example (the selectors must match your instances' labels):",
    ...example.trimEnd().split('\n'),
  ].join('\n');
}

async function readRoute(request: Api, service: string, backends: readonly SplitBackend[]) {
  try {
    return (await request('GET', `/v1/documents/Route/${encodeURIComponent(service)}`))
      .body as StoredDocument<'Route'>;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404)
      throw new CommandError('not_found', `no Route for service "${service}": nothing to split`, {
        hint: createHint(service, backends),
      });
    throw error;
  }
}

export async function split(
  request: Api,
  o: Output,
  service: string,
  args: readonly string[],
  options: SplitOptions = {},
): Promise<void> {
  const badName = checkName(service);
  if (badName) throw new UsageError(`${service}: ${badName}`);
  const backends = parseWeights(args);
  const stored = await readRoute(request, service, backends);
  const id = `Route/${service}`;
  const defined = Object.keys(stored.spec.subsets ?? {});
  const unknown = backends.filter((b) => !Object.hasOwn(stored.spec.subsets ?? {}, b.subset));
  if (unknown.length)
    throw new CommandError(
      'invalid',
      `${id} does not define ${unknown.length === 1 ? 'subset' : 'subsets'} ${unknown.map((b) => `"${b.subset}"`).join(', ')}`,
      {
        issues: [`spec.subsets defines ${defined.length ? defined.join(', ') : 'no subset'}`],
        hint: `add it to spec.subsets first: weft get route ${service} > route.yaml, edit, weft apply -f route.yaml`,
      },
    );
  const expected = options.ifRevision ?? stored.revision;
  if (expected !== stored.revision)
    throw conflict(service, expected, `${id} is at revision ${stored.revision}`);
  const change = splitSpec(stored.spec, backends);
  const checked = validateDocument({ kind: 'Route', name: service, spec: change.spec });
  if (!checked.ok)
    throw new CommandError('invalid', `${id} would be invalid with these weights`, {
      issues: checked.issues,
    });
  const document = checked.document;
  const summary = `${id}: ${change.appended ? `default rule appended as rule ${change.rule}` : `default rule (rule ${change.rule})`}: ${weights(backends)}${change.appended ? '' : ` (was ${weights(change.before)})`}`;
  if (options.dryRun) {
    o.write(
      o.json
        ? JSON.stringify({ dryRun: true, revision: stored.revision, rule: change.rule, document }, null, 2)
        : stringify(document).trimEnd(),
    );
    // On stderr, so that stdout stays a document `weft apply -f -` takes.
    o.warn?.(`${summary}\n(dry run: nothing was written)`);
    return;
  }
  if (!change.appended && weights(change.before) === weights(backends)) {
    const body = { revision: stored.revision, rule: change.rule, unchanged: true, document: stored };
    o.write(o.json ? JSON.stringify(body, null, 2) : `${id} unchanged: ${weights(backends)}`);
    return;
  }
  let reply: { revision: number; document: StoredDocument<'Route'> };
  try {
    const written = await request(
      'PUT',
      `/v1/documents/Route/${encodeURIComponent(service)}`,
      { spec: document.spec },
      { 'if-match': `"${expected}"` },
    );
    reply = written.body as typeof reply;
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) throw conflict(service, expected, error.message);
    throw error;
  }
  const body = {
    revision: reply.revision,
    rule: change.rule,
    before: change.before ?? null,
    document: reply.document,
  };
  o.write(o.json ? JSON.stringify(body, null, 2) : `${summary}\nrevision ${reply.revision}`);
}
