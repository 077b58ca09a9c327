// First: refuses too old a Node.js before any other module of the package runs.
import './node-check.ts';

export type { DnsRecordType, DnsResolverOptions } from './dns/dns.ts';
export { DNS_DEFAULTS, DnsResolver, dnsResolver } from './dns/dns.ts';
export { EndpointInputError, validateEndpoint, validateEndpoints } from './endpoint/validate.ts';
export type { FileResolverOptions } from './file/file.ts';
export { FILE_DEFAULTS, FileResolver, fileResolver } from './file/file.ts';
export type { FileContent, FileFormat } from './file/parse.ts';
export { parseEndpointFile } from './file/parse.ts';
export type { HealthChecker } from './health/checker.ts';
export type { EndpointHealth, HealthCheckOptions } from './health/health.ts';
export { HEALTH_DEFAULTS, HealthCheckedResolver, withHealthChecks } from './health/health.ts';
export type { HttpHealthCheckOptions } from './health/http.ts';
export { HTTP_HEALTH_DEFAULTS, httpHealthCheck } from './health/http.ts';
export type {
  Identity,
  IdentityCredentials,
  IdentityDescription,
  IdentityListener,
  IdentityOptions,
  IdentityState,
  TrustBundleSource,
} from './identity/index.ts';
export { CertificateRequestError, createIdentity, IDENTITY_DEFAULTS } from './identity/index.ts';
export type { KubernetesResolverOptions } from './kubernetes/kubernetes.ts';
export { KUBERNETES_DEFAULTS, KubernetesResolver, kubernetesResolver } from './kubernetes/kubernetes.ts';
export type {
  InstanceRegistration,
  RegisterInstanceOptions,
  RegistryResolverOptions,
} from './registry/index.ts';
export { REGISTER_DEFAULTS, registerInstance, registryResolver } from './registry/index.ts';
export type { ServerRegistrationOptions } from './registry/listener.ts';
export {
  advertisedAddress,
  checkServerRegistration,
  registerListener,
  SERVER_REGISTRATION_DEFAULTS,
} from './registry/listener.ts';
export type { SourceStats } from './source/endpoint-source.ts';
export { EndpointSource } from './source/endpoint-source.ts';
export { staticResolver } from './static/static.ts';
