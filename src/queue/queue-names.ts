/** Queue and job names shared by the producer (edge) and the consumers (worker). */
export const CALLS_QUEUE = 'calls';
export const WEBHOOKS_QUEUE = 'webhooks';
/** Name of each job in the "calls" queue; its data is a CallEvent. */
export const CALL_JOB_NAME = 'call';
