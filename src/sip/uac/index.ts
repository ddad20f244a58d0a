/**
 * The UAC room: ringproof as a caller, for outbound flash calls (issue #12). INVITE client
 * transactions (RFC 3261 §17.1.1), CANCEL after the first ring (§9.1), digest authentication
 * (RFC 8760), trunk CPS and concurrency caps, failover; built on the wire and transports rooms.
 */
export { AttemptTracker } from './attempt-tracker.js';
export { answerChallenge, parseChallenge, pickChallenge, type DigestChallenge } from './digest-auth.js';
export { classifyFinal, FAILURE_CLASSES, mayFailOver, parseQ850, type FailureClass, type Q850Reason } from './failure-class.js';
export type { FlashCallEvent, FlashCallRequest, FlashCallResult, FlashOutcome, FlashUac, TrunkAttempt } from './flash-call-types.js';
export { NativeUac, type UacDrops } from './native-uac.js';
export { placeWithFailover, type RunOnTrunk, type UacObserver } from './place-with-failover.js';
export { resolveTrunkHop, type TrunkHop } from './trunk-hop.js';
export { minimalSdp, trunkAddressing, type TrunkAddressing } from './uac-requests.js';
export { TrunkGate, type GateRefusal, type GateTicket } from './trunk-gate.js';
