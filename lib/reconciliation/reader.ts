import type { AccountServiceClient } from '../clients/account-service-client';
import { clearingAccountId } from '../contracts/account-service-contract';
import { settlementAccountsOf } from '../contracts/settlement';
import type { ChainAccount, ChainEntry } from './accounts';
import { otherSidesAgree } from './clearing';
import { listAccounts, readAccount, readAccountEntries, readAccountIfOpen } from './ledger-reader';
import { legsSeen, type AccountMark, type BankLedger, type ReconciliationInput, type ReconciliationState } from './reconciliation';
import { isFinalView, recordedViewOf, type RecordedView } from './record';
import { reopenedViewOf, type ReopenedView } from './reopened';
import { judgeLegs, legsAgreeWith, type TransferLegs } from './transfers';
import type { TransferHistory, TransferRecordDocument, TransferRecordReader } from '../record/transfer-record';

/**
 * Reads what a reconciliation run judges, in an order that makes the judgement sound while
 * transfers keep moving:
 * 1. every chain after the previous cut's mark, up to the head its listing saw;
 * 2. the record of every transfer those entries (or the cut) name, and of every transfer in the
 *    record's reopened set (or reopened in the cut), the set read first so that each history
 *    holds the writes that put its transfer there;
 * 3. once more, the source and target chains of each transfer the record called final whose legs
 *    were not all seen yet: its legs were written before its final status, so before step 2; and
 *    when its counterparts or settlement legs were not all seen, the clearing accounts of both
 *    banks and both banks' accounts at the settlement bank too (a clearing account opened after
 *    the listing is read from its start).
 * The settlement bank, when given, is listed and read with the banks (after them), under the
 * same marks, and handed over apart from them.
 * A transfer first seen in step 3 has no record state from before its entries: it stays in
 * flight for this run, and the next one judges it.
 */

export interface ReadProgress {
  phase: 'listing' | 'entries' | 'records' | 'rereading';
  bankId?: string;
  done: number;
}

/** The newest cut, or why it cannot be used. */
export type PreviousCut = { n: number; state: ReconciliationState } | { n: number; unreadable: string } | undefined;

export type ReconciliationRead = Omit<ReconciliationInput, 'reconciledAt'>;

/** Transfer records read at once. */
export const recordReadConcurrency = 16;

interface Chain {
  bankId: string;
  account: ChainAccount;
  entries: ChainEntry[];
}

type Listing = ReadonlyMap<string, { client: AccountServiceClient; views: readonly ChainAccount[] }>;
type Progress = (progress: ReadProgress) => void;

export interface ReadOptions {
  /** The settlement bank's account service: read with the banks, judged apart. */
  settlementBank?: AccountServiceClient;
}

const chainKey = (bankId: string, accountId: string): string => `${bankId}/${accountId}`;

async function listAll(clients: readonly AccountServiceClient[], onProgress: Progress): Promise<Listing> {
  const listing = new Map<string, { client: AccountServiceClient; views: readonly ChainAccount[] }>();
  for (const client of clients) {
    listing.set(client.bankId, { client, views: await listAccounts(client, (done) => onProgress({ phase: 'listing', bankId: client.bankId, done })) });
  }
  return listing;
}

/**
 * Why the chains cannot be read on from the cut (undefined when they can): one of them is not the
 * chain the cut saw, or the settlement bank is read now and the cut did not read it (written
 * before it was read, or by a worker without it). Continued, that cut would leave the settlement
 * bank's and the clearing accounts' older entries without the transfers they belong to.
 */
export function whyNotContinuable(state: ReconciliationState, listing: ReadonlyMap<string, { views: readonly ChainAccount[] }>, settlementBankId?: string): string | undefined {
  if (settlementBankId !== undefined && (state.clearing === undefined || !state.accounts.some((mark) => mark.bankId === settlementBankId))) {
    return `the cut did not read the settlement bank ${settlementBankId}`;
  }
  const views = new Map<string, ChainAccount>();
  for (const [bankId, { views: listed }] of listing) for (const view of listed) views.set(chainKey(bankId, view.accountId), view);
  for (const mark of state.accounts) {
    const key = chainKey(mark.bankId, mark.accountId);
    if (!listing.has(mark.bankId)) return `bank ${mark.bankId} is in the cut but no longer read`;
    const view = views.get(key);
    if (!view) return `account ${key} is in the cut but not in its bank (a reseeded bank?)`;
    if (view.sequence < mark.sequence) return `chain ${key} ends at ${view.sequence}, before the cut's ${mark.sequence} (a reseeded bank?)`;
  }
  return undefined;
}

