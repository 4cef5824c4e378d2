import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { AccountActivities, LegRequest, LegResult, TransferReference } from '../../../activities/account-activities';
import type { RecordedEvent } from '../../../activities/event-activities';
import type { LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import type { TransferEventRecord } from '../../../lib/contracts/event-contract';
import { searchAttributes } from '../../../lib/contracts/search-attributes';
import { transferWorkflowId, type OperatorDecision, type TransferInput, type TransferPolicy, type TransferState } from '../../../lib/contracts/transfer-contract';
import { signTransferInput } from '../../../lib/crypto/transfer-authority';
import { initialTransferSearchAttributes, startTransfer } from '../../../lib/temporal/transfer-start';
import { approveUpdate, cancelUpdate, rejectUpdate, transferStateQuery } from '../../../lib/contracts/transfer-definitions';
import { transferWorkflow } from '../../../workflows/transfer-workflow';
import { captureHistory } from '../../support/history-capture';
import { eventually } from '../../support/http';
import { localTemporal, signedDecision, testAuthorityActivities, testAuthorityKey, testDataConverter, transferBundle } from '../../support/temporal';

jest.setTimeout(120_000);

/**
 * Every path of the saga on a real dev server, with activities replaced by scripted ones
 * (the ledger's behaviour is tested against real account services elsewhere).
 */

const policy: TransferPolicy = {
  approvalThresholdMinor: '1000000',
  approvalTimeoutMs: 2_000,
  amountMaxMinor: '9000000000',
  banks: ['bank-a', 'bank-b'],
  refundAttentionAfterAttempts: 2,
  creditGiveUpAfterMs: 2_000,
  debitGiveUpAfterMs: 2_000,
};

function entry(operationId: string, kind: LedgerEntryView['kind'], outcome: LedgerEntryView['outcome'] = 'APPLIED', code?: string): LegResult {
  return { entry: { operationId, kind, outcome, ...(code ? { code } : {}) }, attempt: 1 };
}

/** The transfer id of a saga's handle (its workflow id is `transfer-<id>`). */
const transferIdOf = (handle: WorkflowHandle): string => handle.workflowId.replace(/^transfer-/, '');

const refusal = (code: string) => ApplicationFailure.create({ type: code, message: `refused: ${code}`, nonRetryable: true });
const unavailable = () => ApplicationFailure.retryable('bank did not answer', 'BANK_UNAVAILABLE');

/**
 * A leg that fails its attempts in the worker (local activities) and runs as given once an ordinary
 * activity takes it over: how a test holds a leg in flight where an operator's cancel reaches it
 * (a workflow task stays open while a local activity runs, and a cancel waits for the next one).
 */
function onlyOrdinary<T extends unknown[]>(leg: (...args: T) => Promise<LegResult>): (...args: T) => Promise<LegResult> {
  return async (...args) => {
    if (Context.current().info.isLocal) throw unavailable();
    return leg(...args);
  };
}

/**
 * What an ending before the debit calls (local-debit): the credit's slot and the debit's are voided,
 * since a lost workflow task may have moved money; with nothing applied, nothing moves.
 */
const slotsClosed = ['voidCredit', 'refund'];

/** The calls of a leg that failed both of its local attempts before the ordinary activity ran it. */
const viaFallback = (leg: string): string[] => [leg, leg, leg];

/** Holds a scripted activity until the test has seen the state it looks for, which would otherwise last only milliseconds. */
function gate(): { open: () => void; passed: Promise<void> } {
  let open = (): void => undefined;
  const passed = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, passed };
}

interface Script {
  debit?: (request: LegRequest) => Promise<LegResult>;
  credit?: (request: LegRequest) => Promise<LegResult>;
  refund?: (reference: TransferReference) => Promise<LegResult>;
  voidCredit?: (reference: TransferReference) => Promise<LegResult>;
}

/**
 * Scripted activities that record every call. Unless scripted, the refund and the credit-void answer
 * as a bank's ledger would: the refund reverses a debit that was answered APPLIED and voids the
 * debit's slot otherwise; the credit-void finds a credit answered APPLIED and voids the slot otherwise.
 */
function scripted(script: Script) {
  const calls: string[] = [];
  const applied = new Map<string, LegResult>();
  const keepApplied = async (leg: 'debit' | 'credit', answer: Promise<LegResult>): Promise<LegResult> => {
    const result = await answer;
    if (result.entry.outcome === 'APPLIED') applied.set(leg, result);
    return result;
  };
  const activities: AccountActivities = {
    debit: async (request) => {
      calls.push('debit');
      return keepApplied('debit', script.debit ? script.debit(request) : Promise.resolve(entry(`${request.transferId}:debit`, 'debit')));
    },
    credit: async (request) => {
      calls.push('credit');
      return keepApplied('credit', script.credit ? script.credit(request) : Promise.resolve(entry(`${request.transferId}:credit`, 'credit')));
    },
    refund: async (reference) => {
      calls.push('refund');
      if (script.refund) return script.refund(reference);
      return applied.has('debit') ? entry(`${reference.transferId}:refund`, 'refund') : entry(`${reference.transferId}:debit`, 'void');
    },
    voidCredit: async (reference) => {
      calls.push('voidCredit');
      if (script.voidCredit) return script.voidCredit(reference);
      return applied.get('credit') ?? entry(`${reference.transferId}:credit`, 'void');
    },
  };
  return { activities, calls };
}

