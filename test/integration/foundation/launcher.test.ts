import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { findFreePort } from '../../../infra/ports';
import { signRequest, type SigningKey } from '../../../lib/crypto/request-signing';
import { processAlive, temporaryDir } from '../../support/cluster';
import { apiCaller, eventually } from '../../support/http';
import { LauncherProcess } from '../../support/launcher-process';

jest.setTimeout(180_000);

const readyPattern = /\[launcher\] ready in [\d.]+ s/;

async function namespaceRetentionSeconds(temporalPort: string): Promise<number> {
  const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
  try {
    const described = await connection.workflowService.describeNamespace({ namespace: 'default' });
    return Number(described.config?.workflowExecutionRetentionTtl?.seconds);
  } finally {
    await connection.close();
  }
}

async function launcherEnv(dataDir: string): Promise<Record<string, string>> {
  // One bank, so every "base" port is the only port of its range.
  return {
    ACCOUNT_SERVICE_BASE_PORT: String(await findFreePort()),
    TRANSFER_API_PORT: String(await findFreePort()),
    WORKER_METRICS_PORT: String(await findFreePort()),
    CODEC_SERVER_PORT: String(await findFreePort()),
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(await findFreePort()),
    TEMPORAL_UI_PORT: String(await findFreePort()),
    FERRETDB_BASE_PORT: String(await findFreePort()),
    FERRETDB_DEBUG_BASE_PORT: String(await findFreePort()),
    API_FERRETDB_PORT: String(await findFreePort()),
    API_FERRETDB_DEBUG_PORT: String(await findFreePort()),
    SETTLEMENT_SERVICE_PORT: String(await findFreePort()),
    SETTLEMENT_FERRETDB_PORT: String(await findFreePort()),
    SETTLEMENT_FERRETDB_DEBUG_PORT: String(await findFreePort()),
    LOCAL_BANKS: 'bank-a',
  };
}

async function recordedPids(dataDir: string): Promise<number[]> {
  const entries = JSON.parse(await readFile(join(dataDir, 'pids.json'), 'utf8')) as Array<{ pid: number }>;
  return entries.map((entry) => entry.pid);
}

/** Most tests here are about the launcher's process handling, so they run the servers alone. */
/** Every launcher a test started: one a failed assertion left running is killed after the test, so the suite can still exit. */
const started: LauncherProcess[] = [];

async function runUntilReady(env: Record<string, string>, args: readonly string[] = ['--servers-only']): Promise<{ launcher: LauncherProcess; pids: number[] }> {
  const launcher = LauncherProcess.start(env, args);
  started.push(launcher);
  await launcher.waitFor(readyPattern, 120_000);
  return { launcher, pids: await recordedPids(env.DATA_DIR as string) };
}

async function interruptAndCheckNoOrphans(launcher: LauncherProcess, pids: number[]): Promise<void> {
  launcher.interrupt();
  expect(await launcher.exited).toBe(0);
  expect(pids.filter(processAlive)).toEqual([]);
}

