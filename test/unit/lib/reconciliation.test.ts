import type { ChainAccount, ChainEntry } from '../../../lib/reconciliation/accounts';
import { discrepanciesListedMax, reconcile, type BankLedger, type ReconciliationInput, type ReconciliationState, type RecordedView } from '../../../lib/reconciliation/reconciliation';
import { approvalRepeatedAt, recordedViewOf } from '../../../lib/reconciliation/record';
import { reopenedViewOf } from '../../../lib/reconciliation/reopened';
import type { TransferState, TransferStatus } from '../../../lib/contracts/transfer-contract';
import type { TransferHistory, TransferStatusEntry } from '../../../lib/record/transfer-record';

type Move = [operationId: string, kind: ChainEntry['kind'], amount: bigint, outcome?: ChainEntry['outcome']];

/** Entry times follow the sequence, one second apart, so that "newest first" has something to order. */
const at = (sequence: number): string => new Date(Date.UTC(2025, 0, 1) + sequence * 1_000).toISOString();
const reconciledAt = '2030-01-01T00:00:00.000Z';

/** Builds an account's chain from its movements, with running balances, as the ledger would. */
function account(bankId: string, accountId: string, currency: string, moves: Move[]): { bankId: string; ledger: { account: ChainAccount; entries: ChainEntry[] } } {
  let balance = 0n;
  const entries: ChainEntry[] = [{ operationId: 'open', accountId, kind: 'open', amountMinor: 0n, balanceAfterMinor: 0n, sequence: 0, outcome: 'APPLIED', createdAt: at(0) }];
  for (const [operationId, kind, amount, outcome = 'APPLIED'] of moves) {
    const applied = outcome === 'APPLIED' ? amount : 0n;
    balance += applied;
    entries.push({ operationId, accountId, kind, amountMinor: applied, balanceAfterMinor: balance, sequence: entries.length, outcome, createdAt: at(entries.length) });
  }
  const view: ChainAccount = { accountId, currency, balanceMinor: balance, overdraftLimitMinor: 0n, sequence: entries.length - 1 };
  return { bankId, ledger: { account: view, entries } };
}

function banks(...accounts: ReturnType<typeof account>[]): BankLedger[] {
  const byBank = new Map<string, BankLedger>();
  for (const { bankId, ledger } of accounts) {
    const bank = byBank.get(bankId) ?? { bankId, accounts: [] };
    byBank.set(bankId, { bankId, accounts: [...bank.accounts, ledger] });
  }
  return [...byBank.values()];
}

/** The same ledgers as a run after `state` reads them: each chain's entries after its mark. */
function since(ledgers: BankLedger[], state: ReconciliationState): BankLedger[] {
  const marks = new Map(state.accounts.map((mark) => [`${mark.bankId}/${mark.accountId}`, mark.sequence]));
  return ledgers.map((bank) => ({
    bankId: bank.bankId,
    accounts: bank.accounts.map(({ account: view, entries }) => ({ account: view, entries: entries.filter((entry) => entry.sequence > (marks.get(`${bank.bankId}/${view.accountId}`) ?? -1)) })),
  }));
}

/** The record as a table: a status per transfer id, missing for the others. */
function records(statuses: Record<string, TransferStatus | RecordedView>): ReconciliationInput['recordOf'] {
  return (transferId) => {
    const found = statuses[transferId];
    if (found === undefined) return { kind: 'missing' };
    return typeof found === 'string' ? { kind: 'recorded', status: found } : found;
  };
}

function run(ledgers: BankLedger[], recordOf: ReconciliationInput['recordOf'], previous?: { cut: number; state: ReconciliationState }, reopened?: ReconciliationInput['reopened']) {
  return reconcile({ banks: previous ? since(ledgers, previous.state) : ledgers, recordOf, reconciledAt, ...(previous ? { since: previous } : {}), ...(reopened ? { reopened } : {}) });
}

