import { createHash, randomUUID } from 'node:crypto';
import { recordedState, type TransferRecordDocument, type TransferRequest } from '../../../lib/record/transfer-record';
import type { Caller } from '../http/auth';
import { ApiError } from '../../../lib/http/errors';
import type { CreateTransferBody, TransferView } from '../schemas';
import { mandateCovers, type Mandate } from '../mandates';
import { startSaga, viewOf, type TransferUseCaseDeps } from './recorded-transfers';
import { transferView } from '../../../lib/contracts/transfer-view';
import { transferIdentifiers } from '../../../lib/record/transfer-identifiers';

export interface CreateTransferResult {
  transfer: TransferView;
  /** True when this answers an earlier request with the same key and body. */
  replayed: boolean;
}

/** A transfer's id is a hash of the client and its Idempotency-Key, so one key can never start two transfers. */
export function transferIdFor(clientName: string, idempotencyKey: string): string {
  return `tr-${createHash('sha256').update(`${clientName}\n${idempotencyKey}`).digest('hex').slice(0, 40)}`;
}

/** The request as recorded; the schema has already made every field canonical. */
export function normalisedRequest(body: CreateTransferBody): TransferRequest {
  return { source: body.source, target: body.target, amountMinor: body.amountMinor, currency: body.currency, reference: body.reference ?? null };
}

/**
 * Fingerprint of the parsed, normalised request: tells "the same request again" from "the same key,
 * another body". The client's UETR and end-to-end id count when given (so a repeat without the UETR
 * the first request gave is another body); without them the fingerprint is the one records written
 * before they existed hold, so those keys replay as before.
 */
export function requestFingerprint(body: CreateTransferBody): string {
  const request = normalisedRequest(body);
  const normalised: Array<string | null> = [request.source.bankId, request.source.accountId, request.target.bankId, request.target.accountId, request.amountMinor, request.currency, request.reference];
  if (body.uetr !== undefined || body.endToEndId !== undefined) normalised.push(body.uetr ?? null, body.endToEndId ?? null);
  return createHash('sha256').update(JSON.stringify(normalised)).digest('hex');
}

/** Each API client's largest amount per transfer, with the global maximum for clients not listed. */
export interface ClientTransferMaxima {
  byClient: ReadonlyMap<string, string>;
  amountMinorMaxDefault: string;
}

/** Refuses, before any workflow starts, an amount above what the calling client may send in one transfer. */
export function assertWithinClientMaximum(maxima: ClientTransferMaxima, caller: Caller, amountMinor: string): void {
  const amountMinorMax = maxima.byClient.get(caller.name) ?? maxima.amountMinorMaxDefault;
  if (BigInt(amountMinor) > BigInt(amountMinorMax)) {
    throw new ApiError('LIMIT_EXCEEDED', `amountMinor is above the ${amountMinorMax} minor units this client may send in one transfer`, 'amountMinor');
  }
}

/**
 * What the API can tell from the request and its policy alone, refused before anything is
 * recorded: the saga would only reject it later (its own check stays, for transfers started
 * without the API). The same codes as the saga's reasons.
 */
export function assertRequestAcceptable(policy: { banks: readonly string[] }, body: Pick<CreateTransferBody, 'source' | 'target'>): void {
  for (const side of ['source', 'target'] as const) {
    const bankId = body[side].bankId;
    if (!policy.banks.includes(bankId)) throw new ApiError('UNKNOWN_BANK', `${side}.bankId ${bankId} is not a bank this API knows (${policy.banks.join(', ')}); nothing was recorded`, `${side}.bankId`);
  }
  if (body.source.bankId === body.target.bankId && body.source.accountId === body.target.accountId) {
    throw new ApiError('SAME_ACCOUNT', 'the source and target are the same account; nothing was recorded', 'target');
  }
}

/**
 * A client is a participant of its bank, sending for its own customers: it may debit only what its
 * mandate covers. Refused before anything is recorded or started; operators act on every account.
 */
export function assertSourceWithinMandate(mandates: ReadonlyMap<string, Mandate>, caller: Caller, source: { bankId: string; accountId: string }): void {
  if (caller.role === 'operator' || mandateCovers(mandates.get(caller.name), source)) return;
  throw new ApiError('SOURCE_NOT_ALLOWED', `client ${caller.name} may not debit account ${source.accountId} at ${source.bankId} (CLIENT_MANDATES)`, 'source');
}

/**
 * Records the transfer, then starts its saga. The record's unique insert is the Idempotency-Key's
 * decision, at any age: a repeat is answered from the record whether or not Temporal still has the
 * workflow, and a repeat of a transfer whose saga never started (a crash right after the insert)
 * starts it. A recorded transfer with any status entry has run, and is never started again here.
 */
export async function createTransfer(deps: TransferUseCaseDeps, caller: Caller, idempotencyKey: string, body: CreateTransferBody, now: Date = new Date()): Promise<CreateTransferResult> {
  const record: TransferRecordDocument = {
    _id: transferIdFor(caller.name, idempotencyKey),
    client: caller.name,
    fingerprint: requestFingerprint(body),
    request: normalisedRequest(body),
    createdAt: now.toISOString(),
    // A repeat of the key generates another UETR, which the refused insert drops: the first one stays.
    uetr: body.uetr ?? randomUUID(),
    endToEndId: body.endToEndId ?? null,
    ...(deps.policy.settlement ? { settlement: deps.policy.settlement } : {}),
  };
  const opened = await deps.records.create(record);
  if (opened.outcome === 'uetr-taken') throw new ApiError('UETR_ALREADY_USED', `another transfer has the UETR ${record.uetr}; nothing was recorded`, 'uetr');
  if (opened.outcome === 'created') {
    await deps.records.ensureListed(record);
    await startSaga(deps, record);
    // Just started: the record's PENDING is all there is to say (a query would wait for the first workflow task).
    return { transfer: transferView(recordedState({ record, latest: undefined }), transferIdentifiers(record._id, record)), replayed: false };
  }
  if (opened.record.fingerprint !== record.fingerprint) {
    throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body', 'Idempotency-Key');
  }
  // The record was just read by the refused insert; only its status entries are left to read.
  const recorded = { record: opened.record, latest: (await deps.records.entries(record._id)).at(-1) };
  if (!recorded.latest) {
    await deps.records.ensureListed(opened.record);
    await startSaga(deps, opened.record);
  }
  return { transfer: await viewOf(deps, recorded), replayed: true };
}
