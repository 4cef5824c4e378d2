import { pino } from 'pino';
import type { TransferState, TransferStatus } from '../../../lib/contracts/transfer-contract';
import { recordedState, type TransferRecordDocument } from '../../../lib/record/transfer-record';
import type { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import type { TransferWorkflows, WorkflowPresence } from '../../../services/transfer-api/gateways/transfer-workflows';
import { sweepOnce, type RecordSweeperOptions } from '../../../services/transfer-api/record-sweeper';
import { startTestRecordStore } from '../../support/cluster';
import { sampleRecord, sampleState } from '../../support/transfer-records';

jest.setTimeout(120_000);

/**
 * The record sweeper against a real record store on FerretDB, with Temporal replaced by a fake
 * that answers `describe` as the test says: the interleavings a real cluster hits only by chance.
 */
describe('record sweeper on FerretDB', () => {
  let stop: () => Promise<void>;
  let records: TransferRecordStore;
  /** What the fake Temporal answers for each transfer; `onDescribe` runs just before it answers. */
  const presence = new Map<string, { workflow: WorkflowPresence | undefined; onDescribe?: () => Promise<void> }>();

  const unused = (): never => {
    throw new Error('not used by the sweeper in these tests');
  };
  const workflows: TransferWorkflows = {
    start: async () => 'already-exists',
    startRepair: unused,
    describe: async (transferId) => {
      const entry = presence.get(transferId);
      await entry?.onDescribe?.();
      return entry?.workflow;
    },
    liveState: async () => undefined,
    decide: unused,
    countOpen: unused,
    ready: async () => true,
  };

  const createdAt = '2026-12-01T00:00:00.000Z';
  const options = (): RecordSweeperOptions => ({
    records,
    workflows,
    policy: { approvalThresholdMinor: '1000000', approvalTimeoutMs: 60_000, amountMaxMinor: '100000000', banks: ['bank-a', 'bank-b'], refundAttentionAfterAttempts: 2 },
    logger: pino({ level: 'silent' }),
    intervalMs: 1_000,
    startGraceMs: 0,
  });

  const recordOf = (id: string): TransferRecordDocument => sampleRecord(id, { createdAt });
  const stateOf = (id: string, status: TransferStatus, atMs: number): TransferState => sampleState(id, status, { createdAt, updatedAt: new Date(atMs).toISOString() });
  const write = (id: string, runId: string, revision: number, status: TransferStatus, atMs: number) =>
    records.appendStatus({ transferId: id, writer: { runId, changedAtMs: atMs, revision }, state: stateOf(id, status, atMs) });

  beforeAll(async () => {
    ({ store: records, stop } = await startTestRecordStore('record-sweeper'));
  });

  afterAll(async () => {
    await stop?.();
  });

  test('when the run ends just as Temporal is asked about it, then its final status stands and nothing is flagged', async () => {
    const id = 'tr-ends-while-swept';
    await records.create(recordOf(id));
    const startedMs = Date.now() - 1_000;
    expect(await write(id, 'run-1', 1, 'DEBITED', startedMs)).toBe(true);
    // The run records COMPLETED and closes; Temporal then answers that it is closed.
    presence.set(id, {
      workflow: { running: false, status: 'COMPLETED' },
      onDescribe: async () => {
        expect(await write(id, 'run-1', 2, 'COMPLETED', startedMs + 10)).toBe(true);
      },
    });

    const outcome = await sweepOnce(options());

    expect(outcome).toMatchObject({ flagged: 0, cleared: 1 });
    const recorded = await records.find(id);
    expect(recorded && recordedState(recorded)).toMatchObject({ status: 'COMPLETED', needsAttention: false });
    expect(recorded?.latest?.writer.runId).toBe('run-1');
    expect((await records.openTransfers()).map((open) => open._id)).not.toContain(id);
    expect((await records.attentionTransfers()).map((flagged) => flagged._id)).not.toContain(id);
  });

  test('when a later run writes after the transfer ended and its workflow then stops, then the transfer is open again and the sweeper flags it', async () => {
    const id = 'tr-reset-after-end';
    await records.create(recordOf(id));
    const startedMs = Date.now() - 2_000;
    expect(await write(id, 'run-1', 1, 'COMPLETED', startedMs)).toBe(true);
    presence.set(id, { workflow: { running: false, status: 'COMPLETED' } });
    await sweepOnce(options());
    expect((await records.openTransfers()).map((open) => open._id)).not.toContain(id);

    // A reset run asks for approval again, and is terminated while it waits.
    expect(await write(id, 'run-2', 1, 'AWAITING_APPROVAL', startedMs + 1_000)).toBe(true);
    expect((await records.openTransfers()).map((open) => open._id)).toContain(id);
    presence.set(id, { workflow: { running: false, status: 'TERMINATED' } });

    expect(await sweepOnce(options())).toMatchObject({ flagged: 1 });
    const recorded = await records.find(id);
    expect(recorded && recordedState(recorded)).toMatchObject({ status: 'AWAITING_APPROVAL', needsAttention: true, attentionReason: 'WORKFLOW_TERMINATED' });
    expect((await records.attentionTransfers()).map((flagged) => flagged._id)).toContain(id);
  });
});
