import { isoReasonCodes, isoTransactionStatus } from './status-codes';
import { agent, originalGroup, originalIdentifiers, originalTransactionReference, reasonInformation, type MessageHeader, type ReportedTransfer } from './payment-report';
import { el, iso20022Document, renderXml } from './xml';

/**
 * pacs.002.001.11, the FI to FI payment status report of one transfer: its status now, as the group
 * status of the one-transaction group its create request stands for and as the transaction status,
 * with the reason it ended for, to the source bank (the instructing agent). Pure.
 */
export const pacs002Message = 'pacs.002.001.11';

export function renderPacs002(transfer: ReportedTransfer, header: MessageHeader): string {
  const status = isoTransactionStatus(transfer.status);
  const reason = transfer.reason === undefined ? undefined : reasonInformation('StsRsnInf', isoReasonCodes(transfer.reason).status, transfer.reason);
  const body = el(
    'FIToFIPmtStsRpt',
    el('GrpHdr', el('MsgId', header.messageId), el('CreDtTm', header.createdAt), agent('InstdAgt', transfer.source.bankId, header.bicByBank)),
    originalGroup('OrgnlGrpInfAndSts', transfer, el('OrgnlNbOfTxs', '1'), el('GrpSts', status)),
    el(
      'TxInfAndSts',
      ...originalIdentifiers(transfer),
      el('TxSts', status),
      reason,
      el('AccptncDtTm', transfer.createdAt),
      transfer.status === 'COMPLETED' && el('FctvIntrBkSttlmDt', el('DtTm', transfer.updatedAt)),
      agent('InstgAgt', transfer.source.bankId, header.bicByBank),
      agent('InstdAgt', transfer.target.bankId, header.bicByBank),
      originalTransactionReference(transfer, header.bicByBank),
    ),
  );
  return renderXml(iso20022Document(pacs002Message, body));
}
