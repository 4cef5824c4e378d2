import { randomBytes } from 'node:crypto';
import { secretSealer, SecretUnsealError } from '../../lib/crypto/secret-sealing';
import type { CodecKey } from '../../lib/crypto/payload-codec';

const key = (keyId: string): CodecKey => ({ keyId, key: randomBytes(32) });

describe('secrets sealed at rest', () => {
  const current = key('k2');
  const retired = key('k1');

  it('seals with the first key, bound to its record, and opens again', () => {
    const sealer = secretSealer([current, retired]);
    const sealed = sealer.seal('whsec_abc', 'we_1');
    expect(sealed).toMatch(/^sealed\.v1\.k2\./);
    expect(sealed).not.toContain('whsec_abc');
    expect(sealed).not.toBe(sealer.seal('whsec_abc', 'we_1'));
    expect(sealer.open(sealed, 'we_1')).toBe('whsec_abc');
  });

  it('opens a secret sealed with a retired key after a rotation', () => {
    const sealed = secretSealer([retired]).seal('whsec_old', 'we_1');
    expect(secretSealer([current, retired]).open(sealed, 'we_1')).toBe('whsec_old');
  });

  it('refuses a secret moved to another record, an altered one, and one whose key is gone', () => {
    const sealer = secretSealer([current]);
    const sealed = sealer.seal('whsec_abc', 'we_1');
    expect(() => sealer.open(sealed, 'we_2')).toThrow(SecretUnsealError);
    // One ciphertext byte flipped (editing base64 text could touch only its padding bits).
    const head = sealed.slice(0, sealed.lastIndexOf('.') + 1);
    const bytes = Buffer.from(sealed.slice(head.length), 'base64url');
    bytes[14] = (bytes[14] ?? 0) ^ 0x01;
    const altered = `${head}${bytes.toString('base64url')}`;
    expect(() => sealer.open(altered, 'we_1')).toThrow(SecretUnsealError);
    expect(() => secretSealer([retired]).open(sealed, 'we_1')).toThrow(/sealed with key "k2", which is not in PAYLOAD_CODEC_KEYS/);
    expect(() => secretSealer(undefined).open(sealed, 'we_1')).toThrow(SecretUnsealError);
  });

  it('keeps secrets as they are without keys, and reads secrets stored before sealing', () => {
    const plain = secretSealer(undefined);
    expect(plain.sealing).toBe(false);
    expect(plain.seal('whsec_abc', 'we_1')).toBe('whsec_abc');
    expect(secretSealer([current]).open('whsec_stored_before', 'we_1')).toBe('whsec_stored_before');
  });
});
