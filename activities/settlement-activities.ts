import { ApplicationFailure } from '@temporalio/activity';
import { settlementAccountsOf, settlementRefusalOf, type SettlementModel } from '../lib/contracts/settlement';
import type { SigningKey } from '../lib/crypto/request-signing';
import { createAccountActivities, type LegResult } from './account-activities';

/** One transfer's legs at the settlement bank. */
export interface SettlementLegRequest {
  transferId: string;
  model: SettlementModel;
  sourceBankId: string;
  targetBankId: string;
  amountMinor: string;
  currency: string;
}

export interface SettlementActivitiesOptions {
  settlementBank: { bankId: string; url: string };
  signingKey: SigningKey;
  requestTimeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * The saga's legs at the settlement bank, over the same ledger calls as a customer's legs (each
 * decided once per transfer id): the reservation debits the sender's position or reserve, the
 * release refunds it (or voids it so it never happens), and the settlement credit adds the amount
 * to the receiver's once the customer is credited. The ledger's refusals are given their
 * settlement meaning: past the cap or the reserve, or a participant the settlement bank lacks.
 */
export function createSettlementActivities(options: SettlementActivitiesOptions) {
  const ledger = createAccountActivities({ banks: [options.settlementBank], signingKey: options.signingKey, requestTimeoutMs: options.requestTimeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const bankId = options.settlementBank.bankId;
  const accountsOf = (request: SettlementLegRequest) => settlementAccountsOf(request.model, request.sourceBankId, request.targetBankId, request.currency);

  async function withSettlementMeaning(request: SettlementLegRequest, call: () => Promise<LegResult>): Promise<LegResult> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApplicationFailure) || !error.nonRetryable) throw error;
      if (error.type === 'INSUFFICIENT_FUNDS') {
        const code = settlementRefusalOf(request.model);
        const limit = request.model === 'deferred-net' ? "its Net Debit Cap" : 'its reserve';
        throw ApplicationFailure.create({ type: code, message: `${request.sourceBankId} cannot send ${request.amountMinor} ${request.currency}: it would pass ${limit} at the settlement bank`, nonRetryable: true, details: error.details ?? [] });
      }
      if (error.type === 'ACCOUNT_NOT_FOUND') {
        throw ApplicationFailure.create({ type: 'PARTICIPANT_NOT_FOUND', message: `the settlement bank has no ${request.model} account for this transfer's banks in ${request.currency}`, nonRetryable: true });
      }
      throw error;
    }
  }

  return {
    async reserveSettlement(request: SettlementLegRequest): Promise<LegResult> {
      return withSettlementMeaning(request, () => ledger.debit({ bankId, accountId: accountsOf(request).from, transferId: request.transferId, amountMinor: request.amountMinor, currency: request.currency }));
    },
    async releaseSettlement(request: SettlementLegRequest): Promise<LegResult> {
      return withSettlementMeaning(request, () => ledger.refund({ bankId, accountId: accountsOf(request).from, transferId: request.transferId }));
    },
    async creditSettlement(request: SettlementLegRequest): Promise<LegResult> {
      return withSettlementMeaning(request, () => ledger.credit({ bankId, accountId: accountsOf(request).to, transferId: request.transferId, amountMinor: request.amountMinor, currency: request.currency }));
    },
  };
}

export type SettlementActivities = ReturnType<typeof createSettlementActivities>;
