import { amount, agent, cut, originalGroup, originalIdentifiers, originalTransactionReference, reasonInformation, transferReference, type MessageHeader, type ReportedTransfer } from './payment-report';
import { isoReasonCodes } from './status-codes';
import { el, iso20022Document, renderXml } from './xml';

/**
 * pacs.004.001.10, the payment return of a REFUNDED transfer: its whole amount went back to the
 * source account, from the target bank's side (the instructing agent of the return) to the source
 * bank's, settled through the settlement bank (clearing). Pure; refuses a transfer not REFUNDED.
 */
export const pacs004Message = 'pacs.004.001.10';

/** The return's own id: the transfer's reference behind `RTR-`, within Max35Text. */
export function returnId(transferId: string): string {
  return cut(`RTR-${transferReference(transferId)}`, 35);
}

export function renderPacs004(transfer: ReportedTransfer, header: MessageHeader): string {
  if (transfer.status !== 'REFUNDED') throw new Error(`pacs.004: transfer ${transfer.transferId} is ${transfer.status}, not REFUNDED`);
  const returnedOn = transfer.updatedAt.slice(0, 10);
  const reason = transfer.reason ?? 'REFUNDED';
  const body = el(
    'PmtRtr',
    el(
      'GrpHdr',
      el('MsgId', header.messageId),
      el('CreDtTm', header.createdAt),
      el('NbOfTxs', '1'),
      amount('TtlRtrdIntrBkSttlmAmt', transfer.amountMinor, transfer.currency),
      el('IntrBkSttlmDt', returnedOn),
      el('SttlmInf', el('SttlmMtd', 'CLRG')),
      agent('InstgAgt', transfer.target.bankId, header.bicByBank),
      agent('InstdAgt', transfer.source.bankId, header.bicByBank),
    ),
    el(
      'TxInf',
      el('RtrId', returnId(transfer.transferId)),
      originalGroup('OrgnlGrpInf', transfer),
      ...originalIdentifiers(transfer),
      amount('OrgnlIntrBkSttlmAmt', transfer.amountMinor, transfer.currency),
      amount('RtrdIntrBkSttlmAmt', transfer.amountMinor, transfer.currency),
      el('IntrBkSttlmDt', returnedOn),
      reasonInformation('RtrRsnInf', isoReasonCodes(reason).return, reason),
      originalTransactionReference(transfer, header.bicByBank),
    ),
  );
  return renderXml(iso20022Document(pacs004Message, body));
}
