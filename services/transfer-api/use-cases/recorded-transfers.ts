import type { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import { isTerminalStatus, type TransferInput, type TransferPolicy } from '../../../lib/contracts/transfer-contract';
import { recordedState, type RecordedTransfer, type TransferRecordDocument } from '../../../lib/record/transfer-record';
import type { TransferView } from '../schemas';
import type { StartOutcome, TransferWorkflows } from '../gateways/transfer-workflows';
import { transferView } from '../../../lib/contracts/transfer-view';
import { transferIdentifiers } from '../../../lib/record/transfer-identifiers';
import type { TransferCreatedEvents } from './transfer-created-event';

/** What the transfer use cases work with: the record (the system of record) and Temporal (the orchestrator). */
export interface TransferUseCaseDeps {
  records: TransferRecordStore;
  workflows: TransferWorkflows;
  policy: TransferPolicy;
  /** Records transfer.created before a saga starts; without it (tests over fakes) no such event is recorded. */
  createdEvents?: TransferCreatedEvents;
}

/**
 * The saga's input for a recorded transfer, with the API's policy of today but the settlement the
 * record fixed: a transfer recorded before settlement (or under another model) settles as it began.
 */
export function inputOf(record: TransferRecordDocument, policy: TransferPolicy, options: { repair?: boolean } = {}): TransferInput {
  const { request } = record;
  const { settlement: _today, ...policyOfToday } = policy;
  return {
    transferId: record._id,
    source: request.source,
    target: request.target,
    amountMinor: request.amountMinor,
    currency: request.currency,
    ...(request.reference === null ? {} : { reference: request.reference }),
    requestedBy: record.client,
    policy: { ...policyOfToday, ...(record.settlement ? { settlement: record.settlement } : {}), transferRecord: true },
    createdAt: record.createdAt,
    ...(options.repair ? { repair: true } : {}),
  };
}

/**
 * Starts the saga of a recorded transfer, its transfer.created event recorded first (so that no
 * saga runs without it); a workflow that exists already (running or not) is left alone.
 */
export async function startSaga(deps: TransferUseCaseDeps, record: TransferRecordDocument): Promise<StartOutcome> {
  await deps.createdEvents?.record(record);
  return deps.workflows.start(inputOf(record, deps.policy), { requestedBy: record.client, createdAt: record.createdAt });
}

/**
 * The transfer as the API shows it: the record's state, and for a transfer still in flight the
 * saga's live state when its worker answers at once, it is not older than the record and it has
 * not ended. An end is shown once it is recorded, so the view of an ended transfer never changes
 * afterwards (a live state answered by a worker that replayed the history may differ from the one
 * the saga recorded in the milliseconds of its step times).
 */
export async function viewOf(deps: TransferUseCaseDeps, recorded: RecordedTransfer): Promise<TransferView> {
  const state = recordedState(recorded);
  const identifiers = transferIdentifiers(recorded.record._id, recorded.record);
  if (isTerminalStatus(state.status) || recorded.latest?.writer.runId === sweeperWriterRunId) return transferView(state, identifiers);
  const live = await deps.workflows.liveState(recorded.record._id);
  return transferView(live && !isTerminalStatus(live.status) && live.updatedAt >= state.updatedAt ? live : state, identifiers);
}

/** The sweeper's writer id: entries it writes describe a workflow that stopped, which no live state can. */
export const sweeperWriterRunId = 'sweeper';
