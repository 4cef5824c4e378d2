/**
 * Account-service ledger costs over real HTTP on real FerretDB: per-operation latency at 1k
 * and at 100k entries on one account (the design's promise: the same cost), and debits/s
 * on one hot account and spread over many, against the signed no-op request (GET /v1/whoami).
 * The rates are measured on three services side by side, each on its own FerretDB: one with the
 * defaults, one with LEDGER_CROSS_ACCOUNT_COMMIT=off and one with LEDGER_OPTIMISTIC_DECISIONS=off;
 * they take turns run by run, in alternating order, so that the machine's drift falls on all alike.
 *
 *   npm run bench:ledger [-- --ops 300 --clients 16 --accounts 100 --throughput-ops 2000 --rounds 2]
 */
import { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { startAccountServiceFixture, type AccountServiceFixture } from '../support/account-service';
import { closedLoopLatencies, numberArgument, percentile, seedLedgerAccount } from './bench-support';

const kinds = ['debit', 'credit', 'duplicate', 'refund'] as const;
type Kind = (typeof kinds)[number];
const ratioTarget = 1.2;
/** Operations of each kind on a throw-away account before anything is timed (JIT, sockets, caches). */
const processWarmUpOps = 50;

interface Timing {
  p50Ms: number;
  p99Ms: number;
}

interface Throughput extends Timing {
  perSecond: number;
}

/** One request of a kind, by index: the debit, credit, repeated debit or refund of transfer `index`. */
function operation(bank: AccountServiceFixture, accountId: string, kind: Kind, index: number): Promise<{ status: number }> {
  const path = (action: string): string => `/v1/accounts/${accountId}/${action}`;
  switch (kind) {
    case 'debit':
    case 'duplicate':
      return bank.call('POST', path('debits'), { transferId: `${accountId}-${index}`, amountMinor: '1', currency: 'EUR' });
    case 'credit':
      return bank.call('POST', path('credits'), { transferId: `${accountId}-in-${index}`, amountMinor: '1', currency: 'EUR' });
    case 'refund':
      return bank.call('POST', path('refunds'), { transferId: `${accountId}-${index}` });
  }
}

/**
 * `ops` debits on each account, then as many credits, repeats of the debits and refunds of them.
 * The accounts take turns request by request, so that drift in the process or the database
 * (JIT, SQLite checkpoints, GC) falls on every size alike instead of on whichever goes first.
 */
async function perOperation(bank: AccountServiceFixture, accountIds: readonly string[], ops: number): Promise<Array<Record<Kind, Timing>>> {
  // Seeded behind the service's back: the first request rolls its head forward; not timed.
  for (const accountId of accountIds) {
    const warm = await bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId: `${accountId}-warm`, amountMinor: '1', currency: 'EUR' });
    if (warm.status !== 200) throw new Error(`warm-up debit on ${accountId} answered ${warm.status}`);
  }
  const times = accountIds.map(() => ({ debit: [] as number[], credit: [] as number[], duplicate: [] as number[], refund: [] as number[] }));
  for (const kind of kinds) {
    for (let i = 0; i < ops; i += 1) {
      for (const [a, accountId] of accountIds.entries()) {
        const before = performance.now();
        const answer = await operation(bank, accountId, kind, i);
        times[a]?.[kind].push(performance.now() - before);
        if (answer.status !== 200) throw new Error(`${kind} ${i} on ${accountId} answered ${answer.status}`);
      }
    }
  }
  return times.map((byKind) => {
    const timing = (sample: number[]): Timing => {
      sample.sort((x, y) => x - y);
      return { p50Ms: percentile(sample, 0.5), p99Ms: percentile(sample, 0.99) };
    };
    return { debit: timing(byKind.debit), credit: timing(byKind.credit), duplicate: timing(byKind.duplicate), refund: timing(byKind.refund) };
  });
}

/** `total` debits of 1 minor unit by `clients` concurrent callers, round-robin over `accounts`. */
async function debitsPerSecond(bank: AccountServiceFixture, accounts: readonly string[], clients: number, total: number, tag: string): Promise<Throughput> {
  const debit = async (accountId: string, transferId: string): Promise<void> => {
    const answer = await bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId, amountMinor: '1', currency: 'EUR' });
    if (answer.status !== 200) throw new Error(`debit ${transferId} on ${accountId} answered ${answer.status}`);
  };
  // One untimed debit per account, so that the timed run measures steady state, not first touch.
  for (const accountId of accounts) await debit(accountId, `${tag}-warm-${accountId}`);
  const { seconds, latenciesMs } = await closedLoopLatencies(total, clients, (n) => debit(accounts[n % accounts.length] as string, `${tag}-${n}`));
  return { perSecond: total / seconds, p50Ms: percentile(latenciesMs, 0.5), p99Ms: percentile(latenciesMs, 0.99) };
}

