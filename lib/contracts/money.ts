/**
 * Money is integer minor units: `bigint` in code, a decimal string on every wire,
 * a 64-bit integer in the database. Never floating point.
 */

/** At most 18 digits, so every amount and every sum of a day's amounts fits in a signed 64-bit integer. */
export const amountMinorDigitsMax = 18;
export const amountMinorPattern = /^[1-9][0-9]{0,17}$/;
/** Signed decimal string, as balances may be negative within an overdraft. */
export const signedMinorPattern = /^(0|-?[1-9][0-9]{0,18})$/;
/** A signed, non-zero amount of at most 18 digits: a settlement move, into or out of an account. */
export const signedAmountMinorPattern = /^-?[1-9][0-9]{0,17}$/;
/** Zero or a positive amount: limits and overdrafts. */
export const minorOrZeroPattern = /^(0|[1-9][0-9]{0,17})$/;
/** A ledger sequence number as a page cursor. */
export const sequenceCursorPattern = /^(0|[1-9][0-9]{0,15})$/;
export const currencyPattern = /^[A-Z]{3}$/;

export function formatMinor(amount: bigint): string {
  return amount.toString(10);
}