const kinds = (report: ReturnType<typeof reconcile>['report']) => report.discrepancies.map((d) => `${d.kind}${d.transferId ? ` ${d.transferId}` : ''}`).sort();
/** What a report says, without how it was read. */
const verdicts = ({ report }: ReturnType<typeof reconcile>) => ({ ...report, read: undefined });

describe('reconcile', () => {
  test('when every transfer is whole and final, then conservation holds, settlement nets per bank pair and nothing is reported', () => {
    const { report } = run(
      banks(
        account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 1_000n], ['t1:debit', 'debit', -300n], ['t3:debit', 'debit', -50n], ['t3:refund', 'refund', 50n], ['t4:debit', 'debit', -99n, 'REFUSED']]),
        account('bank-b', 'bob', 'EUR', [['d2:deposit', 'deposit', 500n], ['t1:credit', 'credit', 300n], ['t2:debit', 'debit', -100n]]),
        account('bank-a', 'amy', 'EUR', [['t2:credit', 'credit', 100n], ['t5:debit', 'void', 0n, 'APPLIED']]),
      ),
      records({ t1: 'COMPLETED', t2: 'COMPLETED', t3: 'REFUNDED', t4: 'REJECTED', t5: 'CANCELLED' }),
    );
    expect(kinds(report)).toEqual([]);
    expect(report.conservation).toEqual([{ currency: 'EUR', depositsMinor: '1500', balancesMinor: '1500', inFlightMinor: '0', holds: true }]);
    // bank-a sent 300 to bank-b, bank-b sent 100 back: bank-a owes 200 net.
    expect(report.settlement).toEqual([{ debtorBank: 'bank-a', creditorBank: 'bank-b', currency: 'EUR', netMinor: '200', transfers: 2 }]);
    expect(report.transfers).toEqual({ seen: 5, completed: 2, reversed: 1, inFlight: 0 });
    expect(report).toMatchObject({ accounts: 3, entries: 13, discrepancyCount: 0, discrepanciesLeftOut: 0, read: { fromCut: null, fullReadReason: 'no earlier cut', accountsRead: 3, entriesRead: 13 } });
  });

  test('when a debit has no credit yet and the record has the transfer in flight, then it is in flight and conservation counts it', () => {
    const { report, state } = run(banks(account('bank-a', 'alice', 'USD', [['d1:deposit', 'deposit', 100n], ['t1:debit', 'debit', -40n]])), records({ t1: 'DEBITED' }));
    expect(kinds(report)).toEqual([]);
    expect(report.transfers).toEqual({ seen: 1, completed: 0, reversed: 0, inFlight: 1 });
    expect(report.conservation[0]).toMatchObject({ balancesMinor: '60', inFlightMinor: '40', holds: true });
    expect(state.pending.map((legs) => legs.transferId)).toEqual(['t1']);
  });

  test('when money went missing or was made, then each rule names the transfer', () => {
    const { report } = run(
      banks(
        account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 1_000n], ['lost:debit', 'debit', -10n], ['both:debit', 'debit', -20n], ['both:refund', 'refund', 20n], ['short:debit', 'debit', -30n], ['twice:debit', 'debit', -5n], ['twice:debit', 'debit', -5n]]),
        account('bank-b', 'bob', 'EUR', [['ghost:credit', 'credit', 5n], ['both:credit', 'credit', 20n], ['short:credit', 'credit', 29n], ['orphan:refund', 'refund', 7n], ['made:credit', 'credit', 3n]]),
      ),
      records({ lost: 'REFUNDED', both: 'REFUNDED', short: 'COMPLETED', orphan: 'REFUNDED', made: 'COMPLETED', twice: 'REJECTED' }),
    );
    expect(kinds(report)).toEqual([
      'AMOUNT_MISMATCH short',
      'CONSERVATION',
      'CREDIT_AND_REFUND both',
      'CREDIT_WITHOUT_DEBIT made',
      'DEBIT_WITHOUT_CREDIT_OR_REFUND lost',
      'DUPLICATE_LEG twice',
      'DUPLICATE_OPERATION',
      'REFUND_WITHOUT_DEBIT orphan',
      'UNKNOWN_TRANSFER ghost',
    ]);
    expect(report.discrepancies.find((d) => d.kind === 'UNKNOWN_TRANSFER')).toEqual({ kind: 'UNKNOWN_TRANSFER', transferId: 'ghost', bankId: 'bank-b', accountId: 'bob', detail: '1 ledger entries name a transfer nobody recorded' });
    expect(report.discrepancyCount).toBe(9);
  });

  test('when a chain is altered, then the account rules report it', () => {
    const broken = account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 100n], ['t1:debit', 'debit', -100n], ['t2:credit', 'credit', 5n]]);
    const entries = broken.ledger.entries;
    const [, , debit, credit] = entries;
    if (!debit || !credit) throw new Error('fixture');
    const tampered = [...entries.slice(0, 2), { ...debit, balanceAfterMinor: -1n }, { ...credit, sequence: 7 }, { ...credit, sequence: 4 }];
    const { report } = run([{ bankId: 'bank-a', accounts: [{ account: { ...broken.ledger.account, balanceMinor: 999n }, entries: tampered }] }], records({ t1: 'DEBITED', t2: 'DEBITED' }));
    expect(kinds(report)).toEqual(['BALANCE_MISMATCH', 'BALANCE_MISMATCH', 'BALANCE_MISMATCH', 'BELOW_LIMIT', 'CHAIN_BROKEN', 'CONSERVATION', 'DUPLICATE_OPERATION']);
  });

  test('when the overdraft limit changed along the chain, then each debit is judged against the limit in force at it: within an older, larger limit is no BELOW_LIMIT, below the one in force is', () => {
    const chain = account('bank-a', 'alice', 'EUR', [
      ['t1:debit', 'debit', -800n],
      ['d1:deposit', 'deposit', 800n],
      ['lower:admin', 'overdraft', 0n],
      ['t2:debit', 'debit', -300n],
      ['d2:deposit', 'deposit', 300n],
      ['raise:admin', 'overdraft', 0n],
    ]);
    // The limit was 1000 until `lower` (1000 → 200), then 200 until `raise` (200 → 600), 600 now.
    const changes: Record<string, Pick<ChainEntry, 'overdraftLimitMinor' | 'overdraftLimitBeforeMinor'>> = {
      'lower:admin': { overdraftLimitBeforeMinor: 1_000n, overdraftLimitMinor: 200n },
      'raise:admin': { overdraftLimitBeforeMinor: 200n, overdraftLimitMinor: 600n },
    };
    const entries = chain.ledger.entries.map((entry) => ({ ...entry, ...changes[entry.operationId] }));
    const ledgers: BankLedger[] = [{ bankId: 'bank-a', accounts: [{ account: { ...chain.ledger.account, overdraftLimitMinor: 600n }, entries }] }];

    const { report } = run(ledgers, records({ t1: 'DEBITED', t2: 'DEBITED' }));

    expect(kinds(report)).toEqual(['BELOW_LIMIT']);
    expect(report.discrepancies[0]).toMatchObject({ accountId: 'alice', detail: 'entry 4 left -300, below the limit -200' });
    expect(report.conservation[0]).toMatchObject({ holds: true });
  });
});

