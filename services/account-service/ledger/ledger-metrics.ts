import { Counter, type Registry } from 'prom-client';
import { createCacheCounters, type CacheCounters } from './bounded-cache';

/** What the ledger counts as it decides; registered on the service's registry. */
export interface LedgerMetrics {
  /** New entries: applied, refused (with the refusal code) or nothing to refund. */
  decisions: Counter<'kind' | 'outcome' | 'code'>;
  /** Requests answered with an entry decided before (a retry, a duplicate, or a void that took the slot). */
  duplicates: Counter<'kind'>;
  sequenceConflicts: Counter;
  /** Refunds and credits that still move money on a closed account: operators settle them by hand. */
  closedAccountMovements: Counter<'kind'>;
  /** Hits, misses and evictions of the bounded caches (account documents, chain heads). */
  caches: CacheCounters;
  /** Operations answered without a decision: a full queue (`overloaded`), a passed deadline, a closed request. */
  shedOperations: Counter<'reason'>;
  /** Pointers a crash had lost, found again by walking the chain back from its head. */
  pointersRepaired: Counter;
}

export function createLedgerMetrics(registry: Registry): LedgerMetrics {
  return {
    decisions: new Counter({
      name: 'ledger_decisions_total',
      help: 'Entries appended, by kind, outcome and refusal code (NONE when applied)',
      labelNames: ['kind', 'outcome', 'code'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'ledger_duplicate_requests_total',
      help: "Requests answered with the entry an earlier decision of the same operation wrote, by that entry's kind",
      labelNames: ['kind'],
      registers: [registry],
    }),
    sequenceConflicts: new Counter({
      name: 'ledger_sequence_conflicts_total',
      help: 'Group-commit inserts that lost the race for a sequence number and were decided again',
      registers: [registry],
    }),
    closedAccountMovements: new Counter({
      name: 'ledger_closed_account_movements_total',
      help: 'Money moved on a closed account (a refund that landed after the close); each needs an operator',
      labelNames: ['kind'],
      registers: [registry],
    }),
    caches: createCacheCounters(registry),
    shedOperations: new Counter({
      name: 'ledger_shed_operations_total',
      help: 'Operations dropped before any decision: overloaded (the account queue was full), deadline (the caller had given up), closed (the request closed)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    pointersRepaired: new Counter({
      name: 'ledger_pointers_repaired_total',
      help: 'Operation pointers a crash had lost, found again by walking the chain back from its head by _id',
      registers: [registry],
    }),
  };
}
