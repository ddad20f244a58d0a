import type { ErrorCode } from '../errors/codes.js';

/** The one error shape every API response uses, so clients parse failures the same way everywhere. */
export interface ApiErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** The offending input, when one is to blame: a body property, header or path parameter name. */
    field?: string;
  };
}

export function errorBody(code: ErrorCode, message: string, field?: string): ApiErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}
