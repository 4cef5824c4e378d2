import { clearingAccountId } from '../../../lib/contracts/account-service-contract';
import type { Caller, Ledger } from '../ledger/ledger';
import type { AccountDocument, EntryDocument } from '../ledger/model';

/**
 * Double entry at the bank: every applied interbank customer leg has its counterpart on the
 * bank's clearing account for the currency, booked under the leg's own operation id, so that it
 * is booked once however often it is asked for. A customer debit raises what the bank owes the
 * scheme (+amount), a credit and a refund lower it. The counterpart is booked before the leg's
 * request is answered, and again (as a replay) by every later request that meets the leg: a
 * crash between the two entries is mended by the saga's retry, its refund or its repair.
 */

/** What a leg request asks: book the counterpart once the leg is applied. */
export function clearingOf(currency: string, clearing: boolean | undefined): { clearingAccountId?: string } {
  return clearing === true ? { clearingAccountId: clearingAccountId(currency) } : {};
}

async function clearingAccount(ledger: Ledger, accountId: string, currency: string): Promise<AccountDocument> {
  const account = await ledger.ensureAccount({ _id: accountId, owner: 'the bank (clearing)', currency, overdraftLimitMinor: 0n, createdAt: ledger.moment().now, headSeq: 0, clearing: true });
  if (account.clearing !== true || account.currency !== currency) throw new Error(`ledger invariant: ${accountId} exists and is no ${currency} clearing account`);
  return account;
}

/**
 * Books the counterpart of `leg` if it is an applied leg that names a clearing account; returns it.
 * Under the leg's caller, so the clearing account's queue is bounded and shed like any other: a
 * counterpart refused or dropped is booked by the next request that meets the leg.
 */
export async function bookCounterpart(ledger: Ledger, leg: EntryDocument, caller?: Caller): Promise<EntryDocument | undefined> {
  const accountId = leg.clearingAccountId;
  if (accountId === undefined || leg.outcome !== 'APPLIED' || leg.amountMinor === 0n) return undefined;
  await clearingAccount(ledger, accountId, leg.requestedCurrency);
  const counterpart = await ledger.apply(accountId, { operationId: leg.operationId, kind: 'clearing', amountMinor: -leg.amountMinor, currency: leg.requestedCurrency }, caller);
  if (counterpart.kind !== 'clearing' || counterpart.amountMinor !== -leg.amountMinor) {
    throw new Error(`ledger invariant: ${leg.operationId} on ${accountId} was decided as ${counterpart.kind} of ${counterpart.amountMinor}, not the counterpart of ${leg.amountMinor}`);
  }
  return counterpart;
}
