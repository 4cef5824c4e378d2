import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../services/transfer-api/config';
import { describeMandate, mandateCovers } from '../../../services/transfer-api/mandates';

const base = {
  BANKS: 'bank-a=http://127.0.0.1:4001,bank-b=http://127.0.0.1:4002,bank-c=http://127.0.0.1:4003',
  SERVICE_SIGNING_KEY: `api-1:${'s'.repeat(40)}`,
  TRANSFER_AUTHORITY_KEYS: `authority-2:${'n'.repeat(40)},authority-1:${'o'.repeat(40)}`,
  EVENTS_MONGODB_URL: 'mongodb://127.0.0.1:27100/',
  TRANSFER_API_KEYS: `name:client:${'a'.repeat(24)},other:client:${'b'.repeat(24)},trusted:client:${'c'.repeat(24)},ops:operator:${'d'.repeat(24)}`,
};

describe('client mandates', () => {
  test('when CLIENT_MANDATES names banks, one bank with accounts, and *, then each client may debit exactly that', () => {
    const { clientMandates } = loadConfig({ ...base, CLIENT_MANDATES: 'name=bank-a|bank-b,other=bank-c:acc-1|acc-2,trusted=*' });
    expect([...clientMandates].map(([name, mandate]) => [name, describeMandate(mandate)])).toEqual([
      ['name', 'bank-a|bank-b'],
      ['other', 'bank-c:acc-1|acc-2'],
      ['trusted', '*'],
    ]);
    const covers = (name: string, bankId: string, accountId: string) => mandateCovers(clientMandates.get(name), { bankId, accountId });
    expect([covers('name', 'bank-a', 'x'), covers('name', 'bank-b', 'y'), covers('name', 'bank-c', 'x')]).toEqual([true, true, false]);
    expect([covers('other', 'bank-c', 'acc-1'), covers('other', 'bank-c', 'acc-3'), covers('other', 'bank-a', 'acc-1')]).toEqual([true, false, false]);
    expect([covers('trusted', 'bank-c', 'anything'), covers('nobody', 'bank-a', 'x')]).toEqual([true, false]);
  });

  test('when CLIENT_MANDATES is unset, then no client may debit anything', () => {
    const { clientMandates } = loadConfig(base);
    expect(clientMandates.size).toBe(0);
    expect(mandateCovers(clientMandates.get('name'), { bankId: 'bank-a', accountId: 'x' })).toBe(false);
  });

  test.each([
    ['a client no key names', 'ghost=bank-a', /no client API key is named ghost/],
    ['an operator', 'ops=bank-a', /no client API key is named ops/],
    ['a bank BANKS does not list', 'name=bank-z', /names bank-z, which BANKS does not list/],
    ['a client twice', 'name=bank-a,name=bank-b', /listed twice/],
    ['no mandate', 'name=', /is not client=/],
    ['a bad account id', 'name=bank-a:$gt', /is not client=/],
  ])('when CLIENT_MANDATES names %s, then start-up fails naming the variable', (_case, value, message) => {
    expect(() => loadConfig({ ...base, CLIENT_MANDATES: value })).toThrow(/^Invalid CLIENT_MANDATES: /);
    expect(() => loadConfig({ ...base, CLIENT_MANDATES: value })).toThrow(message);
  });
});

describe('four eyes and the transfer authority keys', () => {
  test('when nothing is set, then four eyes is on; APPROVAL_FOUR_EYES=false turns it off, anything else is refused', () => {
    expect(loadConfig(base).approvalFourEyes).toBe(true);
    expect(loadConfig({ ...base, APPROVAL_FOUR_EYES: 'false' }).approvalFourEyes).toBe(false);
    expect(() => loadConfig({ ...base, APPROVAL_FOUR_EYES: 'no' })).toThrow(/^Invalid APPROVAL_FOUR_EYES: /);
  });

  test('when TRANSFER_AUTHORITY_KEYS lists two keys, then the first signs and both are kept; a short or repeated key is refused', () => {
    expect(loadConfig(base).authorityKeys.map((key) => key.keyId)).toEqual(['authority-2', 'authority-1']);
    expect(() => loadConfig({ ...base, TRANSFER_AUTHORITY_KEYS: 'a:short' })).toThrow(/^Invalid TRANSFER_AUTHORITY_KEYS: /);
    expect(() => loadConfig({ ...base, TRANSFER_AUTHORITY_KEYS: `a:${'x'.repeat(32)},a:${'y'.repeat(32)}` })).toThrow(/^Invalid TRANSFER_AUTHORITY_KEYS: /);
  });
});

describe('secrets from files (NAME_FILE)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-secrets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('when a secret comes as NAME_FILE, then the file content (without its last newline) is the value', async () => {
    await writeFile(join(dir, 'signing-key'), `api-2:${'f'.repeat(40)}\n`);
    const { SERVICE_SIGNING_KEY: _dropped, ...rest } = base;
    expect(loadConfig({ ...rest, SERVICE_SIGNING_KEY_FILE: join(dir, 'signing-key') }).signingKey).toEqual({ keyId: 'api-2', secret: 'f'.repeat(40) });
  });

  test('when both NAME and NAME_FILE are set, or the file cannot be read, then start-up fails naming NAME_FILE', () => {
    expect(() => loadConfig({ ...base, SERVICE_SIGNING_KEY_FILE: join(dir, 'signing-key') })).toThrow(/^Invalid SERVICE_SIGNING_KEY_FILE: SERVICE_SIGNING_KEY is set as well/);
    const { SERVICE_SIGNING_KEY: _dropped, ...rest } = base;
    expect(() => loadConfig({ ...rest, SERVICE_SIGNING_KEY_FILE: join(dir, 'missing') })).toThrow(/^Invalid SERVICE_SIGNING_KEY_FILE: cannot read .*missing \(ENOENT\)/);
  });
});
