/**
 * The `weft` command line: `weft control-plane` runs the config service (from `@weft/control-plane`,
 * installed separately); the other commands talk to one and need only this package. Errors print the
 * service's `path: reason` issues and exit with status 1 (2 for usage).
 */
// First: refuses too old a Node.js before any other module of the package runs.
import './node-check.ts';
import { Command, CommanderError, Option } from 'commander';
import { ApiError, api } from './api.ts';
import { caRotate, caStatus } from './ca.ts';
import * as cmd from './commands.ts';
import { isEntryModule } from './entry.ts';
import { CommandError } from './errors.ts';
import { FileError } from './files.ts';
import { mtlsMode, mtlsStatus } from './mtls.ts';
import { rolloutAction, rolloutStatus } from './rollout.ts';
import { loadServer } from './server.ts';
import { split } from './split.ts';
import { stat, top, windowSeconds } from './stat.ts';
import { trafficResume, trafficStatus, trafficStop } from './traffic.ts';
import { CLI_VERSION } from './version.ts';

interface GlobalOptions {
  server?: string;
  token?: string;
  output: string;
  timeout: string;
}

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new cmd.UsageError(`${name}: expected a non-negative integer, got "${value}"`);
  return n;
};

const usage = (message: string): never => {
  throw new cmd.UsageError(message);
};

