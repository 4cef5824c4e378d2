import { startTestCluster, type TestCluster } from '../../support/cluster';
import { runCli, type CliRun } from '../../support/cli';
import { apiCaller, eventually, type ApiCaller, type HttpAnswer } from '../../support/http';
import { xsdErrors } from '../../support/xsd-validation';

jest.setTimeout(300_000);

const approvalThresholdMinor = 1_000_000n;

/**
 * The transfer API on the real local cluster (Temporal, FerretDB, account services,
 * worker): idempotency, ownership, lists, operator decisions, the CLI, and a run of 200
 * transfers that leaves the sum of all balances unchanged.
 */
describe('transfer API on the real cluster', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let clientA: ApiCaller;
  let clientB: ApiCaller;

  const accounts = [
    ['bank-a', 'alice'],
    ['bank-a', 'arthur'],
    ['bank-b', 'bob'],
    ['bank-b', 'berta'],
    ['bank-c', 'carol'],
    ['bank-c', 'chris'],
  ] as const;
  const initialMinor = 5_000_000n;

  async function finalTransfer(caller: ApiCaller, id: string): Promise<HttpAnswer['body']> {
    return eventually(`transfer ${id} to end`, async () => {
      const answer = await caller.get(`/v1/transfers/${id}`);
      return ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'].includes(String(answer.body.status)) ? answer.body : undefined;
    }, 120_000);
  }

  async function balance(bankId: string, accountId: string): Promise<bigint> {
    const answer = await operator.get(`/v1/banks/${bankId}/accounts/${accountId}`);
    expect(answer.status).toBe(200);
    return BigInt(String(answer.body.balanceMinor));
  }

  async function totalBalance(): Promise<bigint> {
    let sum = 0n;
    for (const [bankId, accountId] of accounts) sum += await balance(bankId, accountId);
    return sum;
  }

  function create(caller: ApiCaller, key: string, from: readonly [string, string], to: readonly [string, string], amountMinor: string, extra: Record<string, unknown> = {}) {
    return caller.post(
      '/v1/transfers',
      { source: { bankId: from[0], accountId: from[1] }, target: { bankId: to[0], accountId: to[1] }, amountMinor, currency: 'EUR', ...extra },
      { 'idempotency-key': key },
    );
  }

  beforeAll(async () => {
    env = await startTestCluster('transfer-api-transfers', { services: true, serviceEnv: { APPROVAL_THRESHOLD_MINOR: String(approvalThresholdMinor), LOG_LEVEL: 'warn' } });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    clientA = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-a'));
    clientB = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-b'));
    for (const [bankId, accountId] of accounts) {
      const opened = await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' });
      expect(opened.status).toBe(201);
      const funded = await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(initialMinor), currency: 'EUR' });
      expect(funded.status).toBe(200);
    }
  });

  afterAll(async () => {
    await env?.stop();
  });

  describe('accounts through the API', () => {
    test('when an account is opened twice with the same fields, then the second answer is 200 with the same account', async () => {
      const again = await operator.post('/v1/banks/bank-a/accounts', { accountId: 'alice', owner: 'alice', currency: 'EUR' });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ accountId: 'alice', bankId: 'bank-a', currency: 'EUR' });
    });

    test('when an account id is reused with other fields, then it is 409 IDEMPOTENCY_CONFLICT', async () => {
      const conflict = await operator.post('/v1/banks/bank-a/accounts', { accountId: 'alice', owner: 'someone else', currency: 'EUR' });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error?.code).toBe('IDEMPOTENCY_CONFLICT');
    });

    test('when the entries of a funded account are listed, then they end with the deposit', async () => {
      const page = await operator.get('/v1/banks/bank-b/accounts/bob/entries');
      expect(page.status).toBe(200);
      const entries = page.body.data as Array<{ kind: string; amountMinor: string; balanceAfterMinor: string }>;
      expect(entries.at(-1)).toMatchObject({ kind: 'deposit', amountMinor: String(initialMinor), balanceAfterMinor: String(initialMinor) });
    });

    test('when a bank is down, then its routes are 503 BANK_UNAVAILABLE, and they work again after it restarts', async () => {
      await env.cluster.kill('account-service-bank-c');
      const down = await operator.get('/v1/banks/bank-c/accounts/carol');
      expect(down.status).toBe(503);
      expect(down.body.error?.code).toBe('BANK_UNAVAILABLE');
      await env.cluster.restart('account-service-bank-c');
      expect(await balance('bank-c', 'carol')).toBe(initialMinor);
    });
  });

  describe('idempotent create', () => {
    test('when the same key and body are sent again, then the same transfer comes back as a 200 replay', async () => {
      const first = await create(clientA, 'idem-1', accounts[0], accounts[2], '100');
      expect(first.status).toBe(202);
      const again = await create(clientA, 'idem-1', accounts[0], accounts[2], '100');
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.id).toBe(first.body.id);
      expect((await finalTransfer(clientA, String(first.body.id))).status).toBe('COMPLETED');
    });

    test('when the same key comes with another body, then it is 422 IDEMPOTENCY_KEY_REUSED and nothing starts', async () => {
      const first = await create(clientA, 'idem-2', accounts[0], accounts[2], '100');
      expect(first.status).toBe(202);
      const other = await create(clientA, 'idem-2', accounts[0], accounts[2], '101');
      expect(other.status).toBe(422);
      expect(other.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });
      await finalTransfer(clientA, String(first.body.id));
    });

    test('when two clients use the same key, then they get two different transfers', async () => {
      const a = await create(clientA, 'shared-key', accounts[1], accounts[3], '10');
      const b = await create(clientB, 'shared-key', accounts[1], accounts[3], '10');
      expect([a.status, b.status]).toEqual([202, 202]);
      expect(a.body.id).not.toBe(b.body.id);
      await finalTransfer(operator, String(a.body.id));
      await finalTransfer(operator, String(b.body.id));
    });

    test('when 20 identical creates race, then one transfer starts and every answer names it', async () => {
      const before = await balance('bank-b', 'berta');
      const answers = await Promise.all(Array.from({ length: 20 }, () => create(clientA, 'race-20', accounts[4], accounts[3], '777')));
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 202)).toHaveLength(1);
      expect(statuses.every((status) => [200, 202, 409].includes(status))).toBe(true);
      const ids = new Set(answers.filter((answer) => answer.status !== 409).map((answer) => answer.body.id));
      expect(ids.size).toBe(1);
      const [id] = [...ids];
      expect((await finalTransfer(clientA, String(id))).status).toBe('COMPLETED');
      expect(await balance('bank-b', 'berta')).toBe(before + 777n);
    });
  });

  describe('reading', () => {
    test("when a client reads another client's transfer, then it is 404 as if it did not exist", async () => {
      const created = await create(clientA, 'private-1', accounts[0], accounts[4], '5');
      const other = await clientB.get(`/v1/transfers/${created.body.id}`);
      expect(other.status).toBe(404);
      expect(other.body.error?.code).toBe('TRANSFER_NOT_FOUND');
      await finalTransfer(clientA, String(created.body.id));
    });

    test('when transfers are listed with filters and a small page, then each page holds only matching ones and the cursor reaches them all', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 3; n += 1) {
        const created = await create(clientB, `list-${n}`, accounts[5], accounts[1], String(10 + n));
        ids.push(String(created.body.id));
      }
      for (const id of ids) await finalTransfer(clientB, id);
      const seen: string[] = [];
      let cursor: string | null = null;
      await eventually('visibility to list all three', async () => {
        seen.length = 0;
        cursor = null;
        do {
          const page: HttpAnswer = await clientB.get(`/v1/transfers?sourceBank=bank-c&targetBank=bank-a&account=chris&status=COMPLETED&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          expect(page.status).toBe(200);
          const data = page.body.data as Array<{ id: string; source: { accountId: string }; status: string; requestedBy: string }>;
          expect(data.length).toBeLessThanOrEqual(2);
          for (const item of data) {
            expect(item).toMatchObject({ status: 'COMPLETED', requestedBy: 'client-b', source: { accountId: 'chris' } });
            seen.push(item.id);
          }
          cursor = page.body.nextCursor as string | null;
        } while (cursor);
        return ids.every((id) => seen.includes(id)) ? true : undefined;
      });
      expect(new Set(seen).size).toBe(seen.length);
      const clientAView = await clientA.get('/v1/transfers?account=chris');
      expect((clientAView.body.data as Array<{ id: string }>).filter((item) => ids.includes(item.id))).toEqual([]);
    });
  });

  describe('operator decisions', () => {
    test('when a transfer at the threshold is approved, then it completes', async () => {
      const created = await create(clientA, 'approve-1', accounts[1], accounts[5], String(approvalThresholdMinor));
      await eventually('AWAITING_APPROVAL', async () => ((await operator.get(`/v1/transfers/${created.body.id}`)).body.status === 'AWAITING_APPROVAL' ? true : undefined));
      const listed = await eventually('the approval queue to list it', async () => {
        const page = await operator.get('/v1/transfers?status=AWAITING_APPROVAL');
        return (page.body.data as Array<{ id: string }>).some((item) => item.id === created.body.id) ? true : undefined;
      });
      expect(listed).toBe(true);
      const approved = await operator.post(`/v1/transfers/${created.body.id}/approve`, { comment: 'checked' });
      expect(approved.status).toBe(200);
      const final = await finalTransfer(operator, String(created.body.id));
      expect(final.status).toBe('COMPLETED');
      const approval = (final.steps as Array<{ name: string; decidedBy?: string }>).find((step) => step.name === 'approval');
      expect(approval?.decidedBy).toBe('operator');
    });

    test('when a transfer awaiting approval is rejected, then it ends REJECTED with APPROVAL_REJECTED and no money moved', async () => {
      const before = await balance('bank-a', 'arthur');
      const created = await create(clientA, 'reject-1', accounts[1], accounts[5], String(approvalThresholdMinor + 1n));
      await eventually('AWAITING_APPROVAL', async () => ((await operator.get(`/v1/transfers/${created.body.id}`)).body.status === 'AWAITING_APPROVAL' ? true : undefined));
      expect((await operator.post(`/v1/transfers/${created.body.id}/reject`, {})).status).toBe(200);
      const final = await finalTransfer(operator, String(created.body.id));
      expect(final).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_REJECTED' });
      expect(await balance('bank-a', 'arthur')).toBe(before);
      const late = await operator.post(`/v1/transfers/${created.body.id}/approve`, {});
      expect(late.status).toBe(409);
      expect(late.body.error?.code).toBe('TRANSFER_NOT_AWAITING_APPROVAL');
    });

    test('when a transfer awaiting approval is cancelled, then it ends CANCELLED; a completed one cannot be cancelled', async () => {
      const waiting = await create(clientA, 'cancel-1', accounts[1], accounts[5], String(approvalThresholdMinor));
      await eventually('AWAITING_APPROVAL', async () => ((await operator.get(`/v1/transfers/${waiting.body.id}`)).body.status === 'AWAITING_APPROVAL' ? true : undefined));
      expect((await operator.post(`/v1/transfers/${waiting.body.id}/cancel`, {})).status).toBe(200);
      expect(await finalTransfer(operator, String(waiting.body.id))).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_OPERATOR' });

      const done = await create(clientA, 'cancel-2', accounts[1], accounts[5], '1');
      expect((await finalTransfer(operator, String(done.body.id))).status).toBe('COMPLETED');
      const refused = await operator.post(`/v1/transfers/${done.body.id}/cancel`, {});
      expect(refused.status).toBe(409);
      expect(refused.body.error?.code).toBe('TRANSFER_NOT_CANCELLABLE');
    });

    test('when a transfer lacks funds, then it ends REJECTED with INSUFFICIENT_FUNDS and no balance changes', async () => {
      expect((await operator.post('/v1/banks/bank-a/accounts', { accountId: 'pauper', owner: 'Pauper', currency: 'EUR' })).status).toBe(201);
      expect((await operator.post('/v1/banks/bank-a/accounts/pauper/deposits', { depositId: 'pauper-1', amountMinor: '50', currency: 'EUR' })).status).toBe(200);
      const targetBefore = await balance('bank-c', 'carol');
      const created = await create(clientA, 'poor-1', ['bank-a', 'pauper'], accounts[4], '100');
      expect(await finalTransfer(clientA, String(created.body.id))).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
      expect(await balance('bank-a', 'pauper')).toBe(50n);
      expect(await balance('bank-c', 'carol')).toBe(targetBefore);
    });
  });

  describe('operator CLI', () => {
    const cli = (...args: string[]): CliRun => runCli(env.cluster.transferApiUrl, env.keyFor('operator'), ...args);

    test('when an operator opens and funds an account, creates a transfer and watches it, then the CLI shows each step and the end', async () => {
      expect(cli('accounts', 'open', 'bank-a', 'cli-payer', '--owner', 'CLI Payer', '--currency', 'EUR').status).toBe(0);
      const funded = cli('accounts', 'fund', 'bank-a', 'cli-payer', '--amount', '5000', '--currency', 'EUR', '--deposit-id', 'cli-dep-1');
      expect(funded.status).toBe(0);
      expect(JSON.parse(funded.stdout)).toMatchObject({ balanceAfterMinor: '5000' });
      const created = cli('create', '--from', 'bank-a:cli-payer', '--to', 'bank-b:bob', '--amount', '1250', '--currency', 'EUR', '--idempotency-key', 'cli-1');
      expect(created.status).toBe(0);
      const id = String((JSON.parse(created.stdout) as { id: string }).id);
      const watched = cli('watch', id, '--interval-ms', '200');
      expect(watched.status).toBe(0);
      const last = JSON.parse(watched.stdout.trim().split('\n').at(-1) ?? '{}') as { status: string };
      expect(last.status).toBe('COMPLETED');
      expect(JSON.parse(cli('get', id).stdout)).toMatchObject({ id, status: 'COMPLETED' });
      expect(JSON.parse(cli('accounts', 'get', 'bank-a', 'cli-payer').stdout)).toMatchObject({ balanceMinor: '3750' });
      const listed = JSON.parse(cli('list', '--account', 'cli-payer').stdout) as { data: Array<{ id: string }> };
      expect(listed.data.map((item) => item.id)).toContain(id);
    });

    test('when an operator works the approval queue with the CLI, then approve completes one transfer and cancel ends another with nothing moved', async () => {
      const big = String(approvalThresholdMinor);
      // A client's transfers fill the queue (with four eyes, the operator may not decide its own).
      const clientCli = (...args: string[]): CliRun => runCli(env.cluster.transferApiUrl, env.keyFor('client-a'), ...args);
      const toApprove = JSON.parse(clientCli('create', '--from', 'bank-a:arthur', '--to', 'bank-b:berta', '--amount', big, '--currency', 'EUR', '--idempotency-key', 'cli-approve').stdout) as { id: string };
      const toCancel = JSON.parse(clientCli('create', '--from', 'bank-a:arthur', '--to', 'bank-b:berta', '--amount', big, '--currency', 'EUR', '--idempotency-key', 'cli-cancel').stdout) as { id: string };
      const toReject = JSON.parse(clientCli('create', '--from', 'bank-a:arthur', '--to', 'bank-b:berta', '--amount', big, '--currency', 'EUR', '--idempotency-key', 'cli-reject').stdout) as { id: string };
      await eventually('all three to await approval', async () => {
        const queue = JSON.parse(cli('list', '--status', 'AWAITING_APPROVAL').stdout) as { data: Array<{ id: string }> };
        const ids = queue.data.map((item) => item.id);
        return [toApprove.id, toCancel.id, toReject.id].every((id) => ids.includes(id)) ? true : undefined;
      }, 60_000, 1_000);
      const approved = cli('approve', toApprove.id, '--comment', 'checked with the payer');
      expect(approved.status).toBe(0);
      expect(cli('cancel', toCancel.id, '--comment', 'payer withdrew').status).toBe(0);
      expect(cli('reject', toReject.id, '--comment', 'not authorised').status).toBe(0);
      expect(await finalTransfer(operator, toApprove.id)).toMatchObject({ status: 'COMPLETED' });
      expect(await finalTransfer(operator, toCancel.id)).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_OPERATOR' });
      expect(await finalTransfer(operator, toReject.id)).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_REJECTED' });
      // The ledger shows the approved debit; the cancelled and the rejected transfer's debit slots hold voids, which move nothing.
      const entries = JSON.parse(cli('accounts', 'entries', 'bank-a', 'arthur', '--limit', '500').stdout) as { data: Array<{ operationId: string; kind: string; amountMinor: string }> };
      const ours = entries.data.filter((entry) => [toApprove.id, toCancel.id, toReject.id].some((id) => entry.operationId.startsWith(id)));
      expect(ours.map((entry) => `${entry.operationId} ${entry.kind}`).sort()).toEqual([`${toApprove.id}:debit debit`, `${toCancel.id}:debit void`, `${toReject.id}:debit void`].sort());
      expect(ours.filter((entry) => entry.kind === 'void').map((entry) => entry.amountMinor)).toEqual(['0', '0']);
    });

    test('when the CLI is refused, then it exits 1 and prints the error code', async () => {
      const refused = cli('approve', 'tr-0000000000000000000000000000000000000000');
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('TRANSFER_NOT_FOUND');
    });
  });

  describe('ISO 20022 messages', () => {
    const payer = ['bank-a', 'iso-payer'] as const;
    const payee = ['bank-b', 'iso-payee'] as const;
    /** Frozen before the transfer: its credit is refused and the transfer refunded. */
    const frozen = ['bank-c', 'iso-frozen'] as const;

    beforeAll(async () => {
      for (const [bankId, accountId] of [payer, payee, frozen]) {
        expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      }
      expect((await operator.post(`/v1/banks/${payer[0]}/accounts/${payer[1]}/deposits`, { depositId: 'seed-iso-payer', amountMinor: '100000', currency: 'EUR' })).status).toBe(200);
      expect((await operator.post(`/v1/banks/${frozen[0]}/accounts/${frozen[1]}/freeze`, {}, { 'idempotency-key': 'freeze-iso-frozen' })).status).toBe(200);
    });

    test('when the banks are listed, then each local bank has its test BIC', async () => {
      const answer = await clientA.get('/v1/banks');
      expect((answer.body.data as Array<{ bankId: string; bic: string | null }>).map((bank) => [bank.bankId, bank.bic])).toEqual([
        ['bank-a', 'BKAADEFFXXX'],
        ['bank-b', 'BKBBDEFFXXX'],
        ['bank-c', 'BKCCDEFFXXX'],
      ]);
    });

    test("when a transfer completes, then its served pacs.002 is valid, ACSC, with the client's UETR and end-to-end id, and it has no pacs.004", async () => {
      const uetr = '4e0c9a3b-6d1f-4b2a-9c8e-7f6a5b4c3d2e';
      const created = await create(clientA, 'iso-completed', payer, payee, '1250', { uetr, endToEndId: 'E2E-ISO-1' });
      expect(created.status).toBe(202);
      const final = await finalTransfer(clientA, String(created.body.id));
      expect([final.status, final.isoStatus, final.isoReasonCode, final.uetr, final.endToEndId]).toEqual(['COMPLETED', 'ACSC', null, uetr, 'E2E-ISO-1']);
      const report = await clientA.get(`/v1/transfers/${String(created.body.id)}/pacs002`);
      expect(report.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(await xsdErrors(report.text, 'pacs.002.001.11')).toEqual([]);
      expect(report.text).toContain('<TxSts>ACSC</TxSts>');
      expect(report.text).toContain(`<OrgnlUETR>${uetr}</OrgnlUETR>`);
      expect(report.text).toContain('<BICFI>BKBBDEFFXXX</BICFI>');
      expect((await clientA.get(`/v1/transfers/${String(created.body.id)}/pacs004`)).body.error?.code).toBe('TRANSFER_NOT_RETURNED');
      // The UETR names this payment for good: another transfer cannot take it.
      const again = await create(clientA, 'iso-completed-thief', payer, payee, '1250', { uetr });
      expect([again.status, again.body.error?.code]).toEqual([409, 'UETR_ALREADY_USED']);
    });

    test('when a transfer is refunded because the target account is frozen, then its served pacs.004 is a valid return with AC06 and its pacs.002 is RJCT', async () => {
      const created = await create(clientA, 'iso-refunded', payer, frozen, '700');
      const final = await finalTransfer(clientA, String(created.body.id));
      expect([final.status, final.reason, final.isoStatus, final.isoReasonCode]).toEqual(['REFUNDED', 'ACCOUNT_FROZEN', 'RJCT', 'AC06']);
      const returned = await clientA.get(`/v1/transfers/${String(created.body.id)}/pacs004`);
      expect(returned.status).toBe(200);
      expect(await xsdErrors(returned.text, 'pacs.004.001.10')).toEqual([]);
      expect(returned.text).toContain('<Cd>AC06</Cd>');
      expect(returned.text).toContain(`<OrgnlUETR>${String(final.uetr)}</OrgnlUETR>`);
      expect(returned.text).toContain('<RtrdIntrBkSttlmAmt Ccy="EUR">7.00</RtrdIntrBkSttlmAmt>');
      const report = await clientA.get(`/v1/transfers/${String(created.body.id)}/pacs002`);
      expect(await xsdErrors(report.text, 'pacs.002.001.11')).toEqual([]);
      expect(report.text).toContain('<TxSts>RJCT</TxSts>');
      expect((await clientB.get(`/v1/transfers/${String(created.body.id)}/pacs004`)).status).toBe(404);
    });
  });

  test('when 200 transfers run between three banks, then every one ends and the sum of all balances is unchanged', async () => {
    const totalBefore = await totalBalance();
    const ids: string[] = [];
    const concurrency = 20;
    for (let start = 0; start < 200; start += concurrency) {
      const batch = await Promise.all(
        Array.from({ length: concurrency }, (_, offset) => {
          const n = start + offset;
          const from = accounts[n % accounts.length] as readonly [string, string];
          const to = accounts[(n * 7 + 3) % accounts.length] as readonly [string, string];
          return create(operator, `bulk-${n}`, from, to === from ? (accounts[(n + 1) % accounts.length] as readonly [string, string]) : to, String(1 + ((n * 37) % 900)));
        }),
      );
      for (const answer of batch) {
        expect(answer.status).toBe(202);
        ids.push(String(answer.body.id));
      }
    }
    const statuses = new Map<string, number>();
    for (const id of ids) {
      const final = await finalTransfer(operator, id);
      statuses.set(String(final.status), (statuses.get(String(final.status)) ?? 0) + 1);
    }
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(200);
    expect(await totalBalance()).toBe(totalBefore);
  });
});
