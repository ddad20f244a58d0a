/** Queue and job names shared by the producer (edge) and the consumers (worker). */
export const CALLS_QUEUE = 'calls';
/** Keys live under `${prefix}:webhooks:*`. */
export const WEBHOOKS_QUEUE = 'webhooks';
