import type { TransferStatus } from '../contracts/transfer-contract';

/**
 * The ISO 20022 codes a transfer is reported with: its pacs.002 transaction (and group) status, and
 * the external status reason (pacs.002) or return reason (pacs.004) of why it ended. Pure tables,
 * safe to import anywhere (workflow code included). docs/iso20022.md shows them as tables.
 */

/** ExternalPaymentTransactionStatus1Code values the project reports. */
export type IsoTransactionStatus = 'ACTC' | 'ACSP' | 'ACSC' | 'RJCT' | 'PDNG';

/**
 * Every status of the saga, as pacs.002 reports it. PENDING has passed every check the API makes
 * before recording (schema, mandate, limits): accepted technical validation. DEBITED has moved the
 * source's money and the credit is under way: settlement in process. AWAITING_APPROVAL waits for an
 * operator, COMPENSATING for a refund or credit-void whose end is not known yet: both pending.
 * REFUNDED never reached the creditor (the money went back to the source): rejected, with its
 * return in pacs.004; CANCELLED likewise.
 */
export const isoStatusByTransferStatus = {
  PENDING: 'ACTC',
  AWAITING_APPROVAL: 'PDNG',
  DEBITED: 'ACSP',
  COMPLETED: 'ACSC',
  REJECTED: 'RJCT',
  COMPENSATING: 'PDNG',
  REFUNDED: 'RJCT',
  CANCELLED: 'RJCT',
} as const satisfies Record<TransferStatus, IsoTransactionStatus>;

export function isoTransactionStatus(status: TransferStatus): IsoTransactionStatus {
  return isoStatusByTransferStatus[status];
}

/** The external codes one reason is reported with: as a status reason (pacs.002) and as a return reason (pacs.004). */
export interface IsoReasonCodes {
  /** ExternalStatusReason1Code. */
  status: string;
  /** ExternalReturnReason1Code. */
  return: string;
}

const same = (code: string): IsoReasonCodes => ({ status: code, return: code });

/**
 * Every reason a transfer ends REJECTED, REFUNDED or CANCELLED with: the account services' refusals
 * (lib/contracts/error-codes.ts), the settlement bank's and the saga's own. A reason not listed
 * (a code added later) is reported as NARR, its own name in the narrative.
 */
export const isoReasonCodesByReason: Readonly<Record<string, IsoReasonCodes>> = {
  /** AC01 incorrect account number: the bank holds no such account. */
  ACCOUNT_NOT_FOUND: same('AC01'),
  /** AC04 closed account number. */
  ACCOUNT_CLOSED: same('AC04'),
  /** AC06 blocked account: frozen by an operator. */
  ACCOUNT_FROZEN: same('AC06'),
  /** AM04 insufficient funds: the balance (with its overdraft) does not cover the amount. */
  INSUFFICIENT_FUNDS: same('AM04'),
  /** AM03 not allowed currency: the account is held in another currency. */
  CURRENCY_MISMATCH: same('AM03'),
  /** AM02 not allowed amount: above a maximum (the account's daily limit, the client's or the API's maximum per transfer), or not a valid amount. */
  DAILY_LIMIT_EXCEEDED: same('AM02'),
  LIMIT_EXCEEDED: same('AM02'),
  AMOUNT_TOO_LARGE: same('AM02'),
  INVALID_AMOUNT: same('AM02'),
  /** AM04: the sending bank's cover at the settlement bank (its reserve, or the room under its Net Debit Cap) does not cover the amount. */
  NET_DEBIT_CAP_EXCEEDED: same('AM04'),
  INSUFFICIENT_LIQUIDITY: same('AM04'),
  /** RC01 bank identifier incorrect: a bank the API does not know. */
  UNKNOWN_BANK: same('RC01'),
  /** AG01 transaction forbidden: a transfer from an account to itself. */
  SAME_ACCOUNT: same('AG01'),
  /** AM05 duplication: the ledger holds another operation under this transfer's leg. */
  IDEMPOTENCY_CONFLICT: same('AM05'),
  /** FOCR following cancellation request: an operator cancelled the transfer. */
  CANCELLED_BY_OPERATOR: same('FOCR'),
  /** NARR: an operator's decision, told in the narrative (the code the project gives it). */
  APPROVAL_REJECTED: same('NARR'),
  APPROVAL_TIMED_OUT: same('NARR'),
  /** MS03 reason not specified, agent generated: the platform or a bank could not complete it. */
  CREDIT_FAILED: same('MS03'),
  WORKFLOW_TERMINATED: same('MS03'),
  TRANSFER_NOT_AUTHORISED: same('MS03'),
  TRANSFER_VOIDED: same('MS03'),
  PARTICIPANT_NOT_FOUND: same('MS03'),
  BALANCE_LIMIT_EXCEEDED: same('MS03'),
  VALIDATION_FAILED: same('MS03'),
};

const narrative: IsoReasonCodes = same('NARR');

export function isoReasonCodes(reason: string): IsoReasonCodes {
  return Object.prototype.hasOwnProperty.call(isoReasonCodesByReason, reason) ? (isoReasonCodesByReason[reason] as IsoReasonCodes) : narrative;
}

/**
 * The view's reason code: the return reason of a REFUNDED transfer, the status reason of any other
 * with a reason, null without one.
 */
export function isoReasonCode(status: TransferStatus, reason: string | undefined): string | null {
  if (reason === undefined) return null;
  const codes = isoReasonCodes(reason);
  return status === 'REFUNDED' ? codes.return : codes.status;
}
