/**
 * Child process for server-signal.test.ts: one app (Express or Fastify, from argv) with the Weft
 * middleware and the default drain signals (SIGTERM and SIGINT; the test apps turn them off otherwise). Prints its port, then serves until
 * drained; prints `slow` when a `/slow` request starts (it then takes 1 s).
 */
import { SERVER_DEFAULTS } from '@weft/http';
import { type Kind, startApp } from './server-apps.ts';

const kind = (process.argv[2] ?? 'express') as Kind;
const app = await startApp(kind, { drainSignals: SERVER_DEFAULTS.drainSignals, drainTimeoutMs: 5000 }, [
  {
    method: 'GET',
    path: '/slow',
    handler: async () => {
      process.stdout.write('slow\n');
      await new Promise((r) => setTimeout(r, 1000));
      return { body: 'finished' };
    },
  },
]);
process.stdout.write(`${app.port}\n`);
