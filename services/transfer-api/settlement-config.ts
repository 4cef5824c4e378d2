import { z } from 'zod';
import { bankIdSchema, ConfigError, serviceUrlSchema, type BankDirectoryEntry } from '../../lib/config/env-parsers';
import { currencyPattern, minorOrZeroPattern } from '../../lib/contracts/money';
import { settlementModels, type SettlementModel } from '../../lib/contracts/settlement';

const minorOrZero = z.string().regex(minorOrZeroPattern, 'must be a whole number of minor units (at most 18 digits)');

/** The settlement variables of the transfer API (merged into its environment schema). */
export const settlementEnvShape = {
  SETTLEMENT_MODEL: z.enum(settlementModels).default('deferred-net'),
  SETTLEMENT_BANK_ID: bankIdSchema.default('settlement'),
  /** Unset: transfers do not settle between banks (and the settlement routes answer 404). */
  SETTLEMENT_BANK_URL: serviceUrlSchema.optional(),
  SETTLEMENT_CURRENCIES: z
    .string()
    .default('EUR')
    .transform((value) => value.split(',').map((item) => item.trim()))
    .pipe(z.array(z.string().regex(currencyPattern, 'must be ISO 4217 codes such as EUR,USD')).min(1)),
  /** What each participant's reserve is funded with when its account is first opened (once; later changes are funds-in and funds-out). */
  SETTLEMENT_OPENING_RESERVE_MINOR: minorOrZero.default('100000000000000'),
  /** Each participant's Net Debit Cap when its position is first opened (deferred-net), at most the opening reserve. */
  SETTLEMENT_OPENING_NET_DEBIT_CAP_MINOR: minorOrZero.default('100000000000000'),
  /** Deferred-net: minutes between scheduled window closes; 0 closes windows on request only. */
  SETTLEMENT_WINDOW_MINUTES: z.coerce.number().int().min(0).max(7 * 24 * 60).default(0),
};

type SettlementEnv = z.infer<z.ZodObject<typeof settlementEnvShape>>;

export interface SettlementConfig {
  model: SettlementModel;
  bankId: string;
  url: string;
  currencies: readonly string[];
  openingReserveMinor: bigint;
  openingNetDebitCapMinor: bigint;
  windowMinutes: number;
}

/** Undefined when no settlement bank is configured; a settlement bank that is also a participant is a mistake. */
export function settlementConfigOf(parsed: SettlementEnv, banks: readonly BankDirectoryEntry[]): SettlementConfig | undefined {
  if (parsed.SETTLEMENT_BANK_URL === undefined) return undefined;
  if (banks.some((bank) => bank.bankId === parsed.SETTLEMENT_BANK_ID)) throw new ConfigError(`Invalid SETTLEMENT_BANK_ID: ${parsed.SETTLEMENT_BANK_ID} is a participant in BANKS; the settlement bank is a node of its own`);
  const openingReserveMinor = BigInt(parsed.SETTLEMENT_OPENING_RESERVE_MINOR);
  const openingNetDebitCapMinor = BigInt(parsed.SETTLEMENT_OPENING_NET_DEBIT_CAP_MINOR);
  if (parsed.SETTLEMENT_MODEL === 'deferred-net' && openingNetDebitCapMinor > openingReserveMinor) {
    throw new ConfigError('Invalid SETTLEMENT_OPENING_NET_DEBIT_CAP_MINOR: a Net Debit Cap is never above the reserve (SETTLEMENT_OPENING_RESERVE_MINOR)');
  }
  return { model: parsed.SETTLEMENT_MODEL, bankId: parsed.SETTLEMENT_BANK_ID, url: parsed.SETTLEMENT_BANK_URL, currencies: [...new Set(parsed.SETTLEMENT_CURRENCIES)], openingReserveMinor, openingNetDebitCapMinor, windowMinutes: parsed.SETTLEMENT_WINDOW_MINUTES };
}