/** Where the CLI writes: stdout for results, stderr for errors. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export function buildProgram(io: CliIo = processIo): Command {
  const write = (text: string) => io.out(`${text}\n`);
  const program = new Command('weft')
    .description('Weft: the in-process service mesh. Run the config service or steer it.')
    .option('-s, --server <urls>', 'config service URL(s), comma-separated (env WEFT_CONTROL_PLANE)')
    .option('-t, --token <token>', 'bearer token (env WEFT_TOKEN)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--timeout <ms>', 'request timeout in ms', '10000')
    .version(CLI_VERSION, '-V, --version', 'print the version of the weft CLI')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const client = () => {
    const g = program.opts<GlobalOptions>();
    const urls = (g.server ?? process.env.WEFT_CONTROL_PLANE ?? 'http://127.0.0.1:7700')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean)
      // `-s 127.0.0.1:7700` means http://127.0.0.1:7700.
      .map((u) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `http://${u}`));
    const request = api({
      urls,
      token: g.token ?? process.env.WEFT_TOKEN,
      timeoutMs: int('--timeout')(g.timeout),
    });
    return { request, o: { json: g.output === 'json', write, warn: (text: string) => io.err(`${text}\n`) } };
  };

  program
    .command('control-plane')
    .description('run the config service')
    .option('-p, --port <port>', 'port (0 picks a free one)', '7700')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('-d, --data <dir>', 'data directory of the SQLite store', './weft-data')
    .option('--etcd <urls>', 'use etcd (comma-separated client URLs) instead of SQLite')
    .option('--etcd-prefix <prefix>', 'key prefix in etcd', '/weft/')
    .option('--admin-token-file <file>', 'write the first admin token to this file instead of printing it')
    .option('--body-limit <bytes>', 'largest request body', '262144')
    .option('--heartbeat-ms <ms>', 'interval of watch-stream keep-alives', '15000')
    .option(
      '--max-resume <n>',
      'most missed revisions replayed to a resuming watcher (else a snapshot)',
      '1000',
    )
    .option('--watch-history <n>', 'registry-only log entries kept for resuming watchers', '10000')
    .option('--log-level <level>', 'log requests at this level (never their headers)')
    .option('--trust-domain <domain>', "SPIFFE trust domain (default: the store's, else weft.local)")
    .option(
      '--ca-cert <file>',
      'PEM of an intermediate CA (then its chain to the root); default: a generated root',
    )
    .option('--ca-key <file>', "PKCS#8 PEM of the intermediate's ECDSA P-256 key")
    .option('--cert-lifetime-ms <ms>', 'longest (and default) lifetime of a certificate', '86400000')
    .option('--tls-cert <file>', "serve HTTPS: PEM of the service's certificate (then its chain)")
    .option('--tls-key <file>', "PEM of --tls-cert's private key")
    .option('--traffic-bucket-ms <ms>', 'width of a time bucket of the traffic window', '10000')
    .addOption(
      new Option('--traffic-source <source>', 'where GET /v1/traffic reads from')
        .choices(['embedded', 'prometheus'])
        .default('embedded'),
    )
    .option('--prometheus-url <url>', 'with --traffic-source prometheus: the Prometheus server to query')
    .option('--rollout-tick-ms <ms>', 'how often the rollout driver looks at the rollouts', '1000')
    .option('--rollout-lease-s <s>', "with etcd: lease of the rollout driver's election", '10')
    .action(async (opts) => {
      // Loaded only here: the client commands need neither the server nor its dependencies.
      const { startControlPlane } = await loadServer();
      const running = await startControlPlane({
        port: int('--port')(opts.port),
        host: opts.host,
        data: opts.data,
        etcd: opts.etcd
          ? String(opts.etcd)
              .split(',')
              .map((u: string) => u.trim())
          : undefined,
        etcdPrefix: opts.etcdPrefix,
        adminToken: process.env.WEFT_ADMIN_TOKEN || undefined,
        adminTokenFile: opts.adminTokenFile,
        bodyLimit: int('--body-limit')(opts.bodyLimit),
        heartbeatMs: int('--heartbeat-ms')(opts.heartbeatMs),
        maxResume: int('--max-resume')(opts.maxResume),
        watchHistory: int('--watch-history')(opts.watchHistory),
        logger: opts.logLevel ? { level: opts.logLevel } : false,
        trustDomain: opts.trustDomain,
        caCertFile: opts.caCert,
        caKeyFile: opts.caKey,
        certificateLifetimeMs: int('--cert-lifetime-ms')(opts.certLifetimeMs),
        tlsCertFile: opts.tlsCert,
        tlsKeyFile: opts.tlsKey,
        trafficWindow: { bucketMs: int('--traffic-bucket-ms')(opts.trafficBucketMs) },
        rollouts: {
          tickMs: int('--rollout-tick-ms')(opts.rolloutTickMs),
          leaseS: int('--rollout-lease-s')(opts.rolloutLeaseS),
        },
        ...(opts.trafficSource === 'prometheus'
          ? {
              prometheusUrl:
                opts.prometheusUrl ?? usage('--traffic-source prometheus needs --prometheus-url'),
            }
          : {}),
      });
      const stop = () => {
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('apply')
    .description('create or update documents from YAML/JSON files ("-" reads stdin)')
    .requiredOption('-f, --filename <file...>', 'file(s) to apply')
    .option('--dry-run', 'print what would change against the stored documents, and write nothing')
    .action(async (opts) => {
      const { request, o } = client();
      await cmd.apply(request, o, opts.filename, opts.dryRun === true);
    });
  program
    .command('get <kind> [name]')
    .description('list documents of a kind, or show one')
    .action(async (kind, name) => {
      const { request, o } = client();
      await cmd.get(request, o, kind, name);
    });
  program
    .command('delete <kind> <name>')
    .description('delete a document')
    .option('--if-revision <rev>', 'only if the document is still at this revision')
    .action(async (kind, name, opts) => {
      const { request, o } = client();
      await cmd.remove(
        request,
        o,
        kind,
        name,
        opts.ifRevision === undefined ? undefined : int('--if-revision')(opts.ifRevision),
      );
    });
  program
    .command('history [kind] [name]')
    .description('list revisions that changed documents, newest first')
    .option('-n, --limit <n>', 'entries to show', '20')
    .action(async (kind, name, opts) => {
      const { request, o } = client();
      await cmd.history(request, o, kind, name, int('--limit')(opts.limit));
    });
  program
    .command('rollback <revision>')
    .description('restore every document to its state at a revision (as a new revision)')
    .action(async (revision) => {
      const { request, o } = client();
      await cmd.rollback(request, o, int('revision')(revision));
    });
  program
    .command('split <service> <subset=weight...>')
    .description("set the weights of a service's Route, e.g. split catalog v1=90 v2=10")
    .addHelpText(
      'after',
      `
Rewrites the backends of the Route's default rule (the first rule without matches; one is appended
when there is none) to exactly the subsets given (each defined in spec.subsets), and writes it with
compare-and-set on the revision read: a change made meanwhile is a conflict, never overwritten.
`,
    )
    .option('--dry-run', 'print the document that would be written, and write nothing')
    .option('--if-revision <rev>', 'only if the Route is still at this revision (default: the one read)')
    .action(async (service, weights, opts) => {
      const { request, o } = client();
      await split(request, o, service, weights, {
        dryRun: opts.dryRun === true,
        ifRevision: opts.ifRevision === undefined ? undefined : int('--if-revision')(opts.ifRevision),
      });
    });
  const rollout = program
    .command('rollout')
    .description('progressive delivery: where a Rollout stands, and acting on it');
  rollout
    .command('status [service]')
    .description('the step, the weights and the analysed intervals (every Rollout without a service)')
    .action(async (service) => {
      const { request, o } = client();
      await rolloutStatus(request, o, service);
    });
  for (const [action, what] of [
    ['pause', 'hold the current step (the weights stay)'],
    ['resume', 'go on from the current step (also after a manual edit of the Route)'],
    ['promote', 'give the canary 100% now'],
    ['abort', 'roll back now: the canary gets 0%'],
  ] as const)
    rollout
      .command(`${action} <service>`)
      .description(what)
      .action(async (service) => {
        const { request, o } = client();
        await rolloutAction(request, o, action, service);
      });
  const traffic = program
    .command('traffic')
    .description('the kill switch: stop or resume traffic between services');
  traffic
    .command('stop')
    .description('stop every call between services (or to one service) until resumed')
    .option('--service <service>', 'stop only the calls to this service (default: the whole mesh)')
    .option('--reason <text>', 'why, shown in every refusal and in traffic status')
    .action(async (opts) => {
      const { request, o } = client();
      await trafficStop(request, o, { service: opts.service, reason: opts.reason });
    });
  traffic
    .command('resume')
    .description('lift a stop (the mesh-wide one, or that of one service)')
    .option('--service <service>', "lift this service's own stop (default: the mesh-wide one)")
    .action(async (opts) => {
      const { request, o } = client();
      await trafficResume(request, o, { service: opts.service });
    });
  traffic
    .command('status')
    .description('what is stopped, and since which revision')
    .action(async () => {
      const { request, o } = client();
      await trafficStatus(request, o);
    });
  const mtls = program
    .command('mtls')
    .description('the PeerAuthentication modes: whether plaintext is accepted beside mTLS');
  for (const mode of ['STRICT', 'PERMISSIVE'] as const)
    mtls
      .command(mode.toLowerCase())
      .description(
        mode === 'STRICT'
          ? 'refuse plaintext: servers accept only mTLS, clients send only mTLS'
          : 'accept plaintext beside mTLS (the migration default)',
      )
      .option('--service <service>', 'set the mode of this service only (default: the mesh-wide default)')
      .action(async (opts) => {
        const { request, o } = client();
        await mtlsMode(request, o, mode, { service: opts.service });
      });
  mtls
    .command('status')
    .description('the mode of the mesh and of every service with its own')
    .action(async () => {
      const { request, o } = client();
      await mtlsStatus(request, o);
    });
  program
    .command('stat [service]')
    .description('golden metrics per service, or for one service its callers, destinations and endpoints')
    .option('-w, --window <s>', 'seconds of the window to read (10-900)', '60')
    .action(async (service, opts) => {
      const { request, o } = client();
      await stat(request, o, service, windowSeconds(int('--window')(opts.window)));
    });
  program
    .command('top')
    .description('the busiest edges and endpoints, refreshed (Ctrl-C to quit)')
    .option('-w, --window <s>', 'seconds of the window to read (10-900)', '60')
    .option('-n, --limit <n>', 'rows per table', '10')
    .option('--interval <s>', 'seconds between refreshes', '2')
    .option('--once', 'print once and exit')
    .action(async (opts) => {
      const { request, o } = client();
      const once = opts.once === true;
      const stopped = once
        ? undefined
        : new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await top(request, o, {
        windowS: windowSeconds(int('--window')(opts.window)),
        limit: int('--limit')(opts.limit),
        intervalS: int('--interval')(opts.interval),
        once,
        stopped,
      });
    });
  program
    .command('endpoints <service>')
    .description('list the registered instances of a service')
    .action(async (service) => {
      const { request, o } = client();
      await cmd.endpoints(request, o, service);
    });
  const ca = program.command('ca').description("the mesh's certificate authority (admin)");
  ca.command('status')
    .description('show the CAs, their expiry, which one signs, and the open overlap')
    .action(async () => {
      const { request, o } = client();
      await caStatus(request, o);
    });
  ca.command('rotate')
    .description('start an overlap with a new CA (a generated root, or --ca-cert/--ca-key), or end it')
    .option('--ca-cert <file>', 'PEM of the new intermediate (then its chain to the root)')
    .option('--ca-key <file>', "PKCS#8 PEM of the new intermediate's key")
    .option('--finish', 'end the overlap: the old CA leaves the trust bundle')
    .option('--force', "with --finish: even though the old CA's certificates may still be valid")
    .action(async (opts) => {
      const { request, o } = client();
      await caRotate(request, o, {
        caCert: opts.caCert,
        caKey: opts.caKey,
        finish: opts.finish === true,
        force: opts.force === true,
      });
    });
  const token = program.command('token').description('manage access tokens (admin)');
  token
    .command('create <name>')
    .description('create a token; it is printed once')
    .addOption(
      new Option('--role <role>', 'what it may do (viewer: read only, for the dashboard)')
        .choices(['service', 'admin', 'viewer'])
        .default('service'),
    )
    .option(
      '--service <service>',
      'the one service a service token may register, renew and deregister (default: <name>)',
    )
    .action(async (name, opts) => {
      const { request, o } = client();
      await cmd.tokenCreate(request, o, name, opts.role, opts.service);
    });
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async () => {
      const { request, o } = client();
      await cmd.tokenList(request, o);
    });
  token
    .command('delete <id>')
    .description('revoke a token')
    .action(async (id) => {
      const { request, o } = client();
      await cmd.tokenDelete(request, o, id);
    });
  return program;
}

/** Runs the CLI; returns the exit status. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const json = program.opts<GlobalOptions>().output === 'json';
    if (error instanceof ApiError || error instanceof FileError) {
      const e = error as ApiError | FileError;
      if (json) {
        const code = e instanceof ApiError ? e.code : 'invalid';
        io.err(`${JSON.stringify({ error: { code, message: e.message, issues: e.issues } }, null, 2)}\n`);
      } else if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        // A refused token is not an outage: say which, and how to fix it.
        const token = program.opts<GlobalOptions>().token ?? process.env.WEFT_TOKEN;
        io.err(
          e.status === 401
            ? `error: unauthorized (401): the config service refused ${token ? 'the token' : 'the request: no token was given'} (${e.message}); pass --token or set WEFT_TOKEN\n`
            : `error: forbidden (403): this token may not do that (${e.message}); admin operations need an admin token\n`,
        );
      } else {
        io.err(`error: ${e.issues.length ? (e instanceof FileError ? e.message : 'rejected') : e.message}\n`);
        for (const issue of e.issues) io.err(`  ${issue}\n`);
      }
      return 1;
    }
    if (error instanceof CommandError) {
      const { code, message, issues, hint } = error;
      if (json) io.err(`${JSON.stringify({ error: { code, message, issues, hint } }, null, 2)}\n`);
      else {
        io.err(`error: ${message}\n`);
        for (const issue of issues) io.err(`  ${issue}\n`);
        if (hint) io.err(`${hint.replace(/^/gm, '  ')}\n`);
      }
      return 1;
    }
    if (error instanceof cmd.UsageError) {
      io.err(`error: ${error.message}\n`);
      return 2;
    }
    io.err(`error: ${(error as Error).message}\n`);
    return 1;
  }
}

// `@weft/control-plane/testing` runs this file directly, on every supported Node.js.
if (isEntryModule(import.meta)) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== 0) process.exit(code);
  });
}
