import type { ErrorCode } from '../errors/codes.js';

/** The one error shape every API response uses, so clients parse failures the same way everywhere. */
export interface ApiErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** The offending input, when one is to blame: a body property, header or path parameter name. */
    field?: string;
    /** Refusals add what they refused by: rule, country, type, method, prefix, reason, … */
    [detail: string]: string | number | boolean | undefined;
  };
}

export function errorBody(
  code: ErrorCode,
  message: string,
  field?: string,
  details?: Readonly<Record<string, string | number | boolean>>,
): ApiErrorBody {
  return { error: { ...details, code, message, ...(field === undefined ? {} : { field }) } };
}
