export { createSigner, type Signer, type CreateSignerOptions } from './signer.ts';
export { loadSigningKey, type LoadSigningKeyOptions } from './load-key.ts';
