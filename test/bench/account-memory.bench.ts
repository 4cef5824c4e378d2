/**
 * Account-service memory under many accounts: two real service processes, each on its own real
 * FerretDB, one with the ledger's caches bounded (the defaults) and one with bounds set so high
 * that nothing is ever evicted. Both touch the same number of new accounts (open, fund, debit
 * each) side by side in the same run; each one's RSS and heap are read from its /metrics at the
 * start, the middle and the end.
 *
 *   npm run bench:memory [-- --accounts 30000 --clients 16]
 */
import { startAccountServiceFixture, type AccountServiceFixture } from '../support/account-service';
import { closedLoopLatencies, numberArgument } from './bench-support';

/** Far beyond any run's accounts: the caches of this arm never evict. */
const unboundedEnv = { LEDGER_ACCOUNT_CACHE_MAX: '100000000', LEDGER_HEAD_CACHE_MAX: '100000000' };

interface Arm {
  name: string;
  bank: AccountServiceFixture;
}

interface Sample {
  rssBytes: number;
  heapUsedBytes: number;
  evictions: number;
}

/** One gauge or counter (summed over its label sets) from the Prometheus text of a service. */
function metricValue(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function sample(arm: Arm): Promise<Sample> {
  const text = await (await fetch(`${arm.bank.url}/metrics`)).text();
  return { rssBytes: metricValue(text, 'process_resident_memory_bytes'), heapUsedBytes: metricValue(text, 'nodejs_heap_size_used_bytes'), evictions: metricValue(text, 'ledger_cache_evictions_total') };
}

/** A new account opened, funded and debited: what leaves an account document and a head behind in every cache. */
async function touch(bank: AccountServiceFixture, accountId: string): Promise<void> {
  const answers = [
    await bank.call('POST', '/v1/accounts', { accountId, owner: 'memory bench', currency: 'EUR' }),
    await bank.call('POST', `/v1/accounts/${accountId}/deposits`, { depositId: `${accountId}-fund`, amountMinor: '100', currency: 'EUR' }),
    await bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId: `${accountId}-out`, amountMinor: '1', currency: 'EUR' }),
  ];
  const statuses = answers.map((answer) => answer.status);
  if (statuses.join() !== '201,200,200') throw new Error(`${accountId} answered ${statuses.join(', ')}`);
}

/** Accounts `from` to `to` on both arms at once, each with its own `clients` callers; accounts per second of each. */
async function touchRange(arms: readonly Arm[], from: number, to: number, clients: number): Promise<number[]> {
  const runs = await Promise.all(arms.map((arm) => closedLoopLatencies(to - from, clients, (n) => touch(arm.bank, `mem-${from + n}`))));
  return runs.map((run) => (to - from) / run.seconds);
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1).padStart(7);
}

function printHeader(arms: readonly Arm[]): void {
  console.log('\nRSS and heap used of each account service (MB), evictions of its caches');
  console.log(`when          ${arms.map((arm) => `${arm.name.padEnd(10)} RSS   heap   evictions`).join('   ')}   RSS unbounded/bounded`);
}

/** One row as soon as it is sampled, so that a run cut short still shows what it measured. */
function printRow(label: string, byArm: readonly Sample[]): void {
  const cells = byArm.map((value) => `${mb(value.rssBytes)} ${mb(value.heapUsedBytes)} ${String(value.evictions).padStart(9)}`);
  const ratio = (byArm[1] as Sample).rssBytes / (byArm[0] as Sample).rssBytes;
  console.log(`${label.padEnd(12)}  ${cells.map((cell) => `       ${cell}`).join('   ')}   ${ratio.toFixed(2).padStart(6)}x`);
}

function printGrowth(arms: readonly Arm[], first: readonly Sample[], last: readonly Sample[]): void {
  const growth = last.map((value, index) => value.rssBytes - (first[index] as Sample).rssBytes);
  console.log(`RSS growth start → end: ${arms.map((arm, index) => `${arm.name} ${mb(growth[index] as number).trim()} MB`).join(', ')} (unbounded/bounded ${((growth[1] as number) / (growth[0] as number)).toFixed(2)}x)`);
}

async function main(): Promise<void> {
  const accounts = numberArgument('accounts', 30_000);
  const clients = numberArgument('clients', 16);
  console.log('starting two FerretDBs and two account services (bounded: the defaults; unbounded: bounds of 100,000,000)…');
  const arms: Arm[] = [
    { name: 'bounded', bank: await startAccountServiceFixture('bench-memory-bounded') },
    { name: 'unbounded', bank: await startAccountServiceFixture('bench-memory-unbounded', 'bank-a', unboundedEnv) },
  ];
  try {
    printHeader(arms);
    const first = await Promise.all(arms.map(sample));
    printRow('start', first);
    let last = first;
    const middle = Math.floor(accounts / 2);
    for (const [label, from, to] of [[`${middle} accts`, 0, middle], [`${accounts} accts`, middle, accounts]] as const) {
      const rates = await touchRange(arms, from, to, clients);
      last = await Promise.all(arms.map(sample));
      printRow(label, last);
      console.log(`  (accounts ${from}–${to}: ${arms.map((arm, index) => `${arm.name} ${(rates[index] as number).toFixed(0)}/s`).join(', ')})`);
    }
    printGrowth(arms, first, last);
  } finally {
    await Promise.all(arms.map((arm) => arm.bank.stop()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
