import { renderPacs002 } from '../../../lib/iso20022/pacs002';
import { renderPacs004, returnId } from '../../../lib/iso20022/pacs004';
import { transferReference, type MessageHeader, type ReportedTransfer } from '../../../lib/iso20022/payment-report';
import { xsdErrors } from '../../support/xsd-validation';

const header: MessageHeader = {
  messageId: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  createdAt: '2026-12-02T10:00:00.000Z',
  bicByBank: new Map([
    ['bank-a', 'BKAADEFFXXX'],
    ['bank-b', 'BKBBDEFF'],
  ]),
};

const completed: ReportedTransfer = {
  transferId: 'tr-0123456789abcdef0123456789abcdef01234567',
  uetr: '3f2a1c5e-8b7d-4e6f-9a0b-1c2d3e4f5a6b',
  endToEndId: 'INV-2026/11 (A+B)',
  status: 'COMPLETED',
  source: { bankId: 'bank-a', accountId: 'alice-001' },
  target: { bankId: 'bank-b', accountId: 'bob-001' },
  amountMinor: 12_050n,
  currency: 'EUR',
  reference: 'Invoice 42',
  createdAt: '2026-12-01T09:30:00.000Z',
  updatedAt: '2026-12-01T09:30:02.500Z',
};

/** The text of every element `name`, in document order. */
function values(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?: [^>]*)?>([^<]*)</${name}>`, 'g'))].map((match) => match[1] as string);
}

describe('pacs.002.001.11 render', () => {
  test('when a transfer completed, then the report is valid, ACSC for the group and the transaction, with its identifiers, amount and agents', async () => {
    const xml = renderPacs002(completed, header);
    expect(await xsdErrors(xml, 'pacs.002.001.11')).toEqual([]);
    expect(xml).toContain('xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.11"');
    expect(values(xml, 'GrpSts')).toEqual(['ACSC']);
    expect(values(xml, 'TxSts')).toEqual(['ACSC']);
    expect(values(xml, 'OrgnlUETR')).toEqual([completed.uetr]);
    expect(values(xml, 'OrgnlEndToEndId')).toEqual(['INV-2026/11 (A+B)']);
    expect(values(xml, 'OrgnlTxId')).toEqual(['tr-0123456789abcdef0123456789abcdef']);
    expect(values(xml, 'IntrBkSttlmAmt')).toEqual(['120.50']);
    expect(values(xml, 'BICFI')).toEqual(['BKAADEFFXXX', 'BKAADEFFXXX', 'BKBBDEFF', 'BKAADEFFXXX', 'BKBBDEFF']);
    expect(values(xml, 'DtTm')).toEqual([completed.updatedAt]);
    expect(xml).not.toContain('<StsRsnInf>');
  });

  test.each([
    ['REJECTED', 'INSUFFICIENT_FUNDS', 'RJCT', 'AM04'],
    ['REJECTED', 'ACCOUNT_NOT_FOUND', 'RJCT', 'AC01'],
    ['CANCELLED', 'CANCELLED_BY_OPERATOR', 'RJCT', 'FOCR'],
    ['REFUNDED', 'ACCOUNT_CLOSED', 'RJCT', 'AC04'],
    ['REJECTED', 'SOMETHING_NEW', 'RJCT', 'NARR'],
  ] as const)('when a transfer is %s for %s, then the report is valid, %s with reason %s and the project reason in the narrative', async (status, reason, isoStatus, code) => {
    const xml = renderPacs002({ ...completed, status, reason }, header);
    expect(await xsdErrors(xml, 'pacs.002.001.11')).toEqual([]);
    expect(values(xml, 'TxSts')).toEqual([isoStatus]);
    expect(values(xml, 'Cd')).toEqual([code]);
    expect(values(xml, 'AddtlInf')).toEqual([reason]);
    expect(xml).not.toContain('<FctvIntrBkSttlmDt>');
  });

  test.each([
    ['PENDING', 'ACTC'],
    ['AWAITING_APPROVAL', 'PDNG'],
    ['DEBITED', 'ACSP'],
    ['COMPENSATING', 'PDNG'],
  ] as const)('when a transfer is %s, then the report is valid with status %s and no reason', async (status, isoStatus) => {
    const xml = renderPacs002({ ...completed, status }, header);
    expect(await xsdErrors(xml, 'pacs.002.001.11')).toEqual([]);
    expect(values(xml, 'TxSts')).toEqual([isoStatus]);
    expect(xml).not.toContain('<StsRsnInf>');
  });

  test('when the transfer has no end-to-end id, no reference, a bank without BIC and an account id past Max34Text, then the report leaves those out and stays valid', async () => {
    const xml = renderPacs002({ ...completed, status: 'PENDING', endToEndId: null, reference: null, target: { bankId: 'bank-c', accountId: 'x'.repeat(40) } }, header);
    expect(await xsdErrors(xml, 'pacs.002.001.11')).toEqual([]);
    expect(xml).not.toContain('OrgnlEndToEndId');
    expect(xml).not.toContain('<RmtInf>');
    expect(xml).not.toContain('<CdtrAcct>');
    expect(values(xml, 'Id')).toContain('bank-c');
  });

  test('when the reference and end-to-end id hold markup characters, then they are escaped and read back as written', async () => {
    const reference = `Tom & Jerry's <"invoice"> ${'é'.repeat(10)}\u0001`;
    const xml = renderPacs002({ ...completed, endToEndId: "O'Neil (1+1)", reference }, header);
    expect(await xsdErrors(xml, 'pacs.002.001.11')).toEqual([]);
    expect(xml).toContain('<Ustrd>Tom &amp; Jerry&apos;s &lt;&quot;invoice&quot;&gt; éééééééééé\uFFFD</Ustrd>');
    expect(xml).toContain('<OrgnlEndToEndId>O&apos;Neil (1+1)</OrgnlEndToEndId>');
  });

  test('when the amount is in a currency without decimals or with three, then the amount has that many', async () => {
    const yen = renderPacs002({ ...completed, amountMinor: 500n, currency: 'JPY' }, header);
    const dinar = renderPacs002({ ...completed, amountMinor: 1n, currency: 'KWD' }, header);
    expect(values(yen, 'IntrBkSttlmAmt')).toEqual(['500']);
    expect(values(dinar, 'IntrBkSttlmAmt')).toEqual(['0.001']);
    expect(await xsdErrors(dinar, 'pacs.002.001.11')).toEqual([]);
  });
});

