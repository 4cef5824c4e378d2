import { loadConfig } from '../../../services/account-service/config';
import { signRequest, verifySignature } from '../../../lib/request-signing';

const keyA = { keyId: 'key-a', secret: 'a'.repeat(32) };
const keyB = { keyId: 'key-b', secret: 'b'.repeat(32) };
const accepted = new Map([
  [keyA.keyId, keyA.secret],
  [keyB.keyId, keyB.secret],
]);
const request = { method: 'POST', pathWithQuery: '/v1/accounts/a-1/debits', body: '{"transferId":"t-1","amountMinor":"5","currency":"EUR"}' };
const now = 1_800_000_000;

describe('request signatures', () => {
  test('when a request is signed with either accepted key, then it verifies and names the key', () => {
    expect(verifySignature(signRequest(keyA, request, now), request, accepted, now)).toEqual({ valid: true, keyId: 'key-a' });
    expect(verifySignature(signRequest(keyB, request, now), request, accepted, now)).toEqual({ valid: true, keyId: 'key-b' });
  });

  test('when the timestamp is 300 s away, then it verifies; 301 s either way, then it does not', () => {
    expect(verifySignature(signRequest(keyA, request, now - 300), request, accepted, now).valid).toBe(true);
    expect(verifySignature(signRequest(keyA, request, now + 300), request, accepted, now).valid).toBe(true);
    expect(verifySignature(signRequest(keyA, request, now - 301), request, accepted, now)).toEqual({ valid: false, reason: 'signature timestamp outside the allowed window' });
    expect(verifySignature(signRequest(keyA, request, now + 301), request, accepted, now)).toEqual({ valid: false, reason: 'signature timestamp outside the allowed window' });
  });

  test('when anything signed changes (method, path, query, body), then the signature does not match', () => {
    const header = signRequest(keyA, request, now);
    for (const changed of [
      { ...request, method: 'PUT' },
      { ...request, pathWithQuery: '/v1/accounts/a-2/debits' },
      { ...request, pathWithQuery: `${request.pathWithQuery}?x=1` },
      { ...request, body: request.body.replace('"5"', '"50"') },
    ]) {
      expect(verifySignature(header, changed, accepted, now)).toEqual({ valid: false, reason: 'signature does not match' });
    }
  });

  test('when the header is missing, malformed or names an unknown key, then it is refused with the reason', () => {
    expect(verifySignature(undefined, request, accepted, now)).toEqual({ valid: false, reason: 'missing X-Signature header' });
    expect(verifySignature('keyId=key-a,ts=1,sig=zz', request, accepted, now)).toEqual({ valid: false, reason: 'malformed X-Signature header' });
    expect(verifySignature(`${signRequest(keyA, request, now)},extra=1`, request, accepted, now)).toEqual({ valid: false, reason: 'malformed X-Signature header' });
    expect(verifySignature(signRequest({ keyId: 'key-c', secret: keyA.secret }, request, now), request, accepted, now)).toEqual({ valid: false, reason: 'unknown signing key' });
  });
});

describe('account-service configuration', () => {
  const valid = { BANK_ID: 'bank-a', MONGODB_URL: 'mongodb://127.0.0.1:27101/', SERVICE_KEYS: `${keyA.keyId}:${keyA.secret},${keyB.keyId}:${keyB.secret}` };

  test('when only the required variables are set, then the defaults fill the rest', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({ bankId: 'bank-a', port: 4001, host: '127.0.0.1', databaseName: 'ledger_bank_a', logLevel: 'info', groupCommit: { batchSizeMax: 100, batchLingerMs: 0 } });
    expect([...config.serviceKeys.keys()]).toEqual(['key-a', 'key-b']);
    expect(Object.isFrozen(config)).toBe(true);
  });

  test.each([
    ['BANK_ID', { BANK_ID: undefined }],
    ['BANK_ID', { BANK_ID: 'Bank A' }],
    ['MONGODB_URL', { MONGODB_URL: 'http://127.0.0.1:27101' }],
    ['SERVICE_KEYS', { SERVICE_KEYS: undefined }],
    ['SERVICE_KEYS', { SERVICE_KEYS: 'key-a:too-short' }],
    ['PORT', { PORT: '70000' }],
    ['LEDGER_BATCH_SIZE_MAX', { LEDGER_BATCH_SIZE_MAX: '0' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ])('when %s is missing or invalid, then start-up fails naming it', (variable, change) => {
    expect(() => loadConfig({ ...valid, ...change })).toThrow(new RegExp(`^Invalid ${variable}:`));
  });
});
