/**
 * Money is integer minor units: `bigint` in code, a decimal string on every wire,
 * a 64-bit integer in the database. Never floating point.
 */

/** At most 18 digits, so every amount and every sum of a day's amounts fits in a signed 64-bit integer. */
export const amountMinorDigitsMax = 18;
export const amountMinorPattern = /^[1-9][0-9]{0,17}$/;
/** Signed decimal string, as balances may be negative within an overdraft. */
export const signedMinorPattern = /^(0|-?[1-9][0-9]{0,18})$/;
export const currencyPattern = /^[A-Z]{3}$/;

export class MoneyFormatError extends Error {
  override readonly name = 'MoneyFormatError';
}

/** Parses a positive amount of minor units ("12050"); anything else throws. */
export function parseAmountMinor(text: string): bigint {
  if (!amountMinorPattern.test(text)) throw new MoneyFormatError(`"${text}" is not a positive whole number of minor units with at most ${amountMinorDigitsMax} digits`);
  return BigInt(text);
}

/** Parses a signed number of minor units ("-500", "0"). */
export function parseSignedMinor(text: string): bigint {
  if (!signedMinorPattern.test(text)) throw new MoneyFormatError(`"${text}" is not a whole number of minor units`);
  return BigInt(text);
}

export function formatMinor(amount: bigint): string {
  return amount.toString(10);
}
