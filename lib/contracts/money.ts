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

/**
 * ISO 4217 minor-unit exponents that are not 2: how many decimals a currency's amounts have when
 * written as a decimal (an ISO 20022 render). Minor units stay the wire and storage form.
 */
const currencyExponents: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export function currencyExponent(currency: string): number {
  return currencyExponents[currency] ?? 2;
}

/** A non-negative amount of minor units as a decimal in its currency: 12050n EUR → "120.50", 500n JPY → "500", 1n KWD → "0.001". */
export function decimalAmount(amountMinor: bigint, currency: string): string {
  if (amountMinor < 0n) throw new Error(`decimalAmount takes a magnitude, not ${formatMinor(amountMinor)}`);
  const exponent = currencyExponent(currency);
  if (exponent === 0) return formatMinor(amountMinor);
  const digits = formatMinor(amountMinor).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
