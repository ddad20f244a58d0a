/**
 * The UAS core (one call per received message, the native engine's SIP behaviour without sockets)
 * and the response policy both engines answer by.
 */
export { UasCore } from './uas-core.js';
export { ALLOW, ALLOWED_METHODS, hopsExhausted, NOT_ALLOWED_METHODS, OPTIONS_ACCEPT, rejectReason, unservedMethodCode } from './response-policy.js';
