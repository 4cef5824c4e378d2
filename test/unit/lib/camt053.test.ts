import { renderCamt053, type AccountStatement, type StatementEntry } from '../../../lib/iso20022/camt053';
import { decimalAmount } from '../../../lib/contracts/money';
import { xsdErrors } from '../../support/xsd-validation';

const base: AccountStatement = {
  messageId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  statementId: 'STMT-0123456789abcdef0123456789ab',
  createdAt: '2026-12-02T10:00:00.000Z',
  bankId: 'bank-a',
  account: { accountId: 'stella-001', currency: 'EUR', owner: 'Stella Example' },
  fromDay: '2026-11-01',
  toDay: '2026-11-30',
  openingBalanceMinor: 0n,
  closingBalanceMinor: 0n,
  entries: [],
};

/** The values of every element `name` in document order (a flat document: no nested element of the same name). */
function values(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?: [^>]*)?>([^<]*)</${name}>`, 'g'))].map((match) => match[1] as string);
}

/** The signed amount of each Ntry, read back from the document: the sum of the render, not of the input. */
function entryAmounts(xml: string): Array<{ amount: string; direction: string }> {
  return [...xml.matchAll(/<Ntry>[\s\S]*?<Amt Ccy="[A-Z]{3}">([^<]*)<\/Amt>\s*<CdtDbtInd>(CRDT|DBIT)<\/CdtDbtInd>/g)].map((match) => ({ amount: match[1] as string, direction: match[2] as string }));
}

/** Decimal text to minor units, for the currency's exponent. */
function minorOf(decimal: string, exponent: number): bigint {
  const [whole, fraction = ''] = decimal.split('.');
  expect(fraction.length).toBe(exponent);
  return BigInt(`${whole}${fraction}`);
}

function signed(amount: string, direction: string, exponent: number): bigint {
  return direction === 'DBIT' ? -minorOf(amount, exponent) : minorOf(amount, exponent);
}

/** Opening + every rendered entry = closing, all read from the document. */
function expectBalancesAddUp(xml: string, exponent: number): void {
  const balances = [...xml.matchAll(/<Bal>[\s\S]*?<Cd>(OPBD|CLBD)<\/Cd>[\s\S]*?<Amt Ccy="[A-Z]{3}">([^<]*)<\/Amt>\s*<CdtDbtInd>(CRDT|DBIT)<\/CdtDbtInd>/g)];
  expect(balances.map((match) => match[1])).toEqual(['OPBD', 'CLBD']);
  const [opening, closing] = balances.map((match) => signed(match[2] as string, match[3] as string, exponent)) as [bigint, bigint];
  const moved = entryAmounts(xml).reduce((total, entry) => total + signed(entry.amount, entry.direction, exponent), 0n);
  expect(opening + moved).toBe(closing);
}

const deposit: StatementEntry = { sequence: 1, kind: 'deposit', amountMinor: 100_000n, bookedAt: '2026-11-03T09:15:00.000Z' };
const debit: StatementEntry = {
  sequence: 3,
  kind: 'debit',
  amountMinor: -2_550n,
  bookedAt: '2026-11-04T12:00:00.123Z',
  transferId: 'tr-0123456789abcdef0123456789abcdef01234567',
  references: { uetr: '3f2a1c5e-8b7d-4e6f-9a0b-1c2d3e4f5a6b', endToEndId: 'E2E-0001' },
};
const refund: StatementEntry = { sequence: 5, kind: 'refund', amountMinor: 2_550n, bookedAt: '2026-11-05T08:00:00.000Z', transferId: 'tr-0123456789abcdef0123456789abcdef01234567' };

describe('camt.053.001.08 render', () => {
  test('when the period has no entries, then the document is valid with opening and closing balances equal and no Ntry', async () => {
    const xml = renderCamt053({ ...base, openingBalanceMinor: 4_200n, closingBalanceMinor: 4_200n });
    expect(await xsdErrors(xml, 'camt.053.001.08')).toEqual([]);
    expect(xml).toContain('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">');
    expect(xml).not.toContain('<Ntry>');
    expect(values(xml, 'NbOfNtries')).toEqual(['0', '0', '0']);
    expectBalancesAddUp(xml, 2);
  });

  test('when credits and debits are booked, then each is an Ntry with its direction, BOOK status, dates, code and sequence, and opening + entries = closing', async () => {
    const xml = renderCamt053({ ...base, openingBalanceMinor: 0n, closingBalanceMinor: 100_000n, entries: [deposit, debit, refund] });
    expect(await xsdErrors(xml, 'camt.053.001.08')).toEqual([]);
    expect(entryAmounts(xml)).toEqual([
      { amount: '1000.00', direction: 'CRDT' },
      { amount: '25.50', direction: 'DBIT' },
      { amount: '25.50', direction: 'CRDT' },
    ]);
    expect(values(xml, 'AcctSvcrRef')).toEqual(['1', '3', '5']);
    expect(values(xml, 'DtTm')).toEqual(['2026-11-03T09:15:00.000Z', '2026-11-04T12:00:00.123Z', '2026-11-05T08:00:00.000Z']);
    expect(values(xml, 'SubFmlyCd')).toEqual(['CDPT', 'DMCT', 'RRTN']);
    expect(values(xml, 'UETR')).toEqual(['3f2a1c5e-8b7d-4e6f-9a0b-1c2d3e4f5a6b']);
    expect(values(xml, 'EndToEndId')).toEqual(['E2E-0001']);
    expect(values(xml, 'AddtlTxInf')).toEqual([`Transfer ${debit.transferId}`, `Transfer ${refund.transferId}`]);
    expect(xml.match(/<Sts>\s*<Cd>BOOK<\/Cd>/g)).toHaveLength(3);
    // Totals: three entries, 1051.00 moved, net 1000.00 in.
    expect(values(xml, 'NbOfNtries')).toEqual(['3', '2', '1']);
    expect(values(xml, 'Sum')).toEqual(['1051.00', '1025.50', '25.50']);
    expectBalancesAddUp(xml, 2);
  });

  test('when the balance is negative (an overdraft), then it is its magnitude with DBIT', async () => {
    const xml = renderCamt053({ ...base, openingBalanceMinor: 500n, closingBalanceMinor: -2_050n, entries: [{ ...debit, references: undefined }] });
    expect(await xsdErrors(xml, 'camt.053.001.08')).toEqual([]);
    expect(xml).toMatch(/<Cd>CLBD<\/Cd>[\s\S]*?<Amt Ccy="EUR">20.50<\/Amt>\s*<CdtDbtInd>DBIT<\/CdtDbtInd>/);
    expect(xml).not.toContain('<Refs>');
    expectBalancesAddUp(xml, 2);
  });

  test.each([
    ['JPY', 0, 123_456n, '123456'],
    ['EUR', 2, 5n, '0.05'],
    ['KWD', 3, 1_234_567n, '1234.567'],
    ['KWD', 3, 7n, '0.007'],
  ])('when the currency is %s (exponent %i), then %p minor units are written %s and the document is valid', async (currency, exponent, amountMinor, written) => {
    expect(decimalAmount(amountMinor, currency)).toBe(written);
    const xml = renderCamt053({
      ...base,
      account: { ...base.account, currency },
      openingBalanceMinor: amountMinor,
      closingBalanceMinor: amountMinor * 2n - 1n,
      entries: [
        { ...deposit, amountMinor },
        { ...debit, amountMinor: -1n },
      ],
    });
    expect(await xsdErrors(xml, 'camt.053.001.08')).toEqual([]);
    expect(entryAmounts(xml)[0]).toEqual({ amount: written, direction: 'CRDT' });
    expect(xml).toContain(`<Ccy>${currency}</Ccy>`);
    expectBalancesAddUp(xml, exponent);
  });

  test("when the owner's name holds markup, quotes and control characters, then it is escaped, the document stays valid, and a name past 140 characters is cut", async () => {
    const xml = renderCamt053({ ...base, account: { ...base.account, owner: `<Ada & "Bob">\u0001's ${'x'.repeat(200)}` } });
    expect(await xsdErrors(xml, 'camt.053.001.08')).toEqual([]);
    const [name] = values(xml, 'Nm');
    expect(name?.startsWith('&lt;Ada &amp; &quot;Bob&quot;&gt;\uFFFD&apos;s x')).toBe(true);
    expect(Array.from('<Ada & "Bob">\u0001\'s ').length + (name?.match(/x/g)?.length ?? 0)).toBe(140);
  });

  test('when references are past the schema (an end-to-end id over 35 characters, a UETR that is no UUID v4), then they are left out and the document stays valid', async () => {
    const xml = renderCamt053({ ...base, openingBalanceMinor: 2_550n, closingBalanceMinor: 0n, entries: [{ ...debit, references: { uetr: 'not-a-uuid', endToEndId: 'E'.repeat(36) } }] });
    expect(await xsdErrors(xml, 'camt.053.001.08')).toEqual([]);
    expect(xml).not.toContain('<Refs>');
  });

  test('when the entries do not carry the opening balance to the closing one, then the render is refused', () => {
    expect(() => renderCamt053({ ...base, openingBalanceMinor: 0n, closingBalanceMinor: 99_999n, entries: [deposit] })).toThrow(/opening 0 \+ entries 100000 is not closing 99999/);
  });

  test('when an entry moved nothing, then the render is refused (refusals and voids are no bookings)', () => {
    expect(() => renderCamt053({ ...base, entries: [{ ...deposit, amountMinor: 0n }] })).toThrow(/moved nothing/);
  });
});
