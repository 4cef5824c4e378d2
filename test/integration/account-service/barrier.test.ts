import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(180_000);

type Body = Record<string, unknown> & { error?: { code: string }; entry?: Record<string, unknown> };

describe('account service: ledger and transfer barrier on real FerretDB', () => {
  let bank: AccountServiceFixture;
  let accountCounter = 0;

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-barrier');
  });

  afterAll(async () => {
    await bank?.stop();
  });

  async function openFunded(amountMinor: bigint, extra: Record<string, unknown> = {}): Promise<string> {
    accountCounter += 1;
    const accountId = `acct-${accountCounter}`;
    expect((await bank.call('POST', '/v1/accounts', { accountId, owner: `Owner ${accountCounter}`, currency: 'EUR', ...extra })).status).toBe(201);
    if (amountMinor > 0n) {
      expect((await bank.call('POST', `/v1/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(amountMinor), currency: 'EUR' })).status).toBe(200);
    }
    return accountId;
  }

  async function balance(accountId: string): Promise<bigint> {
    const answer = await bank.call('GET', `/v1/accounts/${accountId}`);
    return BigInt(String((answer.body as Body).balanceMinor));
  }

  async function entries(accountId: string): Promise<Array<Record<string, unknown>>> {
    const all: Array<Record<string, unknown>> = [];
    let after: string | null = null;
    do {
      const answer = await bank.call('GET', `/v1/accounts/${accountId}/entries?limit=50${after === null ? '' : `&after=${after}`}`);
      const page = answer.body as { data: Array<Record<string, unknown>>; nextCursor: string | null };
      all.push(...page.data);
      after = page.nextCursor;
    } while (after !== null);
    return all;
  }

  const debit = (accountId: string, transferId: string, amountMinor: string, currency = 'EUR') => bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId, amountMinor, currency });
  const creditLeg = (accountId: string, transferId: string, amountMinor: string) => bank.call('POST', `/v1/accounts/${accountId}/credits`, { transferId, amountMinor, currency: 'EUR' });
  const refund = (accountId: string, transferId: string) => bank.call('POST', `/v1/accounts/${accountId}/refunds`, { transferId });
  const voidCredit = (accountId: string, transferId: string) => bank.call('POST', `/v1/accounts/${accountId}/credit-voids`, { transferId });

  describe('accounts', () => {
    test('when the same account is opened again, then 200 with the same account; other fields, then 409 IDEMPOTENCY_CONFLICT', async () => {
      const first = await bank.call('POST', '/v1/accounts', { accountId: 'opener', owner: 'Opener', currency: 'EUR' });
      expect(first.status).toBe(201);
      const again = await bank.call('POST', '/v1/accounts', { accountId: 'opener', owner: 'Opener', currency: 'EUR' });
      expect(again).toEqual({ status: 200, body: first.body });
      const other = await bank.call('POST', '/v1/accounts', { accountId: 'opener', owner: 'Opener', currency: 'USD' });
      expect(other.status).toBe(409);
      expect((other.body as Body).error?.code).toBe('IDEMPOTENCY_CONFLICT');
    });

    test('when an unknown account is used, then 404 ACCOUNT_NOT_FOUND and nothing is written', async () => {
      for (const answer of [await bank.call('GET', '/v1/accounts/nobody'), await debit('nobody', 't-x', '1'), await refund('nobody', 't-x')]) {
        expect(answer.status).toBe(404);
        expect((answer.body as Body).error?.code).toBe('ACCOUNT_NOT_FOUND');
      }
      expect(await bank.db.collection('entries').countDocuments({ accountId: 'nobody' })).toBe(0);
    });
  });

  describe('barrier', () => {
    test('when a debit is repeated, then it applies once and the repeat answers byte for byte the same', async () => {
      const account = await openFunded(1_000n);
      const first = await debit(account, 't-dup', '300');
      const again = await debit(account, 't-dup', '300');
      expect(first.status).toBe(200);
      expect(again).toEqual(first);
      expect(await balance(account)).toBe(700n);
    });

    test('when a credit is repeated, then it applies once', async () => {
      const account = await openFunded(0n);
      const first = await creditLeg(account, 't-credit', '250');
      expect(await creditLeg(account, 't-credit', '250')).toEqual(first);
      expect(await balance(account)).toBe(250n);
    });

    test('when a refused debit is repeated, then the refusal answers the same and nothing moves', async () => {
      const account = await openFunded(100n);
      const first = await debit(account, 't-poor', '101');
      expect(first.status).toBe(422);
      expect((first.body as Body).error?.code).toBe('INSUFFICIENT_FUNDS');
      expect((first.body as Body).entry).toMatchObject({ amountMinor: '0', outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' });
      expect(await debit(account, 't-poor', '101')).toEqual(first);
      expect(await balance(account)).toBe(100n);
    });

    test('when a debit is replayed with another amount or currency, then 409 IDEMPOTENCY_CONFLICT and nothing moves', async () => {
      const account = await openFunded(1_000n);
      expect((await debit(account, 't-change', '100')).status).toBe(200);
      for (const answer of [await debit(account, 't-change', '101'), await debit(account, 't-change', '100', 'USD')]) {
        expect(answer.status).toBe(409);
        expect((answer.body as Body).error?.code).toBe('IDEMPOTENCY_CONFLICT');
      }
      expect(await balance(account)).toBe(900n);
    });

    test('when a debit is refunded twice, then the money comes back once', async () => {
      const account = await openFunded(1_000n);
      await debit(account, 't-refund', '400');
      const first = await refund(account, 't-refund');
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ operationId: 't-refund:refund', kind: 'refund', amountMinor: '400', outcome: 'APPLIED' });
      expect(await refund(account, 't-refund')).toEqual(first);
      expect(await balance(account)).toBe(1_000n);
    });

    test('when a refund comes before its debit, then it records a void and the late debit is 409 TRANSFER_VOIDED', async () => {
      const account = await openFunded(1_000n);
      const voided = await refund(account, 't-early');
      expect(voided.status).toBe(200);
      expect(voided.body).toMatchObject({ operationId: 't-early:debit', kind: 'void', amountMinor: '0' });
      const late = await debit(account, 't-early', '500');
      expect(late.status).toBe(409);
      expect((late.body as Body).error?.code).toBe('TRANSFER_VOIDED');
      expect(await refund(account, 't-early')).toEqual(voided);
      expect(await balance(account)).toBe(1_000n);
    });

    test('when a refused debit is refunded, then a zero-amount NOTHING_TO_REFUND entry is recorded once', async () => {
      const account = await openFunded(10n);
      expect((await debit(account, 't-refused', '11')).status).toBe(422);
      const first = await refund(account, 't-refused');
      expect(first.body).toMatchObject({ operationId: 't-refused:refund', kind: 'refund', amountMinor: '0', outcome: 'NOTHING_TO_REFUND' });
      expect(await refund(account, 't-refused')).toEqual(first);
      expect(await balance(account)).toBe(10n);
    });

    test('when a credit is voided before it arrives, then the credit is refused with TRANSFER_VOIDED; an applied credit is answered as it is', async () => {
      const account = await openFunded(0n);
      const voided = await voidCredit(account, 't-cv');
      expect(voided.status).toBe(200);
      expect(voided.body).toMatchObject({ operationId: 't-cv:credit', kind: 'void' });
      const late = await creditLeg(account, 't-cv', '70');
      expect(late.status).toBe(409);
      expect((late.body as Body).error?.code).toBe('TRANSFER_VOIDED');

      const applied = await creditLeg(account, 't-cv2', '70');
      const answered = await voidCredit(account, 't-cv2');
      expect(answered.status).toBe(200);
      expect(answered.body).toEqual(applied.body);
      expect(await balance(account)).toBe(70n);
    });

    test('when 50 identical debits race, then one entry is written and all 50 answers are identical', async () => {
      const account = await openFunded(1_000n);
      const answers = await Promise.all(Array.from({ length: 50 }, () => debit(account, 't-race', '10')));
      expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
      expect(answers[0]?.status).toBe(200);
      expect((await entries(account)).filter((entry) => entry.operationId === 't-race:debit')).toHaveLength(1);
      expect(await balance(account)).toBe(990n);
    });

    test('when 200 different debits race against funds for exactly 50, then exactly 50 apply and the balance never goes below zero', async () => {
      const account = await openFunded(500n);
      let lowestSeen = 500n;
      let racing = true;
      const watcher = (async () => {
        while (racing) {
          const seen = await balance(account);
          if (seen < lowestSeen) lowestSeen = seen;
        }
      })();
      const answers = await Promise.all(Array.from({ length: 200 }, (_, n) => debit(account, `t-many-${n}`, '10')));
      racing = false;
      await watcher;
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(50);
      expect(answers.filter((answer) => answer.status === 422).every((answer) => (answer.body as Body).error?.code === 'INSUFFICIENT_FUNDS')).toBe(true);
      expect(answers.filter((answer) => answer.status === 422)).toHaveLength(150);
      expect(await balance(account)).toBe(0n);
      expect(lowestSeen).toBeGreaterThanOrEqual(0n);
      const chain = await entries(account);
      expect(chain.every((entry) => BigInt(String(entry.balanceAfterMinor)) >= 0n)).toBe(true);
      expect(chain.map((entry) => entry.sequence)).toEqual(chain.map((_, index) => index));
    });

    test('when an account has an overdraft limit, then debits may go down to minus the limit and no further', async () => {
      const account = await openFunded(100n, { overdraftLimitMinor: '50' });
      expect((await debit(account, 't-od-1', '150')).status).toBe(200);
      const over = await debit(account, 't-od-2', '1');
      expect((over.body as Body).error?.code).toBe('INSUFFICIENT_FUNDS');
      expect(await balance(account)).toBe(-50n);
    });
  });

  describe('status changes', () => {
    test('when an account is frozen, then debits, credits and deposits are refused but refunds apply; unfreeze lifts it', async () => {
      const account = await openFunded(1_000n);
      await debit(account, 't-before-freeze', '100');
      expect((await bank.call('POST', `/v1/accounts/${account}/freeze`, { changeId: 'freeze-1' })).body).toMatchObject({ status: 'FROZEN' });
      for (const [answer, code] of [
        [await debit(account, 't-frozen', '1'), 'ACCOUNT_FROZEN'],
        [await creditLeg(account, 't-frozen-c', '1'), 'ACCOUNT_FROZEN'],
        [await bank.call('POST', `/v1/accounts/${account}/deposits`, { depositId: 'frozen-dep', amountMinor: '1', currency: 'EUR' }), 'ACCOUNT_FROZEN'],
      ] as const) {
        expect(answer.status).toBe(422);
        expect((answer.body as Body).error?.code).toBe(code);
      }
      expect((await refund(account, 't-before-freeze')).body).toMatchObject({ kind: 'refund', amountMinor: '100' });
      expect(await balance(account)).toBe(1_000n);
      expect((await bank.call('POST', `/v1/accounts/${account}/unfreeze`, { changeId: 'unfreeze-1' })).body).toMatchObject({ status: 'ACTIVE' });
      expect((await debit(account, 't-after-unfreeze', '1')).status).toBe(200);
    });

    test('when an account with money is closed, then 409 ACCOUNT_NOT_EMPTY; once empty it closes and refuses money with ACCOUNT_CLOSED', async () => {
      const account = await openFunded(30n);
      const refused = await bank.call('POST', `/v1/accounts/${account}/close`, { changeId: 'close-full' });
      expect(refused.status).toBe(409);
      expect((refused.body as Body).error?.code).toBe('ACCOUNT_NOT_EMPTY');
      await debit(account, 't-empty', '30');
      expect((await bank.call('POST', `/v1/accounts/${account}/close`, { changeId: 'close-empty' })).body).toMatchObject({ status: 'CLOSED', balanceMinor: '0' });
      const late = await creditLeg(account, 't-closed', '5');
      expect(late.status).toBe(422);
      expect((late.body as Body).error?.code).toBe('ACCOUNT_CLOSED');
      expect(await balance(account)).toBe(0n);
    });

    test('when a refund lands on a closed account, then it still applies and is counted for operators', async () => {
      const account = await openFunded(40n);
      await debit(account, 't-late-refund', '40');
      expect((await bank.call('POST', `/v1/accounts/${account}/close`, { changeId: 'close-1' })).body).toMatchObject({ status: 'CLOSED' });
      expect((await refund(account, 't-late-refund')).body).toMatchObject({ kind: 'refund', amountMinor: '40', outcome: 'APPLIED' });
      expect(await balance(account)).toBe(40n);
      const metrics = await fetch(`${bank.url}/metrics`).then((response) => response.text());
      expect(metrics).toMatch(/ledger_closed_account_movements_total\{[^}]*kind="refund"[^}]*\} 1/);
    });

    test('when a deposit comes in another currency, then 422 CURRENCY_MISMATCH', async () => {
      const account = await openFunded(0n);
      const answer = await bank.call('POST', `/v1/accounts/${account}/deposits`, { depositId: 'usd', amountMinor: '5', currency: 'USD' });
      expect(answer.status).toBe(422);
      expect((answer.body as Body).error?.code).toBe('CURRENCY_MISMATCH');
      expect(await balance(account)).toBe(0n);
    });
  });

  describe('status changes beyond money', () => {
    test('when an account is frozen or closed, then credit-voids still apply and the late credit is 409 TRANSFER_VOIDED', async () => {
      const frozen = await openFunded(0n);
      const closed = await openFunded(0n);
      await bank.call('POST', `/v1/accounts/${frozen}/freeze`, { changeId: 'freeze-1' });
      await bank.call('POST', `/v1/accounts/${closed}/close`, { changeId: 'close-1' });
      for (const account of [frozen, closed]) {
        const voided = await voidCredit(account, 't-void-status');
        expect(voided.status).toBe(200);
        expect(voided.body).toMatchObject({ operationId: 't-void-status:credit', kind: 'void', amountMinor: '0', outcome: 'APPLIED' });
        const late = await creditLeg(account, 't-void-status', '9');
        expect(late.status).toBe(409);
        expect((late.body as Body).error?.code).toBe('TRANSFER_VOIDED');
        expect(await voidCredit(account, 't-void-status')).toEqual(voided);
        expect(await balance(account)).toBe(0n);
      }
    });

    test('when a closed account is frozen or unfrozen, then 422 ACCOUNT_CLOSED; a frozen empty account can be closed; a repeated freeze changes nothing', async () => {
      const account = await openFunded(0n);
      const frozen = await bank.call('POST', `/v1/accounts/${account}/freeze`, { changeId: 'freeze-1' });
      expect(frozen).toMatchObject({ status: 200, body: { status: 'FROZEN' } });
      expect(await bank.call('POST', `/v1/accounts/${account}/freeze`, { changeId: 'freeze-1' })).toEqual(frozen);
      // Another freeze of the frozen account is recorded (so that its replay cannot act) and changes no status.
      expect((await bank.call('POST', `/v1/accounts/${account}/freeze`, { changeId: 'freeze-2' })).body).toMatchObject({ status: 'FROZEN', sequence: 2 });
      expect((await bank.call('POST', `/v1/accounts/${account}/close`, { changeId: 'close-1' })).body).toMatchObject({ status: 'CLOSED', balanceMinor: '0' });
      for (const change of ['freeze', 'unfreeze']) {
        const refused = await bank.call('POST', `/v1/accounts/${account}/${change}`, { changeId: `${change}-closed` });
        expect(refused.status).toBe(422);
        expect((refused.body as Body).error?.code).toBe('ACCOUNT_CLOSED');
      }
      expect((await bank.call('POST', `/v1/accounts/${account}/close`, { changeId: 'close-2' })).body).toMatchObject({ status: 'CLOSED' });
      const kinds = (await entries(account)).map((entry) => `${entry.kind} ${entry.outcome}`);
      expect(kinds).toEqual(['open APPLIED', 'freeze APPLIED', 'freeze APPLIED', 'close APPLIED', 'freeze REFUSED', 'unfreeze REFUSED', 'close APPLIED']);
    });

    test('when a deposit is repeated, then it applies once; with another amount, then 409 IDEMPOTENCY_CONFLICT', async () => {
      const account = await openFunded(0n);
      const deposit = (amountMinor: string) => bank.call('POST', `/v1/accounts/${account}/deposits`, { depositId: 'dep-1', amountMinor, currency: 'EUR' });
      const first = await deposit('500');
      expect(first.body).toMatchObject({ operationId: 'dep-1:deposit', kind: 'deposit', amountMinor: '500', outcome: 'APPLIED' });
      expect(await deposit('500')).toEqual(first);
      const other = await deposit('501');
      expect(other.status).toBe(409);
      expect((other.body as Body).error?.code).toBe('IDEMPOTENCY_CONFLICT');
      expect(await balance(account)).toBe(500n);
    });

    test('when credits would take a balance past a signed 64-bit integer, then 422 BALANCE_LIMIT_EXCEEDED and the stored chain stays exact', async () => {
      const account = await openFunded(0n);
      const largest = '999999999999999999';
      for (let n = 0; n < 9; n += 1) expect((await creditLeg(account, `t-huge-${n}`, largest)).status).toBe(200);
      const over = await creditLeg(account, 't-huge-9', largest);
      expect(over.status).toBe(422);
      expect((over.body as Body).error?.code).toBe('BALANCE_LIMIT_EXCEEDED');
      expect((over.body as Body).entry).toMatchObject({ amountMinor: '0', outcome: 'REFUSED', balanceAfterMinor: String(9n * BigInt(largest)) });
      expect(await balance(account)).toBe(9n * BigInt(largest));
      // What the database holds, read back, not the service's cache.
      const stored = await bank.db.collection<{ balanceAfterMinor: bigint }>('entries').findOne({ _id: `${account}:${(await entries(account)).length - 1}` as never });
      expect(stored?.balanceAfterMinor).toBe(9n * BigInt(largest));
    });

    test('when a crash left an account document without its opening entry, then the next request writes it and the account works', async () => {
      const createdAt = new Date().toISOString();
      await bank.db.collection('accounts').insertOne({ _id: 'half-open' as never, owner: 'Half', currency: 'EUR', overdraftLimitMinor: 0n, createdAt, headSeq: 0 });
      const read = await bank.call('GET', '/v1/accounts/half-open');
      expect(read).toMatchObject({ status: 200, body: { accountId: 'half-open', balanceMinor: '0', sequence: 0, status: 'ACTIVE' } });
      expect((await bank.call('POST', '/v1/accounts/half-open/deposits', { depositId: 'd', amountMinor: '5', currency: 'EUR' })).status).toBe(200);
      expect((await bank.call('POST', '/v1/accounts', { accountId: 'half-open', owner: 'Half', currency: 'EUR' })).status).toBe(200);
      expect((await entries('half-open')).map((entry) => [entry.kind, entry.createdAt])).toEqual([
        ['open', createdAt],
        ['deposit', expect.any(String)],
      ]);
      expect(await balance('half-open')).toBe(5n);
    });
  });

  test('when entries are listed in pages, then they come oldest first and the cursor walks the whole chain once', async () => {
    const account = await openFunded(1_000n);
    for (let n = 0; n < 7; n += 1) await debit(account, `t-page-${n}`, '1');
    const first = await bank.call('GET', `/v1/accounts/${account}/entries?limit=4`);
    const page = first.body as { data: Array<{ sequence: number }>; nextCursor: string | null };
    expect(page.data.map((entry) => entry.sequence)).toEqual([0, 1, 2, 3]);
    expect(page.nextCursor).toBe('3');
    const all = await entries(account);
    expect(all.map((entry) => entry.sequence)).toEqual([...Array(9).keys()]);
    const sum = all.reduce((total, entry) => total + BigInt(String(entry.amountMinor)), 0n);
    expect(sum).toBe(await balance(account));
  });
});
