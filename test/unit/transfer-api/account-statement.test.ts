import type { AccountView, LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import { ApiError } from '../../../lib/http/errors';
import { accountStatement, type PeriodQuery, type StatementSources } from '../../../services/transfer-api/use-cases/account-statement';
import { xsdErrors } from '../../support/xsd-validation';

const account: AccountView = { accountId: 'stella', bankId: 'bank-a', owner: 'Stella', currency: 'EUR', status: 'ACTIVE', balanceMinor: '0', overdraftLimitMinor: '0', dayDebitedMinor: '0', sequence: 0 };

/** A chain of `count` entries from seq `firstSeq`, each +amount (every third a zero-amount refusal), all inside the period. */
function chain(firstSeq: number, openingMinor: bigint, count: number): LedgerEntryView[] {
  let balance = openingMinor;
  return Array.from({ length: count }, (_, index) => {
    const refused = index % 3 === 2;
    const amount = refused ? 0n : index % 3 === 0 ? 1_000n : -300n;
    balance += amount;
    const kind = index % 3 === 0 ? 'deposit' : 'debit';
    return {
      operationId: kind === 'deposit' ? `dep-${index}:deposit` : `t-${index % 4}:debit`,
      accountId: 'stella',
      kind,
      amountMinor: String(amount),
      balanceAfterMinor: String(balance),
      sequence: firstSeq + index,
      outcome: refused ? 'REFUSED' : 'APPLIED',
      createdAt: `2026-11-0${1 + (index % 5)}T10:00:00.000Z`,
    };
  });
}

/** The bank's paging over a fixed chain, as the account service answers it; records the queries. */
function sources(entries: readonly LedgerEntryView[], openingMinor: bigint): StatementSources & { queries: PeriodQuery[]; lookups: string[] } {
  const queries: PeriodQuery[] = [];
  const lookups: string[] = [];
  return {
    queries,
    lookups,
    account: async () => account,
    entriesInPeriod: async (_bankId, _accountId, query) => {
      queries.push(query);
      const start = query.after === undefined ? 0 : entries.findIndex((entry) => String(entry.sequence) === query.after) + 1;
      const data = entries.slice(start, start + query.limit);
      const before = start === 0 ? openingMinor : BigInt((entries[start - 1] as LedgerEntryView).balanceAfterMinor);
      const last = data.at(-1);
      return { data, nextCursor: last && start + data.length < entries.length ? String(last.sequence) : null, balanceBeforeMinor: String(before) };
    },
    transferReferences: async (transferId) => {
      lookups.push(transferId);
      return transferId === 't-1' ? { uetr: '3f2a1c5e-8b7d-4e6f-9a0b-1c2d3e4f5a6b', endToEndId: 'E2E-1' } : undefined;
    },
  };
}

const request = { bankId: 'bank-a', accountId: 'stella', fromDay: '2026-11-01', toDay: '2026-11-05', now: new Date('2026-12-02T10:00:00.000Z') };

describe('account statement use case', () => {
  test('when the period spans several pages, then every page is read with the same bounds, zero-amount entries are left out and each transfer is looked up once', async () => {
    const entries = chain(7, 5_000n, 12);
    const bank = sources(entries, 5_000n);
    const xml = await accountStatement(bank, request, { ledgerEntriesMax: 20, lookupsConcurrent: 2 });
    expect(await xsdErrors(xml, 'camt.053.001.08')).toEqual([]);
    expect(bank.queries.map((query) => query.after)).toEqual([undefined]);
    expect(bank.queries[0]).toMatchObject({ since: '2026-11-01T00:00:00.000Z', until: '2026-11-06T00:00:00.000Z', limit: 21 });
    // 12 entries, 4 of them refusals: 8 bookings.
    expect(xml.match(/<Ntry>/g)).toHaveLength(8);
    expect(new Set(bank.lookups).size).toBe(bank.lookups.length);
    expect(bank.lookups.sort()).toEqual(['t-0', 't-1', 't-2', 't-3']);
    expect(xml).toContain('<UETR>3f2a1c5e-8b7d-4e6f-9a0b-1c2d3e4f5a6b</UETR>');
    // Opening 50.00, four deposits of 10.00 and four debits of 3.00: 78.00.
    expect(xml).toMatch(/<Cd>OPBD<\/Cd>[\s\S]*?<Amt Ccy="EUR">50.00<\/Amt>/);
    expect(xml).toMatch(/<Cd>CLBD<\/Cd>[\s\S]*?<Amt Ccy="EUR">78.00<\/Amt>/);
  });

  test('when the bank pages by its own maximum, then the statement follows the cursors to the end', async () => {
    const entries = chain(1, 0n, 1_000);
    const bank = sources(entries, 0n);
    const xml = await accountStatement(bank, request, { ledgerEntriesMax: 1_000, lookupsConcurrent: 16 });
    expect(bank.queries.map((query) => query.limit)).toEqual([500, 500]);
    expect(xml.match(/<Ntry>/g)).toHaveLength(667);
  });

  test('when the period holds one entry more than the bound, then it is refused STATEMENT_TOO_LARGE after reading at most bound + 1 entries', async () => {
    const bank = sources(chain(1, 0n, 30), 0n);
    const refusal = await accountStatement(bank, request, { ledgerEntriesMax: 29, lookupsConcurrent: 16 }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({ code: 'STATEMENT_TOO_LARGE', status: 422 });
    expect(bank.queries.map((query) => query.limit)).toEqual([30]);
    expect(bank.lookups).toEqual([]);
  });

  test('when the period holds exactly the bound, then it is rendered', async () => {
    const xml = await accountStatement(sources(chain(1, 0n, 29), 0n), request, { ledgerEntriesMax: 29, lookupsConcurrent: 16 });
    expect(await xsdErrors(xml, 'camt.053.001.08')).toEqual([]);
  });

  test('when the bank answers a chain with a gap or a balance that does not follow, then no statement is rendered', async () => {
    const gap = chain(1, 0n, 5).filter((entry) => entry.sequence !== 3);
    await expect(accountStatement(sources(gap, 0n), request)).rejects.toThrow(/does not follow the chain/);
    const wrong = chain(1, 0n, 5).map((entry) => (entry.sequence === 4 ? { ...entry, balanceAfterMinor: '1' } : entry));
    await expect(accountStatement(sources(wrong, 0n), request)).rejects.toThrow(/does not follow the chain/);
  });
});
