import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAccountActivities, legDecisionOf, type LegResult } from '../../../activities/account-activities';
import { AccountServiceClient } from '../../../lib/clients/account-service-client';
import {
  accountViewSchema,
  dailyLimitRequestSchema,
  ledgerEntryViewSchema,
  openAccountRequestSchema,
  transferLegRequestSchema,
  type LedgerEntryView,
} from '../../../lib/contracts/account-service-contract';
import { LedgerReadError, listAccounts, readAccountEntries } from '../../../lib/reconciliation/ledger-reader';
import { accountView, entryView } from '../../../services/account-service/ledger/entry-view';
import type { AccountDocument, EntryDocument } from '../../../services/account-service/ledger/model';
import { dailyLimitBodySchema, openAccountBodySchema } from '../../../services/transfer-api/schemas';

const signingKey = { keyId: 'k', secret: 's'.repeat(40) };
const quietEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

/** A fetch that answers every call with one status and JSON body. */
function answering(status: number, body: unknown): typeof fetch {
  return async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const decided: EntryDocument = {
  _id: 'alice:3',
  accountId: 'alice',
  seq: 3,
  operationId: 't1:debit',
  kind: 'debit',
  amountMinor: -250n,
  balanceAfterMinor: -50n,
  statusAfter: 'ACTIVE',
  outcome: 'APPLIED',
  requestedAmountMinor: 250n,
  requestedCurrency: 'EUR',
  createdAt: '2026-12-01T10:00:00.000Z',
  day: '2026-12-01',
  dayDebitedMinor: 250n,
};

describe('the account service contract', () => {
  test("when the service answers an entry or an account, then the contract's schema reads it back unchanged", () => {
    const entry = entryView(decided);
    expect(ledgerEntryViewSchema.parse(entry)).toEqual(entry);
    const limit = entryView({ ...decided, _id: 'alice:4', seq: 4, operationId: 'c1:admin', kind: 'limit', amountMinor: 0n, dailyDebitLimitMinor: 900n });
    expect(ledgerEntryViewSchema.parse(limit)).toMatchObject({ kind: 'limit', dailyDebitLimitMinor: '900' });
    const account: AccountDocument = { _id: 'alice', owner: 'Alice', currency: 'EUR', overdraftLimitMinor: 100n, createdAt: decided.createdAt, headSeq: 3 };
    const view = accountView('bank-a', account, decided, '2026-12-01');
    expect(accountViewSchema.parse(view)).toEqual(view);
    expect(view).toMatchObject({ balanceMinor: '-50', overdraftLimitMinor: '100', dayDebitedMinor: '250' });
  });

  test('when a request carries an unknown field, an operator where a string belongs, or an amount that is not whole minor units, then it is refused', () => {
    const leg = { transferId: 't1', amountMinor: '100', currency: 'EUR' };
    expect(transferLegRequestSchema.safeParse(leg).success).toBe(true);
    for (const bad of [{ ...leg, extra: 1 }, { ...leg, transferId: { $gt: '' } }, { ...leg, amountMinor: '1.5' }, { ...leg, amountMinor: '0' }, { ...leg, amountMinor: '1'.repeat(19) }, { ...leg, currency: 'eur' }]) {
      expect(transferLegRequestSchema.safeParse(bad).success).toBe(false);
    }
  });

  test("when the API passes an account request on, then it validates with the bank's own schema (less the change id it takes from Idempotency-Key)", () => {
    expect(openAccountBodySchema).toBe(openAccountRequestSchema);
    expect(Object.keys(dailyLimitBodySchema.shape)).toEqual(['dailyDebitLimitMinor']);
    expect(Object.keys(dailyLimitRequestSchema.shape).sort()).toEqual(['changeId', 'dailyDebitLimitMinor']);
  });
});

describe("the activities parse the banks' answers", () => {
  const leg = { bankId: 'bank-a', accountId: 'alice', transferId: 't1', amountMinor: '250', currency: 'EUR' };
  const activitiesAnswering = (status: number, body: unknown) => createAccountActivities({ banks: [{ bankId: 'bank-a', url: 'http://bank-a.invalid' }], signingKey, requestTimeoutMs: 1_000, fetch: answering(status, body) });

  async function failureOf(status: number, body: unknown): Promise<ApplicationFailure> {
    const error: unknown = await quietEnvironment().run(() => activitiesAnswering(status, body).debit(leg)).catch((caught: unknown) => caught);
    if (!(error instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }

  test('when the bank answers 200 with an entry, then the activity returns its decision, without balances or amounts', async () => {
    const entry: LedgerEntryView = entryView(decided);
    const result = await quietEnvironment().run(() => activitiesAnswering(200, entry).debit(leg));
    expect(result).toEqual({ entry: { operationId: 't1:debit', kind: 'debit', outcome: 'APPLIED' }, attempt: 1 });
    expect((result as LegResult).entry).toEqual(legDecisionOf(entry));
  });

  test('when the bank answers 200 with a body that is not an entry, then the failure is retryable and says so', async () => {
    const failure = await failureOf(200, { ...entryView(decided), amountMinor: -250 });
    expect([failure.type, failure.nonRetryable]).toEqual(['BANK_UNAVAILABLE', false]);
    expect(failure.message).toContain('not a ledger entry');
  });

  test('when the ledger refuses with its entry, then the failure is the refusal with its decision; without one (no account), it has no details', async () => {
    const refusalEntry = entryView({ ...decided, amountMinor: 0n, balanceAfterMinor: 200n, outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' });
    const refused = await failureOf(422, { error: { code: 'INSUFFICIENT_FUNDS', message: 'no' }, entry: refusalEntry });
    expect([refused.type, refused.nonRetryable, refused.details]).toEqual(['INSUFFICIENT_FUNDS', true, [{ operationId: 't1:debit', kind: 'debit', outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' }]]);
    const missing = await failureOf(404, { error: { code: 'ACCOUNT_NOT_FOUND', message: 'no account alice' } });
    expect([missing.type, missing.nonRetryable, missing.details]).toEqual(['ACCOUNT_NOT_FOUND', true, []]);
  });

  test('when a refusal carries an entry the contract does not describe, then nothing is concluded from it and the call is retried', async () => {
    const failure = await failureOf(422, { error: { code: 'INSUFFICIENT_FUNDS', message: 'no' }, entry: { operationId: 't1:debit' } });
    expect([failure.type, failure.nonRetryable]).toEqual(['BANK_UNAVAILABLE', false]);
  });
});

describe('the reconciliation reader parses the banks’ pages', () => {
  const client = (body: unknown) => new AccountServiceClient({ bankId: 'bank-a', baseUrl: 'http://bank-a.invalid', signingKey, requestTimeoutMs: 1_000, fetch: answering(200, body) });

  test('when a page is what the contract describes, then its money is read into bigint', async () => {
    const entries = await readAccountEntries(client({ data: [entryView(decided)], nextCursor: null }), 'alice');
    expect(entries).toEqual([{ operationId: 't1:debit', accountId: 'alice', kind: 'debit', sequence: 3, outcome: 'APPLIED', createdAt: decided.createdAt, amountMinor: -250n, balanceAfterMinor: -50n }]);
  });

  test('when a page holds an amount that is not a whole number of minor units, then the read fails naming the field', async () => {
    const read = readAccountEntries(client({ data: [{ ...entryView(decided), balanceAfterMinor: '12.5' }], nextCursor: null }), 'alice');
    await expect(read).rejects.toThrow(LedgerReadError);
    await expect(read).rejects.toThrow(/data\.0\.balanceAfterMinor/);
    await expect(listAccounts(client({ data: [{ accountId: 'alice' }], nextCursor: null }))).rejects.toThrow(/does not describe/);
  });
});
