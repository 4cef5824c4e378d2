import type { EntryKind } from '../contracts/account-service-contract';
import { decimalAmount } from '../contracts/money';
import { el, iso20022Document, optional, renderXml, type XmlElement } from './xml';

/**
 * camt.053.001.08, the bank-to-customer statement of one account over whole UTC days: its opening
 * and closing booked balances and one entry per balance movement booked between them. Pure: the
 * caller reads the ledger and the transfer record, this only writes the document.
 */
export const camt053Message = 'camt.053.001.08';

/** A transfer's payment references, where the transfer record holds them. */
export interface TransferReferences {
  uetr?: string;
  endToEndId?: string | null;
}

export interface StatementEntry {
  /** The ledger entry's sequence in the account's chain: the account servicer's reference. */
  sequence: number;
  kind: EntryKind;
  /** Signed change of the balance, never 0 (decisions that moved nothing are no bookings). */
  amountMinor: bigint;
  /** When the ledger decided it (ISO 8601, UTC). */
  bookedAt: string;
  transferId?: string;
  references?: TransferReferences;
}

export interface AccountStatement {
  messageId: string;
  statementId: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  bankId: string;
  account: { accountId: string; currency: string; owner: string };
  /** Whole UTC days, `YYYY-MM-DD`, both included. */
  fromDay: string;
  toDay: string;
  /** The booked balance at the start of `fromDay`, and at the end of `toDay`. */
  openingBalanceMinor: bigint;
  closingBalanceMinor: bigint;
  entries: readonly StatementEntry[];
}

/** Max35Text and friends: a field longer than the schema allows is left out rather than cut. */
const text35Max = 35;
const nameLengthMax = 140;
const uuidV4Pattern = /^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$/;

/** ISO 20022 bank transaction codes (domain, family, sub-family) of the kinds that have one; the others say only their ledger kind. */
const domainCodes: Partial<Record<EntryKind, readonly [string, string, string]>> = {
  deposit: ['PMNT', 'CNTR', 'CDPT'],
  debit: ['PMNT', 'ICDT', 'DMCT'],
  credit: ['PMNT', 'RCDT', 'DMCT'],
  refund: ['PMNT', 'ICDT', 'RRTN'],
};

function magnitude(amountMinor: bigint): bigint {
  return amountMinor < 0n ? -amountMinor : amountMinor;
}

function direction(amountMinor: bigint): 'CRDT' | 'DBIT' {
  return amountMinor < 0n ? 'DBIT' : 'CRDT';
}

function amount(amountMinor: bigint, currency: string): XmlElement {
  return el('Amt', { Ccy: currency }, decimalAmount(magnitude(amountMinor), currency));
}

function balance(code: 'OPBD' | 'CLBD', balanceMinor: bigint, currency: string, day: string): XmlElement {
  return el('Bal', el('Tp', el('CdOrPrtry', el('Cd', code))), amount(balanceMinor, currency), el('CdtDbtInd', direction(balanceMinor)), el('Dt', el('Dt', day)));
}

function bankTransactionCode(kind: EntryKind): XmlElement {
  const domain = domainCodes[kind];
  return el('BkTxCd', domain && el('Domn', el('Cd', domain[0]), el('Fmly', el('Cd', domain[1]), el('SubFmlyCd', domain[2]))), el('Prtry', el('Cd', kind)));
}

/** The transfer's references: end-to-end id and UETR where known and within the schema's bounds; the transfer id (43 characters, past every Max35Text) as additional information. */
function transactionDetails(entry: StatementEntry): XmlElement | undefined {
  if (entry.transferId === undefined) return undefined;
  const endToEndId = entry.references?.endToEndId;
  const uetr = entry.references?.uetr;
  const references = [
    optional('EndToEndId', endToEndId !== undefined && endToEndId !== null && endToEndId.length <= text35Max ? endToEndId : undefined),
    optional('UETR', uetr !== undefined && uuidV4Pattern.test(uetr) ? uetr : undefined),
  ].filter((reference) => reference !== undefined);
  return el('NtryDtls', el('TxDtls', references.length > 0 && el('Refs', ...references), el('AddtlTxInf', `Transfer ${entry.transferId}`)));
}

