/**
 * Connection tuning of the drachtio engine. Not in the config file: the defaults are what a trunk
 * edge wants; tests shorten them.
 */
export interface DrachtioEngineOptions {
  /** How often a ping goes to drachtio-server. */
  pingIntervalMs: number;
  /** A ping unanswered this long means the connection is wedged: drop it and reconnect. */
  pingTimeoutMs: number;
  /** Cap of drachtio-srf's reconnect backoff (150 ms growing by 1.7x, unbounded without a cap). */
  reconnectMaxDelayMs: number;
  /**
   * Largest wire message ringproof sends. drachtio-server reads client messages into a fixed
   * 12,228-byte circular buffer; a longer message overwrites its own start and wedges the connection
   * (see the engine's README section), so we stay well below it.
   */
  maxFrameBytes: number;
}

export const DRACHTIO_ENGINE_DEFAULTS: Readonly<DrachtioEngineOptions> = Object.freeze({
  pingIntervalMs: 5_000,
  pingTimeoutMs: 3_000,
  reconnectMaxDelayMs: 5_000,
  maxFrameBytes: 12_000,
});

/** drachtio-server's client read buffer (src/client.cpp, BaseClient m_buffer capacity). */
export const DRACHTIO_SERVER_READ_BUFFER_BYTES = 12_228;
