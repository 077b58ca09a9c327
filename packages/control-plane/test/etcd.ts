/**
 * Test helper: a real single-member etcd on loopback, with free ports and a temporary data
 * directory. Requires the `etcd` binary (Debian package etcd-server); without it the tests that
 * need it fail with a message saying so.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tempDir } from './service.ts';

export interface EtcdProcess {
  readonly url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export function etcdBinary(): string {
  const found = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0)
    throw new Error(
      'the etcd binary is required by the replicated-store tests and was not found on PATH: install it (Debian: apt-get install -y etcd-server)',
    );
  return 'etcd';
}

/**
 * Starts etcd on two free ports. A port found free can be taken by another test process before etcd
 * binds it, so a start that fails on `address already in use` is tried again on new ports.
 */
export async function startEtcd(): Promise<EtcdProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEtcdOnce();
    } catch (error) {
      if (attempt >= 5 || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startEtcdOnce(): Promise<EtcdProcess> {
  const binary = etcdBinary();
  const dir = tempDir('weft-etcd-');
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const child: ChildProcess = spawn(
    binary,
    [
      '--name',
      'weft-test',
      '--data-dir',
      dir.path,
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `weft-test=${peerUrl}`,
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      dir.remove();
      throw new Error(`etcd exited at start: ${stderr}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`etcd did not become healthy: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      dir.remove();
    },
  };
}
