/**
 * A command that refuses to go on for a reason the user can act on (an unknown subset, a Route that
 * changed since it was read). `main` prints the message, the issues and the hint, and exits with 1;
 * with `--output json` it prints `{ error: { code, message, issues, hint } }`.
 */
export class CommandError extends Error {
  /** Stable, for scripts: `conflict`, `not_found`, `invalid`. */
  readonly code: string;
  readonly issues: readonly string[];
  /** What to do about it (several lines at most), printed after the issues. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { issues?: readonly string[]; hint?: string } = {}) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.hint = options.hint;
  }
}
