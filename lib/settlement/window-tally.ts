import { entriesPageLimitMax, entryPageSchema, ledgerEntryViewSchema, type LedgerEntryView } from '../contracts/account-service-contract';
import { formatMinor } from '../contracts/money';
import { positionAccountId, previousWindowId, type WindowPosition } from '../contracts/settlement';

/**
 * What a settlement window holds, read from the settlement bank's position chains alone: the
 * chain orders each reservation with the window markers, so a reservation's entry says which
 * window it belongs to; its transfer's fate is the receiver's credit or the sender's release.
 */

/** Which banks and currencies a window covers: every participant's position per settlement currency. */
export interface WindowScope {
  windowId: string;
  participants: readonly string[];
  currencies: readonly string[];
}

/** The window's completed transfers' nets, and how many of its transfers are still in flight. */
export interface WindowTally {
  inFlight: number;
  transfers: number;
  positions: WindowPosition[];
}

/** Signed GETs to the settlement bank (the API's key or the worker's); transport faults throw. */
export interface SettlementBankReader {
  get: (path: string) => Promise<{ status: number; body: unknown }>;
}

export class SettlementReadError extends Error {
  override readonly name = 'SettlementReadError';
}

interface Leg {
  bankId: string;
  amountMinor: bigint;
}

/** The window's reservations (debits of positions carrying its id), and every credit and release from the previous window's marker on. */
interface WindowLegs {
  reservations: Map<string, Leg>;
  credits: Map<string, Leg>;
  releases: Set<string>;
}

function transferIdOf(entry: LedgerEntryView, suffix: string): string | undefined {
  return entry.operationId.endsWith(suffix) ? entry.operationId.slice(0, -suffix.length) : undefined;
}

/** The sequence of a window's marker in a chain; undefined when the chain has none. */
async function markerSequence(reader: SettlementBankReader, accountId: string, windowId: string): Promise<number | undefined> {
  const answer = await reader.get(`/v1/accounts/${accountId}/operations/${encodeURIComponent(`${windowId}:window`)}`);
  if (answer.status === 404) return undefined;
  const entry = ledgerEntryViewSchema.safeParse(answer.body);
  if (answer.status !== 200 || !entry.success) throw new SettlementReadError(`the settlement bank answered ${answer.status} to the marker of ${windowId} on ${accountId}`);
  return entry.data.sequence;
}

async function entriesAfter(reader: SettlementBankReader, accountId: string, afterSequence: number): Promise<LedgerEntryView[]> {
  const entries: LedgerEntryView[] = [];
  let after: string | null = afterSequence >= 0 ? String(afterSequence) : null;
  do {
    const query = after === null ? `limit=${entriesPageLimitMax}` : `limit=${entriesPageLimitMax}&after=${after}`;
    const answer = await reader.get(`/v1/accounts/${accountId}/entries?${query}`);
    const page = entryPageSchema.safeParse(answer.body);
    if (answer.status !== 200 || !page.success) throw new SettlementReadError(`the settlement bank answered ${answer.status} to the entries of ${accountId}`);
    entries.push(...page.data.data);
    after = page.data.nextCursor;
  } while (after !== null);
  return entries;
}

/**
 * Reads every position chain from the previous window's marker: a credit or release of this
 * window's transfers always comes after it (markers are written window after window, each
 * window's on every chain before the next window's), even on a chain marked for this window late.
 */
async function windowLegs(reader: SettlementBankReader, scope: WindowScope): Promise<WindowLegs> {
  const legs: WindowLegs = { reservations: new Map(), credits: new Map(), releases: new Set() };
  const previous = previousWindowId(scope.windowId);
  for (const bankId of scope.participants) {
    for (const currency of scope.currencies) {
      const accountId = positionAccountId(bankId, currency);
      const from = previous === undefined ? undefined : await markerSequence(reader, accountId, previous);
      for (const entry of await entriesAfter(reader, accountId, from === undefined ? -1 : from - 1)) {
        if (entry.outcome !== 'APPLIED') continue;
        const key = (transferId: string): string => `${currency}/${transferId}`;
        const debited = entry.kind === 'debit' ? transferIdOf(entry, ':debit') : undefined;
        const credited = entry.kind === 'credit' ? transferIdOf(entry, ':credit') : undefined;
        const released = entry.kind === 'refund' ? transferIdOf(entry, ':refund') : undefined;
        if (debited !== undefined && entry.windowId === scope.windowId) legs.reservations.set(key(debited), { bankId, amountMinor: -BigInt(entry.amountMinor) });
        if (credited !== undefined) legs.credits.set(key(credited), { bankId, amountMinor: BigInt(entry.amountMinor) });
        if (released !== undefined) legs.releases.add(key(released));
      }
    }
  }
  return legs;
}

function tallyOf(scope: WindowScope, legs: WindowLegs): WindowTally {
  const nets = new Map<string, { net: bigint; transfers: number }>();
  const add = (bankId: string, currency: string, amount: bigint): void => {
    const current = nets.get(`${bankId}/${currency}`) ?? { net: 0n, transfers: 0 };
    nets.set(`${bankId}/${currency}`, { net: current.net + amount, transfers: current.transfers + 1 });
  };
  let inFlight = 0;
  let transfers = 0;
  for (const [key, reservation] of legs.reservations) {
    const credit = legs.credits.get(key);
    const currency = key.slice(0, key.indexOf('/'));
    if (credit) {
      transfers += 1;
      add(reservation.bankId, currency, -reservation.amountMinor);
      add(credit.bankId, currency, credit.amountMinor);
    } else if (!legs.releases.has(key)) {
      inFlight += 1;
    }
  }
  const positions: WindowPosition[] = [];
  for (const bankId of scope.participants) {
    for (const currency of scope.currencies) {
      const found = nets.get(`${bankId}/${currency}`);
      if (found) positions.push({ bankId, currency, netMinor: formatMinor(found.net), transfers: found.transfers });
    }
  }
  return { inFlight, transfers, positions };
}

export async function tallyWindow(reader: SettlementBankReader, scope: WindowScope): Promise<WindowTally> {
  return tallyOf(scope, await windowLegs(reader, scope));
}
