import type { AccountStatus, EntryKind, EntryOutcome } from '../../../lib/account-service-contract';

/** An account's static fields, kept in the accounts collection under `_id = accountId`. */
export interface AccountDocument {
  _id: string;
  owner: string;
  currency: string;
  overdraftLimitMinor: bigint;
  createdAt: string;
  /** Cache of the latest known sequence; a hint only (updates are not atomic on FerretDB). */
  headSeq: number;
}

/**
 * One decision in an account's chain, `_id = "<accountId>:<seq>"`. A unique index on
 * (accountId, operationId) makes a second decision for one operation impossible.
 */
export interface EntryDocument {
  _id: string;
  accountId: string;
  seq: number;
  operationId: string;
  kind: EntryKind;
  /** Signed change of the balance. */
  amountMinor: bigint;
  balanceAfterMinor: bigint;
  statusAfter: AccountStatus;
  outcome: EntryOutcome;
  code?: string;
  /** What the request asked for, so that a replay with other fields is told apart (IDEMPOTENCY_CONFLICT). */
  requestedAmountMinor: bigint;
  requestedCurrency: string;
  createdAt: string;
}

/** `{ _id: "<accountId>:<operationId>", seq }`: finds an operation's entry by `_id` alone. */
export interface PointerDocument {
  _id: string;
  seq: number;
}

export function entryId(accountId: string, seq: number): string {
  return `${accountId}:${seq}`;
}

export function pointerId(accountId: string, operationId: string): string {
  return `${accountId}:${operationId}`;
}

/** What an operation asks of the chain; `decide` turns it into the next entry. */
export interface Operation {
  operationId: string;
  kind: 'deposit' | 'debit' | 'credit' | 'refund' | 'void' | 'freeze' | 'unfreeze' | 'close' | 'open';
  /** Unsigned amount asked for ("0" for voids and status changes). */
  amountMinor: bigint;
  currency: string;
  /** A refund of a refused debit records NOTHING_TO_REFUND instead of APPLIED. */
  nothingToRefund?: boolean;
}

/** The head of a chain: its latest entry. */
export type Head = Pick<EntryDocument, 'seq' | 'balanceAfterMinor' | 'statusAfter'>;
