import { loadConfig } from '../../../services/transfer-api/config';
import { assertWithinClientMaximum } from '../../../services/transfer-api/use-cases/create-transfer';
import { ApiError } from '../../../lib/http/errors';

const base = {
  BANKS: 'bank-a=http://127.0.0.1:4001',
  SERVICE_SIGNING_KEY: `api-1:${'s'.repeat(40)}`,
  TRANSFER_AUTHORITY_KEYS: `authority-1:${'t'.repeat(40)}`,
  EVENTS_MONGODB_URL: 'mongodb://127.0.0.1:27100/',
  TRANSFER_API_KEYS: `client-a:client:${'a'.repeat(24)},client-b:client:${'b'.repeat(24)}`,
};

describe('per-client maximum per transfer', () => {
  test('when CLIENT_TRANSFER_MAX_MINOR lists known clients, then each gets its maximum; when unset, then none is listed', () => {
    expect([...loadConfig({ ...base, CLIENT_TRANSFER_MAX_MINOR: 'client-a=500000,client-b=2000000' }).clientTransferMaxMinor]).toEqual([
      ['client-a', '500000'],
      ['client-b', '2000000'],
    ]);
    expect(loadConfig(base).clientTransferMaxMinor.size).toBe(0);
  });

  test('when an entry is malformed, negative, too large, repeated or names no API key, then start fails naming CLIENT_TRANSFER_MAX_MINOR', () => {
    for (const bad of ['client-a', 'client-a=-5', 'client-a=1.5', 'client-a=9007199254740992', 'client-a=1,client-a=2', 'client-z=100']) {
      expect(() => loadConfig({ ...base, CLIENT_TRANSFER_MAX_MINOR: bad })).toThrow(/CLIENT_TRANSFER_MAX_MINOR/);
    }
  });

  test('when the amount is above the client’s maximum (or the default for clients not listed), then LIMIT_EXCEEDED on amountMinor', () => {
    const maxima = { byClient: new Map([['client-a', '5000']]), amountMinorMaxDefault: '100000' };
    const clientA = { name: 'client-a', role: 'client' as const };
    expect(() => assertWithinClientMaximum(maxima, clientA, '5000')).not.toThrow();
    const refusal = (() => {
      try {
        assertWithinClientMaximum(maxima, clientA, '5001');
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({ code: 'LIMIT_EXCEEDED', field: 'amountMinor' });
    expect(() => assertWithinClientMaximum(maxima, { name: 'client-b', role: 'client' }, '100000')).not.toThrow();
    expect(() => assertWithinClientMaximum(maxima, { name: 'client-b', role: 'client' }, '100001')).toThrow(ApiError);
  });
});
