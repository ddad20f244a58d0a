import type { Worker } from 'bullmq';

/**
 * Closes a BullMQ Worker gracefully (jobs in flight finish), without the hang that follows a Redis
 * restart. Worker.close() interrupts its blocking BZPOPMIN by disconnecting the dedicated blocking
 * connection and waiting for ioredis' "end" event. A connection still waiting out its reconnect
 * backoff ("reconnecting": Redis was just restarted) has no socket to close: ioredis then only
 * cancels the retry timer and never emits "end", so close() would wait forever. Let that reconnect
 * finish first (a backoff step, at most ~2 s); the daemon's shutdown timeout bounds a Redis that
 * never comes back.
 */
export async function closeWorker(worker: Worker): Promise<void> {
  const client = await worker.backend.blockingClient;
  if (client?.status === 'reconnecting') {
    await new Promise<void>((res) => {
      client.once('ready', () => res());
      client.once('end', () => res());
    });
  }
  await worker.close();
}