/** `total` signed no-op requests (GET /v1/whoami) by `clients` concurrent callers: the cost of HTTP, signing and routing alone. */
async function noOpsPerSecond(bank: AccountServiceFixture, clients: number, total: number): Promise<Throughput> {
  const { seconds, latenciesMs } = await closedLoopLatencies(total, clients, async () => {
    const answer = await bank.call('GET', '/v1/whoami');
    if (answer.status !== 200) throw new Error(`whoami answered ${answer.status}`);
  });
  return { perSecond: total / seconds, p50Ms: percentile(latenciesMs, 0.5), p99Ms: percentile(latenciesMs, 0.99) };
}

/** A service of the A/B comparison and what each of its runs measured. */
interface Arm {
  name: string;
  bank: AccountServiceFixture;
  runs: Array<Record<'noOp' | 'hot' | 'spread', Throughput>>;
}

/** One round on one arm: no-op, hot account and spread debits, each `total` requests by `clients` callers. */
async function measureRound(arm: Arm, round: number, clients: number, total: number, spreadAccounts: number): Promise<void> {
  const noOp = await noOpsPerSecond(arm.bank, clients, total);
  const hot = await debitsPerSecond(arm.bank, ['hot'], clients, total, `hot-${round}`);
  const spread = await debitsPerSecond(arm.bank, Array.from({ length: spreadAccounts }, (_, a) => `spread-${a}`), clients, total, `spread-${round}`);
  arm.runs.push({ noOp, hot, spread });
  console.log(`  round ${round + 1}, ${arm.name}: no-op ${noOp.perSecond.toFixed(0)}/s, hot ${hot.perSecond.toFixed(0)}/s, spread ${spread.perSecond.toFixed(0)}/s`);
}

function meanRate(arm: Arm, what: 'noOp' | 'hot' | 'spread'): number {
  return arm.runs.reduce((sum, run) => sum + run[what].perSecond, 0) / arm.runs.length;
}

/** The mean over rounds of a rate divided by the no-op rate measured just before it on the same service: the machine's drift cancels. */
function meanRatioToNoOp(arm: Arm, what: 'hot' | 'spread'): number {
  return arm.runs.reduce((sum, run) => sum + run[what].perSecond / run.noOp.perSecond, 0) / arm.runs.length;
}

function printComparison(arms: readonly Arm[], clients: number, total: number, spreadAccounts: number): void {
  console.log(`\nrequests/s, ${clients} concurrent clients, ${total} requests a run, mean of ${arms[0]?.runs.length} rounds; ratio: to the signed no-op run just before, on the same service`);
  console.log(`service                      no-op/s   hot/s  (ratio)   over ${spreadAccounts} accounts/s  (ratio)   spread p50 / p99 ms (last run)`);
  for (const arm of arms) {
    const last = arm.runs.at(-1)?.spread as Throughput;
    const rate = (what: 'noOp' | 'hot' | 'spread', width: number): string => meanRate(arm, what).toFixed(0).padStart(width);
    const ratio = (what: 'hot' | 'spread'): string => `${meanRatioToNoOp(arm, what).toFixed(2)}x`;
    console.log(`${arm.name.padEnd(27)}  ${rate('noOp', 7)}  ${rate('hot', 6)}  (${ratio('hot')})   ${rate('spread', 12)}            (${ratio('spread')})   ${ms(last.p50Ms, 6)} / ${ms(last.p99Ms, 6)}`);
  }
  const [defaults, ...others] = arms as [Arm, ...Arm[]];
  for (const other of others) {
    const gain = (what: 'hot' | 'spread'): string => (meanRatioToNoOp(defaults, what) / meanRatioToNoOp(other, what)).toFixed(2);
    console.log(`defaults / ${other.name} (of the ratios): spread debits ${gain('spread')}x, hot account ${gain('hot')}x`);
  }
}

