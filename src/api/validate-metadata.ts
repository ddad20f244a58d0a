import { validationError } from './api-request-error.js';

/** Metadata is stored with the session and sent in every webhook, so it is kept small. */
export const MAX_METADATA_BYTES = 4096;
export const MAX_METADATA_KEYS = 20;

/** Key count is enforced by the schema (maxProperties); the serialized size is checked here. */
export function validateMetadata(metadata: Record<string, unknown>): void {
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > MAX_METADATA_BYTES) {
    throw validationError(`body/metadata must be at most ${MAX_METADATA_BYTES} bytes as JSON, got ${bytes}`, 'metadata');
  }
}