describe('pacs.004.001.10 render', () => {
  const refunded: ReportedTransfer = { ...completed, status: 'REFUNDED', reason: 'ACCOUNT_FROZEN', updatedAt: '2026-12-01T09:31:00.000Z' };

  test.each([
    ['ACCOUNT_NOT_FOUND', 'AC01'],
    ['ACCOUNT_CLOSED', 'AC04'],
    ['ACCOUNT_FROZEN', 'AC06'],
    ['CURRENCY_MISMATCH', 'AM03'],
    ['CANCELLED_BY_OPERATOR', 'FOCR'],
    ['CREDIT_FAILED', 'MS03'],
    ['WORKFLOW_TERMINATED', 'MS03'],
    ['BALANCE_LIMIT_EXCEEDED', 'MS03'],
    ['NET_DEBIT_CAP_EXCEEDED', 'AM04'],
  ])('when a transfer was refunded for %s, then the return is valid with return reason %s', async (reason, code) => {
    const xml = renderPacs004({ ...refunded, reason }, header);
    expect(await xsdErrors(xml, 'pacs.004.001.10')).toEqual([]);
    expect(values(xml, 'Cd')).toEqual([code]);
    expect(values(xml, 'AddtlInf')).toEqual([reason]);
  });

  test('when a transfer was refunded, then the return names the original, returns the whole amount from the target bank to the source bank, settled by clearing', async () => {
    const xml = renderPacs004(refunded, header);
    expect(xml).toContain('xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.004.001.10"');
    expect(values(xml, 'RtrId')).toEqual([returnId(refunded.transferId)]);
    expect(values(xml, 'OrgnlMsgId')).toEqual([transferReference(refunded.transferId)]);
    expect(values(xml, 'OrgnlUETR')).toEqual([refunded.uetr]);
    expect(values(xml, 'TtlRtrdIntrBkSttlmAmt')).toEqual(['120.50']);
    expect(values(xml, 'RtrdIntrBkSttlmAmt')).toEqual(['120.50']);
    expect(values(xml, 'IntrBkSttlmDt')).toEqual(['2026-12-01', '2026-12-01']);
    expect(values(xml, 'SttlmMtd')).toEqual(['CLRG']);
    // Group header: instructing = target bank, instructed = source bank; then the original's debtor and creditor agents.
    expect(values(xml, 'BICFI')).toEqual(['BKBBDEFF', 'BKAADEFFXXX', 'BKAADEFFXXX', 'BKBBDEFF']);
  });

  test('when the refunded transfer has no end-to-end id and its reason holds markup, then the return is valid and escapes it', async () => {
    const xml = renderPacs004({ ...refunded, endToEndId: null, reason: 'A<B>&"C"' }, header);
    expect(await xsdErrors(xml, 'pacs.004.001.10')).toEqual([]);
    expect(xml).not.toContain('OrgnlEndToEndId');
    expect(xml).toContain('<AddtlInf>A&lt;B&gt;&amp;&quot;C&quot;</AddtlInf>');
    expect(values(xml, 'Cd')).toEqual(['NARR']);
  });

  test('when the transfer is not REFUNDED, then no return is rendered', () => {
    expect(() => renderPacs004({ ...refunded, status: 'COMPLETED' }, header)).toThrow('not REFUNDED');
  });
});
