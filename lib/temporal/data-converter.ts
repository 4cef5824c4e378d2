import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, type CodecKey } from '../crypto/payload-codec';

/** The module the workflow bundle and every client load the failure converter from. */
export const failureConverterPath = require.resolve('./failure-converter');

/**
 * The one data converter of every Temporal client and worker of the project. With codec keys,
 * every payload (inputs, results, activity arguments, queries, updates, memos, failures) is
 * encrypted with the first key; without, payloads stay plain JSON (tests of workflow code alone).
 */
export function transferDataConverter(codecKeys: readonly CodecKey[] | undefined): DataConverter {
  return {
    failureConverterPath,
    payloadCodecs: codecKeys && codecKeys.length > 0 ? [new AesGcmPayloadCodec(codecKeys)] : [],
  };
}
