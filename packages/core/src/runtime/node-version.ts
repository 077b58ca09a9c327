/**
 * The Node.js versions a package runs on, checked once when its entry module is first imported, so
 * that too old a Node fails with a message that names the version needed and the version found,
 * instead of an error from deep inside a dependency. The range is the package's `engines.node`,
 * written in the subset of semver this module reads: alternatives joined by `||`, each a `>=X.Y.Z`
 * lower bound with an optional `<N` (exclusive major) upper bound.
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';

type Version = readonly [number, number, number];
interface Bound {
  min: Version;
  /** Exclusive upper bound on the major version, when the alternative has one. */
  belowMajor: number | undefined;
}

const ALTERNATIVE = /^>=\s*(\d+)\.(\d+)\.(\d+)(?:\s+<\s*(\d+)(?:\.0(?:\.0)?)?)?$/;
const VERSION = /^v?(\d+)\.(\d+)\.(\d+)/;

function parseRange(range: string): Bound[] {
  return range.split('||').map((part) => {
    const m = ALTERNATIVE.exec(part.trim());
    if (!m)
      throw new WeftError(ErrorCode.InvalidOption, `invalid option engines.node: cannot read "${range}"`);
    return {
      min: [Number(m[1]), Number(m[2]), Number(m[3])],
      belowMajor: m[4] === undefined ? undefined : Number(m[4]),
    };
  });
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Whether the Node.js version `found` (as in `process.versions.node`, a leading `v` and any
 * pre-release suffix allowed) is inside `range`. An unreadable `found` counts as inside: the check
 * exists to explain failures, never to refuse a runtime it cannot read.
 */
export function nodeVersionSatisfies(range: string, found: string): boolean {
  const m = VERSION.exec(found.trim());
  if (!m) return true;
  const v: Version = [Number(m[1]), Number(m[2]), Number(m[3])];
  return parseRange(range).some(
    (b) => compare(v, b.min) >= 0 && (b.belowMajor === undefined || v[0] < b.belowMajor),
  );
}

/**
 * Throws `WEFT_UNSUPPORTED_RUNTIME` when this Node.js is outside `range`; the message names the
 * package, the range it needs, why (`reason`), and the version found. Called once per package at
 * import: it costs nothing afterwards.
 *
 * @param pkg the package name, as users install it
 * @param range the package's `engines.node`
 * @param reason what needs that version (`undici 8`, `node:sqlite without a flag`)
 * @param found the running version. Defaults to `process.versions.node`.
 */
export function assertNodeVersion(
  pkg: string,
  range: string,
  reason: string,
  found: string = process.versions.node,
): void {
  if (nodeVersionSatisfies(range, found)) return;
  throw new WeftError(
    ErrorCode.UnsupportedRuntime,
    `${pkg} needs Node.js ${range} (${reason}); this is Node.js ${found}. Upgrade Node.js to a version in that range.`,
  );
}
