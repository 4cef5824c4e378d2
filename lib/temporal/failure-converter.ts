import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces travel as an encoded payload, so the payload codec encrypts
 * them too. Loaded by path (the data converter's failureConverterPath) inside the workflow
 * sandbox as well, so it imports nothing but @temporalio/common.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
