/**
 * What a flash call's final response means for the verification (issue #12). A call that rang ends
 * `rang` whatever final response closes it: the caller ID was shown on the phone.
 */
export const FAILURE_CLASSES = [
  /** 404, 484, 604, 410: the number does not exist. */
  'invalid_number',
  /** 480, 408, or no response at all (timer B), or no ring before our ring timeout. */
  'unreachable',
  /** 486, 600. */
  'busy',
  /** 603 before any ring. */
  'declined',
  /** 5xx, or the trunk could not be reached (connection refused, TCP reset). */
  'network',
  /** Every trunk was at its calls-per-second or concurrency cap. */
  'capacity',
  /** Any other final response (403, 401/407 after our credentials, 488, …). */
  'rejected',
] as const;

export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** The class of a final non-2xx response received before the phone rang. */
export function classifyFinal(status: number): FailureClass {
  switch (status) {
    case 404: case 484: case 604: case 410: return 'invalid_number';
    case 480: case 408: return 'unreachable';
    case 486: case 600: return 'busy';
    case 603: return 'declined';
    default: return status >= 500 && status < 600 ? 'network' : 'rejected';
  }
}

/**
 * How a call that did not end in a 2xx ends, from what we know at its end: it rang (whatever final
 * closed it: the caller ID was shown), or the class of its final response; with no final response at
 * all, or none before our ring timeout made us cancel, it was unreachable.
 */
export function endOfCall(rang: boolean, cancelSent: boolean, status: number | undefined): { outcome: 'rang' | 'failed'; failureClass: FailureClass | undefined } {
  if (rang) return { outcome: 'rang', failureClass: undefined };
  if (status === undefined || cancelSent) return { outcome: 'failed', failureClass: 'unreachable' };
  return { outcome: 'failed', failureClass: classifyFinal(status) };
}

/**
 * Whether the next trunk may try: only when this trunk (not the user) failed: a 5xx, a 408, no
 * response at all, no connection, or a full trunk. Never after the user declined or was busy.
 */
export function mayFailOver(status: number | undefined, cls: FailureClass): boolean {
  if (cls === 'capacity') return true;
  if (status === undefined) return cls === 'network' || cls === 'unreachable';
  return status === 408 || (status >= 500 && status < 600);
}

/** The Q.850 cause of a Reason header (RFC 3326), e.g. `Q.850;cause=17;text="User busy"`. */
export interface Q850Reason {
  cause: number;
  text: string | undefined;
}

export function parseQ850(values: readonly string[]): Q850Reason | undefined {
  for (const v of values) {
    const m = /^\s*Q\.850\s*;(.*)$/i.exec(v);
    if (!m) continue;
    const cause = /(?:^|;)\s*cause\s*=\s*(\d{1,3})/i.exec(m[1] as string);
    if (!cause) continue;
    const text = /(?:^|;)\s*text\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(m[1] as string);
    return { cause: Number(cause[1]), text: text ? (text[1] as string).slice(0, 200) : undefined };
  }
  return undefined;
}