/** One chain after its mark; a string when the entry at the mark is not the one the cut saw. */
async function readChain(client: AccountServiceClient, view: ChainAccount, mark: AccountMark | undefined, onPage: (entries: number) => void): Promise<ChainEntry[] | string> {
  if (!mark || mark.sequence < 0) return readAccountEntries(client, view.accountId, { upToSequence: view.sequence }, onPage);
  if (view.sequence === mark.sequence) return [];
  // From the marked entry itself, so that a chain rewritten under the same account id is noticed.
  const read = await readAccountEntries(client, view.accountId, { afterSequence: mark.sequence - 1, upToSequence: view.sequence }, onPage);
  const [marked] = read;
  if (marked?.sequence !== mark.sequence || marked.operationId !== mark.operationId) {
    return `chain ${chainKey(mark.bankId, mark.accountId)} no longer holds the cut's entry ${mark.sequence} (${mark.operationId})`;
  }
  return read.slice(1);
}

async function readChains(listing: Listing, marks: ReadonlyMap<string, AccountMark>, onProgress: Progress): Promise<Chain[] | string> {
  const chains: Chain[] = [];
  let entriesRead = 0;
  for (const [bankId, { client, views }] of listing) {
    for (const view of views) {
      const before = entriesRead;
      const entries = await readChain(client, view, marks.get(chainKey(bankId, view.accountId)), (done) => onProgress({ phase: 'entries', bankId, done: before + done }));
      if (typeof entries === 'string') return entries;
      entriesRead += entries.length;
      chains.push({ bankId, account: view, entries });
    }
  }
  return chains;
}

async function readHistories(records: TransferRecordReader, transferIds: readonly string[], onProgress: Progress): Promise<Map<string, TransferHistory | undefined>> {
  const histories = new Map<string, TransferHistory | undefined>();
  for (let from = 0; from < transferIds.length; from += recordReadConcurrency) {
    const batch = transferIds.slice(from, from + recordReadConcurrency);
    const read = await Promise.all(batch.map((transferId) => records.history(transferId)));
    batch.forEach((transferId, index) => histories.set(transferId, read[index]));
    onProgress({ phase: 'records', done: histories.size });
  }
  return histories;
}

/** The banks and the settlement bank as read so far, apart. */
interface Ledgers {
  banks: BankLedger[];
  settlementBank?: BankLedger;
}

/** Every bank listed, with or without accounts, in the order of the listing; the settlement bank apart. */
function asLedgers(listing: Listing, chains: readonly Chain[], settlementBankId: string | undefined): Ledgers {
  const ledgerOf = (bankId: string): BankLedger => ({ bankId, accounts: chains.filter((chain) => chain.bankId === bankId) });
  const banks = [...listing.keys()].filter((bankId) => bankId !== settlementBankId).map(ledgerOf);
  return settlementBankId === undefined ? { banks } : { banks, settlementBank: ledgerOf(settlementBankId) };
}

/**
 * The chains where a transfer's other sides are: between two banks, both banks' clearing accounts,
 * and, when its record fixed a settlement model, the two accounts that model moves at the settlement bank.
 */
function otherSideChains(record: TransferRecordDocument, settlementBankId: string | undefined): string[] {
  const { source, target, currency } = record.request;
  if (source.bankId === target.bankId) return [];
  const clearing = [source.bankId, target.bankId].map((bankId) => chainKey(bankId, clearingAccountId(currency)));
  if (settlementBankId === undefined || record.settlement === undefined) return clearing;
  const { from, to } = settlementAccountsOf(record.settlement.model, source.bankId, target.bankId, currency);
  return [...clearing, chainKey(settlementBankId, from), chainKey(settlementBankId, to)];
}

/** The chains to read again for a transfer final in the record: its source and target, and its other sides', unless what was seen agrees with it. */
function chainsOf(legs: TransferLegs, view: RecordedView | undefined, record: TransferRecordDocument | undefined, settlementBankId: string | undefined): string[] {
  if (!view || !record || !isFinalView(view)) return [];
  const customer = legsAgreeWith(legs, view.status);
  const outcome = judgeLegs(legs, () => undefined);
  const others = customer && otherSidesAgree(legs, outcome, settlementBankId !== undefined);
  if (customer && others) return [];
  return [...[record.request.source, record.request.target].map((ref) => chainKey(ref.bankId, ref.accountId)), ...(others ? [] : otherSideChains(record, settlementBankId))];
}

