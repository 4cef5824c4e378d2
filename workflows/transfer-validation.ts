import { amountMinorPattern } from '../lib/contracts/money';
import type { TransferInput, TransferReason } from '../lib/contracts/transfer-contract';

/** Deterministic checks the saga makes before anything moves; a reason code means REJECTED. */
export function validateTransfer(input: TransferInput): TransferReason | undefined {
  const banks = input.policy.banks;
  if (!banks.includes(input.source.bankId) || !banks.includes(input.target.bankId)) return 'UNKNOWN_BANK';
  if (input.source.bankId === input.target.bankId && input.source.accountId === input.target.accountId) return 'SAME_ACCOUNT';
  if (!amountMinorPattern.test(input.amountMinor)) return 'INVALID_AMOUNT';
  if (BigInt(input.amountMinor) > BigInt(input.policy.amountMaxMinor)) return 'AMOUNT_TOO_LARGE';
  return undefined;
}
