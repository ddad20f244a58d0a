import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/api/openapi-document.js';
import { defaultConfig } from '../../src/config/defaults.js';

describe('OpenAPI document', () => {
  // The committed file is the document for the default configuration; regenerate with `npx vitest run test/unit/api-openapi.test.ts -u`.
  it('openapi/openapi.json equals the document built from the route schemas', async () => {
    const doc = buildOpenApiDocument(defaultConfig().verification);
    await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot('../../openapi/openapi.json');
  });

  it('states the configured TTL bounds and the endpoints', () => {
    const doc = buildOpenApiDocument({ defaultTtlSeconds: 90, minTtlSeconds: 61, maxTtlSeconds: 250 }) as any;
    const ttl = doc.paths['/v1/verifications'].post.requestBody.content['application/json'].schema.properties.ttlSeconds;
    expect(ttl).toEqual({ type: 'integer', minimum: 61, maximum: 250, default: 90 });
    expect(Object.keys(doc.paths['/v1/verifications/{id}']).sort()).toEqual(['delete', 'get']);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
