import { createHash } from 'node:crypto';
import type { TransferInput, TransferPolicy } from '../../../lib/transfer-contract';
import type { Caller } from '../http/auth';
import { ApiError } from '../../../lib/http-errors';
import type { CreateTransferBody, TransferView } from '../schemas';
import { TransferNotReadyError, type TransferWorkflows } from '../gateways/transfer-workflows';
import { transferView } from './transfer-view';

export interface CreateTransferResult {
  transfer: TransferView;
  /** True when this answers an earlier request with the same key and body. */
  replayed: boolean;
}

/** A transfer's id is a hash of the client and its Idempotency-Key, so one key can never start two transfers. */
export function transferIdFor(clientName: string, idempotencyKey: string): string {
  return `tr-${createHash('sha256').update(`${clientName}\n${idempotencyKey}`).digest('hex').slice(0, 40)}`;
}

/** Fingerprint of the parsed, normalised request; the schema has already made every field canonical. */
export function requestFingerprint(body: CreateTransferBody): string {
  const normalised = [body.source.bankId, body.source.accountId, body.target.bankId, body.target.accountId, body.amountMinor, body.currency, body.reference ?? null];
  return createHash('sha256').update(JSON.stringify(normalised)).digest('hex');
}

/** Each API client's largest amount per transfer, with the global maximum for clients not listed. */
export interface ClientTransferMaxima {
  byClient: ReadonlyMap<string, string>;
  defaultMaxMinor: string;
}

/** Refuses, before any workflow starts, an amount above what the calling client may send in one transfer. */
export function assertWithinClientMaximum(maxima: ClientTransferMaxima, caller: Caller, amountMinor: string): void {
  const maxMinor = maxima.byClient.get(caller.name) ?? maxima.defaultMaxMinor;
  if (BigInt(amountMinor) > BigInt(maxMinor)) {
    throw new ApiError('LIMIT_EXCEEDED', `amountMinor is above the ${maxMinor} minor units this client may send in one transfer`, 'amountMinor');
  }
}

export async function createTransfer(
  workflows: TransferWorkflows,
  policy: TransferPolicy,
  caller: Caller,
  idempotencyKey: string,
  body: CreateTransferBody,
  now: Date = new Date(),
): Promise<CreateTransferResult> {
  const transferId = transferIdFor(caller.name, idempotencyKey);
  const fingerprint = requestFingerprint(body);
  const input: TransferInput = {
    transferId,
    source: body.source,
    target: body.target,
    amountMinor: body.amountMinor,
    currency: body.currency,
    ...(body.reference === undefined ? {} : { reference: body.reference }),
    requestedBy: caller.name,
    policy,
  };
  const memo = { requestFingerprint: fingerprint, requestedBy: caller.name, reference: body.reference ?? null, createdAt: now.toISOString() };
  if ((await workflows.start(input, memo)) === 'started') {
    const createdAt = memo.createdAt;
    const transfer = transferView({ ...input, status: 'PENDING', needsAttention: false, createdAt, updatedAt: createdAt, steps: [] });
    return { transfer, replayed: false };
  }

  const existing = await workflows.find(transferId);
  if (!existing) throw new ApiError('REQUEST_IN_PROGRESS', 'a request with this Idempotency-Key is still being processed; retry shortly', undefined, { 'retry-after': '1' });
  if (existing.memo.requestFingerprint !== fingerprint) {
    throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body', 'Idempotency-Key');
  }
  try {
    return { transfer: transferView(await workflows.state(transferId, existing.running)), replayed: true };
  } catch (error) {
    if (error instanceof TransferNotReadyError) {
      throw new ApiError('REQUEST_IN_PROGRESS', 'the transfer for this Idempotency-Key is still being created; retry shortly', undefined, { 'retry-after': '1' });
    }
    throw error;
  }
}
