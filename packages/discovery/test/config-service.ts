/**
 * Test helper: the real config service as the CLI's child process, for the discovery tests. The
 * control-plane package's test kit cannot be imported here (that package builds after this one).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const MAIN = new URL('../../cli/src/main.ts', import.meta.url).pathname;

export interface ConfigServiceChild {
  child: ChildProcess;
  url: string;
  port: number;
}

/** Starts `weft control-plane` on `data` with the admin token `adminToken`; resolves once it listens. */
export async function startConfigService(
  data: string,
  adminToken: string,
  port = 0,
): Promise<ConfigServiceChild> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=weft-source',
      '--disable-warning=ExperimentalWarning',
      MAIN,
      'control-plane',
      '--port',
      String(port),
      '--data',
      data,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, WEFT_ADMIN_TOKEN: adminToken } },
  );
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`config service exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const msg = JSON.parse(l);
      if (msg.event === 'listening') resolve(msg);
    });
  });
  return { child, url: line.url as string, port: line.port as number };
}

/** Kills the service (SIGKILL) and waits for it to exit. */
export async function killConfigService(svc: ConfigServiceChild): Promise<void> {
  if (svc.child.exitCode !== null || svc.child.signalCode !== null) return;
  const exited = new Promise((r) => svc.child.once('exit', r));
  svc.child.kill('SIGKILL');
  await exited;
}
