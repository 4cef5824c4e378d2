/**
 * The transfer saga's contract: its input, the state its query returns, and the
 * operator updates. Pure types and constants, safe to import from workflow code.
 */

import type { SettlementPolicy } from './settlement';

export const transferStatuses = [
  'PENDING',
  'AWAITING_APPROVAL',
  'DEBITED',
  'COMPLETED',
  'REJECTED',
  'COMPENSATING',
  'REFUNDED',
  'CANCELLED',
] as const;
export type TransferStatus = (typeof transferStatuses)[number];

export const terminalTransferStatuses = ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'] as const satisfies readonly TransferStatus[];

export function isTerminalStatus(status: TransferStatus): boolean {
  return (terminalTransferStatuses as readonly string[]).includes(status);
}

/**
 * Why a transfer ended REJECTED, REFUNDED or CANCELLED: an account service's error code
 * (INSUFFICIENT_FUNDS, ACCOUNT_FROZEN, …) or one of the saga's own.
 */
export type TransferReason =
  | 'APPROVAL_REJECTED'
  | 'APPROVAL_TIMED_OUT'
  | 'CANCELLED_BY_OPERATOR'
  | 'CREDIT_FAILED'
  | 'UNKNOWN_BANK'
  | 'SAME_ACCOUNT'
  | 'AMOUNT_TOO_LARGE'
  | 'INVALID_AMOUNT'
  | 'WORKFLOW_TERMINATED'
  /** The input was not signed by the transfer API (started around it, or altered): nothing moved, nothing recorded. */
  | 'TRANSFER_NOT_AUTHORISED'
  | (string & {});

/** Timing of webhook deliveries, copied into each transfer's input by the starter. */
export interface WebhookPolicy {
  /** The task queue of the delivery activity, apart from the saga's so a slow receiver takes no saga slot. */
  deliveryTaskQueue: string;
  retryInitialIntervalMs: number;
  retryMaximumIntervalMs: number;
  /** Deliveries are retried until this long after the event (at least 24 h in production). */
  giveUpAfterMs: number;
}

export interface AccountRef {
  bankId: string;
  accountId: string;
}

/**
 * Limits the starter copies into every input, because workflow code reads no environment.
 * Amounts are decimal strings of minor units.
 */
export interface TransferPolicy {
  /** Transfers at or above this amount wait for an operator's approval. */
  approvalThresholdMinor: string;
  /** An approval not given within this time rejects the transfer (APPROVAL_TIMED_OUT). */
  approvalTimeoutMs: number;
  /** Largest amount accepted (AMOUNT_TOO_LARGE above it). */
  amountMaxMinor: string;
  /** Bank ids the saga may call. */
  banks: string[];
  /** After this many failed refund (or credit-void) attempts the transfer is flagged NeedsAttention. */
  refundAttentionAfterAttempts: number;
  /** How long the credit is retried before the saga gives up and compensates (default 5 minutes). */
  creditGiveUpAfterMs?: number;
  /** How long the debit is retried before its outcome counts as unknown and is compensated (default 5 minutes). */
  debitGiveUpAfterMs?: number;
  /** Set when the API keeps an event feed: the saga records events and starts webhook deliveries. */
  webhooks?: WebhookPolicy;
  /**
   * Set when the transfer has a record in the API's database (every transfer the API starts): the
   * saga writes every change it decides there, with the events, through one activity.
   */
  transferRecord?: boolean;
  /** Longest pause between two attempts of a refund or credit-void that keeps failing (default 30 s). */
  compensationRetryMaximumIntervalMs?: number;
  /** Set when the transfer settles between its banks (fixed in its record at creation). */
  settlement?: SettlementPolicy;
}

/** The transfer API's signature over an input or a decision (see lib/crypto/transfer-authority.ts). */
export interface TransferAuthoritySignature {
  keyId: string;
  /** Hex HMAC-SHA256. */
  signature: string;
}

/** What a client asked for: the same in the saga's input, its state and the record. */
export interface TransferRequestFields {
  transferId: string;
  source: AccountRef;
  target: AccountRef;
  amountMinor: string;
  currency: string;
  reference?: string;
  /** The client (API key name) that asked for the transfer. */
  requestedBy: string;
}

export interface TransferInput extends TransferRequestFields {
  policy: TransferPolicy;
  /** When the transfer was recorded; the workflow's start time when absent. */
  createdAt?: string;
  /**
   * A repair run, started by an operator for a transfer whose workflow stopped with money possibly in
   * flight: it finishes the transfer from the ledgers' facts (credit-void, then refund).
   */
  repair?: boolean;
  /** The API's signature over everything above; an input without a valid one moves nothing. */
  authority?: TransferAuthoritySignature;
}

/** `settlement-*`: the legs at the settlement bank (reserve against the sender, release, credit the receiver). */
export type TransferStepName = 'approval' | 'debit' | 'settlement-reserve' | 'credit' | 'settlement-credit' | 'credit-void' | 'settlement-release' | 'refund';
export type TransferStepStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface TransferStep {
  name: TransferStepName;
  status: TransferStepStatus;
  startedAt: string;
  endedAt?: string;
  /** Attempts made so far (activity attempts for ledger calls). */
  attempts: number;
  failure?: { code: string; message: string };
  /** Who decided, for approvals. */
  decidedBy?: string;
}

export interface TransferState extends TransferRequestFields {
  status: TransferStatus;
  reason?: TransferReason;
  needsAttention: boolean;
  /** Why an operator is needed when the saga itself cannot say (e.g. WORKFLOW_TERMINATED, found by the API's sweeper). */
  attentionReason?: string;
  createdAt: string;
  updatedAt: string;
  steps: TransferStep[];
  /** Deferred-net: the settlement window its reservation was decided in (the settlement bank's chain says so). */
  settlementWindowId?: string;
}

/** Body of the approve, reject and cancel updates. */
export interface OperatorDecision {
  operator: string;
  comment?: string;
  /** The API's signature over the transfer, the action and this decision; an update without a valid one decides nothing. */
  authority?: TransferAuthoritySignature;
}

/**
 * The state of a transfer that has just been asked for. The saga starts from it and the API answers
 * with it while the saga has written nothing yet, so both show the same transfer.
 */
export function initialTransferState(request: TransferRequestFields, createdAt: string): TransferState {
  return {
    transferId: request.transferId,
    status: 'PENDING',
    source: request.source,
    target: request.target,
    amountMinor: request.amountMinor,
    currency: request.currency,
    ...(request.reference === undefined ? {} : { reference: request.reference }),
    requestedBy: request.requestedBy,
    needsAttention: false,
    createdAt,
    updatedAt: createdAt,
    steps: [],
  };
}

export const transferTaskQueue = 'transfers';

const transferWorkflowIdPrefix = 'transfer-';

/** One transfer id, one workflow id: a transfer can never run twice. */
export function transferWorkflowId(transferId: string): string {
  return `${transferWorkflowIdPrefix}${transferId}`;
}

/** The transfer id a workflow id belongs to, or undefined when the workflow is not a transfer's. */
export function transferIdOfWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(transferWorkflowIdPrefix) ? workflowId.slice(transferWorkflowIdPrefix.length) : undefined;
}