describe('reconcile against the record', () => {
  const ledgers = banks(
    account('bank-a', 'alice', 'EUR', [
      ['d1:deposit', 'deposit', 10_000n],
      ...(['c-refunded', 'r-credited', 'j-credited', 'x-credited', 'j-refunded', 'x-refunded', 'j-unrefunded'].map((id): Move => [`${id}:debit`, 'debit', -10n])),
      ['c-refunded:refund', 'refund', 10n],
      ['j-refunded:refund', 'refund', 10n],
      ['x-refunded:refund', 'refund', 10n],
      ['c-nothing:debit', 'debit', -10n, 'REFUSED'],
      ['r-nothing:debit', 'debit', -10n, 'REFUSED'],
      ['x-void:debit', 'void', 0n],
    ]),
    account('bank-b', 'bob', 'EUR', ['r-credited', 'j-credited', 'x-credited'].map((id): Move => [`${id}:credit`, 'credit', 10n])),
  );
  const statuses = {
    'c-refunded': 'COMPLETED',
    'c-nothing': 'COMPLETED',
    'r-credited': 'REFUNDED',
    'r-nothing': 'REFUNDED',
    'j-credited': 'REJECTED',
    'x-credited': 'CANCELLED',
    'j-refunded': 'REJECTED',
    'x-refunded': 'CANCELLED',
    'x-void': 'CANCELLED',
    'j-unrefunded': 'REJECTED',
  } as const;

  test('when a final status contradicts whole legs, then STATUS_CONTRADICTS_LEDGER names it; a refunded debit or nothing at all agrees with REJECTED and CANCELLED', () => {
    const { report } = run(ledgers, records(statuses));
    expect(kinds(report)).toEqual([
      'CONSERVATION',
      'DEBIT_WITHOUT_CREDIT_OR_REFUND j-unrefunded',
      'STATUS_CONTRADICTS_LEDGER c-nothing',
      'STATUS_CONTRADICTS_LEDGER c-refunded',
      'STATUS_CONTRADICTS_LEDGER j-credited',
      'STATUS_CONTRADICTS_LEDGER r-credited',
      'STATUS_CONTRADICTS_LEDGER r-nothing',
      'STATUS_CONTRADICTS_LEDGER x-credited',
    ]);
    expect(report.discrepancies.find((d) => d.transferId === 'r-credited')).toEqual({ kind: 'STATUS_CONTRADICTS_LEDGER', transferId: 'r-credited', bankId: 'bank-b', accountId: 'bob', detail: 'the record says REFUNDED, the ledgers hold a debit and its credit' });
    expect(report.discrepancies.find((d) => d.transferId === 'c-nothing')).toEqual({ kind: 'STATUS_CONTRADICTS_LEDGER', transferId: 'c-nothing', detail: 'the record says COMPLETED, the ledgers hold no applied debit, credit or refund' });
    // The unrefunded debit of j-unrefunded is money lost: conservation says so too.
    expect(report.conservation[0]).toMatchObject({ holds: false });
  });

  test('when a transfer is past retention, then it is judged from the record like any other, never UNKNOWN_TRANSFER', () => {
    const { report } = run(banks(account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 10n], ['old:debit', 'debit', -10n]]), account('bank-b', 'bob', 'EUR', [['old:credit', 'credit', 10n]])), records({ old: 'COMPLETED' }));
    expect(kinds(report)).toEqual([]);
    expect(report.transfers.completed).toBe(1);
  });
});

