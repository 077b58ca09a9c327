export type { InstanceRegistration, RegisterInstanceOptions } from './register.ts';
export { REGISTER_DEFAULTS, registerInstance } from './register.ts';
export type { RegistryResolverOptions } from './resolver.ts';
export { registryResolver } from './resolver.ts';
