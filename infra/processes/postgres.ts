import { spawnSync } from 'node:child_process';
import { chown, mkdir, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exists, InfraBuildError } from '../binaries';
import { waitUntilReady } from '../readiness';
import { ManagedProcess, type LogSink } from './managed-process';

/**
 * Temporal's PostgreSQL in the cluster profile: Debian's server run from a data folder of the
 * project's own, on a port of the plan's, with password authentication for the one role Temporal
 * uses. As root it runs as the `postgres` user (PostgreSQL refuses root), which then owns the folder.
 */
export interface PostgresOptions {
  name: string;
  /** /usr/lib/postgresql/<major>/bin */
  binDir: string;
  dataDir: string;
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface RunningPostgres {
  process: ManagedProcess;
  host: string;
  port: number;
}

const startupTimeoutMs = 30_000;

interface OsUser {
  uid: number;
  gid: number;
}

/** As root: the postgres user's ids (the package creates it); otherwise the launcher's own user runs it. */
function serverUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = ids('-u');
  const gid = ids('-g');
  if (!Number.isInteger(uid) || uid <= 0) throw new InfraBuildError('running as root, PostgreSQL needs the `postgres` user, which is missing: install the postgresql package (apt-get install postgresql)');
  return { uid, gid };
}

function runAs(user: OsUser | undefined, command: string, args: readonly string[]): void {
  const result = spawnSync(command, [...args], { encoding: 'utf8', ...(user ?? {}) });
  if (result.status !== 0) throw new InfraBuildError(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}): ${(result.stderr || result.stdout || String(result.error ?? '')).slice(-2000)}`);
}

/** initdb on an empty folder: UTF-8, scram-sha-256 for TCP, the Temporal role as superuser of its own server. */
async function initialise(options: PostgresOptions, user: OsUser | undefined): Promise<void> {
  const pgdata = join(options.dataDir, 'pgdata');
  if (await exists(join(pgdata, 'PG_VERSION'))) return;
  await rm(pgdata, { recursive: true, force: true });
  await mkdir(pgdata, { recursive: true, mode: 0o700 });
  const passwordFile = join(options.dataDir, '.initdb-password');
  await writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
  if (user) {
    await chown(options.dataDir, user.uid, user.gid);
    await chown(pgdata, user.uid, user.gid);
    await chown(passwordFile, user.uid, user.gid);
  }
  try {
    runAs(user, join(options.binDir, 'initdb'), ['-D', pgdata, '-U', options.user, '--pwfile', passwordFile, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--locale=C.UTF-8']);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

export function postgresArgs(options: PostgresOptions): string[] {
  return [
    '-D',
    join(options.dataDir, 'pgdata'),
    '-c',
    `listen_addresses=${options.host}`,
    '-c',
    `port=${options.port}`,
    // TCP only: no socket in a shared folder, and no clash with a system cluster's socket.
    '-c',
    'unix_socket_directories=',
    // Temporal's four services keep pools of their own (persistence.maxConns per service).
    '-c',
    'max_connections=200',
    // Temporal inserts and catches duplicates by design (e.g. every service seeds the system namespace): log the error, not the statement.
    '-c',
    'log_min_error_statement=panic',
    '-c',
    'log_checkpoints=off',
  ];
}

async function acceptsConnections(options: PostgresOptions): Promise<boolean> {
  const result = spawnSync(join(options.binDir, 'pg_isready'), ['-h', options.host, '-p', String(options.port), '-t', '1'], { encoding: 'utf8' });
  return result.status === 0;
}

export async function startPostgres(options: PostgresOptions, sink: LogSink): Promise<RunningPostgres> {
  await mkdir(options.dataDir, { recursive: true });
  const user = serverUser();
  if (user) {
    // The postgres user must reach the folder: every parent needs search permission for others.
    const probe = spawnSync('test', ['-x', options.dataDir], user);
    if (probe.status !== 0) throw new InfraBuildError(`the postgres user cannot reach ${options.dataDir}: a parent folder is closed to other users; move the project, or open it (chmod o+x)`);
  }
  await initialise(options, user);
  // A kill -9 leaves postmaster.pid behind; PostgreSQL checks the pid itself and starts anyway when it is stale.
  const process = ManagedProcess.start({ name: options.name, command: join(options.binDir, 'postgres'), args: postgresArgs(options), ...(user ?? {}) }, sink);
  await waitUntilReady(process, `PostgreSQL at ${options.host}:${options.port}`, () => acceptsConnections(options), { timeoutMs: startupTimeoutMs, intervalMs: 200 });
  return { process, host: options.host, port: options.port };
}