describe('approval repeated by a later run', () => {
  function entry(n: number, runId: string, changedAtMs: number, status: TransferStatus, approval?: 'RUNNING' | 'SUCCEEDED' | 'FAILED'): TransferStatusEntry {
    const state = { transferId: 't1', status, steps: approval ? [{ name: 'approval', status: approval, startedAt: at(0), attempts: 1 }] : [] } as unknown as TransferState;
    return { _id: `t1:${n}`, n, transferId: 't1', writer: { runId, changedAtMs, revision: n }, state, recordedAt: at(n) };
  }
  const history = (...entries: TransferStatusEntry[]): TransferHistory => ({ record: { _id: 't1', client: 'c', fingerprint: 'f', request: { source: { bankId: 'bank-a', accountId: 'alice' }, target: { bankId: 'bank-b', accountId: 'bob' }, amountMinor: '10', currency: 'EUR', reference: null }, createdAt: at(0) }, entries });

  test('when a reset run asks for approval again after the first run decided it, then APPROVAL_REPEATED is found once, in flight or final', () => {
    const reset = history(entry(1, 'run-1', 1, 'AWAITING_APPROVAL', 'RUNNING'), entry(2, 'run-1', 1, 'DEBITED', 'SUCCEEDED'), entry(3, 'run-1', 1, 'COMPLETED', 'SUCCEEDED'), entry(4, 'run-2', 2, 'AWAITING_APPROVAL', 'RUNNING'));
    expect(approvalRepeatedAt(reset.entries)).toBe(at(4));
    const ledgers = banks(account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 10n], ['t1:debit', 'debit', -10n]]), account('bank-b', 'bob', 'EUR', [['t1:credit', 'credit', 10n]]));
    const first = run(ledgers, () => recordedViewOf(reset));
    expect(first.report.discrepancies).toEqual([{ kind: 'APPROVAL_REPEATED', transferId: 't1', detail: 'a later workflow run asked for approval again after an earlier run had decided it' }]);
    expect(first.report.transfers.inFlight).toBe(1);
    const approvedAgain = history(...reset.entries, entry(5, 'run-2', 2, 'COMPLETED', 'SUCCEEDED'));
    const second = run(ledgers, () => recordedViewOf(approvedAgain), { cut: 1, state: first.state });
    expect(kinds(second.report)).toEqual(['APPROVAL_REPEATED t1']);
    expect(second.report.discrepancyCount).toBe(1);
    expect(second.report.transfers).toEqual({ seen: 1, completed: 1, reversed: 0, inFlight: 0 });
    expect(verdicts(second)).toEqual(verdicts(run(ledgers, () => recordedViewOf(approvedAgain))));
  });

  test('when a reopened transfer none of whose legs the run holds ends again, then only a final status needing other legs than its first is a contradiction', () => {
    const ended = (first: TransferStatus, now: TransferStatus) => reopenedViewOf('t1', history(entry(1, 'run-1', 1, first), entry(2, 'run-2', 2, now)), true);
    const judged = (first: TransferStatus, now: TransferStatus) => run([], records({}), undefined, [ended(first, now)]);
    // Neither moved money: REJECTED and CANCELLED need the same legs.
    expect(kinds(judged('REJECTED', 'CANCELLED').report)).toEqual([]);
    expect(judged('REJECTED', 'CANCELLED').forget).toEqual(['t1']);
    expect(judged('REJECTED', 'COMPLETED').report.discrepancies).toEqual([
      { kind: 'STATUS_CONTRADICTS_LEDGER', transferId: 't1', detail: 'a later workflow run recorded COMPLETED, the ledgers hold no applied debit, credit or refund (judged when it was REJECTED)' },
    ]);
    expect(judged('REFUNDED', 'COMPLETED').report.discrepancies).toMatchObject([{ kind: 'STATUS_CONTRADICTS_LEDGER', bankId: 'bank-a', accountId: 'alice' }]);
    const inFlight = run([], records({}), undefined, [reopenedViewOf('t1', history(entry(1, 'run-1', 1, 'COMPLETED'), entry(2, 'run-2', 2, 'DEBITED')), true)]);
    expect(kinds(inFlight.report)).toEqual([]);
    expect(inFlight.forget).toEqual([]);
    expect(inFlight.state.reopened).toEqual([{ transferId: 't1', entries: 2, final: false, approvalRepeatedReported: false }]);
  });

  test('when approval was only ever awaited, asked again by the same run, or copied by the sweeper, then nothing is found; a refusal asked again is found', () => {
    expect(approvalRepeatedAt(history(entry(1, 'run-1', 1, 'AWAITING_APPROVAL', 'RUNNING'), entry(2, 'run-2', 2, 'AWAITING_APPROVAL', 'RUNNING')).entries)).toBeUndefined();
    expect(approvalRepeatedAt(history(entry(1, 'run-1', 1, 'DEBITED', 'SUCCEEDED'), entry(2, 'run-1', 1, 'AWAITING_APPROVAL', 'RUNNING')).entries)).toBeUndefined();
    // The API's sweeper copies a stopped run's state; it does not ask for anything.
    expect(approvalRepeatedAt(history(entry(1, 'run-1', 1, 'DEBITED', 'SUCCEEDED'), entry(2, 'sweeper', 2, 'AWAITING_APPROVAL', 'RUNNING')).entries)).toBeUndefined();
    expect(approvalRepeatedAt(history(entry(1, 'run-1', 1, 'REJECTED', 'FAILED'), entry(2, 'run-2', 2, 'AWAITING_APPROVAL', 'RUNNING')).entries)).toBe(at(2));
  });
});

