/**
 * Settlement between the banks: which accounts at the settlement bank a transfer moves, per
 * model. Imported by workflows: no I/O, no dependencies.
 *
 * - deferred-net: each participant has a position account per currency whose balance is what it
 *   is owed (negative: what it owes) since the last settlement, and whose overdraft limit is its
 *   Net Debit Cap. A transfer reserves its amount against the sender's position (a debit the
 *   ledger refuses past the cap) and, once the customer is credited, adds it to the receiver's.
 * - immediate-gross: each transfer moves its amount from the sender's reserve account to the
 *   receiver's (a debit the ledger refuses past the reserve: reserves never go negative).
 */

export const settlementModels = ['deferred-net', 'immediate-gross'] as const;
export type SettlementModel = (typeof settlementModels)[number];

/** Fixed for a transfer when it is recorded, so that a repair years later settles as the transfer began. */
export interface SettlementPolicy {
  model: SettlementModel;
  /** The settlement bank's id: an account service like the others, holding only participants' accounts. */
  bankId: string;
}

export function reserveAccountId(bankId: string, currency: string): string {
  return `reserve.${bankId}.${currency}`;
}

export function positionAccountId(bankId: string, currency: string): string {
  return `position.${bankId}.${currency}`;
}

/** The settlement bank's accounts a transfer between two banks moves: `from` is debited (refusable), `to` credited. */
export function settlementAccountsOf(model: SettlementModel, sourceBankId: string, targetBankId: string, currency: string): { from: string; to: string } {
  const account = model === 'deferred-net' ? positionAccountId : reserveAccountId;
  return { from: account(sourceBankId, currency), to: account(targetBankId, currency) };
}

/** What a sending bank's refusal at the settlement bank means, per model. */
export function settlementRefusalOf(model: SettlementModel): 'NET_DEBIT_CAP_EXCEEDED' | 'INSUFFICIENT_LIQUIDITY' {
  return model === 'deferred-net' ? 'NET_DEBIT_CAP_EXCEEDED' : 'INSUFFICIENT_LIQUIDITY';
}

// Settlement windows (deferred-net): `w-000001`, `w-000002`, …, so that id order is opening order.

const idWidth = 6;
export const windowIdPattern = /^w-(\d{6,})$/;

export function windowIdOf(n: number): string {
  return `w-${String(n).padStart(idWidth, '0')}`;
}

/** The window after `windowId`. */
export function nextWindowId(windowId: string): string {
  return windowIdOf(windowNumberOf(windowId) + 1);
}

export function previousWindowId(windowId: string): string | undefined {
  const n = windowNumberOf(windowId);
  return n > 1 ? windowIdOf(n - 1) : undefined;
}

function windowNumberOf(windowId: string): number {
  const match = windowIdPattern.exec(windowId);
  if (!match?.[1]) throw new Error(`not a settlement window id: ${windowId}`);
  return Number(match[1]);
}

export const firstWindowId = windowIdOf(1);

export interface WindowPosition {
  bankId: string;
  currency: string;
  /** What the bank receives from the window (negative: what it pays). */
  netMinor: string;
  /** Transfers of the window that completed with this bank as sender or receiver. */
  transfers: number;
}

/** One entry the settlement of a window wrote at the settlement bank. */
export interface SettlementEntry {
  bankId: string;
  currency: string;
  accountId: string;
  operationId: string;
  amountMinor: string;
}

export interface WindowReport {
  transfers: number;
  positions: WindowPosition[];
  entries: SettlementEntry[];
}


// The settlement bank's own operations, apart from the transfers' legs (`<transferId>:debit|credit|refund`).

/** A funds-out's reserve debit is the "transfer" `funds-out.<fundsId>` (operation `funds-out.<fundsId>:debit`). */
export const fundsOutTransferPrefix = 'funds-out.';
/** A window's reserve payment or credit is the "transfer" `settle.<windowId>` (`settle.<windowId>:debit|credit`). */
export const windowSettlementTransferPrefix = 'settle.';

export function fundsOutTransferId(fundsId: string): string {
  return `${fundsOutTransferPrefix}${fundsId}`;
}

export function windowSettlementTransferId(windowId: string): string {
  return `${windowSettlementTransferPrefix}${windowId}`;
}

/**
 * Whether a debit, credit or refund at the settlement bank under `<id>:…` is the settlement
 * bank's own liquidity or window move rather than a transfer's leg: transfer ids (`tr-…`) never
 * start with either prefix.
 */
export function isSettlementBankOwnMove(id: string): boolean {
  return id.startsWith(fundsOutTransferPrefix) || id.startsWith(windowSettlementTransferPrefix);
}

/** The participant and kind of a settlement account (`reserve.<bank>.<currency>`, `position.<bank>.<currency>`); undefined for any other id. */
export function settlementAccountOf(accountId: string): { bankId: string; kind: 'reserve' | 'position'; currency: string } | undefined {
  const match = /^(reserve|position)\.([a-z0-9-]+)\.([A-Z]{3})$/.exec(accountId);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { kind: match[1] as 'reserve' | 'position', bankId: match[2], currency: match[3] };
}
