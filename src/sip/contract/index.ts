/** The contract between the SIP engines and the edge: what the rest of ringproof programs against. */
export type { AdmitDecision, DropReason, EdgeHandler, InboundInvite, SipEngine, SourceAddress } from './sip-engine.js';
