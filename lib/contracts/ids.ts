/** Client-chosen ids (accounts, transfers, deposits): what every service accepts. */
export const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const idLengthMax = 64;

export function isValidId(value: string): boolean {
  return idPattern.test(value);
}
