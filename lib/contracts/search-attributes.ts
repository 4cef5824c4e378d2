import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The business search attributes operators filter transfers by. They are indexed in
 * plaintext by Temporal, so they hold ids and amounts, never owner names or references.
 */
export const searchAttributes = {
  transferStatus: defineSearchAttributeKey('TransferStatus', SearchAttributeType.KEYWORD),
  sourceBank: defineSearchAttributeKey('SourceBank', SearchAttributeType.KEYWORD),
  targetBank: defineSearchAttributeKey('TargetBank', SearchAttributeType.KEYWORD),
  sourceAccount: defineSearchAttributeKey('SourceAccount', SearchAttributeType.KEYWORD),
  targetAccount: defineSearchAttributeKey('TargetAccount', SearchAttributeType.KEYWORD),
  amountMinor: defineSearchAttributeKey('AmountMinor', SearchAttributeType.INT),
  currency: defineSearchAttributeKey('Currency', SearchAttributeType.KEYWORD),
  needsAttention: defineSearchAttributeKey('NeedsAttention', SearchAttributeType.BOOL),
  /** The API client that asked for the transfer, so that a client's list shows only its own. */
  requestedBy: defineSearchAttributeKey('RequestedBy', SearchAttributeType.KEYWORD),
  /** Set by a reconciliation run that found a discrepancy between the ledgers. */
  reconciliationDiscrepancy: defineSearchAttributeKey('ReconciliationDiscrepancy', SearchAttributeType.BOOL),
  /** A settlement window's workflow: the window it closes and settles, and where it is (CLOSED, SETTLING, SETTLED). */
  settlementWindowId: defineSearchAttributeKey('SettlementWindowId', SearchAttributeType.KEYWORD),
  settlementWindowState: defineSearchAttributeKey('SettlementWindowState', SearchAttributeType.KEYWORD),
} as const;

export const searchAttributeKeys = Object.values(searchAttributes);