async function seed(store: LedgerStore, accountId: string, entries: number): Promise<void> {
  const startedAt = performance.now();
  await seedLedgerAccount(store, accountId, entries);
  if (entries >= 1_000) console.log(`  ${accountId}: ${entries.toLocaleString('en')} entries in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
}

function ms(value: number, width: number): string {
  return value.toFixed(2).padStart(width);
}

async function main(): Promise<void> {
  const ops = numberArgument('ops', 300);
  const clients = numberArgument('clients', 16);
  const spreadAccounts = numberArgument('accounts', 100);
  const throughputOps = numberArgument('throughput-ops', 2_000);
  const rounds = numberArgument('rounds', 2);
  // The 1k account holds 999 minor units: the warm-up debit and `ops` debits must fit.
  if (ops > 998) throw new Error('--ops must be at most 998 (the 1k account is funded by its 999 seeded deposits)');
  console.log('starting three FerretDBs and three account services: the defaults, LEDGER_CROSS_ACCOUNT_COMMIT=off and LEDGER_OPTIMISTIC_DECISIONS=off…');
  const arms: Arm[] = [
    { name: 'defaults', bank: await startAccountServiceFixture('bench-ledger'), runs: [] },
    { name: 'cross-account commit off', bank: await startAccountServiceFixture('bench-ledger-off', 'bank-a', { LEDGER_CROSS_ACCOUNT_COMMIT: 'off' }), runs: [] },
    { name: 'optimistic decisions off', bank: await startAccountServiceFixture('bench-ledger-reads', 'bank-a', { LEDGER_OPTIMISTIC_DECISIONS: 'off' }), runs: [] },
  ];
  const bank = (arms[0] as Arm).bank;
  try {
    console.log('seeding accounts with direct chain writes (decideBatch + appendEntries + writePointers, 1,000 a batch)…');
    const store = new LedgerStore(bank.db);
    // Each seeded entry deposits 1 minor unit: enough for every debit made on the account below.
    await seed(store, 'warm-up', 2 * processWarmUpOps + 2);
    await seed(store, 'small', 1_000);
    await seed(store, 'large', 100_000);
    // Every run debits each account once untimed, then its share of the timed debits.
    const perSpreadAccount = rounds * (Math.ceil(throughputOps / spreadAccounts) + 1) + 2;
    for (const arm of arms) {
      const armStore = new LedgerStore(arm.bank.db);
      await seed(armStore, 'hot', rounds * (throughputOps + 1) + 2);
      for (let a = 0; a < spreadAccounts; a += 1) await seed(armStore, `spread-${a}`, perSpreadAccount);
    }
    console.log(`  ${spreadAccounts} spread accounts on each service: ${perSpreadAccount} entries each`);

    console.log(`warming up the service (${processWarmUpOps} operations of each kind on another account)…`);
    await perOperation(bank, ['warm-up'], processWarmUpOps);
    console.log(`timing ${ops} sequential operations of each kind at 1k and at 100k entries, the two accounts taking turns…`);
    const [small, large] = (await perOperation(bank, ['small', 'large'], ops)) as [Record<Kind, Timing>, Record<Kind, Timing>];
    console.log(`timing no-ops, hot-account debits and debits over ${spreadAccounts} accounts, ${throughputOps} each, ${clients} clients, ${rounds} rounds on each service…`);
    for (let round = 0; round < rounds; round += 1) {
      for (const arm of round % 2 === 0 ? arms : [...arms].reverse()) await measureRound(arm, round, clients, throughputOps, spreadAccounts);
    }

    console.log(`\nper-operation latency on one account, ${ops} sequential operations each (ms)`);
    console.log(`operation    p50@1k   p99@1k   p50@100k   p99@100k   p50 100k/1k (target ≤ ${ratioTarget.toFixed(1)})`);
    for (const kind of kinds) {
      const a = small[kind];
      const b = large[kind];
      const ratio = b.p50Ms / a.p50Ms;
      console.log(`${kind.padEnd(10)}  ${ms(a.p50Ms, 7)}  ${ms(a.p99Ms, 7)}  ${ms(b.p50Ms, 9)}  ${ms(b.p99Ms, 9)}   ${ratio.toFixed(2).padStart(6)}x ${ratio <= ratioTarget ? 'ok' : 'MISSED'}`);
    }
    printComparison(arms, clients, throughputOps, spreadAccounts);
  } finally {
    await Promise.all(arms.map((arm) => arm.bank.stop()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
