import { NUMBER_TYPES, type NumberType } from './number-types.js';

/** Largest lookup response body read; a bigger one is a bad response, not a memory hazard. */
export const MAX_LOOKUP_BODY_BYTES = 8192;

/**
 * Reads the lookup contract's answer (README "Number policy"): a JSON object whose `type` is one of
 * the number types. Other members are ignored, so a provider may send more. undefined = not the
 * contract (not JSON, not an object, no or an unknown `type`).
 */
export function parseLookupResponse(body: string): NumberType | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const type = (parsed as Record<string, unknown>).type;
  return typeof type === 'string' && (NUMBER_TYPES as readonly string[]).includes(type) ? (type as NumberType) : undefined;
}
