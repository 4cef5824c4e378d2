import { createHash } from 'node:crypto';
import type { TransferRecordDocument } from './transfer-record';

/** A transfer's payment identifiers as every view and render shows them. */
export interface TransferIdentifiers {
  uetr: string;
  endToEndId: string | null;
}

/**
 * The UETR of a transfer recorded before transfers had one: the first 16 bytes of
 * SHA-256("uetr\n" + transfer id) with the version (4) and variant (10) bits of a UUID v4 set, in
 * lower case. Stable (the same transfer always shows the same UETR) and never stored, so such a
 * record is never rewritten; a client could only meet one by sending it on purpose.
 */
export function derivedUetr(transferId: string): string {
  const bytes = createHash('sha256').update(`uetr\n${transferId}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The identifiers of a recorded transfer: the ones it was recorded with, or for a record older than
 * them the derived UETR and no end-to-end id. Without a record (a transfer started around the API)
 * the derived ones too.
 */
export function transferIdentifiers(transferId: string, record?: Pick<TransferRecordDocument, 'uetr' | 'endToEndId'>): TransferIdentifiers {
  return { uetr: record?.uetr ?? derivedUetr(transferId), endToEndId: record?.endToEndId ?? null };
}
