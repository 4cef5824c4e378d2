import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SigningKey } from './request-signing';
import { transferWorkflowId, type OperatorDecision, type TransferAuthoritySignature, type TransferInput } from '../contracts/transfer-contract';

/**
 * Temporal is reachable by more than the transfer API (the Web UI, the CLI, any client with the
 * namespace's address), so the saga trusts nothing in its input or its updates for what it did not
 * get from the API: the API signs every transfer input and every operator decision with a transfer
 * authority key (HMAC-SHA256 over a canonical text), and the worker checks the signature before the
 * saga acts on it. Keys rotate like the service keys: the first signs, every listed one verifies.
 */
export type AuthorityVerdict = { valid: true; keyId: string } | { valid: false; reason: string };

export type DecisionAction = 'approve' | 'reject' | 'cancel';

/** JSON with object keys sorted at every level and undefined fields left out: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${fields.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function inputText(input: TransferInput): string {
  const { authority: _signature, ...signed } = input;
  return `transfer-input-v1\n${canonicalJson(signed)}`;
}

function decisionText(transferId: string, action: DecisionAction, decision: OperatorDecision): string {
  const { authority: _signature, ...signed } = decision;
  return `operator-decision-v1\n${transferId}\n${action}\n${canonicalJson(signed)}`;
}

function signatureOf(key: SigningKey, text: string): TransferAuthoritySignature {
  return { keyId: key.keyId, signature: createHmac('sha256', key.secret).update(text).digest('hex') };
}

function verify(keys: readonly SigningKey[], text: string, given: TransferAuthoritySignature | undefined, what: string): AuthorityVerdict {
  if (!given) return { valid: false, reason: `the ${what} carries no transfer authority signature` };
  const key = keys.find((candidate) => candidate.keyId === given.keyId);
  if (!key) return { valid: false, reason: `the ${what} is signed with an unknown transfer authority key` };
  const expected = Buffer.from(signatureOf(key, text).signature, 'hex');
  const actual = Buffer.from(typeof given.signature === 'string' && /^[0-9a-f]{64}$/.test(given.signature) ? given.signature : '', 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return { valid: false, reason: `the ${what} does not match its transfer authority signature` };
  return { valid: true, keyId: key.keyId };
}

/** The input with the API's signature over everything else in it. */
export function signTransferInput(key: SigningKey, input: TransferInput): TransferInput {
  const { authority: _previous, ...unsigned } = input;
  return { ...unsigned, authority: signatureOf(key, inputText(unsigned)) };
}

/** Valid only when a listed key signed exactly this input, and the workflow runs under the input's own transfer id. */
export function verifyTransferInput(keys: readonly SigningKey[], input: TransferInput, workflowId: string): AuthorityVerdict {
  if (workflowId !== transferWorkflowId(input.transferId)) return { valid: false, reason: `workflow ${workflowId} is not the workflow of transfer ${input.transferId}` };
  return verify(keys, inputText(input), input.authority, 'transfer input');
}

/** The decision with the API's signature over the transfer, the action and the decision (operator, comment). */
export function signOperatorDecision(key: SigningKey, transferId: string, action: DecisionAction, decision: OperatorDecision): OperatorDecision {
  const { authority: _previous, ...unsigned } = decision;
  return { ...unsigned, authority: signatureOf(key, decisionText(transferId, action, unsigned)) };
}

export function verifyOperatorDecision(keys: readonly SigningKey[], transferId: string, action: DecisionAction, decision: OperatorDecision): AuthorityVerdict {
  return verify(keys, decisionText(transferId, action, decision), decision.authority, `${action} decision`);
}
