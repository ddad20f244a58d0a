/** Queue and job names shared by the producer (edge) and the consumers (worker). */
export const CALLS_QUEUE = 'calls';
export const WEBHOOKS_QUEUE = 'webhooks';
