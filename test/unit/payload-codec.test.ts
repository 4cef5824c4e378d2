import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, encryptedEncoding, formatCodecKeys, keyIdMetadataKey, payloadCodecKeysSchema, PayloadDecryptionError, type CodecKey } from '../../lib/crypto/payload-codec';

const key = (keyId: string): CodecKey => ({ keyId, key: randomBytes(32) });
const text = (bytes: Uint8Array | undefined | null): string => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const transferInput = { transferId: 't-1', source: { bankId: 'bank-a', accountId: 'alice' }, amountMinor: '12345', reference: 'invoice-4711' };

describe('AES-256-GCM payload codec', () => {
  test('when a payload is encoded, then it carries the key id and no plaintext, and decodes to the original', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const plain = defaultPayloadConverter.toPayload(transferInput);
    const [encrypted] = await codec.encode([plain]);
    expect(text(encrypted?.metadata?.encoding)).toBe(encryptedEncoding);
    expect(text(encrypted?.metadata?.[keyIdMetadataKey])).toBe('k1');
    expect(Buffer.from(encrypted?.data ?? new Uint8Array()).toString('latin1')).not.toMatch(/alice|12345|invoice|json/);
    const [decoded] = await codec.decode([encrypted as Payload]);
    expect(defaultPayloadConverter.fromPayload(decoded as Payload)).toEqual(transferInput);
  });

  test('when the same payload is encoded twice, then the ciphertexts differ (a fresh IV each time)', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const plain = defaultPayloadConverter.toPayload(transferInput);
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a?.data ?? []).equals(Buffer.from(b?.data ?? []))).toBe(false);
  });

  test('when a payload has no encryption metadata, then it decodes as it is (histories recorded before encryption)', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const plain = defaultPayloadConverter.toPayload(transferInput);
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  test('when keys are rotated (new first, old second), then old payloads still decode and new ones use the new key', async () => {
    const old = key('2026-01');
    const fresh = key('2026-06');
    const [before] = await new AesGcmPayloadCodec([old]).encode([defaultPayloadConverter.toPayload(transferInput)]);
    const rotated = new AesGcmPayloadCodec([fresh, old]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([before as Payload]))[0] as Payload)).toEqual(transferInput);
    const [after] = await rotated.encode([defaultPayloadConverter.toPayload(transferInput)]);
    expect(text(after?.metadata?.[keyIdMetadataKey])).toBe('2026-06');
    await expect(new AesGcmPayloadCodec([old]).decode([after as Payload])).rejects.toThrow(PayloadDecryptionError);
  });

  test('when a ciphertext is altered, then decoding fails instead of returning other data', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(transferInput)]);
    const data = Buffer.from(encrypted?.data ?? []);
    data[20] = (data[20] ?? 0) ^ 1;
    await expect(codec.decode([{ ...encrypted, data }])).rejects.toThrow(PayloadDecryptionError);
  });
});

describe('PAYLOAD_CODEC_KEYS', () => {
  test('when keys are listed, then they parse in order and format back to the same setting', () => {
    const setting = formatCodecKeys([key('new'), key('old')]);
    const parsed = payloadCodecKeysSchema.parse(setting);
    expect(parsed.map((entry) => entry.keyId)).toEqual(['new', 'old']);
    expect(formatCodecKeys(parsed)).toBe(setting);
  });

  test.each([
    ['a key that is not 32 bytes', `k1:${randomBytes(16).toString('base64')}`],
    ['an entry without a key id', `:${randomBytes(32).toString('base64')}`],
    ['a key id listed twice', `k1:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`],
    ['an empty setting', ''],
  ])('when the setting has %s, then it is refused', (_what, setting) => {
    expect(payloadCodecKeysSchema.safeParse(setting).success).toBe(false);
  });
});