/** The chains to read again for every transfer final in the record whose legs seen so far do not agree with it. */
function chainsToReread(ledgers: Ledgers, pending: ReconciliationState['pending'], views: ReadonlyMap<string, RecordedView>, histories: ReadonlyMap<string, TransferHistory | undefined>): Set<string> {
  const keys = new Set<string>();
  for (const legs of legsSeen(ledgers.banks, pending, ledgers.settlementBank).values()) {
    for (const key of chainsOf(legs, views.get(legs.transferId), histories.get(legs.transferId)?.record, ledgers.settlementBank?.bankId)) keys.add(key);
  }
  return keys;
}

/** Reads each chain on to its current head, from the head it was read to; a chain the listing did not see (opened since) from its start, if it is open now. */
async function reread(listing: Listing, chains: Chain[], keys: ReadonlySet<string>, onProgress: Progress): Promise<void> {
  let done = 0;
  const progress = (bankId: string): void => onProgress({ phase: 'rereading', bankId, done: (done += 1) });
  for (const chain of chains) {
    const client = listing.get(chain.bankId)?.client;
    if (!client || !keys.has(chainKey(chain.bankId, chain.account.accountId))) continue;
    const view = await readAccount(client, chain.account.accountId);
    if (view.sequence > chain.account.sequence) {
      chain.entries.push(...(await readAccountEntries(client, view.accountId, { afterSequence: chain.account.sequence, upToSequence: view.sequence })));
      chain.account = view;
    }
    progress(chain.bankId);
  }
  const known = new Set(chains.map((chain) => chainKey(chain.bankId, chain.account.accountId)));
  for (const key of [...keys].filter((candidate) => !known.has(candidate)).sort()) {
    const [bankId = '', accountId = ''] = key.split('/');
    const client = listing.get(bankId)?.client;
    const view = client ? await readAccountIfOpen(client, accountId) : undefined;
    if (!client || !view) continue;
    chains.push({ bankId, account: view, entries: await readAccountEntries(client, accountId, { upToSequence: view.sequence }) });
    progress(bankId);
  }
}

/** Everything `reconcile` needs but the time, read from the banks and the record after `previous`. */
export async function readForReconciliation(clients: readonly AccountServiceClient[], records: TransferRecordReader, previous: PreviousCut, onProgress: Progress = () => undefined, options: ReadOptions = {}): Promise<ReconciliationRead> {
  const settlementBankId = options.settlementBank?.bankId;
  const listing = await listAll(options.settlementBank ? [...clients, options.settlementBank] : clients, onProgress);
  const cut = previous && 'state' in previous ? previous : undefined;
  let fullReadReason = !previous ? 'no earlier cut' : 'unreadable' in previous ? previous.unreadable : whyNotContinuable(previous.state, listing, settlementBankId);
  const marks = fullReadReason === undefined && cut ? cut.state.accounts.map((mark): [string, AccountMark] => [chainKey(mark.bankId, mark.accountId), mark]) : [];
  let chains = await readChains(listing, new Map(marks), onProgress);
  if (typeof chains === 'string') {
    fullReadReason = chains;
    chains = await readChains(listing, new Map(), onProgress);
    // Without marks every chain is read from its start: there is no cut entry to disagree with.
    if (typeof chains === 'string') throw new Error(`a full read refused: ${chains}`);
  }
  const since = fullReadReason === undefined ? cut : undefined;
  const pending = since?.state.pending ?? [];
  const reopenedSet = new Set(await records.reopenedTransfers());
  const reopenedIds = [...new Set([...reopenedSet, ...(since?.state.reopened ?? []).map((mark) => mark.transferId)])].sort();
  const seen = asLedgers(listing, chains, settlementBankId);
  const histories = await readHistories(records, [...new Set([...legsSeen(seen.banks, pending, seen.settlementBank).keys(), ...reopenedIds])], onProgress);
  const views = new Map([...histories].map(([transferId, history]) => [transferId, recordedViewOf(history)]));
  await reread(listing, chains, chainsToReread(seen, pending, views, histories), onProgress);
  const reopened: ReopenedView[] = reopenedIds.map((transferId) => reopenedViewOf(transferId, histories.get(transferId), reopenedSet.has(transferId)));
  return {
    ...asLedgers(listing, chains, settlementBankId),
    ...(since ? { since: { cut: since.n, state: since.state } } : {}),
    ...(fullReadReason === undefined ? {} : { fullReadReason }),
    recordOf: (transferId) => views.get(transferId) ?? { kind: 'unread' },
    reopened,
  };
}
