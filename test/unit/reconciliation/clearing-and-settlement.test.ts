import type { ChainAccount, ChainEntry } from '../../../lib/reconciliation/accounts';
import { reconcile, type BankLedger, type ReconciliationInput, type ReconciliationState } from '../../../lib/reconciliation/reconciliation';
import type { TransferStatus } from '../../../lib/contracts/transfer-contract';

/**
 * The rules over the banks' clearing accounts and the settlement bank: each transfer's
 * counterparts and settlement legs, the clearing mirror per bank, the positions per window.
 */

type Extras = Partial<Pick<ChainEntry, 'outcome' | 'clearingAccountId' | 'windowId'>>;
type Move = [operationId: string, kind: ChainEntry['kind'], amount: bigint, extras?: Extras];

const at = (sequence: number): string => new Date(Date.UTC(2025, 0, 1) + sequence * 1_000).toISOString();
const reconciledAt = '2030-01-01T00:00:00.000Z';
const cleared: Extras = { clearingAccountId: 'clearing.EUR' };

/** A chain built from its moves, with running balances, as the ledger books it. */
function chain(accountId: string, moves: Move[], overdraftLimitMinor = 0n): { account: ChainAccount; entries: ChainEntry[] } {
  let balance = 0n;
  const entries: ChainEntry[] = [{ operationId: 'open', accountId, kind: 'open', amountMinor: 0n, balanceAfterMinor: 0n, sequence: 0, outcome: 'APPLIED', createdAt: at(0) }];
  for (const [operationId, kind, amount, extras = {}] of moves) {
    const { outcome = 'APPLIED', ...rest } = extras;
    const applied = outcome === 'APPLIED' ? amount : 0n;
    balance += applied;
    entries.push({ operationId, accountId, kind, amountMinor: applied, balanceAfterMinor: balance, sequence: entries.length, outcome, createdAt: at(entries.length), ...rest });
  }
  return { account: { accountId, currency: 'EUR', balanceMinor: balance, overdraftLimitMinor, sequence: entries.length - 1 }, entries };
}

/** The Net Debit Cap of every position. */
const cap = 1_000n;
const w1 = { windowId: 'w-000001' };
const w2 = { windowId: 'w-000002' };

/**
 * A deferred-net world: t1 bank-a → bank-b completed; t2 reserved, released after the marker of
 * w-000002 and refunded; t3 in flight (reserved in w-000002); t4 refused at the settlement bank
 * and refunded. Window w-000001 was settled (its `settle` and `settle.<windowId>` moves), and
 * bank-a paid funds out: neither is a transfer leg.
 */
interface World {
  alice: Move[];
  bob: Move[];
  clearingA: Move[];
  clearingB: Move[];
  positionA: Move[];
  positionB: Move[];
  reserveA: Move[];
}

function cleanWorld(): World {
  return {
    alice: [['seed:deposit', 'deposit', 1_000n], ['t1:debit', 'debit', -200n, cleared], ['t2:debit', 'debit', -100n, cleared], ['t4:debit', 'debit', -30n, cleared], ['t2:refund', 'refund', 100n, cleared], ['t4:refund', 'refund', 30n, cleared], ['t3:debit', 'debit', -50n, cleared]],
    bob: [['t1:credit', 'credit', 200n, cleared]],
    clearingA: [['t1:debit', 'clearing', 200n], ['t2:debit', 'clearing', 100n], ['t4:debit', 'clearing', 30n], ['t2:refund', 'clearing', -100n], ['t4:refund', 'clearing', -30n], ['t3:debit', 'clearing', 50n]],
    clearingB: [['t1:credit', 'clearing', -200n]],
    positionA: [['w-000001:window', 'window', 0n, w1], ['t1:debit', 'debit', -200n, w1], ['t2:debit', 'debit', -100n, w1], ['t4:debit', 'debit', -30n, { ...w1, outcome: 'REFUSED' }], ['w-000002:window', 'window', 0n, w2], ['t2:refund', 'refund', 100n, w2], ['w-000001:settle', 'settle', 200n, w2], ['t3:debit', 'debit', -50n, w2]],
    positionB: [['w-000001:window', 'window', 0n, w1], ['t1:credit', 'credit', 200n, w1], ['w-000002:window', 'window', 0n, w2], ['w-000001:settle', 'settle', -200n, w2]],
    reserveA: [['opening-reserve:deposit', 'deposit', 5_000n], ['funds-out.out-1:debit', 'debit', -50n], ['settle.w-000001:debit', 'debit', -200n]],
  };
}

const statuses: Record<string, TransferStatus> = { t1: 'COMPLETED', t2: 'REFUNDED', t3: 'DEBITED', t4: 'REFUNDED' };

