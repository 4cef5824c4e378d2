import { apiCaller, type ApiCaller, type HttpAnswer } from '../support/http';
import type { SeededRandom } from './seeded-random';

/**
 * The bank workload: accounts of every kind on every bank, then concurrent random transfers
 * through the transfer API — ones that should complete, ones that must fail, and ones an
 * operator approves, rejects or cancels while the saga runs. Every call is retried through
 * faults with the same Idempotency-Key, as a real client would.
 */

export type ScenarioKind =
  | 'normal'
  | 'insufficient-funds'
  | 'frozen-source'
  | 'frozen-target'
  | 'closed-target'
  | 'currency-mismatch'
  | 'unknown-target'
  | 'approve'
  | 'reject'
  | 'cancel-awaiting-approval'
  | 'approval-timeout'
  | 'cancel-race';

/** Scenarios whose money must never arrive. */
export const mustNotComplete: ReadonlySet<ScenarioKind> = new Set(['insufficient-funds', 'frozen-source', 'frozen-target', 'closed-target', 'currency-mismatch', 'unknown-target', 'reject', 'cancel-awaiting-approval', 'approval-timeout']);

interface AccountRef {
  bankId: string;
  accountId: string;
}

export interface WorkloadAccount extends AccountRef {
  currency: string;
  role: 'active' | 'poor' | 'frozen' | 'closed' | 'usd';
  depositMinor: bigint;
}

export interface IssuedTransfer {
  key: string;
  kind: ScenarioKind;
  client: string;
  /** Undefined until the API acknowledged the create. */
  transferId?: string;
  operatorAction?: { action: 'approve' | 'reject' | 'cancel'; answer: number | 'gave-up' };
}

export interface WorkloadSettings {
  banks: readonly string[];
  approvalThresholdMinor: bigint;
  clients: number;
  pauseMsMin: number;
  pauseMsMax: number;
}

const activeDepositMinor = 1_000_000n;
const poorDepositMinor = 1_000n;

export function workloadAccounts(banks: readonly string[]): WorkloadAccount[] {
  return banks.flatMap((bankId) => [
    ...[1, 2, 3, 4].map((n) => ({ bankId, accountId: `${bankId}-${n}`, currency: 'EUR', role: 'active' as const, depositMinor: activeDepositMinor })),
    { bankId, accountId: `${bankId}-poor`, currency: 'EUR', role: 'poor' as const, depositMinor: poorDepositMinor },
    { bankId, accountId: `${bankId}-frozen`, currency: 'EUR', role: 'frozen' as const, depositMinor: activeDepositMinor },
    { bankId, accountId: `${bankId}-closed`, currency: 'EUR', role: 'closed' as const, depositMinor: 0n },
    { bankId, accountId: `${bankId}-usd`, currency: 'USD', role: 'usd' as const, depositMinor: activeDepositMinor },
  ]);
}

const transient = (status: number): boolean => status === 0 || status === 429 || status >= 500;

