import { isCancellation } from '@temporalio/workflow';
import type { SettlementLegRequest } from '../activities/settlement-activities';
import type { TransferInput } from '../lib/contracts/transfer-contract';
import type { Compensations } from './transfer-compensation';
import { legFailure, type LegFailure, type TransferJournal } from './transfer-journal';
import type { LegRunner } from './transfer-legs';
import { transferPatches, type PatchGate } from './transfer-patches';
import { debitGiveUpAfterMsDefault } from './transfer-policies';

/**
 * A transfer's legs at the settlement bank, between its customer legs: after the debit, the
 * amount is reserved against the sending bank (its position, or its reserve); once the customer
 * is credited, it is credited to the receiving bank; a transfer that ends otherwise releases the
 * reservation (a refund at the settlement bank, which voids it when it never happened, so a late
 * one can never land). The credit and the release never give up, like every compensation.
 */
export interface SettlementLegs {
  /** The failure when the reservation was refused (nothing reserved) or its outcome stayed unknown (then released). */
  reserve: () => Promise<LegFailure | undefined>;
  release: () => Promise<void>;
  credit: () => Promise<void>;
}

/** What the legs at the settlement bank work with: the saga's journal, compensations, patch checks and leg runner. */
export interface SettlementContext {
  journal: TransferJournal;
  compensations: Compensations;
  gate: PatchGate;
  legs: LegRunner;
}

/**
 * The legs of a transfer that settles: one whose record fixed a settlement policy and whose banks
 * differ. Undefined for every other (a transfer within one bank moves no money between banks, and
 * transfers recorded before settlement never settle, in any run).
 */
export function settlementLegsOf(input: TransferInput, { journal, compensations, gate, legs }: SettlementContext): SettlementLegs | undefined {
  const policy = input.policy.settlement;
  if (!policy || input.source.bankId === input.target.bankId || !gate.has(transferPatches.settlementLegs)) return undefined;
  const request: SettlementLegRequest = { transferId: input.transferId, model: policy.model, sourceBankId: input.source.bankId, targetBankId: input.target.bankId, amountMinor: input.amountMinor, currency: input.currency };
  const release = async (): Promise<void> => {
    await compensations.untilDone('settlement-release', (activities) => activities.releaseSettlement(request));
  };
  return {
    release,
    credit: async () => {
      await compensations.untilDoneLocalFirst('settlement-credit', (activities) => activities.creditSettlement(request));
    },
    reserve: async () => {
      const step = journal.beginStep('settlement-reserve');
      try {
        const reserved = await legs.localFirst(input.policy.debitGiveUpAfterMs ?? debitGiveUpAfterMsDefault, (activities) => activities.reserveSettlement(request));
        const { windowId } = reserved.entry;
        if (typeof windowId === 'string') journal.state.settlementWindowId = windowId;
        journal.endStep(step, 'SUCCEEDED', { attempts: reserved.attempt });
        return undefined;
      } catch (error) {
        // A cancel of the workflow abandons the call, whose outcome is then unknown like a bank's silence.
        const failure: LegFailure = isCancellation(error) ? { code: 'CANCELLED_BY_OPERATOR', message: 'the workflow was cancelled while the reservation was in flight', refusal: false } : legFailure(error);
        journal.endStep(step, 'FAILED', { failure });
        // A run that takes local-debit releases it after voiding the credit (closeSlots).
        if (!failure.refusal && !gate.localDebit) await release();
        return failure;
      }
    },
  };
}