function ledgersOf(world: World): { banks: BankLedger[]; settlementBank: BankLedger } {
  return {
    banks: [
      { bankId: 'bank-a', accounts: [chain('alice', world.alice), chain('clearing.EUR', world.clearingA)] },
      { bankId: 'bank-b', accounts: [chain('bob', world.bob), chain('clearing.EUR', world.clearingB)] },
    ],
    settlementBank: {
      bankId: 'settlement',
      accounts: [chain('position.bank-a.EUR', world.positionA, cap), chain('position.bank-b.EUR', world.positionB, cap), chain('reserve.bank-a.EUR', world.reserveA), chain('reserve.bank-b.EUR', [['opening-reserve:deposit', 'deposit', 5_000n], ['settle.w-000001:credit', 'credit', 200n]])],
    },
  };
}

function recordsOf(table: Record<string, TransferStatus>): ReconciliationInput['recordOf'] {
  return (transferId) => {
    const status = table[transferId];
    return status === undefined ? { kind: 'missing' } : { kind: 'recorded', status };
  };
}

function run(world: World, table: Record<string, TransferStatus> = statuses) {
  return reconcile({ ...ledgersOf(world), recordOf: recordsOf(table), reconciledAt });
}

const kinds = (report: ReturnType<typeof reconcile>['report']): string[] => report.discrepancies.map((d) => `${d.kind}${d.transferId ? ` ${d.transferId}` : ''}${d.kind === 'CLEARING_MIRROR' ? ` ${d.bankId ?? ''}` : ''}`).sort();

function replaced(moves: Move[], operationId: string, by: Move | undefined): Move[] {
  return moves.flatMap((move) => (move[0] === operationId ? (by ? [by] : []) : [move]));
}

