/**
 * The shop demo: a small mesh on this machine, all on 127.0.0.1 with ports chosen by the OS.
 *
 *   loadgen ──HTTP──▶ frontend (Fastify) ──HTTP──▶ catalog ×3 (Express; two v1, one v2)
 *                                         └─gRPC──▶ inventory ×2
 *   every service registers in the config service and takes its callers' policies from it;
 *   catalog's Route keeps v2 dark (header and override only) until the tour's canary
 *
 *   npm start                         # runs until Ctrl-C
 *   npm start -- --tour               # the scripted tour, then stops
 *   npm start -- --steps mirror,canary-10   # only these steps of the tour (`--steps list` names them)
 *   npm start -- --seconds 20         # stops after 20 s of traffic
 *   npm start -- --no-tty             # plain lines instead of the redrawn view
 *   npm start -- --rate 200           # requests per second from the load generator (default 100)
 *   npm start -- --keep               # keep the logs and data directory afterwards
 *
 * Once up, it prints the dashboard's address with a ready login (a viewer token made for the run,
 * and the admin token): the graph, the tour's changes in the history, and its effects on the
 * endpoints show there live.
 *
 * At the end it prints a summary and one `summary {json}` line (totals per destination, calls per
 * instance and per version, and what the tour's steps measured).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { api, newAdminToken, seed } from './config.ts';
import { Board, Screen } from './display.ts';
import { Launcher, type ServiceProcess } from './launcher.ts';
import type { ChildMessage } from './protocol.ts';
import { runTour, STEP_IDS, selectSteps, type TourResults } from './tour.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    tour: { type: 'boolean', default: false },
    steps: { type: 'string' },
    'no-tty': { type: 'boolean', default: false },
    rate: { type: 'string', default: '100' },
    keep: { type: 'boolean', default: false },
  },
});
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
if (seconds !== undefined && !(Number.isFinite(seconds) && seconds >= 1))
  throw new Error(`--seconds must be a number ≥ 1, got ${values.seconds}`);
const rate = Number(values.rate);
if (!(Number.isFinite(rate) && rate > 0 && rate <= 5000))
  throw new Error(`--rate must be in (0, 5000], got ${values.rate}`);
const say = (line: string) => process.stdout.write(`${line}\n`);
if (values.steps === 'list') {
  say(`tour steps: ${STEP_IDS.join(', ')}`);
  process.exit(0);
}
// Refuses unknown step ids before anything starts; `--steps` alone implies `--tour`.
const steps = selectSteps(values.steps);
const tour = values.tour || values.steps !== undefined;
const tty = process.stdout.isTTY === true && !values['no-tty'];

const startedAt = performance.now();
let readyIn = 0;
const dir = mkdtempSync(join(tmpdir(), 'weft-shop-'));
const adminToken = newAdminToken();
const board = new Board();
const screen = tty ? new Screen(process.stdout) : undefined;
const totals: Record<string, { requests: number; failures: number }> = {};
const unexpected: string[] = [];
const errors: Record<string, Record<string, number>> = {};
const tourResults: TourResults = {};

function onMessage(_from: ServiceProcess, message: ChildMessage): void {
  if (message.type === 'ready' && message.port > 0) board.name(`127.0.0.1:${message.port}`, message.instance);
  if (message.type === 'stats') {
    for (const f of message.destinations) {
      board.update(f, message.config.revision);
      for (const [code, n] of Object.entries(f.errors)) {
        errors[f.destination] ??= {};
        errors[f.destination]![code] = (errors[f.destination]![code] ?? 0) + n;
      }
    }
    if (message.service === 'frontend') board.configClient = message.config;
  }
  if (message.type === 'totals') for (const t of message.totals) totals[t.destination] = t;
}

const launcher = new Launcher({
  dir,
  env: {
    SHOP_DATA_DIR: dir,
    SHOP_RATE: String(rate),
    // OpenTelemetry: the Telemetry/mesh document (config.ts) sets the sampling (1%) and the OTLP
    // endpoints; console spans (into each service's log) unless an OTLP endpoint is set.
    OTEL_TRACES_EXPORTER:
      process.env.OTEL_TRACES_EXPORTER ?? (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'console'),
  },
  onMessage,
  onUnexpectedExit(proc, code, signal) {
    const text = `${proc.name} exited unexpectedly (${signal ?? `code ${code}`}); see ${proc.log}`;
    unexpected.push(text);
    board.event(text);
  },
});

// Whatever happens, no child outlives the launcher.
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  launcher.killAll();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);

// The first Ctrl-C (or SIGTERM) stops the demo in order; a second one kills everything at once.
let stopRequested: (() => void) | undefined;
const stopSignal = new Promise<void>((resolve) => {
  stopRequested = resolve;
});
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (++signals > 1) {
      cleanup();
      process.exit(130);
    }
    stopRequested?.();
  });

/** Thrown out of the start-up when a stop is requested meanwhile. */
class Stopped extends Error {}
const stopped = stopSignal.then(() => {
  throw new Stopped('stopped');
});
stopped.catch(() => {});
/** Waits for `step` unless a stop is requested first (then its late failure is of no interest). */
const unlessStopped = <T>(step: Promise<T>): Promise<T> => {
  step.catch(() => {});
  return Promise.race([step, stopped]);
};