describe('transfer saga (workflow on a real dev server, scripted activities)', () => {
  let env: TestWorkflowEnvironment;
  let counter = 0;

  beforeAll(async () => {
    env = await localTemporal();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  function input(overrides: Partial<TransferInput> = {}): TransferInput {
    counter += 1;
    return {
      transferId: `wf-${counter}`,
      source: { bankId: 'bank-a', accountId: 'alice' },
      target: { bankId: 'bank-b', accountId: 'bob' },
      amountMinor: '500',
      currency: 'EUR',
      requestedBy: 'client-a',
      policy,
      ...overrides,
    };
  }

  /**
   * Runs one transfer on its own task queue with scripted activities, started as the API starts
   * it; `during` may steer it while it runs. `capture` names its history for `npm run replay:capture`.
   */
  async function run(
    script: Script,
    transfer: TransferInput,
    during?: (handle: WorkflowHandle<typeof transferWorkflow>) => Promise<void>,
    capture?: string,
    start: (taskQueue: string) => Promise<WorkflowHandle<typeof transferWorkflow>> = (taskQueue) => startTransfer(env.client, transfer, { authorityKey: testAuthorityKey, taskQueue }),
  ): Promise<{ state: TransferState; calls: string[]; handle: WorkflowHandle<typeof transferWorkflow> }> {
    const { activities, calls } = scripted(script);
    const taskQueue = `saga-${transfer.transferId}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await transferBundle(), activities: { ...activities, ...testAuthorityActivities }, dataConverter: testDataConverter });
    return worker.runUntil(async () => {
      const handle = await start(taskQueue);
      if (during) await during(handle);
      const state = await handle.result();
      if (capture) await captureHistory(handle, capture);
      return { state, calls, handle };
    });
  }

  async function statusOf(handle: WorkflowHandle): Promise<string | undefined> {
    return (await handle.query(transferStateQuery)).status;
  }

  test('when debit and credit succeed, then COMPLETED with both steps, every search attribute and the reference in the memo', async () => {
    const { state, calls, handle } = await run({}, input({ reference: 'invoice 7' }));
    expect(state).toMatchObject({ status: 'COMPLETED', needsAttention: false, reference: 'invoice 7' });
    expect(state.reason).toBeUndefined();
    expect(state.steps.map((step) => [step.name, step.status, step.attempts])).toEqual([['debit', 'SUCCEEDED', 1], ['credit', 'SUCCEEDED', 1]]);
    expect(state.steps.every((step) => step.startedAt <= (step.endedAt ?? '') && (step.endedAt ?? '') <= state.updatedAt)).toBe(true);
    expect(calls).toEqual(['debit', 'credit']);
    const described = await handle.describe();
    const attribute = described.typedSearchAttributes;
    expect([
      attribute.get(searchAttributes.transferStatus),
      attribute.get(searchAttributes.sourceBank),
      attribute.get(searchAttributes.targetBank),
      attribute.get(searchAttributes.sourceAccount),
      attribute.get(searchAttributes.targetAccount),
      attribute.get(searchAttributes.amountMinor),
      attribute.get(searchAttributes.currency),
      attribute.get(searchAttributes.needsAttention),
      attribute.get(searchAttributes.requestedBy),
    ]).toEqual(['COMPLETED', 'bank-a', 'bank-b', 'alice', 'bob', 500, 'EUR', false, 'client-a']);
    expect(described.memo).toEqual({ reference: 'invoice 7' });
  });

  describe('legs in the worker (local-ledger-legs)', () => {
    /** What the server recorded: activity tasks by type, status upserts in order, and patch markers. */
    async function recorded(handle: WorkflowHandle<typeof transferWorkflow>): Promise<{ activities: string[]; statuses: string[]; markers: number; patches: string[] }> {
      const events = (await handle.fetchHistory()).events ?? [];
      const decode = (data: Uint8Array | null | undefined): string => Buffer.from(data ?? []).toString('utf8');
      return {
        activities: events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []),
        statuses: events.flatMap((event) => {
          const field = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TransferStatus;
          return field ? [JSON.parse(decode(field.data)) as string] : [];
        }),
        markers: events.filter((event) => event.markerRecordedEventAttributes).length,
        patches: events.flatMap((event) => (event.markerRecordedEventAttributes?.markerName === 'core_patch' ? [/"id":"([a-z-]+)"/.exec(decode(event.markerRecordedEventAttributes.details?.['patch-data']?.payloads?.[0]?.data))?.[1] ?? '?'] : [])),
      };
    }

    test('when the banks answer at once, then no leg is an activity task, the patch markers are local-ledger-legs and local-debit, and the status is upserted once, at the end', async () => {
      const { state, calls, handle } = await run({}, input());
      expect(state.status).toBe('COMPLETED');
      expect(calls).toEqual(['debit', 'credit']);
      const history = await recorded(handle);
      expect(history.activities).toEqual([]);
      expect(history.patches).toEqual(['local-ledger-legs', 'local-debit']);
      // The patches, the authority check, the debit, the credit and the record's changes are markers.
      expect(history.markers).toBeGreaterThanOrEqual(5);
      expect(history.statuses).toEqual(['COMPLETED']);
    });

    test('when the debit fails its attempts in the worker, then an ordinary activity takes it over and the transfer completes', async () => {
      const { state, calls, handle } = await run({ debit: onlyOrdinary(async (request) => entry(`${request.transferId}:debit`, 'debit')) }, input());
      expect(state.status).toBe('COMPLETED');
      expect(calls).toEqual([...viaFallback('debit'), 'credit']);
      expect((await recorded(handle)).activities).toEqual(['debit']);
    });

    test('when the credit fails its attempts in the worker, then an ordinary activity takes it over, DEBITED is shown while it runs, and the transfer completes', async () => {
      let statusWhileOrdinary: string | undefined;
      const { state, calls, handle } = await run(
        {
          credit: onlyOrdinary(async (request) => {
            statusWhileOrdinary = String((await env.client.workflow.getHandle(`transfer-${request.transferId}`).describe()).typedSearchAttributes.get(searchAttributes.transferStatus));
            return entry(`${request.transferId}:credit`, 'credit');
          }),
        },
        input(),
      );
      expect(state.status).toBe('COMPLETED');
      expect(calls).toEqual(['debit', ...viaFallback('credit')]);
      expect(statusWhileOrdinary).toBe('DEBITED');
      const history = await recorded(handle);
      expect(history.activities).toEqual(['credit']);
      expect(history.statuses).toEqual(['DEBITED', 'COMPLETED']);
    });

    test('when the credit outlives its whole give-up time in the worker, then nothing takes it over: the credit slot is voided and the source refunded', async () => {
      const { state, calls, handle } = await run(
        {
          credit: async () => {
            await new Promise((resolve) => setTimeout(resolve, 4_000));
            throw unavailable();
          },
        },
        input(),
      );
      expect(state).toMatchObject({ status: 'REFUNDED', reason: 'CREDIT_FAILED' });
      // Its attempts in the worker (a timed-out attempt may be tried once more), then no ordinary credit.
      expect(calls.filter((call) => call !== 'credit')).toEqual(['debit', 'voidCredit', 'refund']);
      expect(calls.filter((call) => call === 'credit').length).toBeLessThanOrEqual(2);
      expect((await recorded(handle)).activities).toEqual(['voidCredit', 'refund']);
    });
  });

  test('when a transfer id is started twice, then the second start is refused and nothing runs twice', async () => {
    const transfer = input();
    const { state, calls } = await run({}, transfer);
    expect(state.status).toBe('COMPLETED');
    const again = await startTransfer(env.client, transfer, { authorityKey: testAuthorityKey, taskQueue: `saga-${transfer.transferId}` }).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    expect(calls).toEqual(['debit', 'credit']);
  });

  test.each(['INSUFFICIENT_FUNDS', 'ACCOUNT_NOT_FOUND', 'CURRENCY_MISMATCH', 'ACCOUNT_FROZEN'])('when the debit is refused with %s, then REJECTED with that reason and nothing else is called', async (code) => {
    const { state, calls } = await run({ debit: async () => Promise.reject(refusal(code)) }, input());
    expect(state).toMatchObject({ status: 'REJECTED', reason: code });
    expect(state.steps[0]).toMatchObject({ name: 'debit', status: 'FAILED', failure: { code } });
    expect(calls).toEqual(['debit']);
  });

  test('when the credit is refused, then the credit slot is voided, the source refunded: REFUNDED with the credit code', async () => {
    const { state, calls } = await run({ credit: async () => Promise.reject(refusal('ACCOUNT_CLOSED')), voidCredit: async (ref) => entry(`${ref.transferId}:credit`, 'credit', 'REFUSED', 'ACCOUNT_CLOSED') }, input());
    expect(state).toMatchObject({ status: 'REFUNDED', reason: 'ACCOUNT_CLOSED' });
    expect(calls).toEqual(['debit', 'credit', 'voidCredit', 'refund']);
  });

  test('when the credit stays unavailable past its limit, then the credit is voided and the source refunded: REFUNDED with CREDIT_FAILED', async () => {
    const { state, calls } = await run({ credit: async () => Promise.reject(unavailable()) }, input());
    expect(state).toMatchObject({ status: 'REFUNDED', reason: 'CREDIT_FAILED' });
    expect(calls.filter((call) => call === 'credit').length).toBeGreaterThan(1);
    expect(calls.slice(-2)).toEqual(['voidCredit', 'refund']);
  });

  test('when the credit was applied but its answer lost, then the void finds it and the transfer is COMPLETED without a refund', async () => {
    const { state, calls } = await run({ credit: async () => Promise.reject(unavailable()), voidCredit: async (ref) => entry(`${ref.transferId}:credit`, 'credit') }, input());
    expect(state.status).toBe('COMPLETED');
    expect(calls).not.toContain('refund');
  });

  test('when the debit outcome stays unknown, then the refund voids the debit slot and the transfer is REJECTED', async () => {
    const { state, calls } = await run({ debit: async () => Promise.reject(unavailable()), refund: async (ref) => entry(`${ref.transferId}:debit`, 'void') }, input());
    expect(state).toMatchObject({ status: 'REJECTED', reason: 'BANK_UNAVAILABLE' });
    expect(calls.at(-1)).toBe('refund');
    expect(calls).not.toContain('credit');
  });

  test('when the debit outcome stays unknown but it had applied, then the credit slot is voided and the refund reverses the debit: REFUNDED', async () => {
    const { state, calls } = await run({ debit: async () => Promise.reject(unavailable()), refund: async (ref) => entry(`${ref.transferId}:refund`, 'refund') }, input());
    expect(state).toMatchObject({ status: 'REFUNDED', reason: 'BANK_UNAVAILABLE' });
    expect(calls.filter((call) => call !== 'debit')).toEqual(['voidCredit', 'refund']);
  });

  test('when the debit outcome stays unknown but a lost workflow task had debited and credited, then the credit-void finds the credit and the transfer is COMPLETED without a refund', async () => {
    const { state, calls } = await run({ debit: async () => Promise.reject(unavailable()), voidCredit: async (ref) => entry(`${ref.transferId}:credit`, 'credit') }, input());
    expect(state.status).toBe('COMPLETED');
    expect(calls.filter((call) => call !== 'debit')).toEqual(['voidCredit']);
  });

  test('when the refund succeeds on the last attempt of its first round, then its attempts are recorded and the transfer never needs attention', async () => {
    const { state, handle } = await run(
      {
        credit: async () => Promise.reject(refusal('ACCOUNT_FROZEN')),
        refund: async (ref) => {
          const { attempt } = Context.current().info;
          if (attempt < policy.refundAttentionAfterAttempts) throw unavailable();
          return { ...entry(`${ref.transferId}:refund`, 'refund'), attempt };
        },
      },
      input(),
    );
    expect(state).toMatchObject({ status: 'REFUNDED', reason: 'ACCOUNT_FROZEN', needsAttention: false });
    const refund = state.steps.find((step) => step.name === 'refund');
    expect(refund).toMatchObject({ status: 'SUCCEEDED', attempts: policy.refundAttentionAfterAttempts });
    expect(refund?.failure).toBeUndefined();
    const upserted = ((await handle.fetchHistory()).events ?? []).flatMap((event) => Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}));
    expect(upserted).toContain(searchAttributes.transferStatus.name);
    expect(upserted).not.toContain(searchAttributes.needsAttention.name);
  });

  test('when the refund keeps failing, then NeedsAttention is set, and cleared once the refund succeeds', async () => {
    let refundCalls = 0;
    let attentionSeen = false;
    const attentionShown = gate();
    const { state, handle } = await run(
      {
        credit: async () => Promise.reject(refusal('ACCOUNT_FROZEN')),
        refund: async (ref) => {
          refundCalls += 1;
          if (refundCalls <= 2) throw unavailable();
          await attentionShown.passed;
          return entry(`${ref.transferId}:refund`, 'refund');
        },
      },
      input(),
      async (handle) => {
        attentionSeen = await eventually('NeedsAttention to be set', async () => ((await handle.describe()).typedSearchAttributes.get(searchAttributes.needsAttention) === true ? true : undefined), 30_000, 100);
        attentionShown.open();
      },
      'refund-retried-in-activity',
    );
    expect(attentionSeen).toBe(true);
    expect(state).toMatchObject({ status: 'REFUNDED', reason: 'ACCOUNT_FROZEN', needsAttention: false });
    expect(state.steps.find((step) => step.name === 'refund')).toMatchObject({ status: 'SUCCEEDED', attempts: 3, failure: { code: 'BANK_UNAVAILABLE' } });
    expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.needsAttention)).toBe(false);
  });

  test('when the credit-void keeps failing, then NeedsAttention is set and the source is not refunded until the void answers', async () => {
    let voidCalls = 0;
    let attentionSeen = false;
    const attentionShown = gate();
    const { state, calls, handle } = await run(
      {
        credit: async () => Promise.reject(unavailable()),
        voidCredit: async (ref) => {
          voidCalls += 1;
          if (voidCalls <= 2) throw unavailable();
          await attentionShown.passed;
          return entry(`${ref.transferId}:credit`, 'void');
        },
      },
      input(),
      async (running) => {
        attentionSeen = await eventually('NeedsAttention to be set', async () => ((await running.describe()).typedSearchAttributes.get(searchAttributes.needsAttention) === true ? true : undefined), 30_000, 100);
        attentionShown.open();
      },
    );
    expect(attentionSeen).toBe(true);
    expect(state).toMatchObject({ status: 'REFUNDED', reason: 'CREDIT_FAILED', needsAttention: false });
    expect(calls.slice(-4)).toEqual(['voidCredit', 'voidCredit', 'voidCredit', 'refund']);
    expect(state.steps.find((step) => step.name === 'credit-void')).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
    expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.needsAttention)).toBe(false);
  });

  test('when a transfer needs attention twice (credit-void, then refund), then each episode is its own event', async () => {
    const recorded: TransferEventRecord[] = [];
    let voidCalls = 0;
    let refundCalls = 0;
    const { activities } = scripted({
      credit: async () => Promise.reject(unavailable()),
      voidCredit: async (ref) => {
        voidCalls += 1;
        if (voidCalls <= 2) throw unavailable();
        return entry(`${ref.transferId}:credit`, 'void');
      },
      refund: async (ref) => {
        refundCalls += 1;
        if (refundCalls <= 2) throw unavailable();
        return entry(`${ref.transferId}:refund`, 'refund');
      },
    });
    const recordTransferEvent = async (record: TransferEventRecord): Promise<RecordedEvent> => {
      recorded.push(record);
      return { endpointIds: [] };
    };
    const webhooks = { deliveryTaskQueue: 'unused', retryInitialIntervalMs: 1_000, retryMaximumIntervalMs: 1_000, giveUpAfterMs: 60_000 };
    const transfer = input({ policy: { ...policy, webhooks } });
    const taskQueue = `saga-${transfer.transferId}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await transferBundle(), activities: { ...activities, ...testAuthorityActivities, recordTransferEvent }, dataConverter: testDataConverter });
    const state = await worker.runUntil(async () => (await startTransfer(env.client, transfer, { authorityKey: testAuthorityKey, taskQueue })).result());
    expect(state).toMatchObject({ status: 'REFUNDED', reason: 'CREDIT_FAILED', needsAttention: false });
    expect(recorded.map((record) => [record.type, record.eventId])).toEqual([
      ['transfer.needs_attention', `${transfer.transferId}:transfer.needs_attention`],
      ['transfer.needs_attention', `${transfer.transferId}:transfer.needs_attention:2`],
      ['transfer.refunded', `${transfer.transferId}:transfer.refunded`],
    ]);
  });

  describe('when the debit outcome stays unknown and the refund finds out what happened', () => {
    test('a debit that had been refused leaves nothing to refund: REJECTED, not REFUNDED', async () => {
      const { state, calls } = await run(
        { debit: async () => Promise.reject(unavailable()), refund: async (ref) => entry(`${ref.transferId}:refund`, 'refund', 'NOTHING_TO_REFUND') },
        input(),
        undefined,
        'debit-unknown-nothing-to-refund',
      );
      expect(state).toMatchObject({ status: 'REJECTED', reason: 'BANK_UNAVAILABLE', needsAttention: false });
      expect(calls.at(-1)).toBe('refund');
      expect(calls).not.toContain('credit');
    });

    test('a source account that does not exist holds no debit: REJECTED with ACCOUNT_NOT_FOUND, no endless refund', async () => {
      const { state, calls } = await run(
        { debit: async () => Promise.reject(unavailable()), refund: async () => Promise.reject(refusal('ACCOUNT_NOT_FOUND')) },
        input(),
        undefined,
        'debit-unknown-source-missing',
      );
      expect(state).toMatchObject({ status: 'REJECTED', reason: 'ACCOUNT_NOT_FOUND', needsAttention: false });
      expect(calls.filter((call) => call === 'refund')).toHaveLength(1);
    });
  });

  describe('approval', () => {
    const large = () => input({ amountMinor: '1000000' });
    const awaiting = (handle: WorkflowHandle) => eventually('AWAITING_APPROVAL', async () => ((await statusOf(handle)) === 'AWAITING_APPROVAL' ? true : undefined), 20_000, 100);

    test('when a transfer at the threshold is approved, then it is debited and credited', async () => {
      const { state, calls } = await run({}, large(), async (handle) => {
        await awaiting(handle);
        await handle.executeUpdate(approveUpdate, { args: [signedDecision(transferIdOf(handle), 'approve', { operator: 'olga' })] });
      });
      expect(state.status).toBe('COMPLETED');
      expect(state.steps[0]).toMatchObject({ name: 'approval', status: 'SUCCEEDED', decidedBy: 'olga' });
      expect(calls).toEqual(['debit', 'credit']);
    });

    test('when it is rejected, then REJECTED with APPROVAL_REJECTED, both slots voided and nothing moved; a later decision is refused', async () => {
      let secondDecision: unknown;
      const { state, calls } = await run({}, large(), async (handle) => {
        await awaiting(handle);
        await handle.executeUpdate(rejectUpdate, { args: [signedDecision(transferIdOf(handle), 'reject', { operator: 'olga' })] });
        secondDecision = await handle.executeUpdate(approveUpdate, { args: [signedDecision(transferIdOf(handle), 'approve', { operator: 'olga' })] }).catch((error: unknown) => error);
      });
      expect(state).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_REJECTED' });
      expect(calls).toEqual(slotsClosed);
      // The workflow has closed, so Temporal refuses the update; the API answers TRANSFER_NOT_AWAITING_APPROVAL for it.
      expect(secondDecision).toBeInstanceOf(WorkflowNotFoundError);
      expect((secondDecision as Error).message).toContain('already completed');
    });

    test('when the approval times out but the ledgers hold a debit and a credit (a lost workflow task had approved and moved the money), then the transfer is COMPLETED', async () => {
      const { state, calls } = await run({ voidCredit: async (ref) => entry(`${ref.transferId}:credit`, 'credit') }, large());
      expect(state.status).toBe('COMPLETED');
      expect(calls).toEqual(['voidCredit']);
    });

    test('when the approval times out but the source holds a debit and the target no credit, then the debit is refunded: REFUNDED with APPROVAL_TIMED_OUT', async () => {
      const { state, calls } = await run({ refund: async (ref) => entry(`${ref.transferId}:refund`, 'refund') }, large());
      expect(state).toMatchObject({ status: 'REFUNDED', reason: 'APPROVAL_TIMED_OUT' });
      expect(calls).toEqual(slotsClosed);
    });

    test('when nobody decides in time, then REJECTED with APPROVAL_TIMED_OUT and both slots voided', async () => {
      const { state, calls } = await run({}, large());
      expect(state).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_TIMED_OUT' });
      expect(calls).toEqual(slotsClosed);
    });
  });

  describe('transfer authority: an input or a decision the API did not sign moves nothing', () => {
    const large = () => input({ amountMinor: '1000000' });
    /** Started by any Temporal client, around the API, with whatever input it likes. */
    const startedAround = (transfer: TransferInput, workflowId = transferWorkflowId(transfer.transferId)) => (taskQueue: string) =>
      env.client.workflow.start(transferWorkflow, { taskQueue, workflowId, args: [transfer], typedSearchAttributes: initialTransferSearchAttributes(transfer) });
    const forgedPolicy: TransferPolicy = { ...policy, approvalThresholdMinor: '900000000000', amountMaxMinor: '900000000000' };

    const forgedInputs: Array<[string, (transfer: TransferInput) => TransferInput]> = [
      ['no signature at all, and a forged policy with no approval step', (transfer: TransferInput) => ({ ...transfer, policy: forgedPolicy })],
      ['a signed input whose amount was raised afterwards', (transfer: TransferInput) => ({ ...signTransferInput(testAuthorityKey, transfer), amountMinor: '900000' })],
      ['a signed input whose approval threshold was raised afterwards', (transfer: TransferInput) => ({ ...signTransferInput(testAuthorityKey, transfer), policy: forgedPolicy })],
      ['a signed input whose target was changed afterwards', (transfer: TransferInput) => ({ ...signTransferInput(testAuthorityKey, transfer), target: { bankId: 'bank-b', accountId: 'mallory' } })],
      ['an input signed with a key the worker does not know', (transfer: TransferInput) => signTransferInput({ keyId: 'test-authority-1', secret: 'not-the-authority-secret-0123456789' }, transfer)],
    ];
    test.each(forgedInputs)('when a workflow is started around the API with %s, then REJECTED TRANSFER_NOT_AUTHORISED and no ledger is called', async (_case, forge) => {
      const transfer = large();
      const capture = forge === forgedInputs[0]?.[1] ? 'unauthorised-input-rejected' : undefined;
      const { state, calls, handle } = await run({}, transfer, undefined, capture, startedAround(forge(transfer)));
      expect(state).toMatchObject({ status: 'REJECTED', reason: 'TRANSFER_NOT_AUTHORISED', steps: [] });
      expect(calls).toEqual([]);
      expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.transferStatus)).toBe('REJECTED');
    });

    test('when a signed input is started under another workflow id (to run it a second time), then REJECTED TRANSFER_NOT_AUTHORISED and no ledger is called', async () => {
      const transfer = input();
      const { state, calls } = await run({}, transfer, undefined, undefined, startedAround(signTransferInput(testAuthorityKey, transfer), `transfer-${transfer.transferId}-again`));
      expect(state).toMatchObject({ status: 'REJECTED', reason: 'TRANSFER_NOT_AUTHORISED' });
      expect(calls).toEqual([]);
    });

    const awaiting = (handle: WorkflowHandle) => eventually('AWAITING_APPROVAL', async () => ((await statusOf(handle)) === 'AWAITING_APPROVAL' ? true : undefined), 20_000, 100);
    const forgedApprovals: Array<[string, (handle: WorkflowHandle) => OperatorDecision]> = [
      ['no signature, naming an operator', () => ({ operator: 'olga' })],
      ['a signed approval of another transfer', () => signedDecision('another-transfer', 'approve', { operator: 'olga' })],
      ['a signed reject sent as an approve', (handle) => signedDecision(transferIdOf(handle), 'reject', { operator: 'olga' })],
      ['a signed approval whose operator was changed afterwards', (handle) => ({ ...signedDecision(transferIdOf(handle), 'approve', { operator: 'olga' }), operator: 'mallory' })],
    ];

    test.each(forgedApprovals)('when an approve update arrives with %s, then it is refused DECISION_NOT_AUTHORISED, the transfer keeps waiting and times out with nothing moved', async (_case, forge) => {
      let refused: unknown;
      let statusAfter: string | undefined;
      const capture = forge === forgedApprovals[0]?.[1] ? 'unsigned-approval-refused' : undefined;
      const { state, calls } = await run({}, large(), async (handle) => {
        await awaiting(handle);
        refused = await handle.executeUpdate(approveUpdate, { args: [forge(handle)] }).catch((error: unknown) => error);
        statusAfter = await statusOf(handle);
      }, capture);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('DECISION_NOT_AUTHORISED');
      expect(statusAfter).toBe('AWAITING_APPROVAL');
      expect(state).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_TIMED_OUT' });
      expect(state.steps[0]?.decidedBy).toBeUndefined();
      expect(calls).toEqual(slotsClosed);
    });

    test('when a cancel update arrives unsigned, then it is refused DECISION_NOT_AUTHORISED and the transfer completes', async () => {
      let refused: unknown;
      const release = gate();
      // An ordinary debit: a local one holds the workflow task, and the update would wait for it.
      const { state, calls } = await run({ debit: onlyOrdinary(async (request) => { await release.passed; return entry(`${request.transferId}:debit`, 'debit'); }) }, input(), async (handle) => {
        await eventually('the debit to start', async () => ((await handle.query(transferStateQuery)).steps.length > 0 ? true : undefined), 20_000, 100);
        refused = await handle.executeUpdate(cancelUpdate, { args: [{ operator: 'mallory' }] }).catch((error: unknown) => error);
        release.open();
      });
      expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('DECISION_NOT_AUTHORISED');
      expect(state.status).toBe('COMPLETED');
      expect(calls).toEqual([...viaFallback('debit'), 'credit']);
    });
  });

  describe('cancel of the workflow itself (Web UI, CLI), taken as an operator cancel', () => {
    test('while awaiting approval, then CANCELLED with a readable result and nothing moves', async () => {
      const { state, calls, handle } = await run(
        {},
        input({ amountMinor: '2000000' }),
        async (running) => {
          await eventually('AWAITING_APPROVAL', async () => ((await statusOf(running)) === 'AWAITING_APPROVAL' ? true : undefined), 20_000, 100);
          await running.cancel();
        },
        'workflow-cancelled-awaiting-approval',
      );
      expect(state).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_OPERATOR' });
      expect(state.steps[0]).toMatchObject({ name: 'approval', status: 'FAILED', decidedBy: 'workflow-cancel-request', failure: { code: 'CANCELLED_BY_OPERATOR' } });
      expect(calls).toEqual(slotsClosed);
      expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.transferStatus)).toBe('CANCELLED');
    });

    test('while the debit is in flight and it applies, then the refund reverses it: REFUNDED with CANCELLED_BY_OPERATOR', async () => {
      const { state, calls } = await run(
        {
          // In flight as an ordinary activity (a local one holds the workflow task: the cancel would wait for it).
          debit: onlyOrdinary(async (request) => {
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            return entry(`${request.transferId}:debit`, 'debit');
          }),
          refund: async (ref) => entry(`${ref.transferId}:refund`, 'refund'),
        },
        input(),
        async (running) => {
          await eventually('the debit to start', async () => ((await running.query(transferStateQuery)).steps.length > 0 ? true : undefined), 20_000, 50);
          await running.cancel();
        },
        'workflow-cancelled-during-debit',
      );
      expect(state).toMatchObject({ status: 'REFUNDED', reason: 'CANCELLED_BY_OPERATOR' });
      expect(calls.filter((call) => call !== 'debit')).toEqual(slotsClosed);
    });

    test('while the debit is in flight and the refund voids its slot, then CANCELLED', async () => {
      const { state, calls } = await run(
        {
          debit: onlyOrdinary(async () => {
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            throw refusal('TRANSFER_VOIDED');
          }),
          refund: async (ref) => entry(`${ref.transferId}:debit`, 'void'),
        },
        input(),
        async (running) => {
          await eventually('the debit to start', async () => ((await running.query(transferStateQuery)).steps.length > 0 ? true : undefined), 20_000, 50);
          await running.cancel();
        },
      );
      expect(state).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_OPERATOR' });
      expect(calls.filter((call) => call !== 'debit')).toEqual(slotsClosed);
    });
  });

  describe('cancel', () => {
    test('when cancelled before the debit, then CANCELLED, both slots voided and nothing moved', async () => {
      const { state, calls } = await run({}, input({ amountMinor: '2000000' }), async (handle) => {
        await eventually('AWAITING_APPROVAL', async () => ((await statusOf(handle)) === 'AWAITING_APPROVAL' ? true : undefined), 20_000, 100);
        const after = await handle.executeUpdate(cancelUpdate, { args: [signedDecision(transferIdOf(handle), 'cancel', { operator: 'olga' })] });
        expect(after.status).toBe('CANCELLED');
      });
      expect(state).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_OPERATOR' });
      expect(calls).toEqual(slotsClosed);
    });

    test('when cancelled while the debit is in flight, then no credit is tried: the credit slot is voided and the source refunded', async () => {
      let cancelAnswer: TransferState | undefined;
      const { state, calls } = await run(
        {
          debit: onlyOrdinary(async (request) => {
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            return entry(`${request.transferId}:debit`, 'debit');
          }),
        },
        input(),
        async (handle) => {
          await eventually('the debit to start', async () => ((await handle.query(transferStateQuery)).steps.length > 0 ? true : undefined), 20_000, 50);
          cancelAnswer = await handle.executeUpdate(cancelUpdate, { args: [signedDecision(transferIdOf(handle), 'cancel', { operator: 'olga' })] });
        },
      );
      expect(['COMPENSATING', 'REFUNDED']).toContain(cancelAnswer?.status);
      expect(state).toMatchObject({ status: 'REFUNDED', reason: 'CANCELLED_BY_OPERATOR' });
      expect(calls).toEqual([...viaFallback('debit'), 'voidCredit', 'refund']);
    });

    test('when cancelled after the debit while the credit is in flight, then the credit is voided and the source refunded', async () => {
      const { state, calls } = await run(
        {
          credit: async () => {
            await new Promise((resolve) => setTimeout(resolve, 500));
            throw unavailable();
          },
        },
        input({ policy: { ...policy, creditGiveUpAfterMs: 60_000 } }),
        async (handle) => {
          await eventually('DEBITED', async () => ((await statusOf(handle)) === 'DEBITED' ? true : undefined), 20_000, 50);
          const after = await handle.executeUpdate(cancelUpdate, { args: [signedDecision(transferIdOf(handle), 'cancel', { operator: 'olga' })] });
          expect(['COMPENSATING', 'REFUNDED']).toContain(after.status);
        },
      );
      expect(state).toMatchObject({ status: 'REFUNDED', reason: 'CANCELLED_BY_OPERATOR' });
      expect(calls.slice(-2)).toEqual(['voidCredit', 'refund']);
    });

    test('when cancelled after the credit succeeded, then the cancel is refused with TRANSFER_NOT_CANCELLABLE', async () => {
      const { state, handle } = await run({}, input());
      expect(state.status).toBe('COMPLETED');
      const refused = await handle.executeUpdate(cancelUpdate, { args: [signedDecision(transferIdOf(handle), 'cancel', { operator: 'olga' })] }).catch((error: unknown) => error);
      // A closed workflow refuses every update; the API answers TRANSFER_NOT_CANCELLABLE for it.
      expect(refused).toBeInstanceOf(WorkflowNotFoundError);
      expect((refused as Error).message).toContain('already completed');
    });

    test('when the cancel races a credit that then succeeds, then the transfer is COMPLETED and the cancel is refused', async () => {
      let cancelOutcome: unknown;
      const { state, calls } = await run(
        {
          credit: onlyOrdinary(async (request) => {
            await new Promise((resolve) => setTimeout(resolve, 1_500));
            return entry(`${request.transferId}:credit`, 'credit');
          }),
          voidCredit: async (ref) => entry(`${ref.transferId}:credit`, 'credit'),
        },
        input(),
        async (handle) => {
          await eventually('DEBITED', async () => ((await statusOf(handle)) === 'DEBITED' ? true : undefined), 20_000, 50);
          cancelOutcome = await handle.executeUpdate(cancelUpdate, { args: [signedDecision(transferIdOf(handle), 'cancel', { operator: 'olga' })] }).catch((error: unknown) => error);
        },
      );
      expect(state.status).toBe('COMPLETED');
      expect(calls).not.toContain('refund');
      expect(((cancelOutcome as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('TRANSFER_NOT_CANCELLABLE');
    });
  });

  test.each([
    ['an unknown bank', { target: { bankId: 'bank-z', accountId: 'bob' } }, 'UNKNOWN_BANK'],
    ['the same account on both sides', { target: { bankId: 'bank-a', accountId: 'alice' } }, 'SAME_ACCOUNT'],
    ['an amount above the maximum', { amountMinor: '9000000001' }, 'AMOUNT_TOO_LARGE'],
    ['a malformed amount', { amountMinor: '12.5' }, 'INVALID_AMOUNT'],
  ] as const)('when the input has %s, then REJECTED with its reason before any ledger call', async (_name, overrides, reason) => {
    const { state, calls } = await run({}, input(overrides as Partial<TransferInput>));
    expect(state).toMatchObject({ status: 'REJECTED', reason });
    expect(calls).toEqual([]);
  });
});
