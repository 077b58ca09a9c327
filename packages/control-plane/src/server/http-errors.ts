/**
 * Error replies of the HTTP API: `{ error: { code, message, issues? } }`. `issues` lists
 * `path: reason` lines for invalid input, so that the CLI can print exactly which field is wrong.
 */

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: readonly string[] | undefined;

  constructor(status: number, code: string, message: string, issues?: readonly string[]) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.issues = issues;
  }

  toJSON() {
    return {
      error: { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) },
    };
  }
}

export const invalid = (issues: readonly string[], what = 'invalid document') =>
  new HttpError(400, 'invalid', `${what}: ${issues.join('; ')}`, issues);
export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const preconditionFailed = (message: string) => new HttpError(412, 'conflict', message);
