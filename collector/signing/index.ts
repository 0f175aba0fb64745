export { createSigner, type Signer, type CreateSignerOptions } from './signer.ts';
export { loadSigningKey, type LoadSigningKeyOptions } from './load-key.ts';
export { generateSigningKey, type GeneratedSigningKey } from './generate-key.ts';
