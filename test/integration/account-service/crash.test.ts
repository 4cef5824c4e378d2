import { AccountServiceUnreachableError } from '../../../lib/clients/account-service-client';
import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(240_000);

describe.each([
  ['default settings (a batch is whatever queued meanwhile)', 'default', {}],
  // A linger makes every batch wait for company, so the kills land while batches are being appended.
  ['batches of up to 8 (group commit with a 20 ms linger)', 'linger', { LEDGER_BATCH_LINGER_MS: '20', LEDGER_BATCH_SIZE_MAX: '8' }],
])('account service: kill -9 during a stream of debits, %s', (_name, logName, serviceEnv) => {
  let bank: AccountServiceFixture;

  beforeAll(async () => {
    bank = await startAccountServiceFixture(`account-service-crash-${logName}`, 'bank-a', serviceEnv);
  });

  afterAll(async () => {
    await bank?.stop();
  });

  /** Retries like the saga's activities do: the same request until the service answers. */
  async function debitUntilAnswered(transferId: string): Promise<number> {
    for (;;) {
      try {
        const answer = await bank.call('POST', '/v1/accounts/stream/debits', { transferId, amountMinor: '7', currency: 'EUR' });
        if (answer.status < 500) return answer.status;
      } catch (error) {
        if (!(error instanceof AccountServiceUnreachableError)) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  test('when the service is killed mid-stream and restarted, then every debit applies exactly once and the entries sum to the balance', async () => {
    expect((await bank.call('POST', '/v1/accounts', { accountId: 'stream', owner: 'Stream', currency: 'EUR' })).status).toBe(201);
    expect((await bank.call('POST', '/v1/accounts/stream/deposits', { depositId: 'seed', amountMinor: '1000000', currency: 'EUR' })).status).toBe(200);

    const writers = 8;
    const perWriter = 40;
    const streams = Array.from({ length: writers }, async (_, writer) => {
      const statuses: number[] = [];
      for (let n = 0; n < perWriter; n += 1) statuses.push(await debitUntilAnswered(`stream-${writer}-${n}`));
      return statuses;
    });
    const crashes = (async () => {
      for (let crash = 0; crash < 3; crash += 1) {
        await new Promise((resolve) => setTimeout(resolve, 700));
        await bank.kill();
        await bank.restart();
      }
    })();
    const statuses = (await Promise.all(streams)).flat();
    await crashes;

    expect(statuses.every((status) => status === 200)).toBe(true);
    const entries: Array<{ operationId: string; amountMinor: string; balanceAfterMinor: string; sequence: number }> = [];
    let after: string | null = null;
    do {
      const page = (await bank.call('GET', `/v1/accounts/stream/entries?limit=500${after === null ? '' : `&after=${after}`}`)).body as { data: typeof entries; nextCursor: string | null };
      entries.push(...page.data);
      after = page.nextCursor;
    } while (after !== null);

    const operationIds = entries.map((entry) => entry.operationId);
    expect(new Set(operationIds).size).toBe(operationIds.length);
    expect(entries.filter((entry) => entry.operationId.startsWith('stream-'))).toHaveLength(writers * perWriter);
    let running = 0n;
    entries.forEach((entry, index) => {
      expect(entry.sequence).toBe(index);
      running += BigInt(entry.amountMinor);
      expect(BigInt(entry.balanceAfterMinor)).toBe(running);
    });
    const account = (await bank.call('GET', '/v1/accounts/stream')).body as { balanceMinor: string };
    expect(BigInt(account.balanceMinor)).toBe(running);
    expect(running).toBe(1_000_000n - 7n * BigInt(writers * perWriter));
  });
});
