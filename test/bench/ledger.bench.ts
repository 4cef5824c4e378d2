/**
 * Account-service ledger costs over real HTTP on real FerretDB: per-operation latency at 1k
 * and at 100k entries on one account (the design's promise: the same cost), and debits/s
 * on one hot account and spread over many.
 *
 *   npm run bench:ledger [-- --ops 300 --clients 16 --accounts 100]
 */
import { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { startAccountServiceFixture, type AccountServiceFixture } from '../support/account-service';
import { numberArgument, percentile, seedLedgerAccount as seedAccount } from './bench-support';

interface Timing {
  p50Ms: number;
  p99Ms: number;
}

async function timeSequential(ops: number, run: (index: number) => Promise<{ status: number }>, expected: number): Promise<Timing> {
  const times: number[] = [];
  for (let i = 0; i < ops; i += 1) {
    const before = performance.now();
    const answer = await run(i);
    times.push(performance.now() - before);
    if (answer.status !== expected) throw new Error(`operation ${i} answered ${answer.status}`);
  }
  times.sort((a, b) => a - b);
  return { p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99) };
}

async function perOperation(bank: AccountServiceFixture, accountId: string, ops: number, tag: string): Promise<Record<string, Timing>> {
  const path = (action: string) => `/v1/accounts/${accountId}/${action}`;
  // Warm-up: the service rolls its head forward once.
  await bank.call('POST', path('debits'), { transferId: `${tag}-warm`, amountMinor: '1', currency: 'EUR' });
  return {
    debit: await timeSequential(ops, (i) => bank.call('POST', path('debits'), { transferId: `${tag}-d${i}`, amountMinor: '1', currency: 'EUR' }), 200),
    credit: await timeSequential(ops, (i) => bank.call('POST', path('credits'), { transferId: `${tag}-c${i}`, amountMinor: '1', currency: 'EUR' }), 200),
    duplicate: await timeSequential(ops, (i) => bank.call('POST', path('debits'), { transferId: `${tag}-d${i}`, amountMinor: '1', currency: 'EUR' }), 200),
    refund: await timeSequential(ops, (i) => bank.call('POST', path('refunds'), { transferId: `${tag}-d${i}` }), 200),
  };
}

async function debitsPerSecond(bank: AccountServiceFixture, accounts: readonly string[], clients: number, total: number, tag: string): Promise<number> {
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const n = next;
        next += 1;
        const answer = await bank.call('POST', `/v1/accounts/${accounts[n % accounts.length]}/debits`, { transferId: `${tag}-${n}`, amountMinor: '1', currency: 'EUR' });
        if (answer.status !== 200) throw new Error(`debit ${n} answered ${answer.status}`);
      }
    }),
  );
  return total / ((performance.now() - startedAt) / 1000);
}

async function main(): Promise<void> {
  const ops = numberArgument('ops', 300);
  const clients = numberArgument('clients', 16);
  const spreadAccounts = numberArgument('accounts', 100);
  const throughputOps = numberArgument('throughput-ops', 400);
  console.log('starting FerretDB and the account service…');
  const bank = await startAccountServiceFixture('bench-ledger');
  try {
    const store = new LedgerStore(bank.db);
    console.log('seeding one account with 1,000 entries and one with 100,000 (direct chain writes)…');
    await seedAccount(store, 'small', 1_000);
    await seedAccount(store, 'large', 100_000);
    // Enough funds for every debit of the throughput runs (each seeded entry deposits 1 minor unit).
    for (let a = 0; a < spreadAccounts; a += 1) await seedAccount(store, `spread-${a}`, Math.ceil(throughputOps / spreadAccounts) + 2);
    await seedAccount(store, 'hot', throughputOps + 2);

    console.log(`timing ${ops} sequential operations of each kind…`);
    const small = await perOperation(bank, 'small', ops, 'small');
    const large = await perOperation(bank, 'large', ops, 'large');
    console.log(`debits/s with ${clients} concurrent clients…`);
    const hot = await debitsPerSecond(bank, ['hot'], clients, throughputOps, 'hot');
    const spread = await debitsPerSecond(bank, Array.from({ length: spreadAccounts }, (_, a) => `spread-${a}`), clients, throughputOps, 'spread');

    console.log('\nper-operation latency on one account (ms)');
    console.log('operation    p50@1k   p99@1k   p50@100k   p99@100k   p50 ratio 100k/1k');
    for (const kind of ['debit', 'credit', 'duplicate', 'refund']) {
      const a = small[kind] as Timing;
      const b = large[kind] as Timing;
      console.log(`${kind.padEnd(10)}  ${a.p50Ms.toFixed(2).padStart(7)}  ${a.p99Ms.toFixed(2).padStart(7)}  ${b.p50Ms.toFixed(2).padStart(9)}  ${b.p99Ms.toFixed(2).padStart(9)}   ${(b.p50Ms / a.p50Ms).toFixed(2).padStart(6)}x`);
    }
    console.log(`\ndebits/s, ${clients} concurrent clients, ${throughputOps} debits`);
    console.log(`one hot account:      ${hot.toFixed(1)}`);
    console.log(`over ${spreadAccounts} accounts:     ${spread.toFixed(1)}`);
  } finally {
    await bank.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
