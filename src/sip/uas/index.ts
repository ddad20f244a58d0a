/** The UAS core: one call per received message, the native engine's SIP behaviour without sockets. */
export { UasCore } from './uas-core.js';
