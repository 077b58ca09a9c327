export { EndpointInputError, validateEndpoint, validateEndpoints } from './endpoint/validate.ts';
export type { FileResolverOptions } from './file/file.ts';
export { FILE_DEFAULTS, FileResolver, fileResolver } from './file/file.ts';
export type { FileContent, FileFormat } from './file/parse.ts';
export { parseEndpointFile } from './file/parse.ts';
export type { SourceStats } from './source/endpoint-source.ts';
export { EndpointSource } from './source/endpoint-source.ts';
export { staticResolver } from './static/static.ts';