describe('npm start (infra/cli/start.ts)', () => {
  let dir: { path: string; remove: () => Promise<void> };

  beforeAll(async () => {
    dir = await temporaryDir('launcher');
  });

  afterEach(async () => {
    for (const launcher of started.splice(0)) {
      if (launcher.running) {
        launcher.interrupt();
        await launcher.exited;
      }
    }
  });

  afterAll(async () => {
    await dir.remove();
  });

  test('when the whole system is started, then every process answers, a generated key works, and Ctrl-C leaves no process behind', async () => {
    const env = await launcherEnv(join(dir.path, 'whole'));
    const { launcher, pids } = await runUntilReady(env, []);
    // temporal, the bank's ferretdb, the settlement bank's, the API's, the two account services, codec server, worker, transfer API
    expect(pids).toHaveLength(9);
    expect(pids.every(processAlive)).toBe(true);
    const apiUrl = `http://127.0.0.1:${env.TRANSFER_API_PORT}`;
    expect(launcher.output).toContain(`Transfer API:    ${apiUrl}`);
    const keys = JSON.parse(await readFile(join(env.DATA_DIR as string, 'secrets', 'api-keys.json'), 'utf8')) as Array<{ role: string; key: string }>;
    const operatorKey = keys.find((key) => key.role === 'operator')?.key;
    const banks = await fetch(`${apiUrl}/v1/banks`, { headers: { authorization: `Bearer ${operatorKey}` } });
    expect(banks.status).toBe(200);
    expect(await banks.json()).toEqual({ data: [{ bankId: 'bank-a', bic: 'BKAADEFFXXX', url: `http://127.0.0.1:${env.ACCOUNT_SERVICE_BASE_PORT}` }] });
    expect((await fetch(`http://127.0.0.1:${env.ACCOUNT_SERVICE_BASE_PORT}/readyz`)).status).toBe(200);
    // The worker's Prometheus endpoint (the SDK runtime's exporter) is in the table and answers.
    const workerMetricsUrl = `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`;
    expect(launcher.output).toMatch(new RegExp(`worker +task queue transfers +${workerMetricsUrl.replace(/[./]/g, '\\$&')}`));
    expect(await (await fetch(workerMetricsUrl)).text()).toContain('temporal_');
    // The account service's signing key: generated into the data folder, readable by its owner only, and accepted.
    const serviceKeysPath = join(env.DATA_DIR as string, 'secrets', 'service-keys.json');
    expect((await stat(serviceKeysPath)).mode & 0o777).toBe(0o600);
    expect(launcher.output).toContain(`Keys:            ${join(env.DATA_DIR as string, 'secrets')}`);
    expect(launcher.output).toMatch(new RegExp(`account-service-bank-a +http://127\\.0\\.0\\.1:${env.ACCOUNT_SERVICE_BASE_PORT}`));
    expect(launcher.output).toMatch(new RegExp(`account-service-settlement +http://127\\.0\\.0\\.1:${env.SETTLEMENT_SERVICE_PORT}`));
    // One key per caller, each with only its caller's scopes.
    const serviceKeys = JSON.parse(await readFile(serviceKeysPath, 'utf8')) as Array<SigningKey & { caller: string; scopes: string[] }>;
    expect(serviceKeys.map((key) => [key.caller, key.scopes])).toEqual([['worker', ['ledger']], ['transfer-api', ['admin', 'read']], ['reconciliation', ['read']]]);
    const serviceKey = serviceKeys[0];
    const whoami = await fetch(`http://127.0.0.1:${env.ACCOUNT_SERVICE_BASE_PORT}/v1/whoami`, { headers: { 'x-signature': signRequest(serviceKey as SigningKey, { bankId: 'bank-a', method: 'GET', pathWithQuery: '/v1/whoami', body: '' }) } });
    expect(await whoami.json()).toEqual({ bankId: 'bank-a', keyId: serviceKey?.keyId });
    expect((await fetch(`http://127.0.0.1:${env.ACCOUNT_SERVICE_BASE_PORT}/v1/whoami`)).status).toBe(401);
    // The codec server: its generated token kept like the other keys, required, and handed to the Web UI.
    const codecPath = join(env.DATA_DIR as string, 'secrets', 'codec.json');
    expect((await stat(codecPath)).mode & 0o777).toBe(0o600);
    const codec = JSON.parse(await readFile(codecPath, 'utf8')) as { token: string };
    const codecUrl = `http://127.0.0.1:${env.CODEC_SERVER_PORT}`;
    const decode = (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payloads: [] }) });
    expect((await decode(`${codecUrl}/decode`)).status).toBe(401);
    expect((await decode(`${codecUrl}/${codec.token}/decode`)).status).toBe(200);
    const uiSettings = await (await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/api/v1/settings`)).text();
    expect(uiSettings).toContain(`${codecUrl}/${codec.token}`);
    await interruptAndCheckNoOrphans(launcher, pids);
  });

  test('when started, then it prints the table with a reachable Web UI, and Ctrl-C leaves no process behind', async () => {
    const env = await launcherEnv(join(dir.path, 'first'));
    const { launcher, pids } = await runUntilReady(env);
    // Temporal, the bank's FerretDB, the settlement bank's and the API's own (a service started by hand needs its events database).
    expect(pids).toHaveLength(4);
    expect(pids.every(processAlive)).toBe(true);
    const uiUrl = `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`;
    expect(launcher.output).toContain(`Temporal Web UI: ${uiUrl}`);
    expect(launcher.output).toMatch(/ferretdb-bank-a\s+mongodb:\/\/127\.0\.0\.1:/);
    expect(launcher.output).toMatch(new RegExp(`ferretdb-settlement\\s+mongodb://127\\.0\\.0\\.1:${env.SETTLEMENT_FERRETDB_PORT}/`));
    expect(launcher.output).toMatch(new RegExp(`ferretdb-transfer-api\\s+mongodb://127\\.0\\.0\\.1:${env.API_FERRETDB_PORT}/`));
    expect((await fetch(uiUrl)).status).toBe(200);
    await interruptAndCheckNoOrphans(launcher, pids);
  });

  test('when started with --temporal=cluster, then the four Temporal services, PostgreSQL and the Web UI run as processes of their own, a transfer completes through the API, and Ctrl-C leaves no process behind', async () => {
    const env: Record<string, string> = {
      ...(await launcherEnv(join(dir.path, 'cluster-profile'))),
      TEMPORAL_POSTGRES_PORT: String(await findFreePort()),
      TEMPORAL_HISTORY_PORT: String(await findFreePort()),
      TEMPORAL_MATCHING_PORT: String(await findFreePort()),
      TEMPORAL_WORKER_PORT: String(await findFreePort()),
      TEMPORAL_FRONTEND_HTTP_PORT: String(await findFreePort()),
      // Four membership ports from the base: base, +1, +2, +6 (below the ephemeral range, so nothing else takes them).
      TEMPORAL_MEMBERSHIP_BASE_PORT: String(20_000 + Math.floor(Math.random() * 4_000) * 2),
    };
    // As root PostgreSQL runs as the postgres user, which must pass through the test's 0700 folder (the launcher opens only its own data folder).
    await chmod(dir.path, 0o711);
    const { launcher, pids } = await runUntilReady(env, ['--temporal=cluster']);
    expect(launcher.output).toContain('Temporal (cluster profile: four services over PostgreSQL)');
    for (const name of ['temporal-history', 'temporal-matching', 'temporal-worker', 'temporal-postgres', 'temporal-ui']) expect(launcher.output).toMatch(new RegExp(`\\n${name} `));
    // The dev server's nine processes, with Temporal as four services, PostgreSQL and the UI server: 14.
    expect(pids).toHaveLength(14);
    const uiUrl = `http://127.0.0.1:${env.TEMPORAL_UI_PORT as string}`;
    expect(launcher.output).toContain(`Temporal Web UI: ${uiUrl}`);
    expect((await fetch(uiUrl)).status).toBe(200);
    const keys = JSON.parse(await readFile(join(env.DATA_DIR as string, 'secrets', 'api-keys.json'), 'utf8')) as Array<{ role: string; key: string }>;
    const operator = apiCaller(`http://127.0.0.1:${env.TRANSFER_API_PORT as string}`, keys.find((key) => key.role === 'operator')?.key as string);
    expect((await operator.post('/v1/banks/bank-a/accounts', { accountId: 'payer', owner: 'Payer', currency: 'EUR' }, { 'idempotency-key': 'open-payer' })).status).toBe(201);
    expect((await operator.post('/v1/banks/bank-a/accounts', { accountId: 'payee', owner: 'Payee', currency: 'EUR' }, { 'idempotency-key': 'open-payee' })).status).toBe(201);
    expect((await operator.post('/v1/banks/bank-a/accounts/payer/deposits', { depositId: 'seed', amountMinor: '500', currency: 'EUR' }, { 'idempotency-key': 'seed' })).status).toBe(200);
    const created = await operator.post('/v1/transfers', { source: { bankId: 'bank-a', accountId: 'payer' }, target: { bankId: 'bank-a', accountId: 'payee' }, amountMinor: '200', currency: 'EUR' }, { 'idempotency-key': 'cluster-profile-1' });
    expect(created.status).toBe(202);
    const ended = await eventually('the transfer ended', async () => {
      const answer = await operator.get(`/v1/transfers/${String(created.body.id)}`);
      return ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'].includes(String(answer.body.status)) ? answer.body : undefined;
    });
    expect(ended.status).toBe('COMPLETED');
    expect((await operator.get('/v1/banks/bank-a/accounts/payee')).body.balanceMinor).toBe('200');
    await interruptAndCheckNoOrphans(launcher, pids);
  });

  test('when restarted on the same data folder, then the data is still there; with --fresh it is gone', async () => {
    const env = await launcherEnv(join(dir.path, 'restart'));
    const url = `mongodb://127.0.0.1:${env.FERRETDB_BASE_PORT}/`;
    const readMarker = async (): Promise<unknown> => {
      const client = new MongoClient(url);
      try {
        return await client.db('launcher').collection<{ _id: string }>('markers').findOne({ _id: 'kept' });
      } finally {
        await client.close();
      }
    };

    let run = await runUntilReady(env);
    const client = new MongoClient(url);
    await client.db('launcher').collection<{ _id: string }>('markers').insertOne({ _id: 'kept' });
    await client.close();
    await interruptAndCheckNoOrphans(run.launcher, run.pids);

    run = await runUntilReady(env);
    expect(await readMarker()).toEqual({ _id: 'kept' });
    await interruptAndCheckNoOrphans(run.launcher, run.pids);

    run = await runUntilReady(env, ['--servers-only', '--fresh']);
    expect(await readMarker()).toBeNull();
    await interruptAndCheckNoOrphans(run.launcher, run.pids);
  });

  test('when TEMPORAL_NAMESPACE_RETENTION is unset, then the namespace keeps closed workflows 72 hours; when it is changed, the next start on the same data applies it', async () => {
    const env = await launcherEnv(join(dir.path, 'retention'));
    let run = await runUntilReady(env);
    expect(await namespaceRetentionSeconds(env.TEMPORAL_PORT as string)).toBe(72 * 3_600);
    await interruptAndCheckNoOrphans(run.launcher, run.pids);

    run = await runUntilReady({ ...env, TEMPORAL_NAMESPACE_RETENTION: '10d' });
    expect(await namespaceRetentionSeconds(env.TEMPORAL_PORT as string)).toBe(240 * 3_600);
    await interruptAndCheckNoOrphans(run.launcher, run.pids);
  });

  test('when the launcher itself was killed, then the next start ends the processes it left behind', async () => {
    const env = await launcherEnv(join(dir.path, 'killed'));
    const first = await runUntilReady(env);
    first.launcher.kill();
    await first.launcher.exited;
    expect(first.pids.every(processAlive)).toBe(true);

    const second = await runUntilReady(env);
    expect(second.launcher.output).toContain('left over from an earlier run');
    expect(first.pids.filter(processAlive)).toEqual([]);
    await interruptAndCheckNoOrphans(second.launcher, second.pids);
  });

  test('when a port is taken, then it exits at once with a message naming the variable', async () => {
    const env = await launcherEnv(join(dir.path, 'taken'));
    const holder = await runUntilReady(env);
    const second = LauncherProcess.start({ ...env, DATA_DIR: join(dir.path, 'taken-2') }, ['--servers-only']);
    expect(await second.exited).toBe(1);
    expect(second.output).toMatch(/already in use.*set TEMPORAL_PORT/);
    await interruptAndCheckNoOrphans(holder.launcher, holder.pids);
  });

  test('when a setting is invalid, then it exits with a message naming the variable', async () => {
    const launcher = LauncherProcess.start({ DATA_DIR: join(dir.path, 'invalid'), TEMPORAL_PORT: 'seven' });
    expect(await launcher.exited).toBe(1);
    expect(launcher.output).toContain('Invalid TEMPORAL_PORT');
    const tooShort = LauncherProcess.start({ DATA_DIR: join(dir.path, 'invalid'), TEMPORAL_NAMESPACE_RETENTION: '12h' });
    expect(await tooShort.exited).toBe(1);
    expect(tooShort.output).toContain('Invalid TEMPORAL_NAMESPACE_RETENTION: at least 24h');
  });
});
