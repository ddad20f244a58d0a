import type { DrachtioConfig, SipConfig } from '../../src/config/config-types.js';
import { defaultConfig } from '../../src/config/defaults.js';

/**
 * A SipConfig for tests that drive the drachtio engine in-process: the defaults, with no listeners of
 * our own (drachtio-server owns the SIP sockets), no Server header and smaller limits, over `overrides`.
 */
export function drachtioSipConfig(drachtio: DrachtioConfig, overrides: Partial<SipConfig> = {}): SipConfig {
  return {
    ...defaultConfig().sip,
    engine: 'drachtio',
    listen: [],
    maxMessageBytes: 65_535,
    maxTransactions: 10_000,
    tcpIdleTimeoutMs: 60_000,
    maxTcpConnections: 100,
    scannerUserAgents: [],
    serverHeader: '',
    drachtio,
    ...overrides,
  };
}
