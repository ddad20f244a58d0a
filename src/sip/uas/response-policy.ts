/**
 * ringproof's SIP answers that do not depend on state, written once and read by both engines (the
 * native UAS core and the drachtio engine). test/unit/sip-response-policy.test.ts and
 * test/drachtio/response-policy.drachtio.ts run the same table of requests against each.
 */

/** What ringproof serves: the Allow header of OPTIONS and of every 405. */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE'] as const;
export const ALLOW = ALLOWED_METHODS.join(', ');
/** OPTIONS says what an INVITE body may be (RFC 3261 §11.2). */
export const OPTIONS_ACCEPT = 'application/sdp';

/**
 * Methods ringproof knows but does not serve: 405 with Allow (RFC 3261 §8.2.1). Any other method it
 * does not serve is unknown to it: 501 (§8.2.1, §21.5.2).
 */
export const NOT_ALLOWED_METHODS: readonly string[] = [
  'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'INFO', 'UPDATE', 'PRACK', 'REFER', 'PUBLISH',
];
const NOT_ALLOWED = new Set(NOT_ALLOWED_METHODS);

/** The final response to a method ringproof does not serve: 405 (known) or 501 (unknown). */
export function unservedMethodCode(method: string): 405 | 501 {
  return NOT_ALLOWED.has(method) ? 405 : 501;
}

/**
 * Max-Forwards 0 is a loop or a hop limit reached: 483 (RFC 3261 §8.2.2, §16.3). A UAS may answer an
 * OPTIONS with Max-Forwards 0 itself (§16.3 step 2); nothing else.
 */
export function hopsExhausted(method: string, maxForwards: number | undefined): boolean {
  return maxForwards === 0 && method !== 'OPTIONS';
}

/** Q.850 causes (RFC 3326 Reason header) carriers map the usual reject codes to. */
const Q850_REASON: Readonly<Record<number, string>> = {
  486: 'Q.850;cause=17;text="User busy"',
  603: 'Q.850;cause=21;text="Call rejected"',
};

/** The Reason header value sent with a reject code; codes without a Q.850 mapping name themselves. */
export function rejectReason(code: number): string {
  return Q850_REASON[code] ?? `SIP;cause=${code}`;
}
