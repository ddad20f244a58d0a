/** The contract between the SIP engines and the edge: what the rest of ringproof programs against. */
export { DropReasons, type DropReason } from './drop-reasons.js';
export type { AdmitDecision, EdgeHandler, InboundInvite, SipEngine, SourceAddress } from './sip-engine.js';