/** Retries a call through faults until it gets an answer that is not a transport fault or a 5xx. */
/** `giveUpAtMs` may be a function: read on every try, so a deadline set later (at the heal) still ends the loop. */
export async function untilAnswered(call: () => Promise<HttpAnswer>, giveUpAtMs: number | (() => number), pauseMs = 500): Promise<HttpAnswer | undefined> {
  const deadline = typeof giveUpAtMs === 'number' ? () => giveUpAtMs : giveUpAtMs;
  while (Date.now() < deadline()) {
    const answer = await call().catch(() => undefined);
    if (answer && !transient(answer.status)) return answer;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return undefined;
}

/** Opens, funds, freezes and closes the workload's accounts through the operator API. */
export async function setUpAccounts(operator: ApiCaller, accounts: readonly WorkloadAccount[]): Promise<void> {
  const must = async (what: string, call: () => Promise<HttpAnswer>, ok: number[]): Promise<void> => {
    const answer = await untilAnswered(call, Date.now() + 60_000);
    if (!answer || !ok.includes(answer.status)) throw new Error(`${what}: ${answer ? `${answer.status} ${answer.text}` : 'no answer'}`);
  };
  for (const account of accounts) {
    const base = `/v1/banks/${account.bankId}/accounts`;
    await must(`open ${account.accountId}`, () => operator.post(base, { accountId: account.accountId, owner: account.accountId, currency: account.currency }), [200, 201]);
    if (account.depositMinor > 0n) {
      const deposit = { depositId: `seed-${account.accountId}`, amountMinor: String(account.depositMinor), currency: account.currency };
      await must(`fund ${account.accountId}`, () => operator.post(`${base}/${account.accountId}/deposits`, deposit), [200]);
    }
    // One key per change, the same on every retry through faults: a retry answers the first decision.
    const key = (action: string) => ({ 'idempotency-key': `setup-${action}-${account.accountId}` });
    if (account.role === 'frozen') await must(`freeze ${account.accountId}`, () => operator.post(`${base}/${account.accountId}/freeze`, {}, key('freeze')), [200]);
    if (account.role === 'closed') await must(`close ${account.accountId}`, () => operator.post(`${base}/${account.accountId}/close`, {}, key('close')), [200]);
  }
}

interface Scenario {
  kind: ScenarioKind;
  source: AccountRef;
  target: AccountRef;
  amountMinor: bigint;
  currency: string;
}

const scenarioWeights: ReadonlyArray<[ScenarioKind, number]> = [
  ['normal', 40],
  ['cancel-race', 8],
  ['insufficient-funds', 6],
  ['frozen-source', 4],
  ['frozen-target', 4],
  ['closed-target', 4],
  ['currency-mismatch', 4],
  ['unknown-target', 4],
  ['approve', 6],
  ['reject', 4],
  ['cancel-awaiting-approval', 4],
  ['approval-timeout', 2],
];

function pickKind(random: SeededRandom): ScenarioKind {
  const total = scenarioWeights.reduce((sum, [, weight]) => sum + weight, 0);
  let draw = random.int(1, total);
  for (const [kind, weight] of scenarioWeights) {
    draw -= weight;
    if (draw <= 0) return kind;
  }
  return 'normal';
}

function scenario(random: SeededRandom, accounts: readonly WorkloadAccount[], threshold: bigint): Scenario {
  const kind = pickKind(random);
  const of = (role: WorkloadAccount['role']) => accounts.filter((account) => account.role === role);
  const active = of('active');
  const source = random.pick(active);
  let target = random.pick(active.filter((account) => account.accountId !== source.accountId));
  const small = BigInt(random.int(1, Number(threshold / 20n)));
  const large = threshold + BigInt(random.int(1, Number(threshold)));
  const base = { kind, source, target, amountMinor: small, currency: 'EUR' };
  switch (kind) {
    case 'insufficient-funds':
      return { ...base, source: random.pick(of('poor')), amountMinor: poorDepositMinor * 5n + small };
    case 'frozen-source':
      return { ...base, source: random.pick(of('frozen')) };
    case 'frozen-target':
      return { ...base, target: random.pick(of('frozen')) };
    case 'closed-target':
      return { ...base, target: random.pick(of('closed')) };
    case 'currency-mismatch':
      return { ...base, target: random.pick(of('usd')) };
    case 'unknown-target':
      target = { ...target, accountId: `${target.bankId}-ghost` } as WorkloadAccount;
      return { ...base, target };
    case 'approve':
    case 'reject':
    case 'cancel-awaiting-approval':
    case 'approval-timeout':
      return { ...base, amountMinor: large };
    default:
      return base;
  }
}

export interface WorkloadHandle {
  issued: IssuedTransfer[];
  /** Resolves when every client has stopped and every create and operator action has its answer. */
  finished: Promise<void>;
  stop: () => void;
}

/**
 * Runs `settings.clients` concurrent clients until stop(). Creates and operator actions keep
 * retrying after stop() until `giveUpAtMs()`, so that no acknowledged work is abandoned.
 */
export function runWorkload(apiUrl: string, keys: { clients: ReadonlyArray<{ name: string; key: string }>; operator: string }, accounts: readonly WorkloadAccount[], settings: WorkloadSettings, random: SeededRandom, giveUpAtMs: () => number): WorkloadHandle {
  const issued: IssuedTransfer[] = [];
  const pending: Array<Promise<void>> = [];
  const operator = apiCaller(apiUrl, keys.operator);
  let stopped = false;

  async function followUp(record: IssuedTransfer, caller: ApiCaller, action: 'approve' | 'reject' | 'cancel', delayMs: number, waitForApproval: boolean): Promise<void> {
    const id = record.transferId as string;
    if (waitForApproval) {
      // Act once the saga is waiting for the operator (or has already ended).
      const ready = await untilAnswered(async () => {
        const answer = await caller.get(`/v1/transfers/${id}`);
        return answer.status === 200 && answer.body.status === 'PENDING' ? { ...answer, status: 503 } : answer;
      }, giveUpAtMs);
      if (!ready) return;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const answer = await untilAnswered(() => operator.post(`/v1/transfers/${id}/${action}`, { comment: 'chaos workload' }), giveUpAtMs);
    record.operatorAction = { action, answer: answer?.status ?? 'gave-up' };
  }

  async function issue(client: { name: string; key: string }, random: SeededRandom, n: number): Promise<void> {
    const caller = apiCaller(apiUrl, client.key);
    const planned = scenario(random, accounts, settings.approvalThresholdMinor);
    const record: IssuedTransfer = { key: `chaos-${random.seed}-${client.name}-${n}`, kind: planned.kind, client: client.name };
    issued.push(record);
    const body = { source: { bankId: planned.source.bankId, accountId: planned.source.accountId }, target: { bankId: planned.target.bankId, accountId: planned.target.accountId }, amountMinor: String(planned.amountMinor), currency: planned.currency };
    const created = await untilAnswered(() => caller.post('/v1/transfers', body, { 'idempotency-key': record.key }), giveUpAtMs);
    if (!created || (created.status !== 202 && created.status !== 200)) throw new Error(`create ${record.key} (${planned.kind}) answered ${created ? `${created.status} ${created.text}` : 'nothing before the deadline'}`);
    record.transferId = String(created.body.id);
    const delayMs = random.int(0, 2_000);
    if (planned.kind === 'approve') pending.push(followUp(record, caller, 'approve', delayMs, true));
    if (planned.kind === 'reject') pending.push(followUp(record, caller, 'reject', delayMs, true));
    if (planned.kind === 'cancel-awaiting-approval') pending.push(followUp(record, caller, 'cancel', delayMs, true));
    if (planned.kind === 'cancel-race') pending.push(followUp(record, caller, 'cancel', random.int(0, 400), false));
  }

  async function client(index: number): Promise<void> {
    const identity = keys.clients[index % keys.clients.length] as { name: string; key: string };
    const own = random.fork();
    for (let n = 0; !stopped; n += 1) {
      await issue(identity, own, index * 1_000_000 + n);
      await new Promise((resolve) => setTimeout(resolve, own.int(settings.pauseMsMin, settings.pauseMsMax)));
    }
  }

  const clients = Array.from({ length: settings.clients }, (_, index) => client(index));
  const finished = (async () => {
    await Promise.all(clients);
    // Follow-ups may add more follow-ups' worth of waiting, never more work.
    await Promise.all(pending);
  })();
  return {
    issued,
    finished,
    stop: () => {
      stopped = true;
    },
  };
}