describe('reconciliation of clearing accounts and the settlement bank', () => {
  test('when every transfer is booked on both sides, then nothing is reported, customer conservation holds as before, each clearing mirrors its settlement legs and the settled window sums to 0', () => {
    const { report } = run(cleanWorld());
    expect(kinds(report)).toEqual([]);
    // Neither the clearing accounts nor the settlement bank's reserves count as customer money.
    expect(report.conservation).toEqual([{ currency: 'EUR', depositsMinor: '1000', balancesMinor: '950', inFlightMinor: '50', holds: true }]);
    expect(report.transfers).toEqual({ seen: 4, completed: 1, reversed: 2, inFlight: 1 });
    expect(report.settlementBank).toBe('settlement');
    expect(report.banks).toEqual(['bank-a', 'bank-b']);
    expect(report.clearing).toEqual([
      { bankId: 'bank-a', currency: 'EUR', clearingMinor: '250', settlementMinor: '-250', inFlightMinor: '0', holds: true },
      { bankId: 'bank-b', currency: 'EUR', clearingMinor: '-200', settlementMinor: '200', inFlightMinor: '0', holds: true },
    ]);
    // t2's release carries w-000002 and still counts for w-000001, where it reserved; t4's refused reservation moved nothing.
    expect(report.windows).toEqual([
      { windowId: 'w-000001', currency: 'EUR', netMinor: '0', transfers: 2, inFlight: 0 },
      { windowId: 'w-000002', currency: 'EUR', netMinor: '-50', transfers: 1, inFlight: 1 },
    ]);
  });

  test('when the settlement bank is not read, then the report says so and the customer rules are the same', () => {
    const world = cleanWorld();
    const { report } = reconcile({ banks: ledgersOf(world).banks, recordOf: recordsOf(statuses), reconciledAt });
    // Nothing to hold the cleared legs' settlement against: only their counterparts are judged.
    expect(kinds(report)).toEqual([]);
    expect(report.settlementBank).toBeNull();
    expect(report.conservation).toEqual(run(world).report.conservation);
    expect([report.clearing, report.windows]).toEqual([[], []]);
    const missing = reconcile({ banks: ledgersOf({ ...world, clearingA: replaced(world.clearingA, 't1:debit', undefined) }).banks, recordOf: recordsOf(statuses), reconciledAt });
    expect(kinds(missing.report)).toEqual(['CLEARING_MISMATCH t1']);
  });

  test('when a cleared debit has no counterpart, then CLEARING_MISMATCH names the transfer and the bank\'s clearing no longer mirrors', () => {
    const world = cleanWorld();
    const { report } = run({ ...world, clearingA: replaced(world.clearingA, 't1:debit', undefined) });
    expect(kinds(report)).toEqual(['CLEARING_MIRROR bank-a', 'CLEARING_MISMATCH t1']);
    expect(report.discrepancies.find((d) => d.kind === 'CLEARING_MISMATCH')).toMatchObject({ bankId: 'bank-a', accountId: 'clearing.EUR', detail: 'the debit of 200 EUR on alice has no counterpart on clearing.EUR' });
    expect(report.clearing.find((row) => row.bankId === 'bank-a')).toMatchObject({ clearingMinor: '50', settlementMinor: '-250', holds: false });
  });

  test('when a counterpart books the wrong amount, then CLEARING_MISMATCH says both amounts', () => {
    const world = cleanWorld();
    const { report } = run({ ...world, clearingB: [['t1:credit', 'clearing', -199n]] });
    expect(kinds(report)).toEqual(['CLEARING_MIRROR bank-b', 'CLEARING_MISMATCH t1']);
    expect(report.discrepancies.find((d) => d.kind === 'CLEARING_MISMATCH')?.detail).toBe('the credit of 200 EUR on bob has a counterpart of -199 EUR, not -200');
  });

  test('when a clearing entry has no customer leg, then CLEARING_MISMATCH names its transfer', () => {
    const world = cleanWorld();
    const { report } = run({ ...world, clearingB: [...world.clearingB, ['t9:credit', 'clearing', -10n]] }, { ...statuses, t9: 'REJECTED' });
    expect(kinds(report)).toEqual(['CLEARING_MIRROR bank-b', 'CLEARING_MISMATCH t9']);
    expect(report.discrepancies.find((d) => d.kind === 'CLEARING_MISMATCH')).toMatchObject({ bankId: 'bank-b', accountId: 'clearing.EUR', detail: 'a clearing entry of -10 EUR in the credit slot, and no cleared customer credit at bank-b' });
  });

  test('when a transfer\'s debit is cleared and its credit is not, then one CLEARING_MISMATCH says which, and the receiving bank\'s clearing no longer mirrors', () => {
    const world = cleanWorld();
    const { report } = run({ ...world, bob: [['t1:credit', 'credit', 200n]], clearingB: [] });
    expect(kinds(report)).toEqual(['CLEARING_MIRROR bank-b', 'CLEARING_MISMATCH t1']);
    expect(report.discrepancies.find((d) => d.kind === 'CLEARING_MISMATCH')).toMatchObject({ transferId: 't1', bankId: 'bank-b', accountId: 'bob', detail: 'its debit is cleared, its credit or refund is not' });
    expect(report.clearing.find((row) => row.bankId === 'bank-b')).toMatchObject({ clearingMinor: '0', settlementMinor: '200', holds: false });
  });

  test('when a refunded transfer\'s reservation was never released, then SETTLEMENT_MISMATCH, and its window no longer sums to 0 with nothing in flight', () => {
    const world = cleanWorld();
    const { report } = run({ ...world, positionA: replaced(world.positionA, 't2:refund', undefined) });
    expect(kinds(report)).toEqual(['CLEARING_MIRROR bank-a', 'POSITIONS_NOT_ZERO', 'SETTLEMENT_MISMATCH t2']);
    expect(report.discrepancies.find((d) => d.kind === 'SETTLEMENT_MISMATCH')).toMatchObject({ bankId: 'settlement', accountId: 'position.bank-a.EUR', detail: 'no money kept moved between the customers, the settlement bank holds debit -100 on position.bank-a.EUR' });
    expect(report.windows[0]).toEqual({ windowId: 'w-000001', currency: 'EUR', netMinor: '-100', transfers: 2, inFlight: 0 });
  });

  test('when the settlement credit lands on the sending bank\'s position, then SETTLEMENT_MISMATCH and both banks\' mirrors break', () => {
    const world = cleanWorld();
    const { report } = run({ ...world, positionA: [...world.positionA, ['t1:credit', 'credit', 200n, w2]], positionB: replaced(world.positionB, 't1:credit', undefined) });
    expect(kinds(report)).toEqual(['CLEARING_MIRROR bank-a', 'CLEARING_MIRROR bank-b', 'SETTLEMENT_MISMATCH t1']);
    // Both legs are on positions: the window itself still sums to 0.
    expect(report.windows[0]).toMatchObject({ windowId: 'w-000001', netMinor: '0', inFlight: 0 });
  });

  test('when a completed cleared transfer has no settlement legs, or legs settle a transfer that was never cleared, then SETTLEMENT_MISMATCH', () => {
    const world = cleanWorld();
    const bare = run({ ...world, positionA: replaced(world.positionA, 't1:debit', undefined), positionB: replaced(world.positionB, 't1:credit', undefined) });
    expect(kinds(bare.report)).toEqual(['CLEARING_MIRROR bank-a', 'CLEARING_MIRROR bank-b', 'SETTLEMENT_MISMATCH t1']);
    expect(bare.report.discrepancies.find((d) => d.kind === 'SETTLEMENT_MISMATCH')?.detail).toBe('a cleared transfer completed with no settlement legs');
    const uncleared: World = { ...world, alice: [...world.alice, ['t5:debit', 'debit', -10n]], bob: [...world.bob, ['t5:credit', 'credit', 10n]], positionA: [...world.positionA, ['t5:debit', 'debit', -10n, w2]], positionB: [...world.positionB, ['t5:credit', 'credit', 10n, w2]] };
    expect(kinds(run(uncleared, { ...statuses, t5: 'COMPLETED' }).report)).toEqual(['CLEARING_MIRROR bank-a', 'CLEARING_MIRROR bank-b', 'SETTLEMENT_MISMATCH t5']);
  });

  test('when the settlement credit is short, then its window does not sum to 0 once nothing is in flight', () => {
    const world = cleanWorld();
    const { report } = run({ ...world, positionB: replaced(world.positionB, 't1:credit', ['t1:credit', 'credit', 150n, w1]) });
    expect(kinds(report)).toEqual(['CLEARING_MIRROR bank-b', 'POSITIONS_NOT_ZERO', 'SETTLEMENT_MISMATCH t1']);
    expect(report.discrepancies.find((d) => d.kind === 'POSITIONS_NOT_ZERO')?.detail).toBe('window w-000001 EUR: its 2 transfers ended, its positions sum to -50');
  });
});

