// The system programs the test suite starts on loopback, installed when missing so that
// `npm install && npm test` works on a fresh machine, not only in CI. Today: etcd (Debian's
// `etcd-server`), for the replicated config-store tests; Prometheus (Debian's `prometheus`), for
// the traffic views read from a Prometheus server; and Chromium (Debian's `chromium`), which the
// dashboard's browser tests drive headless through playwright-core. Installs with apt-get when this process may
// (root, or passwordless sudo); otherwise stops with a message that names what is missing and how to
// install it, instead of letting those tests fail one by one.
import { spawnSync } from 'node:child_process';

const NEEDED = [
  { command: 'etcd', args: ['--version'], debian: 'etcd-server', why: 'the etcd store tests' },
  {
    command: 'prometheus',
    args: ['--version'],
    debian: 'prometheus',
    why: 'the test of the config service reading golden metrics from Prometheus',
  },
  { command: 'chromium', args: ['--version'], debian: 'chromium', why: 'the dashboard browser tests' },
];

const has = (command, args) => {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
};

/** How to run a command as root here: directly, through passwordless sudo, or not at all. */
function asRoot() {
  if (process.getuid?.() === 0) return [];
  if (has('sudo', ['-n', 'true'])) return ['sudo', '-n'];
  return undefined;
}

export function ensureTestDependencies() {
  const missing = NEEDED.filter((n) => !has(n.command, n.args));
  if (missing.length === 0) return;
  const packages = missing.map((n) => n.debian);
  const prefix = asRoot();
  const canApt = has('apt-get', ['--version']);
  if (prefix && canApt) {
    console.log(
      `test setup: installing ${packages.join(', ')} (needed by ${missing.map((n) => n.why).join(', ')})`,
    );
    const run = (args) => {
      const [cmd, ...rest] = [...prefix, ...args];
      const r = spawnSync(cmd, rest, {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      return !r.error && r.status === 0;
    };
    if (run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages])) return;
    if (
      run(['apt-get', 'update', '-qq']) &&
      run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages])
    )
      return;
  }
  const still = NEEDED.filter((n) => !has(n.command, n.args));
  if (still.length === 0) return;
  console.error(
    [
      `npm test needs ${still.map((n) => `\`${n.command}\` (${n.why})`).join(', ')} on the PATH, and could not install it here.`,
      canApt
        ? `Install it as root: apt-get install -y ${still.map((n) => n.debian).join(' ')}`
        : `Install ${still.map((n) => n.command).join(', ')} with your system's package manager (Debian/Ubuntu: ${still.map((n) => n.debian).join(' ')}).`,
    ].join('\n'),
  );
  process.exit(1);
}
