import { decideBatch } from '../../services/account-service/ledger/decide';
import type { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { entryId, type AccountDocument, type EntryDocument } from '../../services/account-service/ledger/model';

/** `--name value` from the command line, or the fallback. */
export function numberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** Closed loop: `concurrency` callers run `operation` back to back until `count` are done; latencies come sorted. */
export async function closedLoopLatencies(count: number, concurrency: number, operation: (index: number) => Promise<void>): Promise<{ seconds: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        const before = performance.now();
        await operation(index);
        latenciesMs.push(performance.now() - before);
      }
    }),
  );
  latenciesMs.sort((a, b) => a - b);
  return { seconds: (performance.now() - startedAt) / 1000, latenciesMs };
}

/** The value at `fraction` (0.5 = p50) of an ascending list. */
export function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? NaN;
}

const seedBatch = 1_000;

/** Opens an account and writes `entries` deposits of 1 minor unit with the ledger's own decision code. */
export async function seedLedgerAccount(store: LedgerStore, accountId: string, entries: number): Promise<void> {
  const createdAt = new Date().toISOString();
  const account: AccountDocument = { _id: accountId, owner: 'bench', currency: 'EUR', overdraftLimitMinor: 0n, createdAt, headSeq: 0 };
  await store.insertAccount(account);
  let head: EntryDocument = {
    _id: entryId(accountId, 0), accountId, seq: 0, operationId: 'open', kind: 'open', amountMinor: 0n, balanceAfterMinor: 0n,
    statusAfter: 'ACTIVE', outcome: 'APPLIED', requestedAmountMinor: 0n, requestedCurrency: 'EUR', createdAt,
  };
  await store.appendEntries([head]);
  for (let written = 1; written < entries; written += seedBatch) {
    const count = Math.min(seedBatch, entries - written);
    const batch = decideBatch(account, head, Array.from({ length: count }, (_, i) => ({ operationId: `seed-${written + i}:deposit`, kind: 'deposit' as const, amountMinor: 1n, currency: 'EUR' })), createdAt);
    const inserted = await store.appendEntries(batch);
    if (inserted !== batch.length) throw new Error(`seeding ${accountId}: ${inserted} of ${batch.length} inserted`);
    await store.writePointers(batch);
    head = batch[batch.length - 1] as EntryDocument;
    if (entries >= 20_000 && (written - 1) % 20_000 === 0) process.stdout.write(`  ${accountId}: ${head.seq + 1} entries\n`);
  }
  // A fresh service finds the head from this hint with one look-up.
  await store.advanceHeadHint(accountId, head.seq);
}