function reportEntry(entry: StatementEntry, currency: string): XmlElement {
  if (entry.amountMinor === 0n) throw new Error(`camt.053: entry ${entry.sequence} moved nothing and is no booking`);
  return el(
    'Ntry',
    el('NtryRef', String(entry.sequence)),
    amount(entry.amountMinor, currency),
    el('CdtDbtInd', direction(entry.amountMinor)),
    el('Sts', el('Cd', 'BOOK')),
    el('BookgDt', el('DtTm', entry.bookedAt)),
    el('ValDt', el('Dt', entry.bookedAt.slice(0, 10))),
    el('AcctSvcrRef', String(entry.sequence)),
    bankTransactionCode(entry.kind),
    transactionDetails(entry),
  );
}

function totals(entries: readonly StatementEntry[], currency: string): XmlElement {
  const credits = entries.filter((entry) => entry.amountMinor > 0n);
  const debits = entries.filter((entry) => entry.amountMinor < 0n);
  const sum = (some: readonly StatementEntry[]) => some.reduce((total, entry) => total + magnitude(entry.amountMinor), 0n);
  const net = sum(credits) - sum(debits);
  const count = (some: readonly StatementEntry[], ...rest: XmlElement[]) => [el('NbOfNtries', String(some.length)), el('Sum', decimalAmount(sum(some), currency)), ...rest];
  return el(
    'TxsSummry',
    el('TtlNtries', ...count(entries, el('TtlNetNtry', el('Amt', decimalAmount(magnitude(net), currency)), el('CdtDbtInd', direction(net))))),
    el('TtlCdtNtries', ...count(credits)),
    el('TtlDbtNtries', ...count(debits)),
  );
}

function accountElement(statement: AccountStatement): XmlElement {
  const { accountId, currency, owner } = statement.account;
  const name = Array.from(owner.trim()).slice(0, nameLengthMax).join('');
  return el(
    'Acct',
    el('Id', el('Othr', el('Id', accountId))),
    el('Ccy', currency),
    name !== '' && el('Ownr', el('Nm', name)),
    el('Svcr', el('FinInstnId', el('Othr', el('Id', statement.bankId)))),
  );
}

/** The statement as a camt.053.001.08 document; refuses a statement whose entries do not carry its opening balance to its closing one. */
export function renderCamt053(statement: AccountStatement): string {
  const moved = statement.entries.reduce((total, entry) => total + entry.amountMinor, 0n);
  if (statement.openingBalanceMinor + moved !== statement.closingBalanceMinor) {
    throw new Error(`camt.053 ${statement.statementId}: opening ${statement.openingBalanceMinor} + entries ${moved} is not closing ${statement.closingBalanceMinor}`);
  }
  const { currency } = statement.account;
  const body = el(
    'BkToCstmrStmt',
    el('GrpHdr', el('MsgId', statement.messageId), el('CreDtTm', statement.createdAt)),
    el(
      'Stmt',
      el('Id', statement.statementId),
      el('CreDtTm', statement.createdAt),
      el('FrToDt', el('FrDtTm', `${statement.fromDay}T00:00:00.000Z`), el('ToDtTm', `${statement.toDay}T23:59:59.999Z`)),
      accountElement(statement),
      balance('OPBD', statement.openingBalanceMinor, currency, statement.fromDay),
      balance('CLBD', statement.closingBalanceMinor, currency, statement.toDay),
      totals(statement.entries, currency),
      ...statement.entries.map((entry) => reportEntry(entry, currency)),
    ),
  );
  return renderXml(iso20022Document(camt053Message, body));
}
