/**
 * Loads the config service for `weft control-plane`. It lives in `@weft/control-plane` (Fastify,
 * etcd3, SQLite), which the CLI does not depend on: CI jobs that only run `weft apply` install this
 * package alone. Installing `@weft/control-plane` brings the CLI with it.
 */

/** What `weft control-plane` runs. */
export type ServerModule = typeof import('@weft/control-plane');

const MISSING = "Cannot find package '@weft/control-plane'";

/** The `@weft/control-plane` module, or an error that says how to install it. */
export async function loadServer(): Promise<ServerModule> {
  try {
    return await import('@weft/control-plane');
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message?.startsWith(MISSING))
      throw new Error(
        '`weft control-plane` runs the config service, which is the separate package @weft/control-plane: install it next to the CLI (npm install @weft/control-plane)',
      );
    throw error;
  }
}
