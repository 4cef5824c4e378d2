/** One request the API sent to a bank's account service. */
export interface BankCall {
  method: string;
  url: string;
  body: string | undefined;
}

/**
 * A transport for BankAccounts that reaches no bank: it records each request and answers it with
 * `answer` (by default 200 and an empty JSON object).
 */
export function recordingBankFetch(answer: (call: BankCall) => Response = () => Response.json({})): { fetch: typeof fetch; calls: BankCall[] } {
  const calls: BankCall[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call: BankCall = { method: init?.method ?? 'GET', url: input instanceof Request ? input.url : String(input), body: typeof init?.body === 'string' ? init.body : undefined };
    calls.push(call);
    return answer(call);
  };
  return { fetch: fake, calls };
}
