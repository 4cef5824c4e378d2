import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporalBinaryPath } from '../../../infra/binaries';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { apiCaller, eventually, type ApiCaller, type HttpAnswer } from '../../support/http';

const projectRoot = join(__dirname, '..', '..', '..');

jest.setTimeout(300_000);

/** `npm run replay:capture` sets this to write each path's history for the replay tests. */
const captureDir = process.env.CAPTURE_HISTORIES_DIR;

/**
 * Every path of the saga end to end on the real local cluster: API, Temporal, worker,
 * account services, FerretDB. Each test asserts the final balances at both banks exactly.
 */
describe('transfer saga end to end', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let approver: ApiCaller;
  let n = 0;

  const accounts: Array<[string, string, string, bigint]> = [
    ['bank-a', 'alice', 'EUR', 100_000_000n],
    ['bank-a', 'pat', 'EUR', 100n],
    ['bank-b', 'bob', 'EUR', 0n],
    ['bank-b', 'ulla', 'USD', 0n],
    ['bank-b', 'frida', 'EUR', 0n],
    ['bank-c', 'carl', 'EUR', 0n],
  ];

  beforeAll(async () => {
    env = await startTestCluster('saga-end-to-end', {
      services: true,
      serviceEnv: {
        APPROVAL_THRESHOLD_MINOR: '1000000',
        APPROVAL_TIMEOUT_MS: '3000',
        CREDIT_GIVE_UP_AFTER_MS: '3000',
        DEBIT_GIVE_UP_AFTER_MS: '3000',
        REFUND_ATTENTION_AFTER_ATTEMPTS: '2',
        LOG_LEVEL: 'warn',
      },
    });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    // Four eyes: the operator who created a transfer does not decide it.
    approver = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator-2'));
    for (const [bankId, accountId, currency, funds] of accounts) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency })).status).toBe(201);
      if (funds > 0n) expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(funds), currency })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await env?.stop();
  });

  async function balance(bankId: string, accountId: string): Promise<bigint> {
    return BigInt(String((await operator.get(`/v1/banks/${bankId}/accounts/${accountId}`)).body.balanceMinor));
  }

  async function balances(): Promise<Map<string, bigint>> {
    const all = new Map<string, bigint>();
    for (const [bankId, accountId] of accounts) all.set(`${bankId}:${accountId}`, await balance(bankId, accountId));
    return all;
  }

  /** Asserts that only the named accounts changed, by exactly the given amounts. */
  async function expectBalanceChanges(before: Map<string, bigint>, changes: Record<string, bigint>): Promise<void> {
    const after = await balances();
    const expected = new Map([...before].map(([key, value]) => [key, value + (changes[key] ?? 0n)]));
    expect(Object.fromEntries([...after].map(([key, value]) => [key, String(value)]))).toEqual(Object.fromEntries([...expected].map(([key, value]) => [key, String(value)])));
  }

  async function start(source: string, target: string, amountMinor: string, currency = 'EUR'): Promise<string> {
    n += 1;
    const [sourceBank, sourceAccount] = source.split(':') as [string, string];
    const [targetBank, targetAccount] = target.split(':') as [string, string];
    const answer = await operator.post(
      '/v1/transfers',
      { source: { bankId: sourceBank, accountId: sourceAccount }, target: { bankId: targetBank, accountId: targetAccount }, amountMinor, currency },
      { 'idempotency-key': `e2e-${n}` },
    );
    expect(answer.status).toBe(202);
    return String(answer.body.id);
  }

  async function waitFor(id: string, predicate: (transfer: HttpAnswer['body']) => boolean, what: string, timeoutMs = 60_000): Promise<HttpAnswer['body']> {
    return eventually(`${id} ${what}`, async () => {
      const transfer = (await operator.get(`/v1/transfers/${id}`)).body;
      return predicate(transfer) ? transfer : undefined;
    }, timeoutMs, 100);
  }

  const ended = (id: string) => waitFor(id, (transfer) => ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'].includes(String(transfer.status)), 'to end', 120_000);

  /** Exports the history with the temporal CLI, in the JSON form `Worker.runReplayHistories` reads. */
  async function capture(name: string, id: string): Promise<void> {
    if (!captureDir) return;
    const exported = spawnSync(temporalBinaryPath(), ['workflow', 'show', '--workflow-id', transferWorkflowId(id), '--address', env.cluster.temporalAddress, '--output', 'json'], { encoding: 'utf8' });
    expect(exported.status).toBe(0);
    mkdirSync(captureDir, { recursive: true });
    writeFileSync(join(captureDir, `${name}.json`), exported.stdout);
  }

  test('when money moves between two banks, then COMPLETED and exactly the amount moved', async () => {
    const before = await balances();
    const id = await start('bank-a:alice', 'bank-b:bob', '2500');
    expect(await ended(id)).toMatchObject({ status: 'COMPLETED' });
    await expectBalanceChanges(before, { 'bank-a:alice': -2500n, 'bank-b:bob': 2500n });
    await capture('completed', id);
  });

  test.each([
    ['insufficient funds', 'bank-a:pat', 'bank-b:bob', '200', 'EUR', 'INSUFFICIENT_FUNDS'],
    ['an unknown source account', 'bank-a:nobody', 'bank-b:bob', '200', 'EUR', 'ACCOUNT_NOT_FOUND'],
    ['a currency the source does not hold', 'bank-a:alice', 'bank-b:bob', '200', 'USD', 'CURRENCY_MISMATCH'],
  ])('when the debit meets %s, then REJECTED and no balance changes', async (_name, source, target, amount, currency, reason) => {
    const before = await balances();
    const id = await start(source, target, amount, currency);
    expect(await ended(id)).toMatchObject({ status: 'REJECTED', reason });
    await expectBalanceChanges(before, {});
    await capture(`rejected-${reason.toLowerCase()}`, id);
  });

  test.each([
    ['holds another currency', 'bank-b:ulla', 'CURRENCY_MISMATCH'],
    ['does not exist', 'bank-b:nobody', 'ACCOUNT_NOT_FOUND'],
  ])('when the target account %s, then the credit is refused and the source refunded exactly', async (_name, target, reason) => {
    const before = await balances();
    const id = await start('bank-a:alice', target, '700');
    expect(await ended(id)).toMatchObject({ status: 'REFUNDED', reason });
    await expectBalanceChanges(before, {});
    await capture(`refunded-${reason.toLowerCase()}`, id);
  });

  test('when the target account is frozen, then REFUNDED with ACCOUNT_FROZEN; after unfreezing, money reaches it', async () => {
    expect((await operator.post('/v1/banks/bank-b/accounts/frida/freeze', {}, { 'idempotency-key': 'freeze-frida' })).status).toBe(200);
    const before = await balances();
    const frozen = await start('bank-a:alice', 'bank-b:frida', '300');
    expect(await ended(frozen)).toMatchObject({ status: 'REFUNDED', reason: 'ACCOUNT_FROZEN' });
    await expectBalanceChanges(before, {});
    expect((await operator.post('/v1/banks/bank-b/accounts/frida/unfreeze', {}, { 'idempotency-key': 'unfreeze-frida' })).status).toBe(200);
    const thawed = await start('bank-a:alice', 'bank-b:frida', '300');
    expect(await ended(thawed)).toMatchObject({ status: 'COMPLETED' });
    await expectBalanceChanges(before, { 'bank-a:alice': -300n, 'bank-b:frida': 300n });
    await capture('refunded-account_frozen', frozen);
  });

  test('when the target bank is down past the credit limit, then the transfer needs attention until the bank is back, then REFUNDED with CREDIT_FAILED', async () => {
    const before = await balances();
    await env.cluster.kill('account-service-bank-c');
    const id = await start('bank-a:alice', 'bank-c:carl', '900');
    await waitFor(id, (transfer) => transfer.needsAttention === true, 'to need attention');
    const flagged = await operator.get('/v1/transfers?status=DEBITED');
    expect((flagged.body.data as Array<{ id: string }>).map((item) => item.id)).toContain(id);
    // The operator's view of stuck transfers (runbook): the API filter and the CLI both list it.
    const listedIds = async () => ((await operator.get('/v1/transfers?needsAttention=true')).body.data as Array<{ id: string }>).map((item) => item.id);
    await eventually('the needsAttention list to show it', async () => ((await listedIds()).includes(id) ? true : undefined));
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'services/transfer-api/cli/main.ts'), '--json', '--api-url', env.cluster.transferApiUrl, '--api-key', env.keyFor('operator'), 'list', '--needs-attention'], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
    expect(cli.status).toBe(0);
    expect((JSON.parse(cli.stdout) as { data: Array<{ id: string; needsAttention: boolean }> }).data).toContainEqual(expect.objectContaining({ id, needsAttention: true }));
    await env.cluster.restart('account-service-bank-c');
    expect(await ended(id)).toMatchObject({ status: 'REFUNDED', reason: 'CREDIT_FAILED', needsAttention: false });
    await eventually('the needsAttention list to drop it', async () => ((await listedIds()).includes(id) ? undefined : true));
    await expectBalanceChanges(before, {});
    await capture('refunded-credit_failed', id);
  });

  test('when the source bank is down past the debit limit, then the refund voids the debit once the bank is back: REJECTED', async () => {
    const before = await balances();
    await env.cluster.kill('account-service-bank-a');
    const id = await start('bank-a:alice', 'bank-b:bob', '400');
    await waitFor(id, (transfer) => transfer.status === 'COMPENSATING', 'to compensate');
    await env.cluster.restart('account-service-bank-a');
    expect(await ended(id)).toMatchObject({ status: 'REJECTED', reason: 'BANK_UNAVAILABLE' });
    await expectBalanceChanges(before, {});
    const entries = (await operator.get('/v1/banks/bank-a/accounts/alice/entries?limit=500')).body.data as Array<{ operationId: string; kind: string }>;
    expect(entries.filter((entry) => entry.operationId === `${id}:debit`).map((entry) => entry.kind)).toEqual(['void']);
    await capture('rejected-debit_unknown', id);
  });

  test('when the source bank is down past the debit limit and the source account does not exist, then REJECTED with ACCOUNT_NOT_FOUND once the bank is back', async () => {
    const before = await balances();
    await env.cluster.kill('account-service-bank-a');
    const id = await start('bank-a:nobody', 'bank-b:bob', '400');
    await waitFor(id, (transfer) => transfer.status === 'COMPENSATING', 'to compensate');
    await env.cluster.restart('account-service-bank-a');
    expect(await ended(id)).toMatchObject({ status: 'REJECTED', reason: 'ACCOUNT_NOT_FOUND', needsAttention: false });
    await expectBalanceChanges(before, {});
  });

  test('when the workflow itself is cancelled (as from the Web UI) while awaiting approval, then the API shows CANCELLED and nothing moves', async () => {
    const before = await balances();
    const id = await start('bank-a:alice', 'bank-b:bob', '4000000');
    await waitFor(id, (transfer) => transfer.status === 'AWAITING_APPROVAL', 'to await approval');
    const connection = await Connection.connect({ address: env.cluster.temporalAddress });
    try {
      await new Client({ connection }).workflow.getHandle(transferWorkflowId(id)).cancel();
    } finally {
      await connection.close();
    }
    expect(await ended(id)).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_OPERATOR' });
    await expectBalanceChanges(before, {});
  });

  describe('approval', () => {
    const awaiting = (id: string) => waitFor(id, (transfer) => transfer.status === 'AWAITING_APPROVAL', 'to await approval');

    test('when approved, then COMPLETED', async () => {
      const before = await balances();
      const id = await start('bank-a:alice', 'bank-b:bob', '1000000');
      await awaiting(id);
      expect((await approver.post(`/v1/transfers/${id}/approve`, {})).status).toBe(200);
      expect(await ended(id)).toMatchObject({ status: 'COMPLETED' });
      await expectBalanceChanges(before, { 'bank-a:alice': -1_000_000n, 'bank-b:bob': 1_000_000n });
      await capture('approved', id);
    });

    test('when rejected, then REJECTED with APPROVAL_REJECTED and nothing moves', async () => {
      const before = await balances();
      const id = await start('bank-a:alice', 'bank-b:bob', '1000001');
      await awaiting(id);
      expect((await approver.post(`/v1/transfers/${id}/reject`, {})).status).toBe(200);
      expect(await ended(id)).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_REJECTED' });
      await expectBalanceChanges(before, {});
      await capture('approval-rejected', id);
    });

    test('when nobody decides in time, then REJECTED with APPROVAL_TIMED_OUT and nothing moves', async () => {
      const before = await balances();
      const id = await start('bank-a:alice', 'bank-b:bob', '2000000');
      expect(await ended(id)).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_TIMED_OUT' });
      await expectBalanceChanges(before, {});
      await capture('approval-timed-out', id);
    });

    test('when cancelled while awaiting approval, then CANCELLED and nothing moves', async () => {
      const before = await balances();
      const id = await start('bank-a:alice', 'bank-b:bob', '3000000');
      await awaiting(id);
      expect((await operator.post(`/v1/transfers/${id}/cancel`, {})).status).toBe(200);
      expect(await ended(id)).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_OPERATOR' });
      await expectBalanceChanges(before, {});
      await capture('cancelled-before-debit', id);
    });
  });

  test('when cancelled after the debit while the target bank is down, then the credit is voided and the source refunded exactly', async () => {
    const before = await balances();
    await env.cluster.kill('account-service-bank-c');
    const id = await start('bank-a:alice', 'bank-c:carl', '650');
    await waitFor(id, (transfer) => transfer.status === 'DEBITED', 'to be debited');
    const cancel = operator.post(`/v1/transfers/${id}/cancel`, { comment: 'customer asked' });
    await env.cluster.restart('account-service-bank-c');
    expect([200, 503]).toContain((await cancel).status);
    expect(await ended(id)).toMatchObject({ status: 'REFUNDED', reason: 'CANCELLED_BY_OPERATOR' });
    await expectBalanceChanges(before, {});
    await capture('cancelled-after-debit', id);
  });

  test('when cancelled after the credit, then 409 TRANSFER_NOT_CANCELLABLE and the money stays moved', async () => {
    const before = await balances();
    const id = await start('bank-a:alice', 'bank-c:carl', '10');
    expect(await ended(id)).toMatchObject({ status: 'COMPLETED' });
    const refused = await operator.post(`/v1/transfers/${id}/cancel`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('TRANSFER_NOT_CANCELLABLE');
    await expectBalanceChanges(before, { 'bank-a:alice': -10n, 'bank-c:carl': 10n });
  });
});
