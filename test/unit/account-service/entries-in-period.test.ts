import { firstSeqAtOrAfter, type FindEntry } from '../../../services/account-service/use-cases/entries-in-period';
import type { EntryDocument } from '../../../services/account-service/ledger/model';

/** A chain whose entry n was decided at the given times, with a count of the look-ups made. */
function chainAt(times: readonly string[]): { findEntry: FindEntry; lookups: () => number } {
  let count = 0;
  const findEntry: FindEntry = async (seq) => {
    count += 1;
    const createdAt = times[seq];
    return createdAt === undefined ? null : ({ seq, createdAt } as EntryDocument);
  };
  return { findEntry, lookups: () => count };
}

const times = ['2026-11-01T08:00:00.000Z', '2026-11-01T09:00:00.000Z', '2026-11-02T00:00:00.000Z', '2026-11-02T23:59:59.999Z', '2026-11-04T10:00:00.000Z'];

describe('account service: the first entry decided at or after an instant', () => {
  test.each([
    ['before the opening entry', '2026-10-01T00:00:00.000Z', 0],
    ['exactly at an entry', '2026-11-02T00:00:00.000Z', 2],
    ['between two entries', '2026-11-01T12:00:00.000Z', 2],
    ['on a day without entries', '2026-11-03T00:00:00.000Z', 4],
    ['after the head', '2026-12-01T00:00:00.000Z', 5],
  ])('when the instant is %s, then the search answers its seq', async (_case, instant, expected) => {
    const { findEntry } = chainAt(times);
    expect(await firstSeqAtOrAfter(findEntry, times.length - 1, instant)).toBe(expected);
  });

  test('when the chain is long, then the search reads about log2 of its length', async () => {
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    const long = Array.from({ length: 100_000 }, (_, seq) => new Date(start + seq * 60_000).toISOString());
    const { findEntry, lookups } = chainAt(long);
    expect(await firstSeqAtOrAfter(findEntry, long.length - 1, new Date(start + 54_321 * 60_000 - 1).toISOString())).toBe(54_321);
    expect(lookups()).toBeLessThanOrEqual(18);
  });

  test('when an entry below the head is missing, then the search stops with an invariant error', async () => {
    const { findEntry } = chainAt(times);
    await expect(firstSeqAtOrAfter(findEntry, 9, '2026-12-01T00:00:00.000Z')).rejects.toThrow(/ledger invariant/);
  });
});