/** Each chain up to `upTo` entries after its opening, with the account as it stood then. */
function prefix(ledger: BankLedger, upTo: number): BankLedger {
  return {
    bankId: ledger.bankId,
    accounts: ledger.accounts.map(({ account, entries }) => {
      const kept = entries.filter((entry) => entry.sequence <= upTo);
      const last = kept[kept.length - 1];
      return { account: { ...account, sequence: last?.sequence ?? 0, balanceMinor: last?.balanceAfterMinor ?? 0n }, entries: kept };
    }),
  };
}

/** The same ledgers as a run after `state` reads them: each chain's entries after its mark. */
function after(ledger: BankLedger, state: ReconciliationState): BankLedger {
  const marks = new Map(state.accounts.map((mark) => [`${mark.bankId}/${mark.accountId}`, mark.sequence]));
  return { bankId: ledger.bankId, accounts: ledger.accounts.map(({ account, entries }) => ({ account, entries: entries.filter((entry) => entry.sequence > (marks.get(`${ledger.bankId}/${account.accountId}`) ?? -1)) })) };
}

describe('incremental reconciliation over the settlement bank', () => {
  test('when a run continues from a cut taken halfway, then it reports exactly what one full read does, and the cut carries the running figures', () => {
    const whole = ledgersOf(cleanWorld());
    const full = reconcile({ ...whole, recordOf: recordsOf(statuses), reconciledAt });
    // Halfway, every transfer the chains show is still in flight in the record.
    const first = reconcile({ banks: whole.banks.map((bank) => prefix(bank, 3)), settlementBank: prefix(whole.settlementBank, 3), recordOf: recordsOf({ t1: 'DEBITED', t2: 'DEBITED', t3: 'DEBITED', t4: 'DEBITED' }), reconciledAt });
    expect(first.report.discrepancies).toEqual([]);
    expect(first.state.clearing?.length).toBeGreaterThan(0);
    expect(first.state.pending.some((legs) => (legs.settlement ?? []).length > 0 && (legs.clearing ?? []).length > 0)).toBe(true);
    const second = reconcile({ banks: whole.banks.map((bank) => after(bank, first.state)), settlementBank: after(whole.settlementBank, first.state), since: { cut: 1, state: first.state }, recordOf: recordsOf(statuses), reconciledAt });
    expect({ ...second.report, read: undefined }).toEqual({ ...full.report, read: undefined });
    expect(second.state).toEqual(full.state);
  });

  test('when the cut was written before the clearing figures were kept (no totals, no windows), then it still loads and a run without the settlement bank goes on from it as before', () => {
    const banks: BankLedger[] = [
      { bankId: 'bank-a', accounts: [chain('alice', [['seed:deposit', 'deposit', 1_000n], ['t1:debit', 'debit', -200n], ['t2:debit', 'debit', -5n]])] },
      { bankId: 'bank-b', accounts: [chain('bob', [['t1:credit', 'credit', 200n], ['t2:credit', 'credit', 5n]])] },
    ];
    const table: Record<string, TransferStatus> = { t1: 'COMPLETED', t2: 'COMPLETED' };
    const full = reconcile({ banks, recordOf: recordsOf(table), reconciledAt });
    const first = reconcile({ banks: banks.map((bank) => prefix(bank, 2)), recordOf: recordsOf({ t1: 'COMPLETED', t2: 'DEBITED' }), reconciledAt });
    const { clearing: _clearing, windows: _windows, ...older } = first.state;
    const next = reconcile({ banks: banks.map((bank) => after(bank, first.state)), since: { cut: 1, state: older }, recordOf: recordsOf(table), reconciledAt });
    expect(kinds(next.report)).toEqual([]);
    expect({ ...next.report, read: undefined }).toEqual({ ...full.report, read: undefined });
    expect(next.state.windows).toEqual([]);
  });
});
