import type { Logger } from 'pino';
import type { OutboundConfig, SipConfig } from '../../config/config-types.js';
import { type FlashUac, NativeUac, type UacObserver } from '../uac/index.js';
import { DrachtioUac } from './drachtio/drachtio-uac.js';

/**
 * The flash-call UAC of the configured SIP engine: the native engine's own, or drachtio-srf through
 * the drachtio-server of `sip.drachtio`. Both place calls by the same rules behind FlashUac.
 */
export function createFlashUac(outbound: OutboundConfig, sip: SipConfig, logger: Logger, observer?: UacObserver): FlashUac {
  return sip.engine === 'drachtio' ? new DrachtioUac(outbound, sip, logger, observer) : new NativeUac(outbound, sip, logger, observer);
}
