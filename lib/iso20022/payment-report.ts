import type { AccountRef, TransferStatus } from '../contracts/transfer-contract';
import { decimalAmount } from '../contracts/money';
import { text35Max } from './payment-identifiers';
import { el, optional, type XmlElement } from './xml';

/**
 * What the pacs.002 and pacs.004 renders say of one transfer, and the parts both write alike. The
 * caller reads the record; the renders only write.
 */
export interface ReportedTransfer {
  transferId: string;
  uetr: string;
  endToEndId: string | null;
  status: TransferStatus;
  reason?: string;
  source: AccountRef;
  target: AccountRef;
  amountMinor: bigint;
  currency: string;
  reference: string | null;
  /** When the transfer was recorded, and last changed (ISO 8601, UTC). */
  createdAt: string;
  updatedAt: string;
}

/** Who sends the message and when; the banks' BICs where configured (BANK_BICS). */
export interface MessageHeader {
  /** Unique per message, at most 35 characters. */
  messageId: string;
  createdAt: string;
  bicByBank: ReadonlyMap<string, string>;
}

/**
 * The message a transfer stands for: the API's create request is the interbank credit transfer,
 * so the reports name it as the pacs.008 it would be, with the transfer id as its message id.
 */
export const originalMessageName = 'pacs.008.001.09';

const accountIdLengthMax = 34;
const additionalInformationMax = 105;
const remittanceLineMax = 140;

/** A Max35Text reference of the transfer: its id, or the id's first 35 characters (`tr-` and 32 of its 40 hex digits). */
export function transferReference(transferId: string): string {
  return transferId.slice(0, text35Max);
}

export function amount(name: string, amountMinor: bigint, currency: string): XmlElement {
  return el(name, { Ccy: currency }, decimalAmount(amountMinor, currency));
}

/** A bank as an agent: its BIC when configured, else the project's bank id as another identification. */
export function agent(name: string, bankId: string, bicByBank: ReadonlyMap<string, string>): XmlElement {
  const bic = bicByBank.get(bankId);
  return el(name, el('FinInstnId', bic === undefined ? el('Othr', el('Id', bankId)) : el('BICFI', bic)));
}

/** An account by the bank's own id; left out when the id is longer than the schema's Max34Text. */
function account(name: string, accountId: string): XmlElement | undefined {
  return accountId.length > accountIdLengthMax ? undefined : el(name, el('Id', el('Othr', el('Id', accountId))));
}

/** Text cut to a length in characters (not UTF-16 units), as the schema counts them. */
export function cut(text: string, lengthMax: number): string {
  return Array.from(text).slice(0, lengthMax).join('');
}

/** Why, as a reason element: the external code and the project's own reason in the narrative. */
export function reasonInformation(name: string, code: string, reason: string): XmlElement {
  return el(name, el('Rsn', el('Cd', code)), el('AddtlInf', cut(reason, additionalInformationMax)));
}

/** The original group of one transaction: the create request it stands for. */
export function originalGroup(name: string, transfer: ReportedTransfer, ...rest: Array<XmlElement | undefined>): XmlElement {
  return el(name, el('OrgnlMsgId', transferReference(transfer.transferId)), el('OrgnlMsgNmId', originalMessageName), el('OrgnlCreDtTm', transfer.createdAt), ...rest);
}

/** OrgnlEndToEndId, OrgnlTxId and OrgnlUETR, in the schemas' order. */
export function originalIdentifiers(transfer: ReportedTransfer): XmlElement[] {
  return [optional('OrgnlEndToEndId', transfer.endToEndId), el('OrgnlTxId', transferReference(transfer.transferId)), el('OrgnlUETR', transfer.uetr)].filter((part): part is XmlElement => part !== undefined);
}

/** The original transaction's terms: amount, remittance line, debtor and creditor accounts and agents (OriginalTransactionReference31/32). */
export function originalTransactionReference(transfer: ReportedTransfer, bicByBank: ReadonlyMap<string, string>): XmlElement {
  return el(
    'OrgnlTxRef',
    amount('IntrBkSttlmAmt', transfer.amountMinor, transfer.currency),
    transfer.reference !== null && transfer.reference !== '' && el('RmtInf', el('Ustrd', cut(transfer.reference, remittanceLineMax))),
    account('DbtrAcct', transfer.source.accountId),
    agent('DbtrAgt', transfer.source.bankId, bicByBank),
    agent('CdtrAgt', transfer.target.bankId, bicByBank),
    account('CdtrAcct', transfer.target.accountId),
  );
}
