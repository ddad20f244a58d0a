/**
 * The UAC room: ringproof as a caller, for outbound flash calls (issue #12). INVITE client
 * transactions (RFC 3261 §17.1.1), CANCEL after the first ring (§9.1), digest authentication
 * (RFC 8760), trunk CPS and concurrency caps, failover; built on the wire and transports rooms.
 */
export { answerChallenge, parseChallenge, pickChallenge, type DigestChallenge } from './digest-auth.js';
export { classifyFinal, FAILURE_CLASSES, mayFailOver, parseQ850, type FailureClass, type Q850Reason } from './failure-class.js';
export type { FlashCallEvent, FlashCallRequest, FlashCallResult, FlashOutcome, TrunkAttempt } from './flash-call-types.js';
export { NativeUac, type UacDrops, type UacObserver } from './native-uac.js';
export { TrunkGate, type GateRefusal } from './trunk-gate.js';
