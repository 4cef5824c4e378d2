import { log } from '@temporalio/activity';
import type { SigningKey } from '../lib/crypto/request-signing';
import { verifyOperatorDecision, verifyTransferInput, type AuthorityVerdict, type DecisionAction } from '../lib/crypto/transfer-authority';
import type { OperatorDecision, TransferInput } from '../lib/contracts/transfer-contract';

export interface AuthorityActivities {
  /** Did the transfer API sign exactly this input, for this workflow? */
  verifyTransferInput(request: { input: TransferInput; workflowId: string }): Promise<AuthorityVerdict>;
  /** Did the transfer API sign exactly this decision, for this transfer and action? */
  verifyOperatorDecision(request: { transferId: string; action: DecisionAction; decision: OperatorDecision }): Promise<AuthorityVerdict>;
}

/** The worker's half of the transfer authority: checks with TRANSFER_AUTHORITY_KEYS what the API signed. */
export function createAuthorityActivities(keys: readonly SigningKey[]): AuthorityActivities {
  const refusedLogged = (verdict: AuthorityVerdict, what: string): AuthorityVerdict => {
    if (!verdict.valid) log.warn(`refused ${what}: ${verdict.reason}`);
    return verdict;
  };
  return {
    verifyTransferInput: async ({ input, workflowId }) => refusedLogged(verifyTransferInput(keys, input, workflowId), `transfer ${input.transferId}`),
    verifyOperatorDecision: async ({ transferId, action, decision }) => refusedLogged(verifyOperatorDecision(keys, transferId, action, decision), `${action} of transfer ${transferId}`),
  };
}
