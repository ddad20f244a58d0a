/**
 * The egress guard: outbound HTTP from ringproof reaches public addresses only, unless an operator
 * allows a private range. Webhooks use it; so should any future fetcher (STIR/SHAKEN x5u
 * certificates, carrier look-ups). Typical use:
 *
 *   const policy = createEgressPolicy({ allowPrivateTargets: cfg.allow, configKey: 'x.allowPrivateTargets' });
 *   assertPublicUrl(url, policy);                       // at config load / when a URL is accepted
 *   const agent = createGuardedAgent(policy, { secure: true, keepAlive: true,
 *     onRefused: egressMetrics(registry).counter('x5u', 'connect') });
 *   https.request(url, { agent });                      // refused → 'error' with EgressRefusedError
 */
export { assertPublicUrl, checkUrlTarget, isLocalhostName } from './assert-public-url.js';
export { egressMetrics, type EgressMetrics, type EgressStage } from './egress-metrics.js';
export {
  createEgressPolicy, describeRefusal, type EgressPolicy, type EgressPolicyOptions, type EgressRefusal, type EgressRefusalReason,
} from './egress-policy.js';
export { classifyAddress, LOOPBACK_CIDRS, type AddressClass } from './egress-ranges.js';
export { EgressRefusedError, isEgressRefusedError } from './egress-refused-error.js';
export { createGuardedAgent, guardedLookup, type EgressGuardOptions, type GuardedAgentOptions } from './guarded-agent.js';
