import type { Db } from 'mongodb';
import { entryId, type EntryDocument } from '../../services/account-service/ledger/model';

/** An account's chain as stored, read entry by entry by `_id` until the first gap. */
export async function chainOf(db: Db, accountId: string): Promise<EntryDocument[]> {
  const entries: EntryDocument[] = [];
  for (let seq = 0; ; seq += 1) {
    const entry = await db.collection<EntryDocument>('entries').findOne({ _id: entryId(accountId, seq) });
    if (!entry) return entries;
    entries.push(entry);
  }
}

/** A valid chain: consecutive seqs, each balance the previous plus the amount, each operation once. */
export function expectValidChain(chain: readonly EntryDocument[]): void {
  let balance = 0n;
  chain.forEach((entry, index) => {
    expect(entry.seq).toBe(index);
    balance += entry.amountMinor;
    expect(entry.balanceAfterMinor).toBe(balance);
  });
  const operationIds = chain.map((entry) => entry.operationId);
  expect(new Set(operationIds).size).toBe(operationIds.length);
}
