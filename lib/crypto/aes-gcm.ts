import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ivBytes = 12;
const tagBytes = 16;

/** AES-256-GCM with a fresh IV: `iv | ciphertext | tag`. `aad` binds the sealed bytes to a context they only open in. */
export function sealBytes(key: Buffer, plaintext: Uint8Array, aad?: Buffer): Buffer {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad) cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

export class SealedBytesError extends Error {
  override readonly name = 'SealedBytesError';
}

/** The inverse of sealBytes; throws SealedBytesError when the bytes are short, altered, or sealed with another key or context. */
export function openBytes(key: Buffer, sealed: Uint8Array, aad?: Buffer): Buffer {
  const data = Buffer.from(sealed);
  if (data.length < ivBytes + tagBytes) throw new SealedBytesError('too short to be sealed');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes));
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(data.subarray(data.length - tagBytes));
    return Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
  } catch {
    throw new SealedBytesError('altered, or sealed with another key or context');
  }
}
