import { AccountServiceUnreachableError } from '../../../lib/clients/account-service-client';
import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(240_000);

interface EntryView {
  operationId: string;
  amountMinor: string;
  balanceAfterMinor: string;
  sequence: number;
}

/** Retries like the saga's activities do: the same request until the service answers. */
async function debitOnceAnswered(bank: AccountServiceFixture, accountId: string, transferId: string): Promise<number> {
  for (;;) {
    try {
      const answer = await bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId, amountMinor: '7', currency: 'EUR' });
      if (answer.status < 500) return answer.status;
    } catch (error) {
      if (!(error instanceof AccountServiceUnreachableError)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function entriesOf(bank: AccountServiceFixture, accountId: string): Promise<EntryView[]> {
  const entries: EntryView[] = [];
  let after: string | null = null;
  do {
    const page = (await bank.call('GET', `/v1/accounts/${accountId}/entries?limit=500${after === null ? '' : `&after=${after}`}`)).body as { data: EntryView[]; nextCursor: string | null };
    entries.push(...page.data);
    after = page.nextCursor;
  } while (after !== null);
  return entries;
}

/** Kills the service `times` times, 700 ms apart, restarting it each time. */
async function killAndRestart(bank: AccountServiceFixture, times: number): Promise<void> {
  for (let crash = 0; crash < times; crash += 1) {
    await new Promise((resolve) => setTimeout(resolve, 700));
    await bank.kill();
    await bank.restart();
  }
}

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

  const debitUntilAnswered = (transferId: string): Promise<number> => debitOnceAnswered(bank, 'stream', transferId);

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
    const crashes = killAndRestart(bank, 3);
    const statuses = (await Promise.all(streams)).flat();
    await crashes;

    expect(statuses.every((status) => status === 200)).toBe(true);
    const entries = await entriesOf(bank, 'stream');
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

describe('account service: kill -9 during debits spread over many accounts (their batches appended together)', () => {
  let bank: AccountServiceFixture;
  const accountIds = Array.from({ length: 24 }, (_, n) => `spread-${n}`);

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-crash-spread');
  });

  afterAll(async () => {
    await bank?.stop();
  });

  test('when the service is killed while many accounts are debited at once and restarted, then every debit applies exactly once on its account', async () => {
    for (const accountId of accountIds) {
      expect((await bank.call('POST', '/v1/accounts', { accountId, owner: 'Spread', currency: 'EUR' })).status).toBe(201);
      expect((await bank.call('POST', `/v1/accounts/${accountId}/deposits`, { depositId: 'seed', amountMinor: '100000', currency: 'EUR' })).status).toBe(200);
    }
    const writers = 16;
    const perWriter = 30;
    const streams = Array.from({ length: writers }, async (_, writer) => {
      const statuses: number[] = [];
      for (let n = 0; n < perWriter; n += 1) statuses.push(await debitOnceAnswered(bank, accountIds[(writer + n) % accountIds.length] as string, `spread-${writer}-${n}`));
      return statuses;
    });
    const crashes = killAndRestart(bank, 3);
    const statuses = (await Promise.all(streams)).flat();
    await crashes;

    expect(statuses.every((status) => status === 200)).toBe(true);
    let debits = 0;
    for (const accountId of accountIds) {
      const entries = await entriesOf(bank, accountId);
      expect(new Set(entries.map((entry) => entry.operationId)).size).toBe(entries.length);
      let running = 0n;
      entries.forEach((entry, index) => {
        expect(entry.sequence).toBe(index);
        running += BigInt(entry.amountMinor);
        expect(BigInt(entry.balanceAfterMinor)).toBe(running);
      });
      const mine = entries.filter((entry) => entry.operationId.startsWith('spread-')).length;
      expect(running).toBe(100_000n - 7n * BigInt(mine));
      expect(BigInt(((await bank.call('GET', `/v1/accounts/${accountId}`)).body as { balanceMinor: string }).balanceMinor)).toBe(running);
      debits += mine;
    }
    expect(debits).toBe(writers * perWriter);
  });
});
