/**
 * The config service of the demo: `startControlPlane` from @weft/control-plane (what
 * `weft control-plane` runs), as a child process of the launcher that stops with it. The admin
 * token comes from `WEFT_ADMIN_TOKEN`, the port from `SHOP_CONFIG_PORT` (0 the first time; the
 * same port again when the tour restarts it), the SQLite file from `SHOP_DATA_DIR`. Its traffic
 * window has buckets of 2 s instead of 10 s, so that the tour's rollouts judge intervals of a few
 * seconds (rollout-tour.ts).
 */
import { join } from 'node:path';
import { startControlPlane } from '@weft/control-plane';
import { TRAFFIC_BUCKET_MS } from '../timing.ts';
import { send, stopWith } from './child.ts';

const running = await startControlPlane({
  port: Number(process.env.SHOP_CONFIG_PORT ?? 0),
  host: '127.0.0.1',
  data: join(process.env.SHOP_DATA_DIR ?? '.', 'config-service'),
  adminToken: process.env.WEFT_ADMIN_TOKEN,
  trafficWindow: { bucketMs: TRAFFIC_BUCKET_MS },
  print: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
});

stopWith(() => running.close());

send({
  type: 'ready',
  service: 'config',
  instance: 'config',
  port: running.port,
  metricsPort: 0,
  pid: process.pid,
  notes: [`SQLite in ${join(process.env.SHOP_DATA_DIR ?? '.', 'config-service')}`],
});
