export type {
  Identity,
  IdentityDescription,
  IdentityListener,
  IdentityOptions,
  IdentityState,
  TrustBundleSource,
} from './identity.ts';
export { createIdentity, IDENTITY_DEFAULTS } from './identity.ts';
export type { IdentityCredentials } from './request.ts';
export { CertificateRequestError } from './request.ts';
