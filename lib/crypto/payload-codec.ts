import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { openBytes, sealBytes, SealedBytesError } from './aes-gcm';

/** One AES-256 key and the id written next to every payload it encrypts. */
export interface CodecKey {
  keyId: string;
  key: Buffer;
}

export const encryptedEncoding = 'binary/encrypted';
export const keyIdMetadataKey = 'encryption-key-id';
const keyBytes = 32;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * `PAYLOAD_CODEC_KEYS=id:base64-32-byte-key,...` — the first key encrypts, every key decrypts,
 * so a rotation puts the new key first and keeps the old ones behind it.
 */
export const payloadCodecKeysSchema = z
  .string()
  .min(1)
  .transform((value, context) => {
    const keys: CodecKey[] = [];
    for (const item of value.split(',')) {
      const separator = item.indexOf(':');
      const keyId = item.slice(0, separator).trim();
      const key = Buffer.from(item.slice(separator + 1).trim(), 'base64');
      if (separator < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(keyId) || key.length !== keyBytes) {
        context.addIssue({ code: 'custom', message: 'each entry is keyId:key with the key 32 bytes in base64' });
        return z.NEVER;
      }
      if (keys.some((entry) => entry.keyId === keyId)) {
        context.addIssue({ code: 'custom', message: `key id ${keyId} is listed twice` });
        return z.NEVER;
      }
      keys.push({ keyId, key });
    }
    return keys;
  });

export function formatCodecKeys(keys: readonly CodecKey[]): string {
  return keys.map((entry) => `${entry.keyId}:${entry.key.toString('base64')}`).join(',');
}

export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/**
 * AES-256-GCM over the whole serialised payload (its metadata included, so the encoding of a
 * value is hidden too). Payloads without the encrypted encoding pass through unchanged: histories
 * recorded before encryption was switched on still decode and replay.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly encryptionKey: CodecKey;
  private readonly keysById: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly CodecKey[]) {
    const [first] = keys;
    if (!first) throw new Error('a payload codec needs at least one key');
    for (const entry of keys) if (entry.key.length !== keyBytes) throw new Error(`codec key ${entry.keyId} is not 32 bytes`);
    this.encryptionKey = first;
    this.keysById = new Map(keys.map((entry) => [entry.keyId, entry.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    return {
      metadata: { encoding: utf8.encode(encryptedEncoding), [keyIdMetadataKey]: utf8.encode(this.encryptionKey.keyId) },
      data: sealBytes(this.encryptionKey.key, plaintext),
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || fromUtf8.decode(encoding) !== encryptedEncoding) return payload;
    const keyIdBytes = payload.metadata?.[keyIdMetadataKey];
    const keyId = keyIdBytes ? fromUtf8.decode(keyIdBytes) : '';
    const key = this.keysById.get(keyId);
    if (!key) throw new PayloadDecryptionError(`no payload codec key with id "${keyId}"; keep retired keys in PAYLOAD_CODEC_KEYS`);
    let plaintext: Buffer;
    try {
      plaintext = openBytes(key, payload.data ?? new Uint8Array());
    } catch (error) {
      if (error instanceof SealedBytesError) throw new PayloadDecryptionError(`encrypted payload does not decrypt with key "${keyId}": ${error.message}`);
      throw error;
    }
    const decoded = temporal.api.common.v1.Payload.decode(plaintext);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}