describe('transfers in flight while the ledgers are read', () => {
  test('when a credit is read before its debit and the record has the transfer in flight, then nothing is reported and conservation holds with a negative in-flight amount', () => {
    // bank-a was read before the debit; bank-b after the credit.
    const { report, state } = run(banks(account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 100n]]), account('bank-b', 'bob', 'EUR', [['t1:credit', 'credit', 40n]])), records({ t1: 'DEBITED' }));
    expect(kinds(report)).toEqual([]);
    expect(report.conservation).toEqual([{ currency: 'EUR', depositsMinor: '100', balancesMinor: '140', inFlightMinor: '-40', holds: true }]);
    expect(state.pending).toHaveLength(1);
  });

  test('when entries were read before the record was, then the transfer waits for a later run, whatever its legs', () => {
    const { report } = run(banks(account('bank-b', 'bob', 'EUR', [['t1:credit', 'credit', 40n], ['t1:refund', 'refund', 40n]])), () => ({ kind: 'unread' }));
    expect(kinds(report)).toEqual([]);
    expect(report.transfers.inFlight).toBe(1);
    expect(report.conservation[0]).toMatchObject({ inFlightMinor: '-80', holds: true });
  });

  test('when a transfer in flight in one run is final in the next, then the next judges it with the legs of both', () => {
    const before = banks(account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 100n]]), account('bank-b', 'bob', 'EUR', [['t1:credit', 'credit', 40n]]));
    const first = run(before, records({ t1: 'DEBITED' }));
    const after = banks(account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 100n], ['t1:debit', 'debit', -40n]]), account('bank-b', 'bob', 'EUR', [['t1:credit', 'credit', 40n]]));
    const second = run(after, records({ t1: 'COMPLETED' }), { cut: 1, state: first.state });
    expect(kinds(second.report)).toEqual([]);
    expect(second.report.transfers).toEqual({ seen: 1, completed: 1, reversed: 0, inFlight: 0 });
    expect(second.report.conservation[0]).toMatchObject({ balancesMinor: '100', inFlightMinor: '0', holds: true });
    expect(second.report.settlement).toEqual([{ debtorBank: 'bank-a', creditorBank: 'bank-b', currency: 'EUR', netMinor: '40', transfers: 1 }]);
    expect(second.report.read).toEqual({ fromCut: 1, fullReadReason: null, accountsRead: 1, entriesRead: 1 });
  });
});

