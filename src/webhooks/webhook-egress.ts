import type { WebhookConfig } from '../config/config-types.js';
import { createEgressPolicy, type EgressPolicy } from '../egress/egress-policy.js';

/** The configuration key that allows private webhook destinations; refusal messages name it. */
export const WEBHOOK_EGRESS_KEY = 'webhooks.allowPrivateTargets';

/** The egress policy for webhook deliveries and callback URLs, from the (validated) configuration. */
export function webhookEgressPolicy(webhooks: Pick<WebhookConfig, 'allowPrivateTargets'>): EgressPolicy {
  return createEgressPolicy({ allowPrivateTargets: webhooks.allowPrivateTargets, configKey: WEBHOOK_EGRESS_KEY });
}
