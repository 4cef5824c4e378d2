import { bankIdPattern, perClientSchema } from '../../lib/config/env-parsers';
import { idPattern } from '../../lib/contracts/ids';

/**
 * What one API client may debit: every bank (`*`), some banks, or some accounts of one bank.
 * A client is a participant of a bank, sending for its own customers; a client without a
 * mandate may debit nothing.
 */
export type Mandate = { kind: 'every-bank' } | { kind: 'banks'; banks: ReadonlySet<string> } | { kind: 'accounts'; bankId: string; accounts: ReadonlySet<string> };

/** Who may move what through the API: each client's mandate, and whether approvals need a second operator. */
export interface TransferAuthority {
  clientMandates: ReadonlyMap<string, Mandate>;
  approvalFourEyes: boolean;
}

/** True when the mandate covers debiting this account. */
export function mandateCovers(mandate: Mandate | undefined, source: { bankId: string; accountId: string }): boolean {
  if (!mandate) return false;
  if (mandate.kind === 'every-bank') return true;
  if (mandate.kind === 'banks') return mandate.banks.has(source.bankId);
  return mandate.bankId === source.bankId && mandate.accounts.has(source.accountId);
}

/** The mandate as it is written in CLIENT_MANDATES, for logs and docs. */
export function describeMandate(mandate: Mandate): string {
  if (mandate.kind === 'every-bank') return '*';
  if (mandate.kind === 'banks') return [...mandate.banks].join('|');
  return `${mandate.bankId}:${[...mandate.accounts].join('|')}`;
}

function parseMandate(text: string): Mandate | undefined {
  if (text === '*') return { kind: 'every-bank' };
  const colon = text.indexOf(':');
  if (colon < 0) {
    const banks = text.split('|');
    return banks.every((bank) => bankIdPattern.test(bank)) ? { kind: 'banks', banks: new Set(banks) } : undefined;
  }
  const bankId = text.slice(0, colon);
  const accounts = text.slice(colon + 1).split('|');
  if (!bankIdPattern.test(bankId) || !accounts.every((account) => idPattern.test(account))) return undefined;
  return { kind: 'accounts', bankId, accounts: new Set(accounts) };
}

/** `CLIENT_MANDATES=name=bank-a|bank-b,other=bank-c:acc-1|acc-2,trusted=*` */
export const clientMandatesSchema = perClientSchema(parseMandate, 'client=bank|bank, client=bank:account|account or client=*');

/** The banks a mandate names, to check them against the bank directory; none for `*`. */
export function banksOfMandate(mandate: Mandate): string[] {
  if (mandate.kind === 'every-bank') return [];
  return mandate.kind === 'banks' ? [...mandate.banks] : [mandate.bankId];
}
