import { z } from 'zod';
import { httpStatusByCode, type ErrorCode } from '../../../lib/contracts/error-codes';

/** Every status some error code answers with. */
export type ErrorStatus = (typeof httpStatusByCode)[ErrorCode];

/** The codes of the table that answer with status S: a code under the wrong status does not compile. */
export type CodesOf<S extends ErrorStatus> = { [C in ErrorCode]: (typeof httpStatusByCode)[C] extends S ? C : never }[ErrorCode];

/** One documented error response: its codes, and a sentence on when they happen when the codes do not say it. */
export type ErrorResponse<S extends ErrorStatus> = readonly CodesOf<S>[] | { codes: readonly CodesOf<S>[]; description: string };

/** A route's own error answers, by status; registerOpenApi adds the ones every route shares. */
export type RouteErrors = { [S in ErrorStatus]?: ErrorResponse<S> };

export interface DocumentedError {
  codes: readonly ErrorCode[];
  description?: string;
}

export function documentedError(response: ErrorResponse<ErrorStatus>): DocumentedError {
  return 'codes' in response ? { codes: response.codes, description: response.description } : { codes: response };
}

const pascal = (text: string): string => text.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_match, _separator: string, letter: string) => letter.toUpperCase());
const pascalFromCode = (code: string): string => pascal(code.toLowerCase());

/**
 * The error body with its possible codes as an enum: one component per distinct set of codes,
 * named after its code when it has one (TransferNotFoundError), else after the first operation
 * and status that answer it (CreateTransfer422Error).
 */
export class ErrorSchemas {
  private readonly bySet = new Map<string, z.ZodType>();

  schemaFor(codes: readonly ErrorCode[], operationId: string, status: string): z.ZodType {
    const sorted = [...new Set(codes)].sort();
    const key = sorted.join(' ');
    const known = this.bySet.get(key);
    if (known) return known;
    const [first, ...rest] = sorted;
    if (first === undefined) throw new Error(`${operationId} ${status}: an error response needs at least one code`);
    const id = rest.length === 0 ? `${pascalFromCode(first)}Error` : `${pascal(operationId)}${status}Error`;
    const schema = z
      .object({
        error: z.object({
          code: z.enum([first, ...rest]),
          message: z.string().meta({ description: 'For people; it may change. Match on code.' }),
          field: z.string().optional().meta({ description: 'The request field, parameter or header at fault, when one is.' }),
        }),
      })
      .meta({ id, description: `{"error": {"code", "message", "field"?}} with code ${sorted.join(', ')}.` });
    this.bySet.set(key, schema);
    return schema;
  }
}
