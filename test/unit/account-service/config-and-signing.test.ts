import { loadConfig } from '../../../services/account-service/config';
import { createHash, createHmac } from 'node:crypto';
import { serviceKeysSchema, signingKeySchema } from '../../../lib/config/env-parsers';
import { signRequest, verifySignature } from '../../../lib/crypto/request-signing';
import { scopeOfRoute } from '../../../services/account-service/http/route-scopes';

const keyA = { keyId: 'key-a', secret: 'a'.repeat(32) };
const keyB = { keyId: 'key-b', secret: 'b'.repeat(32) };
const accepted = new Map([
  [keyA.keyId, keyA.secret],
  [keyB.keyId, keyB.secret],
]);
const request = { bankId: 'bank-a', method: 'POST', pathWithQuery: '/v1/accounts/a-1/debits', body: '{"transferId":"t-1","amountMinor":"5","currency":"EUR"}' };
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

  test('when anything signed changes (audience bank, method, path, query, body), then the signature does not match', () => {
    const header = signRequest(keyA, request, now);
    for (const changed of [
      { ...request, bankId: 'bank-b' },
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

  test('when a call is signed the old way (v1: no version, no audience), then it does not match: v1 cannot be replayed to another bank', () => {
    const bodyHash = createHash('sha256').update(request.body).digest('hex');
    const v1 = createHmac('sha256', keyA.secret).update(`POST\n${request.pathWithQuery}\n${now}\n${bodyHash}`).digest('hex');
    expect(verifySignature(`keyId=key-a,ts=${now},sig=${v1}`, request, accepted, now)).toEqual({ valid: false, reason: 'signature does not match' });
    const v2 = createHmac('sha256', keyA.secret).update(`v2\nPOST\nbank-a\n${request.pathWithQuery}\n${now}\n${bodyHash}`).digest('hex');
    expect(verifySignature(`keyId=key-a,ts=${now},sig=${v2}`, request, accepted, now)).toEqual({ valid: true, keyId: 'key-a' });
  });
});

describe('service key scopes', () => {
  test('when SERVICE_KEYS names scopes, then each key gets exactly those; an entry without scopes gets all three', () => {
    const keys = serviceKeysSchema.parse(`worker-1:${'w'.repeat(32)}:ledger,api-1:${'a'.repeat(32)}:admin|read,ops-1:${'o'.repeat(32)}`);
    expect(keys.map((key) => [key.keyId, [...key.scopes].sort()])).toEqual([
      ['worker-1', ['ledger']],
      ['api-1', ['admin', 'read']],
      ['ops-1', ['admin', 'ledger', 'read']],
    ]);
  });

  test.each([
    ['an unknown scope', `k:${'s'.repeat(32)}:write`],
    ['an empty scope', `k:${'s'.repeat(32)}:`],
    ['a key id twice', `k:${'s'.repeat(32)}:read,k:${'t'.repeat(32)}:ledger`],
    ['a short secret', 'k:short:read'],
  ])('when SERVICE_KEYS holds %s, then it is refused', (_name, value) => {
    expect(serviceKeysSchema.safeParse(value).success).toBe(false);
  });

  test('when a caller names its one signing key, then it is id:secret, nothing more', () => {
    expect(signingKeySchema.parse(`worker-1:${'w'.repeat(32)}`)).toEqual({ keyId: 'worker-1', secret: 'w'.repeat(32) });
    expect(signingKeySchema.safeParse(`worker-1:${'w'.repeat(32)}:ledger`).success).toBe(false);
  });

  test.each([
    ['POST', '/v1/accounts/a-1/debits', 'ledger'],
    ['POST', '/v1/accounts/a-1/credits', 'ledger'],
    ['POST', '/v1/accounts/a-1/refunds', 'ledger'],
    ['POST', '/v1/accounts/a-1/credit-voids', 'ledger'],
    ['POST', '/v1/accounts', 'admin'],
    ['POST', '/v1/accounts/a-1/deposits', 'admin'],
    ['POST', '/v1/accounts/a-1/freeze', 'admin'],
    ['POST', '/v1/accounts/a-1/unfreeze', 'admin'],
    ['POST', '/v1/accounts/a-1/close', 'admin'],
    ['POST', '/v1/accounts/a-1/daily-limit', 'admin'],
    ['GET', '/v1/accounts', 'read'],
    ['GET', '/v1/accounts/a-1/entries?after=3', 'read'],
    ['GET', '/v1/whoami', 'any'],
    ['POST', '/V1/ACCOUNTS/a-1/DEBITS', 'none'],
    ['POST', '/v1/accounts/a-1/Debits', 'none'],
    ['HEAD', '/v1/accounts/a-1', 'none'],
    ['POST', '/v1/accounts/a-1', 'none'],
    ['GET', '/v1/accounts/a-1/debits', 'none'],
    ['POST', '/v1/accounts/a-1/debits/x', 'none'],
    ['DELETE', '/v1/accounts/a-1', 'none'],
  ])('when %s %s is called, then it needs the %s scope', (method, path, scope) => {
    expect(scopeOfRoute(method, path)).toBe(scope);
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

  test('when the cross-account commit is not configured, then it is on with 1,000 entries a write; LEDGER_CROSS_ACCOUNT_COMMIT=off turns it off', () => {
    expect(loadConfig(valid).groupCommit).toMatchObject({ crossAccount: true, entriesPerWriteMax: 1_000 });
    expect(loadConfig({ ...valid, LEDGER_CROSS_ACCOUNT_COMMIT: 'off', LEDGER_COMMIT_ENTRIES_MAX: '50' }).groupCommit).toMatchObject({ crossAccount: false, entriesPerWriteMax: 50 });
  });

  test('when optimistic decisions are not configured, then they are on; LEDGER_OPTIMISTIC_DECISIONS=off reads before every decision', () => {
    expect(loadConfig(valid).groupCommit.optimistic).toBe(true);
    expect(loadConfig({ ...valid, LEDGER_OPTIMISTIC_DECISIONS: 'off' }).groupCommit.optimistic).toBe(false);
  });

  test.each([
    ['BANK_ID', { BANK_ID: undefined }],
    ['BANK_ID', { BANK_ID: 'Bank A' }],
    ['MONGODB_URL', { MONGODB_URL: 'http://127.0.0.1:27101' }],
    ['SERVICE_KEYS', { SERVICE_KEYS: undefined }],
    ['SERVICE_KEYS', { SERVICE_KEYS: 'key-a:too-short' }],
    ['PORT', { PORT: '70000' }],
    ['LEDGER_BATCH_SIZE_MAX', { LEDGER_BATCH_SIZE_MAX: '0' }],
    ['LEDGER_CROSS_ACCOUNT_COMMIT', { LEDGER_CROSS_ACCOUNT_COMMIT: 'yes' }],
    ['LEDGER_COMMIT_ENTRIES_MAX', { LEDGER_COMMIT_ENTRIES_MAX: '0' }],
    ['LEDGER_OPTIMISTIC_DECISIONS', { LEDGER_OPTIMISTIC_DECISIONS: 'true' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ])('when %s is missing or invalid, then start-up fails naming it', (variable, change) => {
    expect(() => loadConfig({ ...valid, ...change })).toThrow(new RegExp(`^Invalid ${variable}:`));
  });
});