describe('incremental runs', () => {
  const moves = {
    alice: [['d1:deposit', 'deposit', 1_000n], ['t1:debit', 'debit', -300n], ['t3:debit', 'debit', -50n], ['t3:refund', 'refund', 50n], ['ghost:debit', 'debit', -1n], ['t4:debit', 'debit', -20n], ['t5:debit', 'debit', -7n], ['t5:refund', 'refund', 7n], ['t6:debit', 'debit', -9n]] as Move[],
    bob: [['d2:deposit', 'deposit', 500n], ['t1:credit', 'credit', 300n], ['t2:debit', 'debit', -100n], ['t6:credit', 'credit', 9n], ['t4:credit', 'credit', 20n]] as Move[],
    carol: [['t2:credit', 'credit', 100n], ['d3:deposit', 'deposit', 5n]] as Move[],
  };
  const ledgerAt = (alice: number, bob: number, carol: number): BankLedger[] =>
    banks(account('bank-a', 'alice', 'EUR', moves.alice.slice(0, alice)), account('bank-b', 'bob', 'EUR', moves.bob.slice(0, bob)), account('bank-c', 'carol', 'EUR', moves.carol.slice(0, carol)));
  const early = records({ t1: 'COMPLETED', t2: 'DEBITED', t3: 'REFUNDED' });
  const late = records({ t1: 'COMPLETED', t2: 'COMPLETED', t3: 'REFUNDED', t4: 'COMPLETED', t5: 'COMPLETED', t6: 'DEBITED' });

  test('when a second run reads the cut and the entries after it, then its verdicts are those of a run over the whole chains', () => {
    const first = run(ledgerAt(5, 3, 0), early);
    expect(kinds(first.report)).toEqual(['CONSERVATION', 'UNKNOWN_TRANSFER ghost']);
    const second = run(ledgerAt(9, 5, 2), late, { cut: 1, state: first.state });
    const whole = run(ledgerAt(9, 5, 2), late);
    expect(verdicts(second)).toEqual(verdicts(whole));
    expect(kinds(second.report)).toEqual(['CONSERVATION', 'STATUS_CONTRADICTS_LEDGER t5', 'UNKNOWN_TRANSFER ghost']);
    expect(second.report.transfers).toEqual({ seen: 7, completed: 3, reversed: 2, inFlight: 1 });
    expect(second.report.read).toEqual({ fromCut: 1, fullReadReason: null, accountsRead: 3, entriesRead: 8 });
    expect(whole.report.read).toMatchObject({ entriesRead: 19 });
    expect(second.state).toEqual(whole.state);
  });

  test('when nothing was written since the cut, then a run reads no entry and reports what the last one did', () => {
    const first = run(ledgerAt(9, 5, 2), late);
    const again = run(ledgerAt(9, 5, 2), late, { cut: 1, state: first.state });
    expect(again.report.read).toEqual({ fromCut: 1, fullReadReason: null, accountsRead: 0, entriesRead: 0 });
    expect(verdicts(again)).toEqual(verdicts(first));
  });
});