const SERVICES = [
  ['catalog-1', 'catalog.ts', { SHOP_VERSION: 'v1' }],
  ['catalog-2', 'catalog.ts', { SHOP_VERSION: 'v1' }],
  ['catalog-3', 'catalog.ts', { SHOP_VERSION: 'v2' }],
  ['inventory-1', 'inventory.ts', {}],
  ['inventory-2', 'inventory.ts', {}],
] as const;
const total = SERVICES.length + 3;
let started = 0;
const progress = (label: string) => {
  board.progress = { label: `starting: ${label} (${started}/${total})`, done: started, total };
  if (screen) screen.draw(board.render(process.stdout.columns ?? 100));
  else say(`[${started}/${total}] ${label}`);
};

try {
  say(
    `Weft shop demo — logs and data in ${dir}${values.keep ? '' : ' (removed at exit; --keep keeps them)'}`,
  );
  progress('config service');
  const config = await unlessStopped(
    launcher.start('config', 'config-service.ts', { WEFT_ADMIN_TOKEN: adminToken }),
  );
  const configUrl = `http://127.0.0.1:${config.port}`;
  started++;
  board.configUp = true;
  const { serviceTokens, revision: firstRevision } = await unlessStopped(seed(configUrl, adminToken));
  // The dashboard's ready login: a viewer token (read only), made for this run.
  const viewer = (await unlessStopped(
    api(configUrl, adminToken, 'POST', '/v1/tokens', { name: 'dashboard', role: 'viewer' }),
  )) as { token: string };
  /** Each process gets the token of its own service (`catalog-2` → `catalog`). */
  const env = (service: keyof typeof serviceTokens) => ({
    WEFT_CONTROL_PLANE: configUrl,
    WEFT_TOKEN: serviceTokens[service],
  });

  progress('catalog ×3, inventory ×2');
  await unlessStopped(
    Promise.all(
      SERVICES.map(([name, script, extra]) =>
        launcher
          .start(name, script, {
            ...env(name.split('-')[0] as keyof typeof serviceTokens),
            ...extra,
          })
          .then((r) => {
            started++;
            progress(`${name} on :${r.port}`);
          }),
      ),
    ),
  );
  await unlessStopped(launcher.start('frontend', 'frontend.ts', env('frontend')));
  started++;
  progress('frontend');
  await unlessStopped(launcher.start('loadgen', 'loadgen.ts', env('loadgen')));
  started++;
  board.progress = undefined;
  readyIn = (performance.now() - startedAt) / 1000;

  if (screen) screen.release();
  say('');
  say(`All ${total} processes up in ${readyIn.toFixed(1)} s. Where to look:`);
  for (const proc of launcher.processes.values()) {
    const r = proc.ready!;
    const where = r.port > 0 ? `127.0.0.1:${r.port}` : '(client only)';
    const metrics = r.metricsPort > 0 ? `  metrics http://127.0.0.1:${r.metricsPort}/metrics` : '';
    say(
      `  ${proc.name.padEnd(12)} ${where.padEnd(16)} pid ${String(r.pid).padEnd(7)}${metrics}  ${r.notes.join(', ')}`,
    );
  }
  say(`  dashboard    ${configUrl}/ui/#token=${viewer.token}  (read only)`);
  say(`               as admin (may change): ${configUrl}/ui/#token=${adminToken}`);
  say(`  the weft CLI: export WEFT_CONTROL_PLANE=${configUrl} WEFT_TOKEN=${adminToken}`);
  say(
    '                then e.g. `npx weft get policy catalog`, `npx weft endpoints catalog` (after `npm run build`)',
  );
  say(
    `  traces: ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? `OTLP to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'console exporter, in each service log (1% sampled)'}; steered by \`npx weft get telemetry mesh\``,
  );
  say(`  pids: ${launcher.pids.join(' ')}`);
  say(
    tour
      ? ''
      : `Press Ctrl-C to stop${seconds ? ` (or wait ${seconds} s)` : ''}; \`npm start -- --tour\` runs the scripted tour.\n`,
  );
  board.event(`${total} processes up in ${readyIn.toFixed(1)} s; load: ${rate} requests/s`);
  board.footer = `Ctrl-C stops everything · logs in ${dir}${tour ? '' : ' · npm start -- --tour for the scripted tour'}`;

  const runFor = tour ? undefined : seconds;
  const runStarted = Date.now();
  const frame = setInterval(() => {
    if (runFor && !tour) {
      const done = (Date.now() - runStarted) / 1000;
      board.progress = { label: `${done.toFixed(0)}/${runFor} s`, done, total: runFor };
    }
    if (screen) screen.draw(board.render(process.stdout.columns ?? 100));
    else for (const line of board.plain()) say(line);
  }, 1000);

  const ended = tour
    ? runTour(
        {
          launcher,
          board,
          dir,
          configUrl,
          adminToken,
          firstRevision,
          catalogToken: serviceTokens.catalog,
          say: tty ? undefined : say,
          results: tourResults,
        },
        steps,
        stopSignal,
      )
    : seconds
      ? new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000))
      : new Promise<void>(() => {});
  await Promise.race([ended, stopSignal]);
  clearInterval(frame);
  if (screen) {
    screen.draw(board.render(process.stdout.columns ?? 100));
    screen.release();
  }
} catch (error) {
  if (!(error instanceof Stopped)) {
    process.stderr.write(`\nthe demo failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

// Stop in order: no new load, then the callers (they report their totals), then the rest.
say('\nstopping…');
launcher.tell('loadgen', { type: 'quiesce' });
await launcher.stop('loadgen');
await launcher.stop('frontend');
await Promise.all([...launcher.processes.keys()].filter((n) => n !== 'config').map((n) => launcher.stop(n)));
await launcher.stop('config');

const summary = {
  readySeconds: Math.round(readyIn * 10) / 10,
  ranSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
  totals,
  calls: board.calls,
  versions: board.versions,
  errors,
  tour: tourResults,
  unexpectedExits: unexpected,
  pids: launcher.pids,
};
say('');
for (const [destination, t] of Object.entries(totals))
  say(`${destination.padEnd(10)} ${String(t.requests).padStart(7)} requests, ${t.failures} failed`);
say(`summary ${JSON.stringify(summary)}`);
cleanup();
