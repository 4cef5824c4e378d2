import { localBankBics } from '../../../infra/cluster';
import { loadConfig } from '../../../services/transfer-api/config';

const base = {
  BANKS: 'bank-a=http://127.0.0.1:4001,bank-b=http://127.0.0.1:4002,bank-c=http://127.0.0.1:4003',
  SERVICE_SIGNING_KEY: `api-1:${'s'.repeat(40)}`,
  TRANSFER_AUTHORITY_KEYS: `authority-1:${'o'.repeat(40)}`,
  EVENTS_MONGODB_URL: 'mongodb://127.0.0.1:27100/',
  TRANSFER_API_KEYS: `name:client:${'a'.repeat(24)},ops:operator:${'d'.repeat(24)}`,
};

describe('BANK_BICS', () => {
  test('when BANK_BICS names some banks with 11- and 8-character BICs, then those banks carry them and the others none', () => {
    const { banks } = loadConfig({ ...base, BANK_BICS: 'bank-a=BKAADEFFXXX, bank-c=BKC1DEFF' });
    expect(banks.map((bank) => [bank.bankId, bank.bic])).toEqual([
      ['bank-a', 'BKAADEFFXXX'],
      ['bank-b', undefined],
      ['bank-c', 'BKC1DEFF'],
    ]);
  });

  test('when BANK_BICS is unset or empty, then no bank has a BIC', () => {
    expect(loadConfig(base).banks.every((bank) => bank.bic === undefined)).toBe(true);
    expect(loadConfig({ ...base, BANK_BICS: '' }).banks.every((bank) => bank.bic === undefined)).toBe(true);
  });

  test.each([
    ['a lower-case BIC', 'bank-a=bkaadeffxxx', /BANK_BICS/],
    ['a BIC of 9 characters', 'bank-a=BKAADEFFX', /BANK_BICS/],
    ['a digit in the country', 'bank-a=BKAA1EFFXXX', /BANK_BICS/],
    ['no BIC', 'bank-a=', /BANK_BICS/],
    ['a bank twice', 'bank-a=BKAADEFFXXX,bank-a=BKABDEFFXXX', /BANK_BICS/],
    ['a bank BANKS does not list', 'bank-z=BKZZDEFFXXX', /BANK_BICS: bank-z is not a bank BANKS lists/],
  ])('when BANK_BICS has %s, then the API does not start', (_name, value, message) => {
    expect(() => loadConfig({ ...base, BANK_BICS: value })).toThrow(message);
  });

  test('when the launcher plans local banks, then each gets a distinct valid test BIC by its place, and the API accepts them', () => {
    const bics = localBankBics([{ bankId: 'bank-a' }, { bankId: 'bank-b' }, { bankId: 'bank-c' }]);
    expect(bics).toBe('bank-a=BKAADEFFXXX,bank-b=BKBBDEFFXXX,bank-c=BKCCDEFFXXX');
    expect(loadConfig({ ...base, BANK_BICS: bics }).banks.map((bank) => bank.bic)).toEqual(['BKAADEFFXXX', 'BKBBDEFFXXX', 'BKCCDEFFXXX']);
    const many = localBankBics(Array.from({ length: 30 }, (_, index) => ({ bankId: `bank-${index}` }))).split(',').map((entry) => entry.split('=')[1]);
    expect(new Set(many).size).toBe(30);
    for (const bic of many) expect(bic).toMatch(/^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}[A-Z0-9]{3}$/);
  });
});