describe('the list of discrepancies', () => {
  const ghosts = (count: number): BankLedger[] => banks(account('bank-b', 'bob', 'EUR', Array.from({ length: count }, (_, index): Move => [`g${index + 1}:credit`, 'credit', 1n])));

  test('when there are more than the report lists, then it lists the newest first and says how many it leaves out, in one run or in two', () => {
    const count = discrepanciesListedMax + 20;
    const whole = run(ghosts(count), records({}));
    const { report } = whole;
    expect(report.discrepancies).toHaveLength(discrepanciesListedMax);
    expect(report.discrepancyCount).toBe(count + 1);
    expect(report.discrepanciesLeftOut).toBe(21);
    // The conservation finding is about now; then the ghosts from the newest entry down.
    expect(report.discrepancies[0]?.kind).toBe('CONSERVATION');
    expect(report.discrepancies.slice(1, 3).map((d) => d.transferId)).toEqual([`g${count}`, `g${count - 1}`]);
    expect(report.discrepancies.at(-1)?.transferId).toBe(`g${count - discrepanciesListedMax + 2}`);
    const first = run(ghosts(300), records({}));
    expect(first.state.discrepancies).toHaveLength(300);
    const second = run(ghosts(count), records({}), { cut: 1, state: first.state });
    expect(verdicts(second)).toEqual(verdicts(whole));
    expect(second.state.discrepancies).toHaveLength(discrepanciesListedMax);
  });
});
