/**
 * Child process for server-signal.test.ts: one app (Express or Fastify, from argv) with the Weft
 * middleware and its default drain signal (SIGTERM). Prints its port, then serves until drained.
 */
import { type Kind, startApp } from './server-apps.ts';

const kind = (process.argv[2] ?? 'express') as Kind;
const app = await startApp(kind, { drainSignals: ['SIGTERM'], drainTimeoutMs: 5000 }, [
  {
    method: 'GET',
    path: '/slow',
    handler: async () => {
      await new Promise((r) => setTimeout(r, 400));
      return { body: 'finished' };
    },
  },
]);
process.stdout.write(`${app.port}\n`);
