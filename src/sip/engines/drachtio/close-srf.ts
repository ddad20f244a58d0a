import type { SrfInstance } from './srf-seam.js';

/**
 * Closes an srf connection for good: no reconnect after this, even from a retry timer already
 * scheduled; resolves once the socket closed (or was destroyed after 1 s).
 */
export async function closeSrf(srf: SrfInstance): Promise<void> {
  const agent = srf.app.client;
  const socket = agent?.mapServer.keys().next().value;
  if (agent) {
    agent.wp.closing = true;
    const retry = agent.wp.reconnectVars?.retryTimer;
    if (retry) clearTimeout(retry);
  }
  if (!socket) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => { socket.destroy(); resolve(); }, 1_000);
    socket.once('close', () => { clearTimeout(t); resolve(); });
    try {
      srf.disconnect();
    } catch {
      socket.destroy();
    }
  });
}
